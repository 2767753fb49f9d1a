/*
 * test_crash.c - real kills and Ctrl-C (DESIGN §4).  The fault points
 * themselves are the matrix of test_faults.c (tests/faults.tbl).
 *
 * A migdir killed with SIGKILL in the middle of a statement commits
 * nothing; a Ctrl-C (SIGINT raised at a fault point) between two
 * statements and between two migrations stops cleanly; and a real
 * kill -9 at random moments of long apply, rollback and consolidate runs,
 * again and again until each completes, loses nothing: after each kill
 * `status` explains the state, the next run goes on, and in the end every
 * migration ran exactly once per run asked for and git fsck is clean.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

/* NMIG pending migrations that count their runs and take a while. */
#define NMIG 30

static struct proj *
long_run(const char *name)
{
	struct proj *p = sc_project(name, NULL);
	int i;

	for (i = 1; i <= NMIG; i++) {
		char v[32], *fwd, *rb;

		snprintf(v, sizeof(v), "202301%02d_m%d", i, i);
		fwd = tu_asprintf("%sCREATE TABLE t%d (id int);\n"
				  "INSERT INTO ran VALUES ('m%d');\n"
				  "SELECT pg_sleep(0.02);\n",
		    i == 1 ? "CREATE TABLE IF NOT EXISTS ran (what text);\n"
			   : "",
		    i, i);
		rb = tu_asprintf("DROP TABLE t%d;\n"
				 "INSERT INTO ran VALUES ('undo m%d');\n",
		    i, i);
		sc_pair(p, "pending", v, fwd, rb);
		free(fwd);
		free(rb);
	}
	sc_commit(p, "a long run");
	return p;
}

/*
 * Run migdir ARGV and kill -9 it at a random moment, again and again
 * (running `then` after each kill, when not NULL) until a run ends by
 * itself.  After each kill, `status` must explain the state without an
 * error.  Returns the number of kills.
 */
static int
kill_until_done(struct proj *p, const char *const *argv, const char *then,
    unsigned *seed)
{
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "-PGPORT",
	    "-PGDATABASE", "-PGUSER", "TZ=UTC", "NO_COLOR=1", NULL};
	const char *full[8] = {getenv("MIGDIR_BIN")};
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	int kills = 0, rc, i, stale = 0;

	for (i = 0; argv[i] && i < 6; i++)
		full[i + 1] = argv[i];
	for (;;) {
		pid_t pid = tu_spawn(p->dir, env, full, out, err);
		struct timespec ts = {0, (long)(rand_r(seed) % 900) * 1000000L};
		struct tu_run *r;

		assert_true(pid > 0);
		if (kills < 12) {
			nanosleep(&ts, NULL);
			kill(pid, SIGKILL);
		}
		rc = tu_wait(pid);
		if (rc == 0)
			break;
		if (rc != 128 + SIGKILL) {
			char *e = tu_read_file(err), *q;

			/*
			 * A kill while git wrote a ref or the index leaves
			 * its lock file; migdir refuses, naming it, before
			 * anything runs.  Do what its hint says, once.
			 */
			if (rc == 1 && !stale &&
			    (q = strstr(e, "locked (\"")) &&
			    strstr(e, "nothing has run")) {
				q += strlen("locked (\"");
				q[strcspn(q, "\"")] = '\0';
				assert_int_equal(unlink(q), 0);
				print_message("kill -9 left %s; removed as the "
					      "hint says\n",
				    q);
				free(e);
				stale++;
				continue;
			}
			fail_msg("migdir %s: exit %d\n%s", argv[0], rc, e);
		}
		kills++;
		r = sc_migdir(p, NULL, "status", NULL);
		sc_expect_status(r, 0, "status after a kill -9");
		assert_string_equal(r->err, "");
		sc_run_free(r);
		if (then) {
			r = sc_migdir(p, NULL, then, NULL);
			sc_expect_status(r, 0, then);
			sc_run_free(r);
		}
	}
	free(out);
	free(err);
	return kills;
}

/* Each migration's runs and undos, as "m1=2/1,m2=..." in one query. */
static void
expect_counts(struct proj *p, int runs, int undos)
{
	char *got = sc_psql(p,
	    "SELECT count(*) FILTER (WHERE n <> %d) || '/' || count(*) "
	    "FROM (SELECT what, count(*) n FROM ran WHERE what LIKE 'm%%' "
	    "GROUP BY what) x",
	    runs);
	char *want = tu_asprintf("0/%d", NMIG);

	assert_non_null(got);
	if (strcmp(got, want))
		fail_msg("migrations that did not run %d times / all: %s", runs,
		    got);
	free(got);
	free(want);
	got = sc_psql(p,
	    "SELECT count(*) FILTER (WHERE n <> %d) FROM (SELECT what, "
	    "count(*) n FROM ran WHERE what LIKE 'undo %%' GROUP BY what) x",
	    undos);
	assert_string_equal(got, "0");
	free(got);
	if (undos)
		assert_int_equal(sc_psql_long(p,
				     "SELECT count(DISTINCT what) FROM ran "
				     "WHERE what LIKE 'undo %%'"),
		    NMIG);
}

static void
expect_whole(struct proj *p, const char *folder)
{
	char *s;
	int i;

	for (i = 1; i <= NMIG; i++) {
		char v[32];

		snprintf(v, sizeof(v), "202301%02d_m%d", i, i);
		assert_string_equal(sc_folder_of(p, v), folder);
	}
	assert_true(sc_git_clean(p));
	s = tu_sh(p->dir, "git fsck --strict --no-dangling 2>&1 && echo ok");
	assert_string_equal(s, "ok");
	free(s);
}

static void
test_kill_9_at_random_moments_loses_nothing(void **state)
{
	struct proj *p = long_run("kill9");
	const char *seed_env = getenv("MIGDIR_TEST_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10)
				 : (unsigned)time(NULL) ^ (unsigned)getpid();
	const char *apply[] = {"apply", NULL};
	const char *rollback[] = {"rollback", "--all", "--force", "--yes",
	    NULL};
	const char *consolidate[] = {"consolidate", NULL};
	int k1, k2, k3, k4;

	(void)state;
	print_message("kill -9 seed %u (MIGDIR_TEST_SEED replays it)\n", seed);
	k1 = kill_until_done(p, apply, NULL, &seed);
	expect_counts(p, 1, 0);
	expect_whole(p, "applied");
	k2 = kill_until_done(p, rollback, "repair", &seed);
	expect_counts(p, 1, 1);
	expect_whole(p, "pending");
	k3 = kill_until_done(p, apply, NULL, &seed);
	expect_counts(p, 2, 1);
	k4 = kill_until_done(p, consolidate, NULL, &seed);
	expect_counts(p, 2, 1);
	expect_whole(p, "archive");
	print_message("kill -9: %d kills during apply, %d during rollback, %d "
		      "during apply, %d during consolidate; nothing lost\n",
	    k1, k2, k3, k4);
	sc_free(p);
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
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM ran WHERE version = "
			     "'slow'"),
	    1);
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
		test_ctrl_c_between_statements_stops_before_the_next),
	    cmocka_unit_test(
		test_ctrl_c_between_migrations_keeps_what_committed),
	    cmocka_unit_test(
		test_an_apply_killed_mid_statement_commits_nothing),
	    cmocka_unit_test(test_kill_9_at_random_moments_loses_nothing),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
