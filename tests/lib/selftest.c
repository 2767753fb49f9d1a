/*
 * selftest.c - cmocka tests of the test-harness libraries themselves.
 *
 * Exercises testutil (tu_run's capture, exit codes, signals, environment
 * edits, PATH lookup and failures to start; tu_spawn/tu_wait; tu_sh; the
 * file helpers), gitrepo (init, commit, log), pgcluster (one shared
 * cluster: environment scrubbing, URLs, databases, psql, session counting;
 * a second cluster's stop; the watchdog cleaning up after a process that
 * died without stopping its cluster) and pgtmp.sh.  Without PostgreSQL the
 * cluster tests fail, unless MIGDIR_TEST_ALLOW_SKIP=1 lets them skip.
 *
 * Run it from anywhere: pgtmp.sh is looked up beside the binary.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gitrepo.h"
#include "pgcluster.h"
#include "testutil.h"

#include "../../include/banned.h"

static struct pgcluster *cluster; /* shared by the pg tests */
static char *libdir;              /* where pgtmp.sh is */

/* Fail (or skip, when allowed) a test that needs the shared cluster. */
static void
need_cluster(void)
{
	if (cluster != NULL)
		return;
	if (tu_skip_allowed()) { /* MIGDIR_TEST_ALLOW_SKIP=1 */
		fprintf(stderr,
		    "SKIP: no PostgreSQL cluster "
		    "(MIGDIR_TEST_ALLOW_SKIP=1)\n");
		skip();
	}
	fail_msg("no PostgreSQL cluster: see the pgcluster message above "
		 "(MIGDIR_TEST_ALLOW_SKIP=1 turns this into a skip)");
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static void
test_run_capture(void **state)
{
	const char *argv[] = {"sh", "-c",
	    "echo out; echo err >&2; printf more; exit 3", NULL};
	struct tu_run r;

	(void)state;
	assert_int_equal(tu_run(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "out\nmore");
	assert_string_equal(r.err, "err\n");
	tu_run_free(&r);
	assert_null(r.out);
	assert_null(r.err);
}

static void
test_run_large_output(void **state)
{
	/* 4 MiB on each stream, interleaved: a naive reader deadlocks. */
	const char *argv[] = {"sh", "-c",
	    "i=0; while [ $i -lt 64 ]; do "
	    "head -c 65536 /dev/zero | tr '\\0' o; "
	    "head -c 65536 /dev/zero | tr '\\0' e >&2; "
	    "i=$((i+1)); done",
	    NULL};
	struct tu_run r;
	size_t i, len;

	(void)state;
	assert_int_equal(tu_run(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	len = strlen(r.out);
	assert_int_equal(len, 64 * 65536);
	assert_int_equal(strlen(r.err), 64 * 65536);
	for (i = 0; i < len; i++)
		if (r.out[i] != 'o' || r.err[i] != 'e')
			fail_msg("byte %zu corrupted", i);
	tu_run_free(&r);
}

static void
test_run_signal(void **state)
{
	const char *argv[] = {"sh", "-c", "kill -TERM $$; sleep 5", NULL};
	struct tu_run r;

	(void)state;
	assert_int_equal(tu_run(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 128 + SIGTERM);
	tu_run_free(&r);
}

static void
test_run_env(void **state)
{
	const char *env[] = {"-TU_SELFTEST_GONE",
	    "TU_SELFTEST_EMPTY=", "TU_SELFTEST_SET=new",
	    "TU_SELFTEST_TWICE=first", "TU_SELFTEST_TWICE=second", NULL};
	const char *argv[] = {"sh", "-c",
	    "echo \"${TU_SELFTEST_GONE-unset}|${TU_SELFTEST_EMPTY-unset}|"
	    "$TU_SELFTEST_SET|$TU_SELFTEST_KEPT|$TU_SELFTEST_TWICE\"",
	    NULL};
	const char *later[] = {"TU_SELFTEST_GONE=x", "-TU_SELFTEST_GONE", NULL};
	const char *bad[] = {"NOEQUALS", "-A=b", "=x", NULL};
	struct tu_run r;

	(void)state;
	setenv("TU_SELFTEST_GONE", "was here", 1);
	setenv("TU_SELFTEST_SET", "old", 1);
	setenv("TU_SELFTEST_KEPT", "kept", 1);
	assert_int_equal(tu_run(&r, NULL, env, argv), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "unset||new|kept|second\n");
	tu_run_free(&r);
	/* Our own environment is untouched. */
	assert_string_equal(getenv("TU_SELFTEST_GONE"), "was here");
	assert_string_equal(getenv("TU_SELFTEST_SET"), "old");
	/* A later edit of the same name wins. */
	setenv("TU_SELFTEST_GONE", "was here", 1);
	assert_int_equal(tu_run(&r, NULL, later, argv), 0);
	assert_string_equal(r.out, "unset|unset|old|kept|\n");
	tu_run_free(&r);
	/* Malformed edits are refused. */
	assert_int_equal(tu_run(&r, NULL, bad, argv), -1);
	assert_int_equal(tu_run(&r, NULL, bad + 1, argv), -1);
	assert_int_equal(tu_run(&r, NULL, bad + 2, argv), -1);
	unsetenv("TU_SELFTEST_GONE");
	unsetenv("TU_SELFTEST_SET");
	unsetenv("TU_SELFTEST_KEPT");
}

static void
test_run_path_lookup(void **state)
{
	const char *argv[] = {"tu-selftest-tool", "arg", NULL};
	struct tu_run r;
	char *dir, *tool, *pathenv;
	const char *env[2];

	(void)state;
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	tool = tu_path(dir, "bin/tu-selftest-tool");
	assert_int_equal(tu_write_file(tool,
			     "#!/bin/sh\necho \"tool $1 in $(pwd)\"\n"),
	    0);
	assert_int_equal(chmod(tool, 0755), 0);
	/* The child's PATH is searched, not ours. */
	pathenv = tu_asprintf("PATH=%s/bin:%s", dir, getenv("PATH"));
	env[0] = pathenv;
	env[1] = NULL;
	assert_int_equal(tu_run(&r, "/", env, argv), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "tool arg in /\n");
	tu_run_free(&r);
	/* Without it, the tool is not found: could not start, -1. */
	assert_int_equal(tu_run(&r, NULL, NULL, argv), -1);
	assert_null(r.out);
	free(pathenv);
	free(tool);
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static void
test_run_cwd_stdin(void **state)
{
	const char *pwd[] = {"sh", "-c", "pwd -P", NULL};
	const char *cat[] = {"cat", NULL};
	const char *rel[] = {"./script.sh", NULL};
	struct tu_run r;
	char *dir, *real, *script;

	(void)state;
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	real = tu_sh(dir, "pwd -P");
	assert_non_null(real);
	assert_int_equal(tu_run(&r, dir, NULL, pwd), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, real, strlen(real)), 0);
	tu_run_free(&r);
	/* stdin is /dev/null: cat returns at once, printing nothing. */
	assert_int_equal(tu_run(&r, NULL, NULL, cat), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	tu_run_free(&r);
	/* A relative argv[0] with a '/' is relative to cwd. */
	script = tu_path(dir, "script.sh");
	assert_int_equal(tu_write_file(script, "#!/bin/sh\necho rel\n"), 0);
	assert_int_equal(chmod(script, 0755), 0);
	assert_int_equal(tu_run(&r, dir, NULL, rel), 0);
	assert_string_equal(r.out, "rel\n");
	tu_run_free(&r);
	/* A missing cwd: could not start. */
	assert_int_equal(tu_run(&r, "/nonexistent/tu-selftest", NULL, pwd), -1);
	free(script);
	free(real);
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static void
test_run_not_found(void **state)
{
	const char *argv[] = {"tu-selftest-no-such-command", NULL};
	const char *abs[] = {"/nonexistent/tu-selftest", NULL};
	struct tu_run r;

	(void)state;
	assert_int_equal(tu_run(&r, NULL, NULL, argv), -1);
	assert_int_equal(tu_run(&r, NULL, NULL, abs), -1);
	assert_int_equal(tu_spawn(NULL, NULL, argv, NULL, NULL), -1);
}

static void
test_spawn_wait(void **state)
{
	const char *env[] = {"TU_SELFTEST_MSG=hello", NULL};
	const char *argv[] = {"sh", "-c",
	    "echo $TU_SELFTEST_MSG; echo oops >&2; exit 7", NULL};
	const char *sleeper[] = {"sleep", "30", NULL};
	char *dir, *outp, *errp, *s;
	pid_t pid;

	(void)state;
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	outp = tu_path(dir, "out");
	errp = tu_path(dir, "err");
	pid = tu_spawn(dir, env, argv, outp, errp);
	assert_true(pid > 0);
	assert_int_equal(tu_wait(pid), 7);
	s = tu_read_file(outp);
	assert_string_equal(s, "hello\n");
	free(s);
	s = tu_read_file(errp);
	assert_string_equal(s, "oops\n");
	free(s);
	/* A killed child reports 128+signal. */
	pid = tu_spawn(NULL, NULL, sleeper, NULL, NULL);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(tu_wait(pid), 128 + SIGKILL);
	assert_int_equal(tu_wait(pid), -1);
	free(outp);
	free(errp);
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static void
test_sh(void **state)
{
	char *s;

	(void)state;
	s = tu_sh(NULL, "printf '%%s\\n' %s", "'a b'");
	assert_string_equal(s, "a b");
	free(s);
	s = tu_sh("/", "pwd; echo"); /* only one newline is trimmed */
	assert_string_equal(s, "/\n");
	free(s);
	assert_null(tu_sh(NULL, "echo expected failure >&2; exit %d", 4));
}

static void
test_files(void **state)
{
	char *dir, *f, *g, *s, *copy, *q;
	struct stat st;

	(void)state;
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	s = tu_path("/a/", "/b");
	assert_string_equal(s, "/a/b");
	free(s);
	s = tu_path("/", "x");
	assert_string_equal(s, "/x");
	free(s);
	s = tu_path("rel", "x/y");
	assert_string_equal(s, "rel/x/y");
	free(s);
	s = tu_shquote("it's");
	assert_string_equal(s, "'it'\\''s'");
	free(s);

	f = tu_path(dir, "src/a/b/c.txt");
	assert_false(tu_exists(f));
	assert_null(tu_read_file(f));
	assert_int_equal(tu_write_file(f, "hello\nworld\n"), 0);
	assert_true(tu_exists(f));
	s = tu_read_file(f);
	assert_string_equal(s, "hello\nworld\n");
	free(s);
	assert_int_equal(tu_write_file(f, ""), 0);
	s = tu_read_file(f);
	assert_string_equal(s, "");
	free(s);
	g = tu_path(dir, "src/run.sh");
	assert_int_equal(tu_write_file(g, "#!/bin/sh\n"), 0);
	assert_int_equal(chmod(g, 0750), 0);
	free(g);
	g = tu_path(dir, "src/link");
	assert_int_equal(symlink("a/b/c.txt", g), 0);
	free(g);
	g = tu_path(dir, "src/empty");
	assert_int_equal(mkdir(g, 0755), 0);
	free(g);

	s = tu_path(dir, "src");
	copy = tu_path(dir, "copy");
	assert_int_equal(tu_copy_tree(s, copy), 0);
	q = tu_shquote(dir);
	free(s);
	s = tu_sh(NULL,
	    "cd %s && diff -r src copy && "
	    "test -x copy/run.sh && test -L copy/link && "
	    "test -d copy/empty && readlink copy/link",
	    q);
	assert_non_null(s);
	assert_string_equal(s, "a/b/c.txt");
	free(s);
	g = tu_path(copy, "run.sh");
	assert_int_equal(stat(g, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	free(g);

	assert_int_equal(tu_mkdirs(f), -1); /* a file is in the way */
	free(f);
	f = tu_path(dir, "x/y/z");
	assert_int_equal(tu_mkdirs(f), 0);
	assert_int_equal(tu_mkdirs(f), 0);
	free(f);

	assert_int_equal(tu_rmrf(dir), 0);
	assert_false(tu_exists(dir));
	assert_int_equal(tu_rmrf(dir), 0); /* missing is fine */
	free(copy);
	free(q);
	free(dir);
}

static void
test_git(void **state)
{
	char *dir, *repo, *f, *s, *q;

	(void)state;
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	repo = tu_path(dir, "deep/repo");
	assert_int_equal(gitrepo_init(repo), 0);
	s = gitrepo_git(repo, "config user.email");
	assert_string_equal(s, "test@example.invalid");
	free(s);
	s = gitrepo_git(repo, "config user.name");
	assert_string_equal(s, "Test User");
	free(s);
	s = gitrepo_git(repo, "config --bool commit.gpgsign");
	assert_string_equal(s, "false");
	free(s);

	f = tu_path(repo, "migrations/001_init.sql");
	assert_int_equal(tu_write_file(f, "CREATE TABLE t (id int);\n"), 0);
	assert_int_equal(gitrepo_commit_all(repo, "first: it's quoted"), 0);
	assert_int_equal(tu_write_file(f, "CREATE TABLE t (id bigint);\n"), 0);
	assert_int_equal(gitrepo_commit_all(repo, "second"), 0);
	/* Nothing left to commit. */
	assert_int_equal(gitrepo_commit_all(repo, "empty"), -1);

	s = gitrepo_git(repo, "symbolic-ref --short HEAD");
	assert_string_equal(s, "main");
	free(s);
	s = gitrepo_git(repo, "log --format=%%s");
	assert_string_equal(s, "second\nfirst: it's quoted");
	free(s);
	q = tu_shquote("HEAD~1:migrations/001_init.sql");
	s = gitrepo_git(repo, "show %s", q);
	assert_string_equal(s, "CREATE TABLE t (id int);");
	free(s);
	s = gitrepo_git(repo, "status --porcelain");
	assert_string_equal(s, "");
	free(s);
	assert_null(gitrepo_git(repo, "rev-parse --verify no-such-branch"));

	free(q);
	free(f);
	free(repo);
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static void
test_pg_env_scrubbed(void **state)
{
	(void)state;
	need_cluster();
	assert_null(getenv("PGDATABASE"));
	assert_null(getenv("PGHOST"));
	assert_null(getenv("DATABASE_URL"));
	assert_non_null(getenv("TU_SELFTEST_NOT_PG"));
}

static void
test_pg_layout(void **state)
{
	char *s, *expect;
	struct stat st;

	(void)state;
	need_cluster();
	s = tu_path(cluster->dir, "data");
	assert_string_equal(cluster->datadir, s);
	free(s);
	s = tu_path(cluster->dir, "sock");
	assert_string_equal(cluster->sockdir, s);
	free(s);
	assert_int_equal(stat(cluster->sockdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(cluster->port >= 20000 && cluster->port < 40000);
	s = tu_asprintf("%s/.s.PGSQL.%d", cluster->sockdir, cluster->port);
	assert_true(tu_exists(s));
	free(s);
	s = tu_path(cluster->bindir, "psql");
	assert_int_equal(access(s, X_OK), 0);
	free(s);

	s = pgcluster_url(cluster, "app");
	expect = tu_asprintf("postgresql://postgres@/app?host=%s&port=%d",
	    cluster->sockdir, cluster->port);
	assert_string_equal(s, expect);
	free(s);
	free(expect);
	s = pgcluster_url(cluster, "a b");
	assert_non_null(strstr(s, "/a%20b?host="));
	free(s);

	/* The settings took. */
	s = pgcluster_psql(cluster, "postgres",
	    "SELECT current_setting('fsync'), "
	    "current_setting('listen_addresses'), "
	    "current_setting('max_connections'), "
	    "current_setting('log_statement'), current_user, "
	    "current_setting('server_encoding'), "
	    "current_setting('server_version_num')::int >= 150000");
	assert_string_equal(s, "off||50|all|postgres|UTF8|t");
	free(s);
}

static void
test_pg_databases(void **state)
{
	char *url, *s, *expect;
	const char *argv[6];
	struct tu_run r;

	(void)state;
	need_cluster();
	url = pgcluster_createdb(cluster, "selftest");
	assert_non_null(url);
	expect = pgcluster_url(cluster, "selftest");
	assert_string_equal(url, expect);
	free(expect);

	/* The URL works with a client (libpq via psql). */
	s = tu_path(cluster->bindir, "psql");
	argv[0] = s;
	argv[1] = "-XAt";
	argv[2] = "-c";
	argv[3] = "SELECT current_database()";
	argv[4] = url;
	argv[5] = NULL;
	assert_int_equal(tu_run(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "selftest\n");
	tu_run_free(&r);
	free(s);

	s = pgcluster_psql(cluster, "selftest",
	    "CREATE TABLE t (id int PRIMARY KEY, name text);\n"
	    "INSERT INTO t VALUES (1, 'one'), (2, 'two');\n"
	    "SELECT id, name FROM t ORDER BY id;\n");
	assert_string_equal(s, "1|one\n2|two");
	free(s);
	s = pgcluster_psql(cluster, "selftest", "SELECT ''");
	assert_string_equal(s, "");
	free(s);
	/* An error stops the script and fails the call. */
	assert_null(pgcluster_psql(cluster, "selftest",
	    "INSERT INTO t VALUES (1, 'expected duplicate key error');\n"
	    "INSERT INTO t VALUES (3, 'never');\n"));
	s = pgcluster_psql(cluster, "selftest", "SELECT count(*) FROM t");
	assert_string_equal(s, "2");
	free(s);

	/* createdb again starts afresh. */
	free(url);
	url = pgcluster_createdb(cluster, "selftest");
	assert_non_null(url);
	assert_null(pgcluster_psql(cluster, "selftest",
	    "SELECT * FROM t -- expected: relation does not exist"));
	free(url);

	/* Odd names are quoted properly. */
	url = pgcluster_createdb(cluster, "we\"ird 'db'");
	assert_non_null(url);
	s = pgcluster_psql(cluster, "we\"ird 'db'", "SELECT 1");
	assert_string_equal(s, "1");
	free(s);
	free(url);
	assert_int_equal(pgcluster_dropdb(cluster, "we\"ird 'db'"), 0);

	assert_int_equal(pgcluster_dropdb(cluster, "selftest"), 0);
	assert_int_equal(pgcluster_dropdb(cluster, "selftest"), 0);
	s = pgcluster_psql(cluster, "postgres",
	    "SELECT count(*) FROM "
	    "pg_database WHERE datname IN ('selftest', 'we\"ird ''db''')");
	assert_string_equal(s, "0");
	free(s);
	assert_null(pgcluster_psql(cluster, "selftest", "SELECT 1"));
}

static void
test_pg_sessions(void **state)
{
	const char *env_m[] = {"PGAPPNAME=migdir-selftest", NULL};
	const char *env_o[] = {"PGAPPNAME=other", NULL};
	const char *argv[6];
	char *url, *psql, *s;
	pid_t m, o;

	(void)state;
	need_cluster();
	url = pgcluster_createdb(cluster, "sessions");
	assert_non_null(url);
	assert_int_equal(pgcluster_count_sessions(cluster, "sessions"), 0);

	psql = tu_path(cluster->bindir, "psql");
	argv[0] = psql;
	argv[1] = "-Xq";
	argv[2] = "-c";
	argv[3] = "SELECT pg_sleep(60)";
	argv[4] = url;
	argv[5] = NULL;
	m = tu_spawn(NULL, env_m, argv, "/dev/null", "/dev/null");
	assert_true(m > 0);
	o = tu_spawn(NULL, env_o, argv, "/dev/null", "/dev/null");
	assert_true(o > 0);
	assert_int_equal(pgcluster_wait_sessions(cluster, "sessions", 1, 10000),
	    1);
	s = pgcluster_psql(cluster, "postgres",
	    "SELECT count(*) FROM "
	    "pg_stat_activity WHERE datname = 'sessions'");
	assert_string_equal(s, "2"); /* "other" is not counted */
	free(s);
	assert_int_equal(pgcluster_count_sessions(cluster, "postgres"), 0);

	/* Dropping WITH (FORCE) ends both sessions. */
	assert_int_equal(pgcluster_dropdb(cluster, "sessions"), 0);
	assert_int_not_equal(tu_wait(m), 0);
	assert_int_not_equal(tu_wait(o), 0);
	assert_int_equal(pgcluster_wait_sessions(cluster, "sessions", 0, 5000),
	    0);
	free(psql);
	free(url);
}

static void
test_pg_second_cluster(void **state)
{
	struct pgcluster *c2;
	char *dir, *s;

	(void)state;
	need_cluster();
	assert_int_equal(pgcluster_start(&c2), 0);
	assert_non_null(c2);
	assert_string_not_equal(c2->dir, cluster->dir);
	assert_int_not_equal(c2->port, cluster->port);
	s = pgcluster_psql(c2, "postgres", "SELECT 2");
	assert_string_equal(s, "2");
	free(s);
	dir = tu_asprintf("%s", c2->dir);
	pgcluster_stop(c2);
	assert_false(tu_exists(dir));
	free(dir);
	pgcluster_stop(NULL);
}

/*
 * A process that starts a cluster and dies without stopping it: the
 * watchdog must stop the server and remove the directory.
 */
static void
test_pg_watchdog(void **state)
{
	struct pgcluster *c;
	char buf[4096], *pidfile, *pidtext, *s;
	ssize_t n;
	size_t len;
	pid_t child;
	long pmpid;
	int p[2], i, gone;

	(void)state;
	need_cluster();
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(p[0]);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		if (pgcluster_start(&c) < 0)
			_exit(1);
		pidfile = tu_path(c->datadir, "postmaster.pid");
		pidtext = tu_read_file(pidfile);
		s = tu_asprintf("%s\n%s", c->dir, pidtext ? pidtext : "0\n");
		n = write(p[1], s, strlen(s));
		_exit(n == (ssize_t)strlen(s) ? 0 : 1);
	}
	close(p[1]);
	len = 0;
	while (len < sizeof(buf) - 1 &&
	    (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	buf[len] = '\0';
	assert_int_equal(tu_wait(child), 0);
	s = strchr(buf, '\n');
	assert_non_null(s);
	*s++ = '\0';
	pmpid = strtol(s, NULL, 10);
	assert_true(pmpid > 0);
	assert_true(kill((pid_t)pmpid, 0) == 0 || errno == EPERM);

	gone = 0;
	for (i = 0; i < 300 && !gone; i++) {
		gone = !tu_exists(buf) && kill((pid_t)pmpid, 0) < 0 &&
		    errno == ESRCH;
		if (!gone)
			sleep_ms(50);
	}
	if (!gone)
		fail_msg("watchdog left %s (postmaster %ld) behind", buf,
		    pmpid);
}

static void
test_pgtmp_sh(void **state)
{
	char *dir, *pg, *script, *q_script, *q_pg, *q_psql, *psql, *s;

	(void)state;
	need_cluster();
	dir = tu_mkdtemp("tu-selftest");
	assert_non_null(dir);
	/* As root the postgres user must get through dir. */
	assert_int_equal(chmod(dir, 0755), 0);
	pg = tu_path(dir, "pg");
	script = tu_path(libdir, "pgtmp.sh");
	psql = tu_path(cluster->bindir, "psql");
	q_script = tu_shquote(script);
	q_pg = tu_shquote(pg);
	q_psql = tu_shquote(psql);

	s = tu_sh(NULL,
	    "out=$(bash %s start %s) && eval \"$out\" && "
	    "test \"$PGHOST\" = %s/sock && test \"$PGUSER\" = postgres && "
	    "%s -XAt -d postgres -c 'SELECT 40 + 2' && "
	    "printf '%%s\\n' \"$out\" | grep -c '^export '",
	    q_script, q_pg, q_pg, q_psql);
	assert_non_null(s);
	assert_string_equal(s, "42\n1");
	free(s);
	/* A second start on the same directory is refused. */
	assert_null(tu_sh(NULL, "bash %s start %s", q_script, q_pg));
	s = tu_sh(NULL, "bash %s stop %s", q_script, q_pg);
	assert_non_null(s);
	free(s);
	assert_false(tu_exists(pg));
	/* Stopping what is not there fails cleanly. */
	assert_null(tu_sh(NULL, "bash %s stop %s 2>/dev/null", q_script, q_pg));
	assert_null(tu_sh(NULL, "bash %s bogus 2>/dev/null", q_script));

	free(q_script);
	free(q_pg);
	free(q_psql);
	free(psql);
	free(script);
	free(pg);
	assert_int_equal(tu_rmrf(dir), 0);
	free(dir);
}

static int
group_setup(void **state)
{
	(void)state;
	/* pgcluster_start() must scrub these and nothing else. */
	setenv("PGDATABASE", "must-be-scrubbed", 1);
	setenv("PGHOST", "/nonexistent", 1);
	setenv("DATABASE_URL", "postgresql://nowhere/x", 1);
	setenv("TU_SELFTEST_NOT_PG", "kept", 1);
	if (pgcluster_start(&cluster) < 0)
		cluster = NULL;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	pgcluster_stop(cluster);
	cluster = NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_capture),
	    cmocka_unit_test(test_run_large_output),
	    cmocka_unit_test(test_run_signal),
	    cmocka_unit_test(test_run_env),
	    cmocka_unit_test(test_run_path_lookup),
	    cmocka_unit_test(test_run_cwd_stdin),
	    cmocka_unit_test(test_run_not_found),
	    cmocka_unit_test(test_spawn_wait),
	    cmocka_unit_test(test_sh),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_git),
	    cmocka_unit_test(test_pg_env_scrubbed),
	    cmocka_unit_test(test_pg_layout),
	    cmocka_unit_test(test_pg_databases),
	    cmocka_unit_test(test_pg_sessions),
	    cmocka_unit_test(test_pg_second_cluster),
	    cmocka_unit_test(test_pg_watchdog),
	    cmocka_unit_test(test_pgtmp_sh),
	};
	const char *slash;
	int rc;

	(void)argc;
	slash = strrchr(argv[0], '/');
	if (slash != NULL)
		libdir = tu_asprintf("%.*s", (int)(slash - argv[0]), argv[0]);
	else
		libdir = tu_asprintf("tests/lib");
	rc = cmocka_run_group_tests_name("testlib", tests, group_setup,
	    group_teardown);
	free(libdir);
	return rc;
}
