/*
 * config.c - read migdir.ini with inih (the only file that includes ini.h).
 *
 * Parsing is strict: an unknown section or key is an error with its line,
 * because a misspelt "trackd = production" silently ignored would point
 * migdir at the wrong database.  Values are validated here so that the rest
 * of migdir can trust them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "xalloc.h"
#include "banned.h"

#define DEFAULT_LOCK_WAIT_MS 60000L

struct parse_state {
	struct config *cfg;
	char *first_error; /* message of the first bad line */
	int first_line;    /* ... and its line */
	char *tracked_set; /* "tracked" seen in [migdir] */
	int tracked_line;  /* ... on this line */
	int nsections;
	FILE *f;    /* the file inih reads through read_line */
	int line;   /* line inih is parsing (1-based) */
	int at_bol; /* the next read starts a new line */
};

int
cfg_parse_duration(long *out_ms, const char *text)
{
	static const struct {
		const char *unit;
		long factor;
	} units[] = {
	    {"", 1},
	    {"ms", 1},
	    {"s", 1000},
	    {"min", 60000},
	    {"h", 3600000},
	};
	const char *p = text;
	long value = 0;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return mg_error_set(MG_ERROR, "invalid duration \"%s\"", text);
	while (isdigit((unsigned char)*p)) {
		if (value > 100000000L)
			return mg_error_set(MG_ERROR,
			    "duration \"%s\" is too long", text);
		value = value * 10 + (*p++ - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p, units[i].unit)) {
			*out_ms = value * units[i].factor;
			return 0;
		}
	return mg_error_set(MG_ERROR,
	    "invalid duration \"%s\": use a number with ms, s, min or h", text);
}

int
cfg_expand(char **out, const char *value)
{
	struct buf b = BUF_INIT;
	const char *p = value;

	while (*p) {
		const char *end, *v;
		char *name;

		if (p[0] != '$' || p[1] != '{') {
			buf_putc(&b, *p++);
			continue;
		}
		if (!(end = strchr(p + 2, '}')) || end == p + 2) {
			/* the value may hold a password: never quote it */
			char *shown = cfg_redact(value);

			buf_release(&b);
			mg_error_set(MG_ERROR,
			    "unterminated or empty ${...} in \"%s\"", shown);
			free(shown);
			return MG_ERROR;
		}
		name = xstrndup(p + 2, (size_t)(end - p - 2));
		v = getenv(name);
		if (!v) {
			mg_error_set(MG_ERROR,
			    "environment variable \"%s\" is not set", name);
			free(name);
			buf_release(&b);
			return MG_ERROR;
		}
		buf_puts(&b, v);
		free(name);
		p = end + 1;
	}
	*out = buf_detach(&b);
	return 0;
}

/* A table or schema name: quoted with PQescapeIdentifier when used. */
static int
valid_ident(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (iscntrl((unsigned char)s[i]))
			return 0;
	return n > 0 && n < 64;
}

static int
set_timeout(char **slot, const char *value)
{
	long ms;

	if (cfg_parse_duration(&ms, value) < 0)
		return MG_ERROR;
	free(*slot);
	*slot = xstrdup(value);
	return 0;
}

static int
migdir_key(struct parse_state *ps, const char *name, const char *value)
{
	struct config *cfg = ps->cfg;
	char **slot = NULL;

	if (!strcmp(name, "migrations"))
		slot = &cfg->migrations;
	else if (!strcmp(name, "consolidated_schema"))
		slot = &cfg->consolidated;
	else if (!strcmp(name, "keep_rows")) {
		free(cfg->keep_rows);
		cfg->keep_rows = xstrdup(value);
		return 0;
	} else if (!strcmp(name, "scratch_url")) {
		if (cfg_has_password(value))
			cfg->password_in_file = 1;
		slot = &cfg->scratch_url;
	} else if (!strcmp(name, "table") || !strcmp(name, "schema")) {
		if (!valid_ident(value))
			return mg_error_set(MG_ERROR, "invalid %s name \"%s\"",
			    name, value);
		slot = !strcmp(name, "table") ? &cfg->table : &cfg->schema;
	} else if (!strcmp(name, "tracked")) {
		if (ps->tracked_set)
			return mg_error_set(MG_ERROR,
			    "tracked is set twice (line %d and here): only "
			    "one environment is tracked",
			    ps->tracked_line);
		ps->tracked_line = ps->line;
		slot = &ps->tracked_set;
	} else if (!strcmp(name, "git")) {
		if (!strcmp(value, "commit"))
			cfg->git = CFG_GIT_COMMIT;
		else if (!strcmp(value, "stage"))
			cfg->git = CFG_GIT_STAGE;
		else if (!strcmp(value, "off"))
			cfg->git = CFG_GIT_OFF;
		else
			return mg_error_set(MG_ERROR,
			    "invalid value \"%s\" for git: use commit, stage "
			    "or off",
			    value);
		return 0;
	} else if (!strcmp(name, "lock_wait"))
		return cfg_parse_duration(&cfg->lock_wait_ms, value);
	else
		return mg_error_set(MG_ERROR,
		    "unknown key \"%s\" in section [migdir]", name);
	if (!*value)
		return mg_error_set(MG_ERROR, "empty value for %s", name);
	free(*slot);
	*slot = xstrdup(value);
	return 0;
}

static int
env_key(struct parse_state *ps, struct env *env, const char *name,
    const char *value)
{
	char **slot;

	if (!strcmp(name, "url") || !strcmp(name, "service")) {
		slot = !strcmp(name, "url") ? &env->url : &env->service;
		if (!strcmp(name, "url") && cfg_has_password(value))
			ps->cfg->password_in_file = 1;
		free(*slot);
		*slot = xstrdup(value); /* ${VAR} expanded when used */
		return 0;
	}
	if (!strcmp(name, "lock_timeout"))
		return set_timeout(&env->lock_timeout, value);
	if (!strcmp(name, "statement_timeout"))
		return set_timeout(&env->statement_timeout, value);
	if (!strcmp(name, "lock_wait"))
		return cfg_parse_duration(&env->lock_wait_ms, value);
	return mg_error_set(MG_ERROR, "unknown key \"%s\" in section [env %s]",
	    name, env->name);
}

/* The index of environment name, or -1. */
static long
env_index(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nenvs; i++)
		if (!strcmp(cfg->envs[i].name, name))
			return (long)i;
	return -1;
}

static struct env *
find_or_add_env(struct config *cfg, const char *name)
{
	long i = env_index(cfg, name);

	if (i >= 0)
		return &cfg->envs[i];
	cfg->envs =
	    xreallocarray(cfg->envs, cfg->nenvs + 1, sizeof(*cfg->envs));
	memset(&cfg->envs[cfg->nenvs], 0, sizeof(*cfg->envs));
	cfg->envs[cfg->nenvs].name = xstrdup(name);
	cfg->envs[cfg->nenvs].lock_wait_ms = -1;
	return &cfg->envs[cfg->nenvs++];
}

static int
valid_env_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	int rc;

	if (!strcmp(section, "migdir"))
		rc = migdir_key(ps, name, value);
	else if (!strncmp(section, "env ", 4)) {
		const char *env_name = section + 4;
		size_t n;
		char *trimmed;

		/* as add_env_sections reads it: "[env prod ]" is "prod" */
		while (isspace((unsigned char)*env_name))
			env_name++;
		n = strlen(env_name);
		while (n && isspace((unsigned char)env_name[n - 1]))
			n--;
		trimmed = xstrndup(env_name, n);
		rc =
		    env_key(ps, find_or_add_env(ps->cfg, trimmed), name, value);
		free(trimmed);
	} else if (!*section)
		rc = mg_error_set(MG_ERROR, "key \"%s\" outside any section",
		    name);
	else
		rc = mg_error_set(MG_ERROR,
		    "unknown section [%s]: use [migdir] or [env NAME]",
		    section);
	if (rc < 0) {
		if (!ps->first_error) {
			ps->first_error = xstrdup(mg_error_last()->message);
			ps->first_line = ps->line;
		}
		mg_error_clear();
		return 0;
	}
	return 1;
}

static void
set_default(char **slot, const char *value)
{
	if (!*slot)
		*slot = xstrdup(value);
}

/*
 * Register every [env NAME] section in file order, with its line, before
 * inih runs: inih only reports sections that hold keys, and an environment
 * with no key at all (libpq's defaults) is still an environment.
 */
static int
add_env_sections(struct parse_state *ps, const char *path)
{
	char *line = NULL;
	size_t size = 0;
	FILE *f = fopen(path, "r");
	int n = 0, error = 0;

	if (!f)
		return mg_error_os(MG_ERROR, "could not read \"%s\"", path);
	/* whole lines, however long, so that n is the line number */
	while (!error && getline(&line, &size, f) >= 0) {
		char *p = line, *end;

		n++;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "[env", 4) || !isspace((unsigned char)p[4]) ||
		    !(end = strchr(p, ']')))
			continue;
		*end = '\0';
		p += 4;
		while (isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!valid_env_name(p)) {
			error = mg_error_set(MG_ERROR,
			    "invalid environment name \"%s\": use letters, "
			    "digits, '_' and '-'",
			    p);
			mg_error_locus(path, n, 0, NULL);
		} else if (cfg_env(ps->cfg, p)) {
			error = mg_error_set(MG_ERROR,
			    "environment \"%s\" is defined twice", p);
			mg_error_locus(path, n, 0, NULL);
		} else
			find_or_add_env(ps->cfg, p)->line = n;
	}
	free(line);
	fclose(f);
	return error;
}

/*
 * fgets for inih that counts lines, so that the handler knows the line it
 * is called for (inih reads a long line in several pieces).
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *r = fgets(str, num, ps->f);
	size_t n;

	if (!r)
		return NULL;
	if (ps->at_bol)
		ps->line++;
	n = strlen(r);
	ps->at_bol = n > 0 && r[n - 1] == '\n';
	return r;
}

int
cfg_load(struct config *out, const char *path)
{
	struct parse_state ps = {0};
	struct stat st;
	const char *slash;
	int rc;

	memset(out, 0, sizeof(*out));
	out->lock_wait_ms = DEFAULT_LOCK_WAIT_MS;
	out->git = CFG_GIT_COMMIT;
	ps.cfg = out;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return mg_error_set(MG_ENOTFOUND,
			    "configuration file \"%s\" not found", path);
		return mg_error_os(MG_ERROR, "could not read \"%s\"", path);
	}
	if (S_ISDIR(st.st_mode))
		return mg_error_set(MG_ERROR, "\"%s\" is a directory", path);
	out->path = xstrdup(path);
	slash = strrchr(path, '/');
	out->root = slash
	    ? xstrndup(path, (size_t)(slash - path + (slash == path)))
	    : xstrdup(".");
	out->world_readable = (st.st_mode & 077) != 0;

	if ((rc = add_env_sections(&ps, path)) < 0)
		goto fail;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = 65536;
	/* an indented "key = value" is a key, not the previous value's tail */
	ini_allow_multiline = false;
	if (!(ps.f = fopen(path, "r"))) {
		rc = mg_error_os(MG_ERROR, "could not read \"%s\"", path);
		goto fail;
	}
	ps.at_bol = 1;
	rc = ini_parse_stream(read_line, &ps, handler, &ps);
	fclose(ps.f);
	if (rc != 0) {
		/* inih returns the first bad line, ours or its own */
		mg_error_set(MG_ERROR, "%s",
		    ps.first_error && ps.first_line == rc ? ps.first_error
							  : "syntax error");
		mg_error_locus(path, rc > 0 ? rc : 0, 0, NULL);
		rc = MG_ERROR;
		goto fail;
	}
	if (out->nenvs == 0) {
		find_or_add_env(out, "default");
		if (!ps.tracked_set)
			ps.tracked_set = xstrdup("default");
	}
	if (ps.tracked_set) {
		out->tracked = ps.tracked_set;
		ps.tracked_set = NULL;
		if (!cfg_env(out, out->tracked)) {
			rc = mg_error_set(MG_ERROR,
			    "tracked environment \"%s\" has no [env %s] "
			    "section",
			    out->tracked, out->tracked);
			mg_error_locus(path, ps.tracked_line, 0, NULL);
			goto fail;
		}
	} else if (out->nenvs == 1) {
		out->tracked = xstrdup(out->envs[0].name);
	} else {
		rc = mg_error_set(MG_ERROR,
		    "%zu environments and none is tracked", out->nenvs);
		mg_error_locus(path, 0, 0, NULL);
		mg_error_hint("Add \"tracked = NAME\" to the [migdir] section: "
			      "the folders describe that environment.");
		goto fail;
	}
	set_default(&out->migrations, "migrations");
	set_default(&out->consolidated, "consolidated_schema.sql");
	set_default(&out->table, "schema_versions");
	set_default(&out->schema, "public");
	free(ps.first_error);
	return 0;
fail:
	free(ps.first_error);
	free(ps.tracked_set);
	cfg_release(out);
	return rc;
}

int
cfg_find(char **out, const char *dir)
{
	struct buf b = BUF_INIT;
	char *cur = realpath(dir, NULL);

	if (!cur)
		return mg_error_os(MG_ENOTFOUND, "could not resolve \"%s\"",
		    dir);
	for (;;) {
		char *slash;

		buf_reset(&b);
		buf_printf(&b, "%s%s%s", cur, strcmp(cur, "/") ? "/" : "",
		    CFG_FILE);
		if (access(b.ptr, F_OK) == 0) {
			free(cur);
			*out = buf_detach(&b);
			return 0;
		}
		slash = strrchr(cur, '/');
		if (!slash || !strcmp(cur, "/"))
			break;
		if (slash == cur)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(cur);
	buf_release(&b);
	return mg_error_set(MG_ENOTFOUND,
	    "no %s in this directory or any parent", CFG_FILE);
}

void
cfg_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nenvs; i++) {
		free(cfg->envs[i].name);
		free(cfg->envs[i].url);
		free(cfg->envs[i].service);
		free(cfg->envs[i].lock_timeout);
		free(cfg->envs[i].statement_timeout);
	}
	free(cfg->envs);
	free(cfg->path);
	free(cfg->root);
	free(cfg->migrations);
	free(cfg->consolidated);
	free(cfg->scratch_url);
	free(cfg->keep_rows);
	free(cfg->table);
	free(cfg->schema);
	free(cfg->tracked);
	memset(cfg, 0, sizeof(*cfg));
}

const struct env *
cfg_env(const struct config *cfg, const char *name)
{
	long i = env_index(cfg, name);

	return i >= 0 ? &cfg->envs[i] : NULL;
}

const struct env *
cfg_tracked(const struct config *cfg)
{
	return cfg->tracked ? cfg_env(cfg, cfg->tracked) : NULL;
}

const char *
cfg_template(void)
{
	return "; migdir.ini -- see migdir.ini(5)\n"
	       "[migdir]\n"
	       "migrations = migrations\n"
	       "consolidated_schema = consolidated_schema.sql\n"
	       "table = schema_versions\n"
	       "schema = public\n"
	       "tracked = production\n"
	       "; commit | stage | off\n"
	       "git = commit\n"
	       "lock_wait = 60s\n"
	       "; consolidate, baseline and rehearse make throwaway databases "
	       "on\n"
	       "; the tracked server; or name another server to make them on:\n"
	       ";scratch_url = postgresql://migdir@localhost/postgres\n"
	       "; tables whose rows consolidate keeps (lookup values the\n"
	       "; migrations insert), comma-separated:\n"
	       ";keep_rows = public.countries\n"
	       "\n"
	       "[env production]\n"
	       "; The tracked database: the folders describe its state.  Give "
	       "a\n"
	       "; url or a libpq service; passwords belong in ~/.pgpass or "
	       "the\n"
	       "; service file.  --database-url overrides it; with neither,\n"
	       "; DATABASE_URL, then libpq's PG* variables apply.\n"
	       ";url = postgresql://app@db.example.com:5432/app\n"
	       ";service = app_production\n"
	       ";lock_timeout = 5s\n"
	       ";statement_timeout = 15min\n";
}

/* Position of "user:password@" in a URL: the ':' and the '@', or 0. */
static int
url_password_span(const char *s, const char **colon, const char **at)
{
	const char *p = strstr(s, "://"), *end, *c, *a;

	if (!p)
		return 0;
	p += 3;
	/* libpq ends the userinfo at the first '@' before a '/' */
	end = p + strcspn(p, "/");
	a = NULL;
	for (c = p; c < end; c++)
		if (*c == '@')
			a = c;
	if (!a)
		return 0;
	for (c = p; c < a && *c != ':'; c++)
		;
	if (c >= a)
		return 0;
	*colon = c;
	*at = a;
	return 1;
}

int
cfg_lock_timeout_set(const struct env *env)
{
	long ms = 0;

	return env && env->lock_timeout &&
	    cfg_parse_duration(&ms, env->lock_timeout) == 0 && ms > 0;
}

/*
 * Does a "password" keyword start at p (in s)?  After the start, a blank,
 * a URL's '?' or '&', or the quote that closes the previous value (libpq
 * needs no blank there: "user='x'password=y").  Then *value is where the
 * value starts, after '=' and blanks.
 */
static int
password_at(const char *s, const char *p, const char **value)
{
	const char *q = p + 8;
	/* libpq reads a string that starts so as a URI, keywords only after
	   '?' or '&'; a URL parameter has no blanks around its '=' */
	int uri =
	    !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
	int param = p > s && (p[-1] == '?' || p[-1] == '&');

	if (strncmp(p, "password", 8) != 0)
		return 0;
	if (p > s && p[-1] != '?' && p[-1] != '&' &&
	    (uri || (!isspace((unsigned char)p[-1]) && p[-1] != '\'')))
		return 0;
	if (uri && p == s)
		return 0;
	while (!param && isspace((unsigned char)*q))
		q++;
	if (*q != '=')
		return 0;
	q++;
	while (!param && isspace((unsigned char)*q))
		q++;
	*value = q;
	return 1;
}

/*
 * The end of the value at q, as libpq reads it: a URL parameter (after '?'
 * or '&') runs to the next '&'; a conninfo value is quoted ('...', with
 * backslash escapes) or runs to a blank, a backslash escaping the next
 * character.
 */
static const char *
value_end(const char *q, int url_param)
{
	if (url_param)
		return q + strcspn(q, "&");
	if (*q == '\'') {
		for (q++; *q && *q != '\''; q++)
			if (*q == '\\' && q[1])
				q++;
		return *q ? q + 1 : q;
	}
	while (*q && !isspace((unsigned char)*q)) {
		if (*q == '\\' && q[1])
			q++;
		q++;
	}
	return q;
}

int
cfg_has_password(const char *s)
{
	const char *colon, *at, *p, *v;

	if (url_password_span(s, &colon, &at) && at > colon + 1)
		return 1;
	for (p = s; (p = strstr(p, "password")); p += 8)
		if (password_at(s, p, &v))
			return 1;
	return 0;
}

char *
cfg_redact(const char *s)
{
	struct buf b = BUF_INIT;
	const char *colon = NULL, *at = NULL, *p = s;
	int url = url_password_span(s, &colon, &at) && at > colon + 1;

	while (*p) {
		const char *v;

		/* (a keyword's value may hold the URL: then it goes whole) */
		if (url && p == colon + 1) {
			buf_puts(&b, "<redacted>");
			p = at;
			continue;
		}
		if (password_at(s, p, &v)) {
			buf_put(&b, p, (size_t)(v - p));
			buf_puts(&b, "<redacted>");
			p = value_end(v,
			    p > s && (p[-1] == '?' || p[-1] == '&'));
			/* a quoted value may touch the next keyword */
			if (*v == '\'' && *p && !isspace((unsigned char)*p))
				buf_putc(&b, ' ');
			continue;
		}
		buf_putc(&b, *p++);
	}
	return buf_detach(&b);
}
