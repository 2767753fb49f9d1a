/*
 * test_crash.c - a process killed at each step of an apply and of a
 * rollback (DESIGN §4).
 *
 * The test build migdir-faults exits with status 99 at a named fault
 * point: after the database commit, between the two renames of a pair,
 * after the renames, after the git index is written.  For each point the
 * next `status` must explain the state, and the next `apply` (or `repair`)
 * must finish it without running any migration's SQL a second time: every
 * migration here records each run in a table `ran`, counted afterwards.
 * A migdir killed with SIGKILL in the middle of a statement is covered too,
 * and a Ctrl-C (SIGINT raised at a fault point) between two statements
 * and between two migrations.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario.h"
#include "../../include/banned.h"

static struct proj *
two_pending(const char *name)
{
	struct proj *p = sc_project(name, NULL);

	free(sc_psql(p,
	    "CREATE TABLE ran (version text, at timestamptz "
	    "DEFAULT clock_timestamp())"));
	sc_pair(p, "pending", "20230101_m1",
	    "CREATE TABLE t1 (id int);\nINSERT INTO ran VALUES ('m1');\n",
	    "DROP TABLE t1;\nINSERT INTO ran VALUES ('undo m1');\n");
	sc_pair(p, "pending", "20230102_m2",
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n",
	    "DROP TABLE t2;\nINSERT INTO ran VALUES ('undo m2');\n");
	sc_commit(p, "two migrations");
	return p;
}

static void
expect_runs(struct proj *p, const char *version, long want)
{
	long n = sc_psql_long(p,
	    "SELECT count(*) FROM ran WHERE version = "
	    "'%s'",
	    version);

	if (n != want)
		fail_msg("%s ran %ld times, expected %ld", version, n, want);
}

static void
expect_all_applied_and_committed(struct proj *p)
{
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "applied");
	assert_true(
	    sc_exists(p, "migrations/applied/20230101_rollback_m1.sql"));
	assert_true(
	    sc_exists(p, "migrations/applied/20230102_rollback_m2.sql"));
	assert_true(sc_git_clean(p));
	expect_runs(p, "m1", 1);
	expect_runs(p, "m2", 1);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    2);
}

static const struct {
	const char *fault;  /* where migdir-faults dies during apply */
	const char *status; /* what the next status says */
	const char *finish; /* the command that finishes it */
} apply_cases[] = {
    {"apply_after_commit",
	"applied in the database, but not moved to "
	"applied/",
	"apply"},
    {"apply_after_commit",
	"applied in the database, but not moved to "
	"applied/",
	"repair"},
    {"apply_between_renames",
	"rollback file is in pending/, the "
	"migration in applied/",
	"apply"},
    {"apply_between_renames",
	"rollback file is in pending/, the "
	"migration in applied/",
	"repair"},
    {"apply_after_renames", "moved to applied/ but not committed", "apply"},
    {"apply_after_renames", "moved to applied/ but not committed", "repair"},
    {"after_index_write", "moved to applied/ but not committed", "apply"},
    {"after_index_write", "moved to applied/ but not committed", "repair"},
};

static void
test_apply_killed_at_each_step_is_explained_and_finished(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]); i++) {
		struct proj *p = two_pending("crash_apply");
		struct tu_run *r;

		r = sc_migdir(p, apply_cases[i].fault, "apply", NULL);
		sc_expect_status(r, 99, apply_cases[i].fault);
		sc_run_free(r);
		expect_runs(p, "m1", 1);
		r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
		sc_expect_status(r, 3, "status after the crash");
		sc_expect_contains(r->out, apply_cases[i].status);
		sc_run_free(r);
		r = sc_migdir(p, NULL, apply_cases[i].finish, NULL);
		sc_expect_status(r, 0, apply_cases[i].finish);
		sc_run_free(r);
		if (!strcmp(apply_cases[i].finish, "repair")) {
			r = sc_migdir(p, NULL, "apply", NULL);
			sc_expect_status(r, 0, "apply after repair");
			sc_run_free(r);
		}
		expect_all_applied_and_committed(p);
		r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
		sc_expect_status(r, 0, "status once finished");
		sc_run_free(r);
		sc_free(p);
	}
}

static const struct {
	const char *fault;
	const char *status;
	const char *finish; /* repair, or apply straight away */
} rollback_cases[] = {
    {"rollback_after_commit",
	"rolled back in the database, but not "
	"moved to pending/",
	"repair"},
    {"rollback_after_commit",
	"rolled back in the database, but not "
	"moved to pending/",
	"apply"},
    {"rollback_between_renames",
	"rollback file is in applied/, the "
	"migration in pending/",
	"repair"},
    {"rollback_between_renames",
	"rollback file is in applied/, the "
	"migration in pending/",
	"apply"},
    {"rollback_after_renames", "moved to pending/ but not committed", "repair"},
    {"rollback_after_renames", "moved to pending/ but not committed", "apply"},
    {"after_index_write", "moved to pending/ but not committed", "repair"},
    {"after_index_write", "moved to pending/ but not committed", "apply"},
};

static void
test_rollback_killed_at_each_step_is_explained_and_finished(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rollback_cases) / sizeof(rollback_cases[0]);
	     i++) {
		struct proj *p = two_pending("crash_rollback");
		struct tu_run *r;

		r = sc_migdir(p, NULL, "apply", NULL);
		sc_expect_status(r, 0, "apply");
		sc_run_free(r);
		r = sc_migdir(p, rollback_cases[i].fault, "rollback", "--force",
		    NULL);
		sc_expect_status(r, 99, rollback_cases[i].fault);
		sc_run_free(r);
		expect_runs(p, "undo m2", 1);
		r = sc_migdir(p, NULL, "status", NULL);
		sc_expect_contains(r->out, rollback_cases[i].status);
		sc_run_free(r);
		if (!strcmp(rollback_cases[i].finish, "repair")) {
			r = sc_migdir(p, NULL, "repair", NULL);
			sc_expect_status(r, 0, "repair");
			sc_run_free(r);
			assert_string_equal(sc_folder_of(p, "20230102_m2"),
			    "pending");
			assert_true(sc_exists(p,
			    "migrations/pending/"
			    "20230102_rollback_m2.sql"));
			assert_string_equal(sc_folder_of(p, "20230101_m1"),
			    "applied");
			assert_true(sc_git_clean(p));
			expect_runs(p, "undo m2", 1);
		}
		/*
		 * and it applies again, once; straight after the crash, the
		 * same run finishes the rollback's move and then applies it,
		 * as if the rollback had completed: git gets one record of
		 * where the files end up
		 */
		r = sc_migdir(p, NULL, "apply", NULL);
		sc_expect_status(r, 0, "apply again");
		sc_run_free(r);
		expect_runs(p, "m2", 2);
		expect_runs(p, "m1", 1);
		expect_runs(p, "undo m2", 1);
		assert_string_equal(sc_folder_of(p, "20230102_m2"), "applied");
		assert_true(sc_exists(p,
		    "migrations/applied/20230102_rollback_m2.sql"));
		assert_true(sc_git_clean(p));
		r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
		sc_expect_status(r, 0, "status once finished");
		sc_run_free(r);
		sc_free(p);
	}
}

static void
test_an_apply_killed_mid_statement_commits_nothing(void **state)
{
	struct proj *p = sc_project("kill9", NULL);
	const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	struct tu_run *r;
	pid_t pid;
	int i;

	(void)state;
	free(sc_psql(p, "CREATE TABLE ran (version text)"));
	sc_pair(p, "pending", "20230101_slow",
	    "INSERT INTO ran VALUES ('slow');\nSELECT pg_sleep(2);\n"
	    "CREATE TABLE slow (id int);\n",
	    "DROP TABLE slow;\n");
	sc_commit(p, "slow");
	pid = tu_spawn(p->dir, env, argv, "/dev/null", "/dev/null");
	assert_true(pid > 0);
	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_stat_activity "
			"WHERE query = 'SELECT pg_sleep(2)'") > 0)
			break;
		nanosleep(&(struct timespec){0, 20000000L}, NULL);
	}
	kill(pid, SIGKILL);
	assert_int_equal(tu_wait(pid), 128 + SIGKILL);
	/* the orphaned backend still holds the advisory lock until its
	   statement ends; the next apply waits for it, then runs once */
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply after kill -9");
	sc_run_free(r);
	expect_runs(p, "slow", 1);
	assert_string_equal(sc_folder_of(p, "20230101_slow"), "applied");
	assert_true(sc_git_clean(p));
	sc_free(p);
}

/* Does each of two tables exist?  want: "a,none" when only a does. */
static void
expect_tables(struct proj *p, const char *x, const char *y, const char *want)
{
	char *s = sc_psql(p,
	    "SELECT coalesce(to_regclass('%s')::text, 'none') || ',' || "
	    "coalesce(to_regclass('%s')::text, 'none')",
	    x, y);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/*
 * Ctrl-C between two statements of a file run without a transaction: the
 * next statement is not started, the ones before stay done and are named.
 */
static void
test_ctrl_c_between_statements_stops_before_the_next(void **state)
{
	struct proj *p = sc_project("sigint_stmt", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_idx",
	    "CREATE TABLE t1 (id int);\n"
	    "CREATE INDEX CONCURRENTLY t1_id ON t1 (id);\n"
	    "CREATE TABLE t3 (id int);\n",
	    "DROP TABLE t1;\n");
	sc_commit(p, "idx");
	r = sc_migdir(p, "before_statement:2+sigint", "apply", NULL);
	sc_expect_status(r, 1, "apply interrupted between statements");
	sc_expect_contains(r->err, "20230101_idx canceled by Ctrl-C");
	sc_expect_contains(r->err, "statement 1 of 3 ran and stays done");
	sc_expect_contains(r->out,
	    "20230101_idx stopped at statement 2 of 3: statement 1 ran "
	    "without a transaction and stays done.");
	sc_run_free(r);
	expect_tables(p, "t1", "t3", "t1,none");
	assert_string_equal(sc_folder_of(p, "20230101_idx"), "pending");
	assert_true(sc_git_clean(p));
	sc_free(p);
}

/*
 * Ctrl-C between two migrations: the first stays applied, moved and
 * committed; the second is not started; the error says how far it got.
 */
static void
test_ctrl_c_between_migrations_keeps_what_committed(void **state)
{
	struct proj *p = sc_project("sigint_between", NULL);
	struct tu_run *r;

	(void)state;
	/* files run without a transaction go one by one, not pipelined */
	sc_pair(p, "pending", "20230101_a",
	    "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a "
	    "(id);\n",
	    "DROP TABLE a;\n");
	sc_pair(p, "pending", "20230102_b",
	    "CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY b_id ON b "
	    "(id);\n",
	    "DROP TABLE b;\n");
	sc_commit(p, "two");
	r = sc_migdir(p, "apply_after_commit:1+sigint", "apply", NULL);
	sc_expect_status(r, 1, "apply interrupted between migrations");
	sc_expect_contains(r->err,
	    "interrupted by Ctrl-C after 1 of 2 migrations");
	sc_expect_contains(r->out, "Applied 1 migration");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230101_a"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_b"), "pending");
	expect_tables(p, "a", "b", "a,none");
	assert_true(sc_git_clean(p));
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_apply_killed_at_each_step_is_explained_and_finished),
	    cmocka_unit_test(
		test_ctrl_c_between_statements_stops_before_the_next),
	    cmocka_unit_test(
		test_ctrl_c_between_migrations_keeps_what_committed),
	    cmocka_unit_test(
		test_rollback_killed_at_each_step_is_explained_and_finished),
	    cmocka_unit_test(
		test_an_apply_killed_mid_statement_commits_nothing),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
