/*
 * config.h - migdir.ini: the project's settings and its environments.
 *
 *	[migdir]
 *	migrations = migrations                 ; holds pending/ applied/ archive/
 *	consolidated_schema = consolidated_schema.sql
 *	table = schema_versions                 ; the bookkeeping table ...
 *	schema = public                         ; ... and its schema
 *	tracked = production                    ; the environment the folders describe
 *	git = commit                            ; commit | stage | off
 *	lock_wait = 60s                         ; how long to wait for another migdir
 *	scratch_url = postgresql://localhost/postgres ; where scratch databases go
 *	keep_rows = public.countries            ; rows consolidate keeps
 *
 *	[env production]
 *	url = ${CRM_DATABASE_URL}               ; or: service = crm_prod
 *	lock_timeout = 5s
 *	statement_timeout = 15min
 *
 * Paths are relative to the directory that holds the file.  ${VAR} in url
 * and service is replaced by the environment variable VAR.  Exactly one
 * environment is tracked; a file with one environment tracks it, a file
 * with none has an implicit tracked environment "default" that uses libpq's
 * own defaults (PGHOST, PGDATABASE, service files, ~/.pgpass ...).
 */
#ifndef MIGDIR_CONFIG_H
#define MIGDIR_CONFIG_H

#include <stddef.h>

#define CFG_FILE "migdir.ini"

enum cfg_git {
	CFG_GIT_COMMIT, /* move files and commit them */
	CFG_GIT_STAGE,  /* move files and stage them in the index only */
	CFG_GIT_OFF,    /* move files, leave git alone */
};

struct env {
	char *name; /* section name after "env " */
	char *url;  /* connection URL or conninfo as written; NULL if unset */
	char *service;      /* libpq service name as written; NULL if unset */
	char *lock_timeout; /* PostgreSQL interval ("5s"), NULL: server default */
	char *statement_timeout; /* same */
	long lock_wait_ms;       /* -1: use [migdir] lock_wait */
	int line;                /* line of the section header, 0 if implicit */
};

struct config {
	char *path;         /* the file read */
	char *root;         /* its directory: relative paths start here */
	char *migrations;   /* the migrations directory, as configured */
	char *consolidated; /* consolidated schema file, as configured */
	char *scratch_url;  /* server for scratch databases (${VAR} kept),
			       or NULL: the environment's own server */
	char *keep_rows;    /* "schema.table, table": rows consolidate keeps */
	char *table;        /* bookkeeping table name (unquoted) */
	char *schema;       /* its schema (unquoted) */
	char *tracked;      /* name of the tracked environment */
	enum cfg_git git;
	long lock_wait_ms; /* wait for the migration lock this long */
	struct env *envs;  /* in file order */
	size_t nenvs;
	int password_in_file; /* a url holds a literal password */
	int world_readable;   /* the file is readable by group or others */
};

/*
 * Read path (migdir.ini).  Returns 0; MG_ENOTFOUND if the file does not
 * exist; MG_ERROR with a locus (file and line) for anything malformed: an
 * unknown section or key, a bad value, two tracked environments, a
 * tracked name that no section defines.  ${VAR} in url and service is
 * kept as written here and expanded by cfg_expand when the environment
 * is used.
 */
int cfg_load(struct config *out, const char *path);

/*
 * Find migdir.ini in dir or the nearest parent directory; on success the
 * path is appended to out.  Returns 0 or MG_ENOTFOUND.
 */
int cfg_find(char **out, const char *dir);

/* Free everything cfg_load allocated; safe on a zeroed struct. */
void cfg_release(struct config *cfg);

/* The environment called name, or NULL. */
const struct env *cfg_env(const struct config *cfg, const char *name);

/* The tracked environment (never NULL after a successful cfg_load). */
const struct env *cfg_tracked(const struct config *cfg);

/*
 * Replace each ${VAR} in value by the environment variable VAR (url and
 * service are expanded when the environment is used, so that a variable
 * of another environment need not be set).  Returns 0 and *out (caller
 * frees), or MG_ERROR naming an unset variable.
 */
int cfg_expand(char **out, const char *value);

/*
 * The text of the default migdir.ini that `migdir init` writes.  Static
 * storage.
 */
const char *cfg_template(void);

/*
 * Parse a duration as migdir.ini writes them: an integer with an optional
 * unit ms, s, min or h (no unit means milliseconds, as in PostgreSQL).
 * Returns 0 and *out_ms, or MG_ERROR.
 */
int cfg_parse_duration(long *out_ms, const char *text);

/* Does env (may be NULL) set a lock_timeout other than 0? */
int cfg_lock_timeout_set(const struct env *env);

/*
 * Does this URL or conninfo string hold a literal password?  Looks for
 * "scheme://user:password@" and a password= keyword.
 */
int cfg_has_password(const char *conninfo);

/*
 * Copy text with any password in a URL ("://user:secret@") or conninfo
 * keyword ("password=secret") replaced by "<redacted>".  Caller frees.
 */
char *cfg_redact(const char *text);

#endif
