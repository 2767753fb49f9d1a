/*
 * test_apply.c - migdir apply end to end: a real PostgreSQL, a real git
 * repository, the migdir binary run as a DBA runs it.
 *
 * Covers the seed's wrapped and self-recording files, re-apply after a
 * rollback, CREATE INDEX CONCURRENTLY, what git records (renames that
 * `git log --follow` follows, trailers, fsck, nothing of the user's own
 * work), SQL errors reported at file:line:col that leave everything as it
 * was and are recorded in the history, drift, refused names, untracked
 * environments, waiting on a lock, Ctrl-C, and passwords never shown.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

#define TABLE_A "CREATE TABLE a (id int PRIMARY KEY);\n"

static void
apply_ok(struct proj *p)
{
	struct tu_run *r = sc_migdir(p, NULL, "apply", NULL);

	sc_expect_status(r, 0, "apply");
	sc_run_free(r);
}

static void
test_apply_wrapped_file_runs_in_one_transaction_with_its_row(void **state)
{
	struct proj *p = sc_project("wrapped", NULL);
	char *sum, *recorded;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a",
	    "-- Migration: table a\nBEGIN;\n" TABLE_A "COMMIT;\n",
	    "BEGIN;\nDROP TABLE a;\nCOMMIT;\n");
	sc_commit(p, "add a");
	apply_ok(p);
	assert_string_equal(sc_folder_of(p, "20230101_create_a"), "applied");
	assert_true(
	    sc_exists(p, "migrations/applied/20230101_rollback_create_a.sql"));
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM a"), 0);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE version = '20230101_create_a' "
			     "AND is_active"),
	    1);
	sum = sc_git(p, "hash-object migrations/applied/20230101_create_a.sql");
	recorded = sc_psql(p, "SELECT checksum FROM schema_versions");
	assert_string_equal(sum, recorded);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history WHERE "
			     "action = 'apply' AND success"),
	    1);
	assert_true(sc_git_clean(p));
	free(sum);
	free(recorded);
	sc_free(p);
}

static void
test_apply_wrapped_file_that_fails_leaves_nothing_behind(void **state)
{
	struct proj *p = sc_project("wrapfail", NULL);
	struct tu_run *r;
	char *head_before, *head_after;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a",
	    "BEGIN;\n" TABLE_A "INSERT INTO schema_versions (version) "
	    "VALUES ('x');\nCREATE TABLE a (id int);\nCOMMIT;\n",
	    "DROP TABLE a;\n");
	sc_commit(p, "add a");
	head_before = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply of a failing file");
	sc_expect_contains(r->err,
	    "migrations/pending/20230101_create_a.sql:4:1: relation \"a\" "
	    "already exists (SQLSTATE 42P07)");
	sc_expect_contains(r->err, "    4 | CREATE TABLE a (id int);");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM a"));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions"),
	    0);
	assert_string_equal(sc_folder_of(p, "20230101_create_a"), "pending");
	head_after = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head_before, head_after);
	assert_true(sc_git_clean(p));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history WHERE "
			     "NOT success AND sqlstate = '42P07' "
			     "AND location LIKE '%%create_a.sql:4:1'"),
	    1);
	free(head_before);
	free(head_after);
	sc_free(p);
}

static const char self_fwd[] =
    "-- Migration: Add new table for tracking email templates\n"
    "BEGIN;\n"
    "\n"
    "-- Record this migration\n"
    "INSERT INTO schema_versions (version, description)\n"
    "VALUES ('20230601_add_email_templates', 'Add email templates table');\n"
    "\n"
    "CREATE TABLE email_templates (\n"
    "  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),\n"
    "  name TEXT NOT NULL\n"
    ");\n"
    "\n"
    "COMMIT;\n";

static const char self_rb[] =
    "-- Rollback: Add new table for tracking email templates\n"
    "BEGIN;\n"
    "UPDATE schema_versions\n"
    "SET is_active = FALSE, rolled_back_at = NOW()\n"
    "WHERE version = '20230601_add_email_templates';\n"
    "DROP TABLE IF EXISTS email_templates;\n"
    "COMMIT;\n";

static void
test_apply_self_recording_file_survives_apply_rollback_apply(void **state)
{
	struct proj *p = sc_project("selfrec", NULL);
	struct tu_run *r;
	char *desc;

	(void)state;
	sc_pair(p, "pending", "20230601_add_email_templates", self_fwd,
	    self_rb);
	sc_commit(p, "seed style");
	apply_ok(p);
	desc = sc_psql(p, "SELECT description FROM schema_versions");
	assert_string_equal(desc, "Add email templates table");
	free(desc);
	r = sc_migdir(p, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM email_templates"));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE NOT is_active AND "
			     "rolled_back_at IS NOT NULL"),
	    1);
	assert_string_equal(sc_folder_of(p, "20230601_add_email_templates"),
	    "pending");
	apply_ok(p);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM email_templates"),
	    0);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active AND rolled_back_at "
			     "IS NULL"),
	    1);
	/* the earlier row's facts went to the history before it was cleared */
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history WHERE action "
			     "= 'superseded' AND old_row->>"
			     "'rolled_back_at' IS NOT NULL"),
	    1);
	assert_string_equal(sc_folder_of(p, "20230601_add_email_templates"),
	    "applied");
	assert_true(sc_git_clean(p));
	sc_free(p);
}

static void
test_apply_again_after_rollback_updates_the_same_row(void **state)
{
	struct proj *p = sc_project("reapply", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_commit(p, "a");
	apply_ok(p);
	r = sc_migdir(p, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback");
	sc_run_free(r);
	apply_ok(p);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions"),
	    1);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history WHERE "
			     "version = '20230101_create_a'"),
	    4); /* apply, rollback, superseded, apply */
	sc_free(p);
}

static void
test_apply_runs_create_index_concurrently_outside_a_transaction(void **state)
{
	struct proj *p = sc_project("cic", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_pair(p, "pending", "20230102_index_a",
	    "-- built without blocking writes\n"
	    "CREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
	    "DROP INDEX CONCURRENTLY a_id_idx;\n");
	sc_commit(p, "cic");
	r = sc_migdir(p, NULL, "plan", NULL);
	sc_expect_status(r, 0, "plan");
	sc_expect_contains(r->out,
	    "no transaction: CREATE INDEX CONCURRENTLY (line 2)");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply");
	sc_expect_contains(r->out, "not atomic: CREATE INDEX CONCURRENTLY");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_index WHERE "
			     "indexrelid = 'a_id_idx'::regclass "
			     "AND indisvalid"),
	    1);
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 0, "rollback of a concurrent index");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 'a_id_idx'::regclass"));
	sc_free(p);
}

static void
test_apply_commit_holds_renames_trailers_and_nothing_else(void **state)
{
	struct proj *p = sc_project("git", NULL);
	char *s;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_pair(p, "pending", "20230102_create_b", "CREATE TABLE b (id int);\n",
	    "DROP TABLE b;\n");
	sc_write(p, "README", "hello\n");
	sc_write(p, "notes.txt", "one\n");
	sc_commit(p, "two migrations");
	/* the user's own work in progress */
	sc_write(p, "README", "hello, staged\n");
	free(sc_git(p, "add README"));
	sc_write(p, "notes.txt", "one, unstaged\n");
	sc_write(p, "scratch.sql", "select 1;\n");
	apply_ok(p);

	s = sc_git(p, "show --name-status --format= HEAD");
	assert_string_equal(s,
	    "R100\tmigrations/pending/20230101_create_a.sql\t"
	    "migrations/applied/20230101_create_a.sql\n"
	    "R100\tmigrations/pending/20230101_rollback_create_a.sql\t"
	    "migrations/applied/20230101_rollback_create_a.sql\n"
	    "R100\tmigrations/pending/20230102_create_b.sql\t"
	    "migrations/applied/20230102_create_b.sql\n"
	    "R100\tmigrations/pending/20230102_rollback_create_b.sql\t"
	    "migrations/applied/20230102_rollback_create_b.sql");
	free(s);
	s = sc_git(p,
	    "log --format=%%s --follow -- "
	    "migrations/applied/20230101_create_a.sql");
	assert_string_equal(s, "apply 2 migrations\ntwo migrations");
	free(s);
	s = sc_git(p,
	    "log -1 '--format=%%(trailers:key=Migdir-Version,"
	    "valueonly)'");
	assert_string_equal(s, "20230101_create_a\n20230102_create_b");
	free(s);
	s = sc_git(p,
	    "log -1 '--format=%%(trailers:key=Migdir-Action,"
	    "valueonly)%%(trailers:key=Migdir-Environment,valueonly)'");
	assert_string_equal(s, "apply\nproduction");
	free(s);
	s = sc_git(p,
	    "log -1 '--format=%%(trailers:key=Migdir-Database,"
	    "valueonly)'");
	assert_non_null(strstr(s, p->db));
	free(s);
	s = sc_git(p, "fsck --strict --no-progress 2>&1");
	assert_non_null(s);
	free(s);
	/* the user's work is exactly as it was, and not in the commit */
	s = sc_git(p, "diff --cached --name-only");
	assert_string_equal(s, "README");
	free(s);
	s = sc_git(p, "diff --name-only");
	assert_string_equal(s, "notes.txt");
	free(s);
	s = sc_git(p, "status --porcelain");
	assert_string_equal(s, "M  README\n M notes.txt\n?? scratch.sql");
	free(s);
	s = sc_read(p, "README");
	assert_string_equal(s, "hello, staged\n");
	free(s);
	sc_free(p);
}

/*
 * A pair added to the index but never committed: the commit adds it in
 * applied/, and the index keeps no stale entry for pending/.
 */
static void
test_apply_of_a_staged_new_file_leaves_the_index_clean(void **state)
{
	struct proj *p = sc_project("staged", NULL);
	char *s;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	free(sc_git(p, "add migrations"));
	apply_ok(p);
	s = sc_git(p, "show --name-status --format= HEAD");
	assert_string_equal(s,
	    "A\tmigrations/applied/20230101_create_a.sql\n"
	    "A\tmigrations/applied/20230101_rollback_create_a.sql");
	free(s);
	assert_true(sc_git_clean(p));
	sc_free(p);
}

static void
test_apply_stops_at_a_failure_and_commits_what_ran(void **state)
{
	struct proj *p = sc_project("stop", NULL);
	struct tu_run *r;
	char *s;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_pair(p, "pending", "20230102_broken",
	    "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n"
	    "SELECT no_such_column FROM b;\n",
	    "DROP TABLE b;\n");
	sc_pair(p, "pending", "20230103_create_c", "CREATE TABLE c (id int);\n",
	    "DROP TABLE c;\n");
	sc_commit(p, "three");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply with a broken migration");
	sc_expect_contains(r->err,
	    "migrations/pending/20230102_broken.sql:3:8: column "
	    "\"no_such_column\" does not exist (SQLSTATE 42703)");
	sc_expect_contains(r->err, "      |        ^");
	sc_expect_contains(r->out, "20230101_create_a");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230101_create_a"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_broken"), "pending");
	assert_string_equal(sc_folder_of(p, "20230103_create_c"), "pending");
	assert_null(sc_psql(p, "SELECT 1 FROM b"));
	assert_null(sc_psql(p, "SELECT 1 FROM c"));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    1);
	s = sc_git(p, "log -1 --format=%%s");
	assert_string_equal(s, "apply 20230101_create_a");
	free(s);
	assert_true(sc_git_clean(p));
	sc_free(p);
}

static void
test_status_and_apply_report_checksum_drift_with_its_commit(void **state)
{
	struct proj *p = sc_project("drift", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_commit(p, "a");
	apply_ok(p);
	sc_write(p, "migrations/applied/20230101_create_a.sql",
	    "CREATE TABLE a (id bigint PRIMARY KEY);\n");
	sc_commit(p, "widen a.id after the fact");
	sc_pair(p, "pending", "20230102_create_b", "CREATE TABLE b (id int);\n",
	    "DROP TABLE b;\n");
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 3, "status with drift");
	sc_expect_contains(r->out, "changed since it was applied");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply with drift");
	sc_expect_contains(r->err,
	    "20230101_create_a changed since it was "
	    "applied");
	sc_expect_contains(r->err, "\"widen a.id after the fact\"");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM b"));
	sc_free(p);
}

static void
test_apply_refuses_names_that_are_not_migration_names(void **state)
{
	static const char *const bad[] = {
	    "migrations/pending/20230101_it's.sql",
	    "migrations/pending/20230101_a;drop table x.sql",
	    "migrations/pending/20230101_with space.sql",
	    "migrations/pending/20230101_caf\xc3\xa9.sql",
	    "migrations/pending/20230231_no_such_day.sql",
	    "migrations/pending/20230101_UPPER.SQL",
	};
	struct proj *p = sc_project("names", NULL);
	struct tu_run *r;
	size_t i;

	(void)state;
	sc_pair(p, "pending", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sc_write(p, bad[i], "CREATE TABLE evil (id int);\n");
		r = sc_migdir(p, NULL, "apply", NULL);
		sc_expect_status(r, 1, bad[i]);
		sc_expect_contains(r->err, bad[i]);
		sc_expect_contains(r->err, "is not a migration name");
		sc_run_free(r);
		r = sc_migdir(p, NULL, "status", NULL);
		sc_expect_contains(r->out, "not a migration name");
		sc_run_free(r);
		{
			char *path = tu_path(p->dir, bad[i]);

			unlink(path);
			free(path);
		}
	}
	assert_null(sc_psql(p, "SELECT 1 FROM evil"));
	assert_null(sc_psql(p, "SELECT 1 FROM a"));
	r = sc_migdir(p, NULL, "new", "it's; DROP TABLE x", NULL);
	sc_expect_status(r, 2, "new with a quote");
	sc_expect_contains(r->err, "character ''' is not allowed");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "new", "caf\xc3\xa9", NULL);
	sc_expect_status(r, 2, "new with non-ASCII");
	sc_expect_contains(r->err, "non-ASCII");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "new", "Add Email-Templates", NULL);
	sc_expect_status(r, 0, "new with spaces");
	sc_expect_contains(r->out, "_add_email_templates.sql");
	sc_run_free(r);
	sc_free(p);
}

static void
test_apply_to_another_environment_moves_no_file(void **state)
{
	struct proj *p = sc_project("staging", NULL);
	char *staging_db = tu_asprintf("%s_stg", p->db);
	char *staging_url = pgcluster_createdb(sc_cluster, staging_db);
	char *env_url = tu_asprintf("STAGING_URL=%s", staging_url);
	const char *env[] = {env_url, NULL};
	struct tu_run *r;
	char *n;

	(void)state;
	sc_pair(p, "archive", "20230101_create_a", TABLE_A, "DROP TABLE a;\n");
	sc_pair(p, "applied", "20230102_create_b", "CREATE TABLE b (x int);\n",
	    "DROP TABLE b;\n");
	sc_pair(p, "pending", "20230103_create_c", "CREATE TABLE c (x int);\n",
	    "DROP TABLE c;\n");
	sc_commit(p, "history");
	r = sc_migdir_env(p, env, NULL, "-e", "staging", "apply", NULL);
	sc_expect_status(r, 0, "apply to staging");
	sc_expect_contains(r->out, "no file moved");
	sc_run_free(r);
	n = pgcluster_psql(sc_cluster, staging_db,
	    "SELECT count(*) FROM schema_versions WHERE is_active");
	assert_string_equal(n, "3");
	free(n);
	assert_string_equal(sc_folder_of(p, "20230103_create_c"), "pending");
	assert_true(sc_git_clean(p));
	/* the tracked database got nothing */
	assert_null(sc_psql(p, "SELECT 1 FROM c"));
	pgcluster_dropdb(sc_cluster, staging_db);
	free(staging_db);
	free(staging_url);
	free(env_url);
	sc_free(p);
}

static void
test_apply_to_and_step_limit_the_run(void **state)
{
	struct proj *p = sc_project("limits", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_m1", "CREATE TABLE m1 ();\n",
	    "DROP TABLE m1;\n");
	sc_pair(p, "pending", "20230102_m2", "CREATE TABLE m2 ();\n",
	    "DROP TABLE m2;\n");
	sc_pair(p, "pending", "20230103_m3", "CREATE TABLE m3 ();\n",
	    "DROP TABLE m3;\n");
	sc_commit(p, "three");
	r = sc_migdir(p, NULL, "apply", "--step", "1", NULL);
	sc_expect_status(r, 0, "apply --step 1");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "pending");
	r = sc_migdir(p, NULL, "apply", "--to", "20230102_m2", NULL);
	sc_expect_status(r, 0, "apply --to");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "applied");
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "pending");
	r = sc_migdir(p, NULL, "apply", "--step", "0", NULL);
	sc_expect_status(r, 2, "apply --step 0");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "apply", "--to", "20230109_nope", NULL);
	sc_expect_status(r, 1, "apply --to unknown");
	sc_expect_contains(r->err, "no migration \"20230109_nope\"");
	sc_run_free(r);
	sc_free(p);
}

static void
test_apply_refuses_out_of_order_unless_asked(void **state)
{
	struct proj *p = sc_project("order", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230105_later", "CREATE TABLE later ();\n",
	    "DROP TABLE later;\n");
	sc_commit(p, "later");
	apply_ok(p);
	sc_pair(p, "pending", "20230101_earlier", "CREATE TABLE earlier ();\n",
	    "DROP TABLE earlier;\n");
	sc_commit(p, "earlier, from a branch merged late");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "out of order");
	sc_expect_contains(r->err,
	    "20230101_earlier is older than "
	    "20230105_later");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "apply", "--out-of-order", NULL);
	sc_expect_status(r, 0, "apply --out-of-order");
	sc_run_free(r);
	/* rollback follows the order they were applied in, not versions */
	r = sc_migdir(p, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback");
	sc_expect_contains(r->out, "20230101_earlier");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230101_earlier"), "pending");
	assert_string_equal(sc_folder_of(p, "20230105_later"), "applied");
	sc_free(p);
}

static void
test_init_adopts_a_hand_kept_table_without_losing_rows(void **state)
{
	struct proj *p = sc_project("init", NULL);
	struct tu_run *r;

	(void)state;
	free(sc_psql(p,
	    "CREATE TABLE schema_versions (id SERIAL PRIMARY KEY, "
	    "version TEXT NOT NULL, applied_at TIMESTAMPTZ DEFAULT "
	    "now(), description TEXT);"
	    "INSERT INTO schema_versions (version, description) "
	    "VALUES ('20220101_by_hand', 'done by hand'), "
	    "('20220102_also', NULL);"));
	r = sc_migdir(p, NULL, "init", NULL);
	sc_expect_status(r, 0, "init");
	sc_expect_contains(r->out, "kept migdir.ini");
	sc_expect_contains(r->out, "added a unique index");
	sc_expect_contains(r->out, "is_active");
	sc_expect_contains(r->out,
	    "created table \"public\".\"schema_versions_"
	    "history\"");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active AND checksum IS "
			     "NULL"),
	    2);
	r = sc_migdir(p, NULL, "init", NULL);
	sc_expect_status(r, 0, "init again");
	sc_expect_contains(r->out, "is ready");
	sc_run_free(r);
	/* the hand-applied versions have no files: status says so */
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->out, "no file has this version");
	sc_run_free(r);
	sc_free(p);
}

static void
test_a_password_never_appears_in_any_output(void **state)
{
	struct proj *p = sc_project("secret", NULL);
	struct tu_run *r;
	const char *url =
	    "postgresql://alice:Sup3rS3cret@127.0.0.1:1/nodb?connect_timeout=2";
	static const char *const cmds[][2] = {
	    {"status", NULL},
	    {"apply", NULL},
	    {"plan", NULL},
	    {"--json", "status"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		r = sc_migdir(p, NULL, "--database-url", url, cmds[i][0],
		    cmds[i][1], NULL);
		sc_expect_status(r, 1, cmds[i][0]);
		sc_expect_contains(r->err,
		    "could not connect to alice@127.0.0.1:1/nodb");
		assert_null(strstr(r->out, "Sup3rS3cret"));
		assert_null(strstr(r->err, "Sup3rS3cret"));
		sc_run_free(r);
	}
	sc_free(p);
}

/* Add a line to [env production] of migdir.ini. */
static void
env_option(struct proj *p, const char *line)
{
	char *ini = sc_read(p, "migdir.ini");
	char *at = strstr(ini, "[env production]\n");
	char *eol, *out;

	assert_non_null(at);
	eol = strchr(strstr(at, "url = "), '\n');
	out = tu_asprintf("%.*s\n%s\n%s", (int)(eol - ini), ini, line, eol + 1);
	sc_write(p, "migdir.ini", out);
	free(out);
	free(ini);
}

/* Run sql in the background through psql; returns its pid. */
static pid_t
psql_background(struct proj *p, const char *sql)
{
	char *psql = tu_path(sc_cluster->bindir, "psql");
	const char *argv[] = {psql, "-X", "-q", "-c", sql, p->url, NULL};
	pid_t pid = tu_spawn(NULL, NULL, argv, "/dev/null", "/dev/null");

	free(psql);
	assert_true(pid > 0);
	return pid;
}

/* Wait until a query matching pattern is running (at most 10 s). */
static void
test_a_statement_waiting_on_a_lock_says_who_holds_it(void **state)
{
	struct proj *p = sc_project("lockwait", NULL);
	struct tu_run *r;
	pid_t pid;

	(void)state;
	env_option(p, "lock_timeout = 2500ms");
	free(sc_psql(p, "CREATE TABLE busy (id int)"));
	sc_pair(p, "pending", "20230101_alter_busy",
	    "ALTER TABLE busy ADD COLUMN note text;\n",
	    "ALTER TABLE busy DROP COLUMN note;\n");
	sc_commit(p, "alter busy");
	pid = psql_background(p,
	    "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; "
	    "SELECT pg_sleep(5); COMMIT;");
	sc_wait_for_query(p, "BEGIN; LOCK TABLE busy%%");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply blocked by a lock");
	sc_expect_contains(r->err, "20230101_alter_busy: waiting");
	sc_expect_contains(r->err,
	    "for AccessExclusiveLock on busy, held by "
	    "pid");
	sc_expect_contains(r->err, "(SQLSTATE 55P03)");
	sc_run_free(r);
	assert_true(tu_wait(pid) == 0);
	assert_string_equal(sc_folder_of(p, "20230101_alter_busy"), "pending");
	sc_free(p);
}

static void
test_ctrl_c_cancels_the_running_statement_and_leaves_it_pending(void **state)
{
	struct proj *p = sc_project("cancel", NULL);
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	char *e;
	pid_t pid;

	(void)state;
	sc_pair(p, "pending", "20230101_slow",
	    "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n",
	    "DROP TABLE slow;\n");
	sc_commit(p, "slow");
	pid = tu_spawn(p->dir, env, argv, out, err);
	assert_true(pid > 0);
	sc_wait_for_query(p, "SELECT pg_sleep(30)");
	kill(pid, SIGINT);
	assert_int_equal(tu_wait(pid), 1);
	e = tu_read_file(err);
	sc_expect_contains(e, "20230101_slow canceled by Ctrl-C");
	sc_expect_contains(e, "SQLSTATE 57014");
	free(e);
	assert_null(sc_psql(p, "SELECT 1 FROM slow"));
	assert_string_equal(sc_folder_of(p, "20230101_slow"), "pending");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history WHERE NOT "
			     "success AND sqlstate = '57014'"),
	    1);
	assert_int_equal(pgcluster_wait_sessions(sc_cluster, p->db, 0, 5000),
	    0);
	free(out);
	free(err);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_apply_wrapped_file_runs_in_one_transaction_with_its_row),
	    cmocka_unit_test(
		test_apply_wrapped_file_that_fails_leaves_nothing_behind),
	    cmocka_unit_test(
		test_apply_self_recording_file_survives_apply_rollback_apply),
	    cmocka_unit_test(
		test_apply_again_after_rollback_updates_the_same_row),
	    cmocka_unit_test(
		test_apply_runs_create_index_concurrently_outside_a_transaction),
	    cmocka_unit_test(
		test_apply_commit_holds_renames_trailers_and_nothing_else),
	    cmocka_unit_test(
		test_apply_stops_at_a_failure_and_commits_what_ran),
	    cmocka_unit_test(
		test_status_and_apply_report_checksum_drift_with_its_commit),
	    cmocka_unit_test(
		test_apply_refuses_names_that_are_not_migration_names),
	    cmocka_unit_test(
		test_apply_of_a_staged_new_file_leaves_the_index_clean),
	    cmocka_unit_test(test_apply_to_another_environment_moves_no_file),
	    cmocka_unit_test(test_apply_to_and_step_limit_the_run),
	    cmocka_unit_test(test_apply_refuses_out_of_order_unless_asked),
	    cmocka_unit_test(
		test_init_adopts_a_hand_kept_table_without_losing_rows),
	    cmocka_unit_test(test_a_password_never_appears_in_any_output),
	    cmocka_unit_test(
		test_a_statement_waiting_on_a_lock_says_who_holds_it),
	    cmocka_unit_test(
		test_ctrl_c_cancels_the_running_statement_and_leaves_it_pending),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
