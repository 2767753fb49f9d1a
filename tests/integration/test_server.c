/*
 * test_server.c - lost connections and server trouble (DESIGN §4, §6).
 *
 * The server restarted as a crash leaves it (pg_ctl restart -m immediate)
 * or the session cut (pg_terminate_backend) in the middle of a
 * transactional and of a non-transactional migration; statement_timeout
 * and lock_timeout hit; the migrations folder read-only or full when the
 * files move.  Each gives one clear message, loses nothing, and the next
 * run finishes the work: every migration's SQL ran once (counted in a
 * table `ran`), the files end in applied/, git is clean.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

static const char *const env[] = {"-DATABASE_URL", "-PGHOST", "-PGPORT",
    "-PGDATABASE", "-PGUSER", "TZ=UTC", "NO_COLOR=1", NULL};

/* m1 quick, m2 as given, m3 quick; each counts its run in `ran`. */
static struct proj *
three(const char *name, const char *m2, const char *ini_extra)
{
	struct proj *p = sc_project(name, ini_extra);

	free(sc_psql(p, "CREATE TABLE ran (what text)"));
	sc_pair(p, "pending", "20230101_m1",
	    "CREATE TABLE t1 (id int);\nINSERT INTO ran VALUES ('m1');\n",
	    "DROP TABLE t1;\n");
	sc_pair(p, "pending", "20230102_m2", m2, "SELECT 1;\n");
	sc_pair(p, "pending", "20230103_m3",
	    "CREATE TABLE t3 (id int);\nINSERT INTO ran VALUES ('m3');\n",
	    "DROP TABLE t3;\n");
	sc_commit(p, "three migrations");
	return p;
}

/* Has process pid stopped (state T)? */
static int
stopped(pid_t pid)
{
	char path[64], *stat;
	int yes;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = tu_read_file(path);
	yes = stat && strstr(stat, ") T ");
	free(stat);
	return yes;
}

/* The runs counted in `ran`, as "m1=1,m2=1,m3=1". */
static char *
runs(struct proj *p)
{
	return sc_psql(p,
	    "SELECT coalesce(string_agg(what || '=' || n, ',' "
	    "ORDER BY what), '') FROM (SELECT what, count(*) n "
	    "FROM ran GROUP BY what) x");
}

static void
expect_runs(struct proj *p, const char *want)
{
	char *got = runs(p);

	assert_non_null(got);
	if (strcmp(got, want))
		fail_msg("ran: %s, expected %s", got, want);
	free(got);
}

/* Start `migdir apply` in the background; its output goes to files. */
static pid_t
apply_in_background(struct proj *p, char **out, char **err)
{
	const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};

	*out = tu_path(p->tmp, "bg.out");
	*err = tu_path(p->tmp, "bg.err");
	return tu_spawn(p->dir, env, argv, *out, *err);
}

static void
finish_and_check(struct proj *p, const char *want_runs)
{
	struct tu_run *r = sc_migdir(p, NULL, "apply", NULL);

	sc_expect_status(r, 0, "the next apply");
	sc_run_free(r);
	expect_runs(p, want_runs);
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "applied");
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "applied");
	assert_true(sc_git_clean(p));
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status at the end");
	sc_run_free(r);
}

/* Wait for the background apply; expect failure; return its stderr. */
static char *
failed_run(pid_t pid, const char *out, const char *err, const char *what)
{
	int rc = tu_wait(pid);
	char *o = tu_read_file(out), *e = tu_read_file(err);

	if (rc != 1)
		fail_msg("%s: exit %d, expected 1\n%s%s", what, rc, o, e);
	print_message("--- %s:\n%s%s", what, o, e);
	free(o);
	return e;
}

/*
 * Cut m2 in the middle of its transaction with cut(), expect the failed
 * run's stderr to say each of the words, then finish: m2's transaction
 * died with the session, so nothing of it stays, and the next apply
 * (once m2 no longer sleeps) runs each migration once.
 */
static void
cut_mid_transaction(const char *name, void (*cut)(struct proj *p),
    const char *const *words)
{
	struct proj *p = three(name,
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n"
	    "SELECT pg_sleep(30);\n",
	    NULL);
	char *out, *err, *e;
	pid_t pid;

	pid = apply_in_background(p, &out, &err);
	sc_wait_for_query(p, "SELECT pg_sleep(30)%");
	cut(p);
	e = failed_run(pid, out, err, name);
	for (; *words; words++)
		sc_expect_contains(e, *words);
	free(e);
	expect_runs(p, "m1=1");
	sc_write(p, "migrations/pending/20230102_m2.sql",
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n");
	sc_commit(p, "m2 without the sleep");
	finish_and_check(p, "m1=1,m2=1,m3=1");
	free(out);
	free(err);
	sc_free(p);
}

static void
restart(struct proj *p)
{
	(void)p;
	assert_int_equal(pgcluster_restart(sc_cluster), 0);
}

static void
terminate(struct proj *p)
{
	free(sc_psql(p,
	    "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE query LIKE 'SELECT "
	    "pg_sleep(30)%%'"));
}

static void
test_a_restart_mid_transaction_loses_nothing(void **state)
{
	static const char *const words[] = {"lost the connection to",
	    "while running 20230102_m2", "run the same command again", NULL};

	(void)state;
	cut_mid_transaction("restart_tx", restart, words);
}

static void
test_a_terminated_session_loses_nothing(void **state)
{
	static const char *const words[] =
	    {"20230102_m2.sql:3:1: terminating connection due to administrator "
	     "command (SQLSTATE 57P01)",
		"not by the file", NULL};

	(void)state;
	cut_mid_transaction("terminated", terminate, words);
}

/* Add lines to the [env production] section of migdir.ini; committed. */
static void
env_setting(struct proj *p, const char *lines)
{
	char *ini = sc_read(p, "migdir.ini"), *at, *out;

	assert_non_null(ini);
	at = strstr(ini, "[env production]\n");
	assert_non_null(at);
	at += strlen("[env production]\n");
	out = tu_asprintf("%.*s%s%s", (int)(at - ini), ini, lines, at);
	sc_write(p, "migdir.ini", out);
	sc_commit(p, "settings");
	free(ini);
	free(out);
}

/*
 * A restart in the middle of a CREATE INDEX CONCURRENTLY leaves an
 * INVALID index behind; IF NOT EXISTS would then skip the statement and
 * keep the broken index for good.  migdir refuses to run the file until
 * the index is dropped, naming it and the statement.
 */
static void
test_a_restart_mid_create_index_concurrently_is_caught(void **state)
{
	struct proj *p = three("restart_cic",
	    "-- migdir:no-transaction\n"
	    "INSERT INTO ran SELECT 'm2 first' WHERE NOT EXISTS "
	    "(SELECT FROM ran WHERE what = 'm2 first');\n"
	    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t0_slow ON t0 "
	    "(slow(id));\n"
	    "INSERT INTO ran VALUES ('m2');\n",
	    NULL);
	char *out, *err, *e;
	struct tu_run *r;
	pid_t pid;

	(void)state;
	free(sc_psql(p,
	    "CREATE TABLE t0 AS SELECT generate_series(1, 40) id; "
	    "CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql "
	    "IMMUTABLE AS $$BEGIN PERFORM pg_sleep(0.1); RETURN i; END$$"));
	pid = apply_in_background(p, &out, &err);
	sc_wait_for_query(p, "CREATE INDEX CONCURRENTLY%");
	assert_int_equal(pgcluster_restart(sc_cluster), 0);
	e = failed_run(pid, out, err,
	    "apply cut during CREATE INDEX "
	    "CONCURRENTLY");
	sc_expect_contains(e, "lost the connection");
	free(e);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_index WHERE "
			     "NOT indisvalid"),
	    1);
	free(sc_psql(p,
	    "CREATE OR REPLACE FUNCTION slow(i int) RETURNS int "
	    "LANGUAGE sql IMMUTABLE AS 'SELECT i'"));
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply with the invalid index left");
	sc_expect_contains(r->err, "migrations/pending/20230102_m2.sql:3:1:");
	sc_expect_contains(r->err, "t0_slow");
	sc_expect_contains(r->err, "INVALID");
	sc_expect_contains(r->err, "DROP INDEX CONCURRENTLY");
	sc_run_free(r);
	expect_runs(p, "m1=1,m2 first=1");
	free(sc_psql(p, "DROP INDEX CONCURRENTLY t0_slow"));
	finish_and_check(p, "m1=1,m2=1,m2 first=1,m3=1");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_index WHERE "
			     "NOT indisvalid"),
	    0);
	free(out);
	free(err);
	sc_free(p);
}

/*
 * A session cut between two statements of a file run without a
 * transaction: the statements that ran stay done, and the message says
 * which, and that a new run starts again at statement 1.
 */
static void
test_a_cut_mid_file_without_a_transaction_says_what_stays(void **state)
{
	struct proj *p = three("cut_notx",
	    "-- migdir:no-transaction\n"
	    "CREATE TABLE IF NOT EXISTS t2 (id int);\n"
	    "SELECT pg_sleep(30);\n"
	    "INSERT INTO ran VALUES ('m2');\n",
	    NULL);
	char *out, *err, *e;
	pid_t pid;

	(void)state;
	pid = apply_in_background(p, &out, &err);
	sc_wait_for_query(p, "SELECT pg_sleep(30)%");
	terminate(p);
	e = failed_run(pid, out, err, "cut mid file without a transaction");
	sc_expect_contains(e,
	    "20230102_m2 runs without a transaction: "
	    "statement 1 of 3 ran and stays done");
	sc_expect_contains(e, "starts it again at statement 1");
	free(e);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_class WHERE "
			     "relname = 't2'"),
	    1);
	sc_write(p, "migrations/pending/20230102_m2.sql",
	    "-- migdir:no-transaction\n"
	    "CREATE TABLE IF NOT EXISTS t2 (id int);\n"
	    "INSERT INTO ran VALUES ('m2');\n");
	sc_commit(p, "m2 without the sleep");
	finish_and_check(p, "m1=1,m2=1,m3=1");
	free(out);
	free(err);
	sc_free(p);
}

/*
 * The refusal is about the index the statement would build: one dropped
 * first (by the file itself, the usual repair) or one of the same name in
 * another schema is no reason to refuse.
 */
static void
test_only_the_invalid_index_a_statement_builds_is_refused(void **state)
{
	struct proj *p = three("invalid_idx",
	    "CREATE INDEX IF NOT EXISTS d_a ON d (a);\n"
	    "INSERT INTO ran VALUES ('m2');\n",
	    NULL);
	struct tu_run *r;
	char *s;

	(void)state;
	/* a unique CIC on duplicates fails and leaves d_a invalid; the same
	   in schema other for u_a, whose table in public is clean */
	s = sc_psql(p,
	    "CREATE TABLE d AS SELECT 1 a UNION ALL SELECT 1; "
	    "CREATE TABLE u (a int); CREATE SCHEMA other; "
	    "CREATE TABLE other.u AS SELECT 1 a UNION ALL SELECT 1");
	free(s);
	free(sc_psql(p, "CREATE UNIQUE INDEX CONCURRENTLY d_a ON d (a)"));
	free(sc_psql(p, "CREATE UNIQUE INDEX CONCURRENTLY u_a ON other.u (a)"));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_index WHERE "
			     "NOT indisvalid"),
	    2);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply building over an invalid index");
	sc_expect_contains(r->err,
	    "migrations/pending/20230102_m2.sql:1:1: index public.d_a exists "
	    "but is INVALID");
	if (strstr(r->out, "Applied"))
		fail_msg("a refused run reports what it applied:\n%s", r->out);
	sc_run_free(r);
	expect_runs(p, "");
	sc_write(p, "migrations/pending/20230102_m2.sql",
	    "-- migdir:no-transaction\n"
	    "DROP INDEX CONCURRENTLY IF EXISTS d_a;\n"
	    "CREATE INDEX CONCURRENTLY d_a ON d (a);\n"
	    "CREATE INDEX CONCURRENTLY u_a ON u (a);\n"
	    "INSERT INTO ran VALUES ('m2');\n");
	sc_commit(p, "m2 repairs d_a");
	finish_and_check(p, "m1=1,m2=1,m3=1");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_index WHERE "
			     "NOT indisvalid"),
	    1); /* other.u_a: not migdir's to touch */
	sc_free(p);
}

/*
 * A migration that turns synchronous_commit off for its transaction does
 * not make migdir's record of it asynchronous: a crash right after the
 * commit keeps the row (and its effect).
 */
static void
test_a_migration_cannot_make_its_record_asynchronous(void **state)
{
	struct proj *p = three("async",
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n",
	    NULL);
	const char *argv[] = {getenv("MIGDIR_FAULT_BIN"), "apply", NULL};
	const char *fenv[] = {"-DATABASE_URL", "-PGHOST", "-PGPORT",
	    "-PGDATABASE", "-PGUSER", "TZ=UTC", "NO_COLOR=1",
	    "MIGDIR_FAULT=apply_after_commit:3+stop", NULL};
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	pid_t pid;
	int i;

	(void)state;
	/* the last one to commit: nothing after it flushes its commit */
	sc_write(p, "migrations/pending/20230103_m3.sql",
	    "SET LOCAL synchronous_commit = off;\n"
	    "CREATE TABLE t3 (id int);\nINSERT INTO ran VALUES ('m3');\n");
	sc_commit(p, "m3 commits asynchronously");
	free(sc_psql(p,
	    "ALTER SYSTEM SET wal_writer_delay = '10s'; "
	    "SELECT pg_reload_conf()"));
	pid = tu_spawn(p->dir, fenv, argv, out, err);
	for (i = 0; i < 500 && !stopped(pid); i++)
		nanosleep(&(struct timespec){0, 20000000L}, NULL);
	assert_true(stopped(pid));
	/* the server crashes right after m3's commit returned */
	assert_int_equal(pgcluster_restart(sc_cluster), 0);
	kill(pid, SIGKILL);
	kill(pid, SIGCONT);
	tu_wait(pid);
	free(sc_psql(p,
	    "ALTER SYSTEM RESET wal_writer_delay; "
	    "SELECT pg_reload_conf()"));
	expect_runs(p, "m1=1,m2=1,m3=1");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    3);
	finish_and_check(p, "m1=1,m2=1,m3=1");
	free(out);
	free(err);
	sc_free(p);
}

static void
test_statement_timeout_fails_cleanly(void **state)
{
	struct proj *p = three("stmt_timeout",
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n"
	    "SELECT pg_sleep(5);\n",
	    NULL);
	struct tu_run *r;

	(void)state;
	env_setting(p, "statement_timeout = 300ms\n");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply past statement_timeout");
	sc_expect_contains(r->err,
	    "migrations/pending/20230102_m2.sql:3:1: "
	    "canceling statement due to statement "
	    "timeout (SQLSTATE 57014)");
	sc_expect_contains(r->err, "raise it in migdir.ini");
	sc_run_free(r);
	expect_runs(p, "m1=1");
	sc_write(p, "migrations/pending/20230102_m2.sql",
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n");
	sc_commit(p, "m2 without the sleep");
	finish_and_check(p, "m1=1,m2=1,m3=1");
	sc_free(p);
}

static void
test_lock_timeout_fails_cleanly_and_says_why(void **state)
{
	struct proj *p = three("lock_timeout",
	    "ALTER TABLE t0 ADD COLUMN c int;\nINSERT INTO ran VALUES "
	    "('m2');\n",
	    NULL);
	char *psql = tu_path(sc_cluster->bindir, "psql");
	const char *argv[] = {psql, "-X", "-q", "-U", "postgres", "-d", p->db,
	    "-h", sc_cluster->sockdir, "-p", NULL, "-c",
	    "BEGIN; LOCK TABLE t0; SELECT pg_sleep(3); COMMIT;", NULL};
	char port[16], *out = tu_path(p->tmp, "psql.out"),
		       *err = tu_path(p->tmp, "psql.err");
	struct tu_run *r;
	pid_t holder;

	(void)state;
	free(sc_psql(p, "CREATE TABLE t0 (id int)"));
	env_setting(p, "lock_timeout = 1500ms\n");
	snprintf(port, sizeof(port), "%d", sc_cluster->port);
	argv[10] = port;
	holder = tu_spawn(p->dir, NULL, argv, out, err);
	sc_wait_for_query(p, "BEGIN; LOCK TABLE t0%");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply past lock_timeout");
	/* the wait is shown while it lasts, naming the holder */
	sc_expect_contains(r->err, "AccessExclusiveLock on t0, held by pid");
	sc_expect_contains(r->err,
	    "canceling statement due to lock timeout "
	    "(SQLSTATE 55P03)");
	sc_expect_contains(r->err, "Another session holds a lock");
	sc_run_free(r);
	expect_runs(p, "m1=1");
	assert_int_equal(tu_wait(holder), 0);
	finish_and_check(p, "m1=1,m2=1,m3=1");
	free(psql);
	free(out);
	free(err);
	sc_free(p);
}

/* Mount a tmpfs of size bytes at dir (root only: CI runs as root). */
static void
tmpfs(const char *dir, const char *options)
{
	assert_int_equal(tu_mkdirs(dir), 0);
	if (mount("migdir-test", dir, "tmpfs", 0, options) != 0)
		fail_msg("mount tmpfs on %s: %s (these tests need root)", dir,
		    strerror(errno));
}

/* A project whose repository lives on a tmpfs mounted at p->tmp/fs. */
static struct proj *
on_tmpfs(const char *name, const char *size)
{
	struct proj *p = three(name,
	    "CREATE TABLE t2 (id int);\nINSERT INTO ran VALUES ('m2');\n",
	    NULL);
	char *fs = tu_path(p->tmp, "fs"), *opts, *s;

	opts = tu_asprintf("size=%s,mode=0755", size);
	tmpfs(fs, opts);
	s = tu_sh(NULL, "cp -a %s/. %s/ && rm -rf %s && ln -s %s %s", p->dir,
	    fs, p->dir, fs, p->dir);
	assert_non_null(s);
	free(s);
	free(opts);
	free(fs);
	return p;
}

static void
unmount(struct proj *p)
{
	char *fs = tu_path(p->tmp, "fs");

	umount2(fs, MNT_DETACH);
	free(fs);
}

static void
test_a_read_only_folder_changes_nothing(void **state)
{
	struct proj *p = on_tmpfs("read_only", "8m");
	char *fs = tu_path(p->tmp, "fs"), *head = sc_git(p, "rev-parse HEAD"),
	     *now;
	struct tu_run *r;

	(void)state;
	assert_int_equal(mount(NULL, fs, NULL, MS_REMOUNT | MS_RDONLY, NULL),
	    0);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply on a read-only folder");
	sc_expect_contains(r->err, "Read-only file system");
	sc_run_free(r);
	expect_runs(p, "");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_class WHERE "
			     "relname = 'schema_versions'"),
	    0);
	now = sc_git(p, "rev-parse HEAD");
	assert_string_equal(now, head);
	assert_int_equal(mount(NULL, fs, NULL, MS_REMOUNT, NULL), 0);
	finish_and_check(p, "m1=1,m2=1,m3=1");
	unmount(p);
	free(now);
	free(head);
	free(fs);
	sc_free(p);
}

/*
 * The disk fills while migdir is between the database commit and the
 * renames (stopped there by a fault point, then let go): the commit
 * stands, one clear message says what is left, and once there is room
 * again the next run finishes it without running anything twice.
 */
static void
test_a_full_disk_at_the_rename_loses_nothing(void **state)
{
	struct proj *p = on_tmpfs("disk_full", "16m");
	const char *argv[] = {getenv("MIGDIR_FAULT_BIN"), "apply", NULL};
	const char *fenv[] = {"-DATABASE_URL", "-PGHOST", "-PGPORT",
	    "-PGDATABASE", "-PGUSER", "TZ=UTC", "NO_COLOR=1",
	    "MIGDIR_FAULT=apply_after_commit:3+stop", NULL};
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err"), *s,
	     *e;
	struct tu_run *r;
	pid_t pid;
	int i, rc;

	(void)state;
	pid = tu_spawn(p->dir, fenv, argv, out, err);
	for (i = 0; i < 500 && !stopped(pid); i++)
		nanosleep(&(struct timespec){0, 20000000L}, NULL);
	assert_true(stopped(pid));
	s = tu_sh(p->dir,
	    "dd if=/dev/zero of=filler bs=64k 2>/dev/null; "
	    "sync; echo filled");
	free(s);
	kill(pid, SIGCONT);
	rc = tu_wait(pid);
	e = tu_read_file(err);
	print_message("--- apply on a full disk: exit %d\n%s", rc, e);
	assert_int_equal(rc, 1);
	sc_expect_contains(e, "No space left on device");
	free(e);
	expect_runs(p, "m1=1,m2=1,m3=1");
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 3, "status on a full disk");
	sc_run_free(r);
	s = tu_sh(p->dir, "rm -f filler && echo ok");
	free(s);
	r = sc_migdir(p, NULL, "repair", NULL);
	sc_expect_status(r, 0, "repair once there is room");
	sc_run_free(r);
	finish_and_check(p, "m1=1,m2=1,m3=1");
	s = tu_sh(p->dir, "git fsck --strict --no-dangling 2>&1 && echo ok");
	assert_string_equal(s, "ok");
	free(s);
	unmount(p);
	free(out);
	free(err);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_restart_mid_transaction_loses_nothing),
	    cmocka_unit_test(test_a_terminated_session_loses_nothing),
	    cmocka_unit_test(
		test_a_restart_mid_create_index_concurrently_is_caught),
	    cmocka_unit_test(
		test_a_cut_mid_file_without_a_transaction_says_what_stays),
	    cmocka_unit_test(
		test_only_the_invalid_index_a_statement_builds_is_refused),
	    cmocka_unit_test(
		test_a_migration_cannot_make_its_record_asynchronous),
	    cmocka_unit_test(test_statement_timeout_fails_cleanly),
	    cmocka_unit_test(test_lock_timeout_fails_cleanly_and_says_why),
	    cmocka_unit_test(test_a_read_only_folder_changes_nothing),
	    cmocka_unit_test(test_a_full_disk_at_the_rename_loses_nothing),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
