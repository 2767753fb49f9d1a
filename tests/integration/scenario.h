/*
 * scenario.h - end-to-end fixtures for the integration tests.
 *
 * One throwaway PostgreSQL cluster per test program (started in the group
 * setup), one database and one git repository per test.  A project is a
 * git repository holding migdir.ini (tracking environment "production",
 * whose url is the test's database), the three folders and whatever
 * migration files the test writes; migdir itself runs as a separate
 * process (MIGDIR_BIN, or MIGDIR_FAULT_BIN for crash tests), exactly as a
 * DBA runs it.  Nothing in the database or git layer is mocked: assertions
 * go through psql and the git command line.
 */
#ifndef MIGDIR_SCENARIO_H
#define MIGDIR_SCENARIO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gitrepo.h"
#include "pgcluster.h"
#include "testutil.h"

struct proj {
	char *tmp; /* private temporary directory */
	char *dir; /* the repository / project root */
	char *db;  /* database name */
	char *url; /* its URL */
};

/* The cluster of this test program (valid after sc_group_setup). */
extern struct pgcluster *sc_cluster;

/* cmocka group setup / teardown: start and stop the cluster. */
int sc_group_setup(void **state);
int sc_group_teardown(void **state);

/*
 * Fail the test when the group setup found no cluster; skip it instead
 * when MIGDIR_TEST_ALLOW_SKIP=1.
 */
void sc_need_cluster(void);

/*
 * A new project: temp dir, database (name derived from `name`), git
 * repository with migdir.ini and the folders, committed.  Extra ini lines
 * (may be NULL) are appended to the [migdir] section.
 */
struct proj *sc_project(const char *name, const char *ini_extra);

/* Drop the database and remove the directory (kept with MIGDIR_TEST_KEEP=1). */
void sc_free(struct proj *p);

/* Write (or overwrite) a file under the project root. */
void sc_write(struct proj *p, const char *rel, const char *content);

/* Does a file exist under the project root? */
int sc_exists(struct proj *p, const char *rel);

/* Read a file under the project root (caller frees; NULL if missing). */
char *sc_read(struct proj *p, const char *rel);

/* git add -A && git commit in the project. */
void sc_commit(struct proj *p, const char *msg);

/* Run `git ARGS` in the project; stdout trimmed, or NULL on failure. */
char *sc_git(struct proj *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run SQL in the project's database; stdout (-At) trimmed, or NULL. */
char *sc_psql(struct proj *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same, returning the single value as an integer (fails the test if not). */
long sc_psql_long(struct proj *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Run migdir (the normal binary; the fault binary when fault != NULL,
 * with MIGDIR_FAULT=fault) in the project directory with the NULL-
 * terminated arguments.  Returns the run (caller frees with tu_run_free).
 */
struct tu_run *sc_migdir(struct proj *p, const char *fault, ...);

/* Same as sc_migdir, with extra environment entries ("NAME=value"). */
struct tu_run *sc_migdir_env(struct proj *p, const char *const *env,
    const char *fault, ...);

/* Free a run. */
void sc_run_free(struct tu_run *r);

/* Fail the test, printing the run, unless its exit status is want. */
void sc_expect_status(const struct tu_run *r, int want, const char *what);

/* Does haystack contain needle?  (fails with both printed if not) */
void sc_expect_contains(const char *haystack, const char *needle);

/* A migration pair in a folder: VERSION.sql and its rollback. */
void sc_pair(struct proj *p, const char *folder, const char *version,
    const char *forward, const char *rollback);

/* Which folder holds VERSION.sql: "pending", "applied", "archive" or NULL. */
const char *sc_folder_of(struct proj *p, const char *version);

/* Wait (up to 10 s) until another session runs a query LIKE pattern. */
void sc_wait_for_query(struct proj *p, const char *pattern);

/*
 * A project holding a copy of the sample CRM history of the source tree
 * (migrations/ and consolidated_schema.sql), committed; its database is
 * left as it is (empty).
 */
struct proj *sc_sample(const char *name, const char *ini_extra);

/* How many scratch databases (migdir_scratch_*) the cluster holds. */
long sc_scratch_dbs(struct proj *p);

/*
 * The schema of the database at url as pg_dump --schema-only --no-owner
 * writes it, without migdir's tables, version and \restrict lines (the
 * corpora's fingerprint), piped through the shell text then ("" for none).
 */
char *sc_schema_of(const char *url, const char *then);

/* `git status --porcelain` is empty? */
int sc_git_clean(struct proj *p);

#endif
