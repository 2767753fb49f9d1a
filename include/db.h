/*
 * db.h - the database: connection, lock, bookkeeping, running migrations.
 *
 * The only module that uses libpq, which it loads on first use (commands
 * such as `version` and `help` never pay for it).  Every statement migdir
 * writes itself is parameterised (PQexecParams / prepared statements): a
 * version name is data, never SQL text.  migdir's own SQL is
 * schema-qualified; the user's search_path is left alone.
 *
 * Running migrations (db_run): consecutive transactional migrations are sent
 * through libpq's pipeline mode, each as BEGIN; <statements>; <bookkeeping>;
 * COMMIT; followed by a flush request, with a few migrations in flight, so
 * the server never waits for a round trip; an error makes the server skip
 * everything after it up to the final Sync, so nothing after a failure
 * runs.  Migrations that cannot run in a transaction run statement by
 * statement outside the pipeline.
 */
#ifndef MIGDIR_DB_H
#define MIGDIR_DB_H

#include <stddef.h>

#include "buf.h"
#include "rows.h"

struct db;

struct db_target {
	const char *conninfo; /* URL or key=value; "" = libpq defaults */
	const char *dbname;   /* another database on that server, or NULL */
	const char *schema, *table;    /* bookkeeping table (unquoted) */
	const char *lock_timeout;      /* PostgreSQL setting or NULL */
	long lock_timeout_ms;          /* the same in ms (0: none) */
	const char *statement_timeout; /* same */
	const char *environment;       /* environment name, for the history */
	const char *who;               /* "user@host", for applied_by */
	const char *app_version;       /* migdir's version */
	int quiet; /* server notices and long waits only with -v (scratch
		      databases) */
};

/* What db_probe found. */
struct db_probe {
	int schema_exists;  /* the bookkeeping schema exists */
	int table_exists;   /* schema_versions exists */
	int history_exists; /* its run history table exists */
	int has_unique;     /* a unique index on (version) */
	unsigned columns;   /* DB_COL_* present */
	long objects;       /* the user's objects: relations, functions, types,
			 schemas, extensions (not migdir's own tables) */
	char example[160];  /* one of them, "table public.customers" */
};

enum db_column {
	DB_COL_APPLIED_AT = 1 << 0,
	DB_COL_DESCRIPTION = 1 << 1,
	DB_COL_IS_ACTIVE = 1 << 2,
	DB_COL_ROLLED_BACK_AT = 1 << 3,
	DB_COL_CHECKSUM = 1 << 4,
	DB_COL_ROLLBACK_CHECKSUM = 1 << 5,
	DB_COL_APPLIED_BY = 1 << 6,
	DB_COL_DURATION_MS = 1 << 7,
	DB_COL_MIGDIR_VERSION = 1 << 8,
	DB_COL_ALL = (1 << 9) - 1,
};

/*
 * Connect.  Sets fallback_application_name=migdir, client_encoding=UTF8,
 * and lock_timeout / statement_timeout as session defaults, and checks
 * that the server is PostgreSQL 12 or newer.  On failure returns MG_ERROR
 * with libpq's message (never a password) and *out = NULL.
 */
int db_connect(struct db **out, const struct db_target *t);

/* Disconnect and free; NULL is a no-op. */
void db_close(struct db *db);

/*
 * When a statement failed for want of a privilege (SQLSTATE 42501, or a
 * connection refused with "permission denied"), append to out the hint
 * that names the privilege the role of db lacks and the GRANT that gives
 * it, and return 1; else return 0.  statement is the SQL that failed
 * (NULL: migdir's own bookkeeping), to tell which privilege a table
 * needs.  db may be NULL.
 */
int db_privilege_hint(struct buf *out, const struct db *db,
    const char *sqlstate, const char *message, const char *statement);

/* "user@host:port/dbname", without any password (borrowed). */
const char *db_display(const struct db *db);

/* "host:port/dbname" for the Migdir-Database git trailer (borrowed). */
const char *db_location(const struct db *db);

/* Server version number, e.g. 150004. */
int db_server_version(const struct db *db);

/*
 * What a statement of migration version last waited for, as the waiting
 * line said it ("AccessExclusiveLock on t, held by pid 42 (...)"), or
 * NULL when none of its statements was reported waiting (borrowed).
 */
const char *db_last_wait(const struct db *db, const char *version);

/*
 * Describe a conninfo string without connecting, for messages before a
 * connection exists: "user@host:port/dbname" with libpq's defaults filled
 * in, never the password.  Appended to out.
 */
void db_describe_conninfo(struct buf *out, const char *conninfo);

/*
 * Split a connection string (URL or key=value) into one without its
 * password, as key='value' pairs, and the password (NULL when none;
 * caller frees): for a program that takes the password from PGPASSWORD
 * instead of a command line every user can read.  A dbname other than
 * NULL replaces the string's database.
 */
int db_conninfo_split(const char *conninfo, const char *dbname,
    struct buf *rest, char **password);

/*
 * Take the session advisory lock keyed on the bookkeeping table, polling
 * pg_try_advisory_lock (never a blocking pg_advisory_lock, which deadlocks
 * against CREATE INDEX CONCURRENTLY in another session) for up to wait_ms,
 * saying once who holds it.  Returns 0, MG_ELOCKED on timeout, MG_ECANCEL
 * on Ctrl-C.
 */
int db_lock(struct db *db, long wait_ms);

/*
 * Did db_lock find the lock held by another session (and so wait for it)?
 * Whatever that session did is in the rows read after it.
 */
int db_lock_waited(const struct db *db);

/* Inspect the bookkeeping tables (no writes). */
int db_probe(struct db *db, struct db_probe *out);

/*
 * Create the bookkeeping table and its run history, or add what a table
 * kept by hand lacks (columns, a unique index on version), losing no row.
 * Appends a line per change to report (which may be NULL).  Refuses, with
 * the duplicates named, a hand-kept table that holds one version twice.
 */
int db_ensure(struct db *db, const struct db_probe *probe, struct buf *report);

/* Set *probe to what db_probe finds once db_ensure succeeded (no query). */
void db_probe_ensured(struct db_probe *probe);

/* Read every row of schema_versions (an absent table gives no rows). */
int db_read_rows(struct db *db, const struct db_probe *probe, struct rows *out);

/*
 * The versions whose last run (in the run history) failed: a failure
 * leaves nothing else behind, so status says so from here.
 */
int db_read_failures(struct db *db, const struct db_probe *probe,
    struct failures *out);

/*
 * Who made the last successful run of action ("apply", "rollback") of
 * version, and when (usec since the epoch), from the run history: *by
 * (caller frees) stays NULL when it records none.
 */
int db_last_run(struct db *db, const struct db_probe *probe,
    const char *version, const char *action, char **by, long long *at);

enum db_action {
	DB_APPLY,
	DB_ROLLBACK,
	DB_BASELINE, /* run the statements (a baseline such as
			consolidated_schema.sql, or none), then record
			`records` as applied without running them */
};

/* A version a DB_BASELINE unit records as applied. */
struct db_record {
	const char *version, *description;
	const char *checksum, *rb_checksum; /* or NULL */
};

/* The server's account of a failure. */
struct db_failure {
	char *sqlstate, *message, *detail, *hint, *context;
	int position;       /* 1-based character in the statement, 0 if none */
	int in_bookkeeping; /* failed in migdir's own statement */
	int at_commit;      /* failed at COMMIT (a deferred check) */
	size_t stmt;        /* index into db_unit.stmts of the failing one */
};

/* One migration (or rollback) to run. */
struct db_unit {
	const char *version;
	enum db_action action;
	int transactional;        /* one transaction with the bookkeeping */
	const char *const *stmts; /* NUL-terminated statements */
	size_t nstmts;
	const char *description; /* for a new row */
	const char *checksum; /* of the file that runs (forward or rollback) */
	const char
	    *rb_checksum; /* apply: the rollback file's checksum, or NULL */
	int clear_row; /* apply over an inactive row: keep it in the history, then delete it */
	int reset_after; /* RESET ALL afterwards: the file changed session settings */
	const struct db_record *records; /* DB_BASELINE: what it records */
	size_t nrecords;
	/* results */
	int done; /* committed */
	size_t
	    stmts_done; /* statements 1..n ran and stay done (non-transactional) */
	long long usec; /* wall time */
	int failed;
	struct db_failure fail;
};

/*
 * Called as each unit commits, in order; a negative return stops sending
 * more units (those already sent still finish).
 */
typedef int (*db_unit_cb)(void *payload, struct db_unit *u, size_t index);

/*
 * Run units in order until one fails.  Returns 0 when all committed;
 * MG_ESQL when one failed (its fail fields say where; nothing after it ran);
 * MG_ECANCEL after Ctrl-C; MG_ERROR for a lost connection or a refusal by
 * the callback.  While a statement waits more than a second, says what it
 * waits on (which lock, held by which pid, for how long).
 */
int db_run(struct db *db, struct db_unit *units, size_t n, db_unit_cb cb,
    void *payload);

/*
 * Record a failed run of u in the history (autocommit): its SQLSTATE,
 * message, failing statement and location ("file:line:col").
 */
int db_record_failure(struct db *db, const struct db_unit *u,
    const char *statement, const char *location);

/* Free the strings of a failure. */
void db_failure_release(struct db_failure *f);

/*
 * Create database name (unquoted; migdir's own scratch names) on db's
 * server: a copy of template, or when template is NULL an empty database
 * from template0 with the encoding and locale of db's database.
 */
int db_create_database(struct db *db, const char *name, const char *template);

/*
 * Drop database name if it exists, ending its sessions first (WITH
 * (FORCE) on PostgreSQL 13 and newer).  Runs even after Ctrl-C.
 */
int db_drop_database(struct db *db, const char *name);

/* A table, by schema and name (unquoted). */
struct db_table {
	char *schema, *name;
};

/*
 * The user's tables that hold at least one row, by schema and name (not
 * migdir's own): the rows migrations inserted, such as lookup values.
 * *out is caller-owned; free it with db_tables_release.
 */
int db_tables_with_rows(struct db *db, struct db_table **out, size_t *n);

void db_tables_release(struct db_table *t, size_t n);

/*
 * Is there an index named index, invalid (pg_index.indisvalid false: what
 * a CREATE INDEX CONCURRENTLY that failed or was cut leaves) and not being
 * built right now, in the schema of table (schema "" for the search
 * path)?  *found is then its schema (caller frees), else NULL.
 */
int db_invalid_index(struct db *db, const char *schema, const char *table,
    const char *index, char **found);

/* Does the database hold any such index?  1, 0, or MG_ERROR. */
int db_has_invalid_indexes(struct db *db);

/*
 * The databases whose names start with prefix and that no session uses
 * (scratch databases a killed migdir left behind), sorted; caller frees
 * each and the array.
 */
int db_idle_databases(struct db *db, const char *prefix, char ***out,
    size_t *n);

/* The name of the database db is connected to (borrowed). */
const char *db_name(const struct db *db);

/* libpq's version, "15.18" (static). */
const char *db_library_version(void);

/* Has SIGINT arrived during a db call? */
int db_interrupted(void);

#endif
