/*
 * test_races.c - migdir runs racing each other and other sessions.
 *
 * Eight clones of one origin repository apply the same pending folder of
 * 200 migrations to one database at the same moment, round after round
 * (MIGDIR_RACE_ROUNDS, 20 by default): every migration runs exactly once,
 * and after a git pull every clone holds the same tree and agrees with
 * the database.  An apply racing a rollback in another clone, either
 * way round: the second waits, then refuses, saying what the first did,
 * who and when, instead of undoing it.  Two consolidates at once: the
 * second waits and builds the same file; the commits merge.  A long
 * CREATE INDEX CONCURRENTLY in another session: migdir says what it waits
 * on, and lock_timeout stops it cleanly.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

#define CLONES    8
#define PER_ROUND 200

/* migdir's advisory lock key for the default table (src/db.c) */
#define LOCK_KEY                                                               \
	"pg_catalog.hashtextextended('migdir:\"public\".\"schema_versions\"'," \
	" "                                                                    \
	"0)"

static const char *const run_env[] = {"-DATABASE_URL", "-PGHOST", "-PGPORT",
    "-PGDATABASE", "-PGUSER", "TZ=UTC", "NO_COLOR=1", "-MIGDIR_FAULT", NULL};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Files in dir (dot files left out). */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Run `sh -c cmd` in each of the clones at once; fail unless all succeed.
 * In cmd, $PULL is how the clone takes in others' work (a merge in even
 * clones, a rebase in odd ones) and $MIGDIR the binary under test.
 */
static void
sh_all(char *const *dirs, const char *tmp, const char *cmd)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	char *bin = tu_asprintf("MIGDIR=%s", getenv("MIGDIR_BIN"));
	const char *merge[] = {"PULL=--no-rebase", bin, NULL};
	const char *rebase[] = {"PULL=--rebase", bin, NULL};
	char *log[CLONES];
	pid_t pid[CLONES];
	int k;

	for (k = 0; k < CLONES; k++) {
		log[k] = tu_asprintf("%s/sh%d.log", tmp, k);
		assert_true((pid[k] = tu_spawn(dirs[k], k % 2 ? rebase : merge,
				 argv, log[k], log[k])) > 0);
	}
	for (k = 0; k < CLONES; k++) {
		int rc = tu_wait(pid[k]);

		if (rc != 0)
			fail_msg("in %s: `%s' exited %d:\n%s", dirs[k], cmd, rc,
			    tu_read_file(log[k]));
		free(log[k]);
	}
	free(bin);
}

/* A psql session of its own in the background, named by app. */
static pid_t
psql_bg(struct proj *p, const char *app, const char *sql, const char *out)
{
	char *psql = tu_path(sc_cluster->bindir, "psql");
	char *appenv = tu_asprintf("PGAPPNAME=%s", app);
	const char *env[] = {appenv, NULL};
	const char *argv[] = {psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
	    p->url, "-c", sql, NULL};
	pid_t pid = tu_spawn(NULL, env, argv, out, out);

	assert_true(pid > 0);
	free(psql);
	free(appenv);
	return pid;
}

/* Wait (up to 10 s) until the session named app holds an advisory lock. */
static void
wait_holds(struct proj *p, const char *app)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_locks l JOIN "
			"pg_stat_activity a USING (pid) WHERE "
			"l.locktype = 'advisory' AND l.granted AND "
			"a.application_name = '%s'",
			app) > 0)
			return;
		nap_ms(50);
	}
	fail_msg("the session %s did not take its lock", app);
}

/* End the psql session named app (started as pid), and its locks. */
static void
release(struct proj *p, const char *app, pid_t pid)
{
	free(sc_psql(p,
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = '%s'",
	    app));
	tu_wait(pid);
}

/* Wait until every file holds needle (up to 20 s). */
static void
wait_all_say(char *const *files, int n, const char *needle)
{
	int tries, k;

	for (tries = 0; tries < 400; tries++) {
		for (k = 0; k < n; k++) {
			char *s = tu_read_file(files[k]);
			int has = s && strstr(s, needle);

			free(s);
			if (!has)
				break;
		}
		if (k == n)
			return;
		nap_ms(50);
	}
	fail_msg("not every run said \"%s\" within 20 s", needle);
}

/* ---------------------------------------------------- eight clones --- */

static int
rounds(void)
{
	const char *s = getenv("MIGDIR_RACE_ROUNDS");
	int n = s && *s ? atoi(s) : 20;

	return n > 0 ? n : 20;
}

/* Clone dir writes round r's 200 migrations, commits and pushes them. */
static void
author_round(const char *dir, int r)
{
	char *s;
	int i;

	for (i = 1; i <= PER_ROUND; i++) {
		char rel[96], sql[96], *path;

		/* a date per round, so each round sorts after the last */
		snprintf(rel, sizeof(rel),
		    "migrations/pending/%04d%02d%02d_r%d_m%03d.sql",
		    2024 + (r - 1) / 336, 1 + (r - 1) / 28 % 12,
		    1 + (r - 1) % 28, r, i);
		snprintf(sql, sizeof(sql),
		    "INSERT INTO ran VALUES ('r%d_m%03d');\n", r, i);
		path = tu_path(dir, rel);
		assert_int_equal(tu_write_file(path, sql), 0);
		free(path);
	}
	s = tu_sh(dir,
	    "git add migrations && git commit -q -m 'round %d' && "
	    "git push -q origin HEAD:main",
	    r);
	assert_non_null(s);
	free(s);
}

/*
 * One round: all eight clones run migdir apply at once.  In odd rounds
 * the test holds migdir's advisory lock until all eight wait for it (and
 * name it as the holder), then lets go; in even rounds all eight start
 * at once and race from the start.  Returns how many applied and how many
 * only moved files.
 */
static void
race(struct proj *p, char *const *dirs, char *const *out, char *const *err,
    int r)
{
	const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
	pid_t pid[CLONES], barrier = 0;
	int applied = 0, moved = 0, k;
	char *s;

	if (r % 2) {
		char *bout = tu_path(p->tmp, "barrier.out");

		barrier = psql_bg(p, "race-barrier",
		    "SELECT pg_advisory_lock(" LOCK_KEY
		    "); SELECT pg_sleep(120)",
		    bout);
		free(bout);
		wait_holds(p, "race-barrier");
	}
	for (k = 0; k < CLONES; k++)
		assert_true((pid[k] = tu_spawn(dirs[k], run_env, argv, out[k],
				 err[k])) > 0);
	if (barrier) {
		wait_all_say(err, CLONES, "waiting for the migration lock");
		for (k = 0; k < CLONES; k++) {
			/* the waiting line names the holder */
			s = tu_read_file(err[k]);
			sc_expect_contains(s, "race-barrier");
			free(s);
		}
		release(p, "race-barrier", barrier);
	}
	for (k = 0; k < CLONES; k++) {
		int rc = tu_wait(pid[k]);
		char *o = tu_read_file(out[k]);

		if (rc != 0)
			fail_msg("round %d, clone %d: exit %d\n%s%s", r, k, rc,
			    o, tu_read_file(err[k]));
		applied += strstr(o, "Applying 200 migrations") != NULL;
		moved += strstr(o, "Finished 200 interrupted moves") != NULL;
		free(o);
	}
	/* one clone ran them, the seven others only moved files */
	assert_int_equal(applied, 1);
	assert_int_equal(moved, CLONES - 1);
}

static void
test_eight_clones_apply_the_same_folder_at_once(void **state)
{
	struct proj *p = sc_project("eight", NULL);
	char *dirs[CLONES], *out[CLONES], *err[CLONES];
	double t0 = now_s(), t_git = 0, t_race = 0, t_check = 0, t;
	int nrounds = rounds(), r, k;
	long total = 0;
	char *s;

	(void)state;
	assert_non_null(getenv("MIGDIR_BIN"));
	free(sc_psql(p, "CREATE TABLE ran (version text)"));
	s = tu_sh(p->tmp, "git clone -q --bare repo origin.git");
	assert_non_null(s);
	free(s);
	for (k = 0; k < CLONES; k++) {
		dirs[k] = tu_asprintf("%s/c%d", p->tmp, k);
		out[k] = tu_asprintf("%s/out%d", p->tmp, k);
		err[k] = tu_asprintf("%s/err%d", p->tmp, k);
		s = tu_sh(p->tmp,
		    "git clone -q origin.git c%d && cd c%d && "
		    "git config user.name 'DBA %d' && "
		    "git config user.email dba%d@example.invalid",
		    k, k, k, k);
		assert_non_null(s);
		free(s);
	}
	for (r = 1; r <= nrounds; r++) {
		int pusher = (r + CLONES / 2) % CLONES;

		/* one clone writes the round's migrations; all pull them */
		t = now_s();
		author_round(dirs[r % CLONES], r);
		sh_all(dirs, p->tmp,
		    "git pull -q $PULL origin main && "
		    "test $(ls migrations/pending | wc -l) = 200");
		t_git += now_s() - t;

		t = now_s();
		race(p, dirs, out, err, r);
		t_race += now_s() - t;

		/* every migration ran exactly once, and is recorded so */
		t = now_s();
		total += PER_ROUND;
		s = sc_psql(p,
		    "SELECT count(*), count(DISTINCT version) FROM ran; "
		    "SELECT count(*) FROM (SELECT version FROM ran "
		    "GROUP BY version HAVING count(*) <> 1) d; "
		    "SELECT count(*) FILTER (WHERE is_active), count(*) "
		    "FROM schema_versions; "
		    "SELECT count(*) FROM schema_versions_history "
		    "WHERE action <> 'apply' OR NOT success");
		{
			char *want = tu_asprintf("%ld|%ld\n0\n%ld|%ld\n0",
			    total, total, total, total);

			assert_string_equal(s, want);
			free(want);
		}
		free(s);
		/* every clone has them in applied/, committed */
		for (k = 0; k < CLONES; k++) {
			char *d = tu_path(dirs[k], "migrations/pending");
			char *a = tu_path(dirs[k], "migrations/applied");

			assert_int_equal(count_files(d), 0);
			assert_int_equal(count_files(a), (int)total);
			free(d);
			free(a);
		}
		t_check += now_s() - t;

		/*
		 * One clone (another each round) takes in what is new upstream
		 * and pushes its own commit; then all pull: the same moves,
		 * merged or rebased onto their own.  Every clone then holds
		 * origin's tree, and agrees with the database.
		 */
		t = now_s();
		s = tu_sh(dirs[pusher],
		    "test -z \"$(git status --porcelain)\" && "
		    "git pull -q %s origin main && git push -q origin "
		    "HEAD:main",
		    pusher % 2 ? "--rebase" : "--no-rebase");
		if (!s)
			fail_msg("round %d: clone %d could not pull and push",
			    r, pusher);
		free(s);
		sh_all(dirs, p->tmp,
		    "test -z \"$(git status --porcelain)\" && "
		    "git pull -q $PULL origin main && "
		    "test -z \"$(git status --porcelain)\" && "
		    "test \"$(git rev-parse HEAD^{tree})\" = "
		    "\"$(git -C ../origin.git rev-parse main^{tree})\" && "
		    "\"$MIGDIR\" status --exit-code");
		t_git += now_s() - t;
	}
	t = now_s();
	s = tu_sh(p->tmp,
	    "git -C origin.git fsck --strict --no-progress 2>&1 && "
	    "for c in c*; do git -C $c fsck --strict --no-progress 2>&1 "
	    "|| exit 1; done && echo fsck-ok");
	sc_expect_contains(s, "fsck-ok");
	free(s);
	t_check += now_s() - t;
	print_message("races: %d rounds x %d clones, %ld migrations ran "
		      "once each; %.1f s (git and status %.1f, races %.1f, "
		      "checks %.1f)\n",
	    nrounds, CLONES, total, now_s() - t0, t_git, t_race, t_check);
	for (k = 0; k < CLONES; k++) {
		free(dirs[k]);
		free(out[k]);
		free(err[k]);
	}
	assert_int_equal(pgcluster_wait_sessions(sc_cluster, p->db, 0, 5000),
	    0);
	sc_free(p);
}

/* ------------------------------------------ CREATE INDEX CONCURRENTLY --- */

/* Add a line to the production environment of migdir.ini. */
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

/* Wait until the session named app waits for a lock (up to 10 s). */
static void
wait_lock_wait(struct proj *p, const char *app)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_stat_activity WHERE "
			"application_name = '%s' AND wait_event_type = 'Lock'",
			app) > 0)
			return;
		nap_ms(50);
	}
	fail_msg("%s never waited for a lock", app);
}

/*
 * A CREATE INDEX CONCURRENTLY on t whose build takes about two seconds
 * (an index on an expression that sleeps 50 ms a row, 40 rows).
 */
static pid_t
slow_cic(struct proj *p, const char *app, const char *out)
{
	pid_t pid = psql_bg(p, app,
	    "CREATE INDEX CONCURRENTLY t_slow ON t (slow(id))", out);

	sc_wait_for_query(p, "CREATE INDEX CONCURRENTLY t_slow%");
	return pid;
}

static void
test_create_index_concurrently_in_another_session(void **state)
{
	struct proj *p = sc_project("cic", NULL);
	char *cic_out = tu_path(p->tmp, "cic.out"), *s;
	struct tu_run *r;
	pid_t cic;

	(void)state;
	free(sc_psql(p,
	    "CREATE TABLE t (id int); "
	    "INSERT INTO t SELECT generate_series(1, 40); "
	    "CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql "
	    "IMMUTABLE AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN i; "
	    "END $$"));
	sc_pair(p, "pending", "20230101_add_x",
	    "ALTER TABLE t ADD COLUMN x int;\n",
	    "ALTER TABLE t DROP COLUMN x;\n");
	sc_commit(p, "add x");

	/*
	 * 1. No lock_timeout: migdir's ALTER waits for the build and says
	 * for what, held by whom, doing what.  When the build ends it waits
	 * for migdir's snapshot: PostgreSQL finds the cycle a second later
	 * and fails the index build, not the migration (whose wait began
	 * first).  No hang; the migration is whole.
	 */
	cic = slow_cic(p, "cic-one", cic_out);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply waiting for a CREATE INDEX CONCURRENTLY");
	sc_expect_contains(r->err,
	    "20230101_add_x: waiting 1 s for "
	    "AccessExclusiveLock on t, held by pid ");
	sc_expect_contains(r->err,
	    "(postgres, cic-one, active for 1 s: CREATE INDEX "
	    "CONCURRENTLY t_slow ON t (slow(id)))");
	sc_run_free(r);
	assert_int_not_equal(tu_wait(cic), 0);
	s = tu_read_file(cic_out);
	sc_expect_contains(s, "deadlock detected");
	free(s);
	assert_string_equal(sc_folder_of(p, "20230101_add_x"), "applied");
	s = sc_psql(p,
	    "SELECT indisvalid FROM pg_index "
	    "WHERE indexrelid = 't_slow'::regclass");
	assert_string_equal(s, "f"); /* the build's leftover, invalid */
	free(s);
	free(sc_psql(p, "DROP INDEX t_slow"));

	/*
	 * 2. The other way: migdir's transaction holds a lock on t; a
	 * CREATE INDEX CONCURRENTLY waits for it, and both finish.
	 */
	sc_pair(p, "pending", "20230102_fill",
	    "INSERT INTO t VALUES (0);\nSELECT pg_sleep(1.5);\n",
	    "DELETE FROM t WHERE id = 0;\n");
	sc_commit(p, "fill");
	{
		const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
		char *o = tu_path(p->tmp, "apply.out");
		char *e = tu_path(p->tmp, "apply.err");
		pid_t m = tu_spawn(p->dir, run_env, argv, o, e);

		assert_true(m > 0);
		sc_wait_for_query(p, "SELECT pg_sleep(1.5)%");
		cic = psql_bg(p, "cic-two",
		    "CREATE INDEX CONCURRENTLY t_id ON t (id)", cic_out);
		wait_lock_wait(p, "cic-two");
		assert_int_equal(tu_wait(m), 0);
		assert_int_equal(tu_wait(cic), 0);
		free(o);
		free(e);
	}
	s = sc_psql(p,
	    "SELECT indisvalid FROM pg_index "
	    "WHERE indexrelid = 't_id'::regclass; "
	    "SELECT count(*) FROM t WHERE id = 0");
	assert_string_equal(s, "t\n1");
	free(s);

	/*
	 * 3. A migration that needs t after the build started waiting for
	 * it: a real deadlock, which PostgreSQL breaks by failing the
	 * migration.  migdir says so; nothing of it stays.
	 */
	sc_pair(p, "pending", "20230103_fill_and_alter",
	    "INSERT INTO t VALUES (-1);\nSELECT pg_sleep(1.5);\n"
	    "ALTER TABLE t ADD COLUMN z int;\n",
	    "ALTER TABLE t DROP COLUMN z;\nDELETE FROM t WHERE id = -1;\n");
	sc_commit(p, "fill and alter");
	{
		const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
		char *o = tu_path(p->tmp, "apply.out");
		char *e = tu_path(p->tmp, "apply.err");
		pid_t m = tu_spawn(p->dir, run_env, argv, o, e);

		assert_true(m > 0);
		sc_wait_for_query(p, "SELECT pg_sleep(1.5)%");
		cic = psql_bg(p, "cic-three",
		    "CREATE INDEX CONCURRENTLY t_id2 ON t (id)", cic_out);
		wait_lock_wait(p, "cic-three");
		assert_int_equal(tu_wait(m), 1);
		s = tu_read_file(e);
		sc_expect_contains(s, "deadlock detected (SQLSTATE 40P01)");
		sc_expect_contains(s,
		    "PostgreSQL broke a deadlock between "
		    "20230103_fill_and_alter and another "
		    "session");
		sc_expect_contains(s,
		    "Nothing of 20230103_fill_and_alter "
		    "was applied.");
		free(s);
		assert_int_equal(tu_wait(cic), 0);
		free(o);
		free(e);
	}
	s = sc_psql(p,
	    "SELECT count(*) FROM t WHERE id = -1; "
	    "SELECT count(*) FROM pg_attribute WHERE attrelid = "
	    "'t'::regclass AND attname = 'z'");
	assert_string_equal(s, "0\n0");
	free(s);
	assert_string_equal(sc_folder_of(p, "20230103_fill_and_alter"),
	    "pending");
	assert_true(sc_git_clean(p));

	/*
	 * 4. With lock_timeout: the migration fails at once, cleanly, and
	 * says what it waited on (the waiting line comes early, at half the
	 * lock_timeout); once the build is done, the next apply succeeds.
	 */
	env_option(p, "lock_timeout = 400ms");
	sc_commit(p, "lock_timeout");
	cic = slow_cic(p, "cic-four", cic_out);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply with lock_timeout");
	sc_expect_contains(r->err, "canceling statement due to lock timeout");
	sc_expect_contains(r->err,
	    "migdir: detail: It waited for AccessExclusiveLock on t, held "
	    "by pid ");
	sc_expect_contains(r->err, "cic-four");
	sc_expect_contains(r->err, "CREATE INDEX CONCURRENTLY t_slow ON t");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230103_fill_and_alter"),
	    "pending");
	assert_int_equal(tu_wait(cic), 0); /* the build was not disturbed */
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply once the build is done");
	sc_run_free(r);
	s = sc_psql(p,
	    "SELECT count(*) FROM t WHERE id = -1; "
	    "SELECT count(*) FROM pg_index WHERE indrelid = "
	    "'t'::regclass AND NOT indisvalid");
	assert_string_equal(s, "1\n0");
	free(s);
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status after all");
	sc_run_free(r);
	free(cic_out);
	sc_free(p);
}

/* ---------------------------------------- apply, rollback, consolidate --- */

/*
 * A bare origin of p's repository and two clones of it, c0 and c1, each
 * with a DBA of its own; *a and *b are p seen from each clone (free their
 * dir only).
 */
static void
two_clones(struct proj *p, struct proj *a, struct proj *b)
{
	char *s = tu_sh(p->tmp,
	    "git clone -q --bare repo origin.git && "
	    "for k in 0 1; do git clone -q origin.git c$k && "
	    "git -C c$k config user.name \"DBA $k\" && "
	    "git -C c$k config user.email dba$k@example.invalid || exit 1; "
	    "done");

	assert_non_null(s);
	free(s);
	*a = *p;
	*b = *p;
	a->dir = tu_path(p->tmp, "c0");
	b->dir = tu_path(p->tmp, "c1");
}

/* Start migdir ARGS (NULL-terminated, at most 6) in clone c; its output
 * goes to NAME.out and NAME.err in p->tmp, *err is the latter's path. */
static pid_t
migdir_bg(struct proj *c, const char *name, char **err, ...)
{
	const char *argv[8] = {getenv("MIGDIR_BIN")};
	char *out = tu_asprintf("%s/%s.out", c->tmp, name);
	const char *a;
	va_list ap;
	int n = 1;
	pid_t pid;

	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) && n < 7)
		argv[n++] = a;
	va_end(ap);
	*err = tu_asprintf("%s/%s.err", c->tmp, name);
	assert_true((pid = tu_spawn(c->dir, run_env, argv, out, *err)) > 0);
	free(out);
	return pid;
}

/* Wait for a background migdir; fail unless it exits want. */
static char *
expect_exit(pid_t pid, const char *err, int want, const char *what)
{
	int rc = tu_wait(pid);
	char *s = tu_read_file(err);

	if (rc != want)
		fail_msg("%s: exit %d, expected %d\n%s", what, rc, want, s);
	return s;
}

/* Run `sh -c cmd` in clone c; fail unless it succeeds. */
static void
sh_ok(struct proj *c, const char *cmd)
{
	char *s = tu_sh(c->dir, "%s", cmd);

	if (!s)
		fail_msg("in %s: `%s' failed", c->dir, cmd);
	free(s);
}

/* After a race: git fsck in both clones and the origin. */
static void
expect_fsck(struct proj *p)
{
	char *s = tu_sh(p->tmp,
	    "for r in origin.git c0 c1; do git -C $r fsck --strict "
	    "--no-progress 2>&1 || exit 1; done && echo fsck-ok");

	sc_expect_contains(s, "fsck-ok");
	free(s);
}

/*
 * DBA 1 rolls back 20240102_two in clone c1; its rollback file waits on
 * a lock the test holds (the gate), so the rollback holds migdir's lock
 * while DBA 0 runs apply in clone c0, which has not pulled the rollback.
 * The apply waits for the migration lock, naming the holder; when it has
 * it, the row says rolled back while c0's applied/ still holds the file:
 * no crash of its own, another clone's rollback.  It refuses, naming the
 * migration, who and when, and the way out, and runs nothing (it used to
 * move the files back and apply them again, undoing the rollback).
 * Accepting the rollback with repair, then pulling, leaves both clones
 * alike; an apply that does not wait still finishes a rollback it finds.
 */
static void
test_apply_waiting_for_a_rollback_in_another_clone(void **state)
{
	struct proj *p = sc_project("race_rb", NULL), a, b;
	char *gate_out = tu_path(p->tmp, "gate.out"), *ea, *eb, *s, *head;
	double t0 = now_s();
	struct tu_run *r;
	pid_t gate, pa, pb;

	(void)state;
	free(sc_psql(p, "CREATE TABLE ran (v text)"));
	sc_pair(p, "pending", "20240101_one",
	    "INSERT INTO ran VALUES ('one');\n",
	    "DELETE FROM ran WHERE v = 'one';\n");
	sc_pair(p, "pending", "20240102_two",
	    "INSERT INTO ran VALUES ('two');\n",
	    "SELECT pg_advisory_xact_lock(4242);\n"
	    "DELETE FROM ran WHERE v = 'two';\n");
	sc_commit(p, "one and two");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply one and two");
	sc_run_free(r);
	two_clones(p, &a, &b);
	head = sc_git(&a, "rev-parse HEAD");

	gate = psql_bg(p, "race-gate",
	    "SELECT pg_advisory_lock(4242); SELECT pg_sleep(120)", gate_out);
	wait_holds(p, "race-gate");
	pb = migdir_bg(&b, "rollback", &eb, "rollback", "--force", NULL);
	sc_wait_for_query(p, "SELECT pg_advisory_xact_lock(4242)%");
	pa = migdir_bg(&a, "apply", &ea, "apply", NULL);
	wait_all_say(&ea, 1, "waiting for the migration lock");
	release(p, "race-gate", gate);
	free(expect_exit(pb, eb, 0, "the rollback that holds the lock"));
	s = expect_exit(pa, ea, 1, "the apply that waited for it");
	sc_expect_contains(s, "held by pid"); /* the wait named the holder */
	sc_expect_contains(s,
	    "migdir: error: another migdir rolled back 20240102_two (by ");
	sc_expect_contains(s,
	    ") while this apply waited for the migration lock; this "
	    "clone's folders do not show that yet");
	sc_expect_contains(s,
	    "Applying now would move it back to pending/ and apply it "
	    "again, undoing that rollback.");
	sc_expect_contains(s,
	    "git pull the other clone's commit, or run migdir repair to "
	    "accept what the database says");
	sc_expect_contains(s, "Nothing was applied.");
	free(s);
	/* the who and when are the history's */
	s = sc_psql(p,
	    "SELECT by_user || ' at ' || to_char(at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD HH24:MI') FROM schema_versions_history WHERE "
	    "action = 'rollback'");
	{
		char *e = tu_read_file(ea);
		char *want = tu_asprintf("20240102_two (by %s)", s);

		sc_expect_contains(e, want);
		free(want);
		free(e);
	}
	free(s);
	/* nothing ran, nothing moved in c0; c1's rollback stands */
	s = sc_psql(p,
	    "SELECT string_agg(v, ',' ORDER BY v) FROM ran; "
	    "SELECT string_agg(version || ':' || is_active, ',' ORDER BY "
	    "version) FROM schema_versions; "
	    "SELECT count(*) FROM schema_versions_history");
	assert_string_equal(s, "one\n20240101_one:true,20240102_two:false\n3");
	free(s);
	assert_string_equal(sc_folder_of(&a, "20240102_two"), "applied");
	assert_string_equal(sc_folder_of(&b, "20240102_two"), "pending");
	s = sc_git(&a, "rev-parse HEAD");
	assert_string_equal(s, head);
	free(s);
	assert_true(sc_git_clean(&a));

	/* c0 accepts the rollback, pulls c1's: the same move, merged */
	r = sc_migdir(&a, NULL, "repair", NULL);
	sc_expect_status(r, 0, "repair in c0");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(&a, "20240102_two"), "pending");
	sh_ok(&b, "git push -q origin HEAD:main");
	sh_ok(&a,
	    "git pull -q --no-rebase origin main && "
	    "test -z \"$(git status --porcelain)\" && "
	    "test \"$(git rev-parse HEAD^{tree})\" = "
	    "\"$(git -C ../origin.git rev-parse main^{tree})\"");
	r = sc_migdir(&a, NULL, "status", NULL);
	sc_expect_contains(r->out, "1 applied, 1 pending; no problems");
	sc_run_free(r);
	expect_fsck(p);

	/*
	 * Without a wait, an apply that finds a rollback not moved yet
	 * finishes it and applies again, as after a crash of its own
	 * rollback (README): c1 rolls back one more, c0 applies at once.
	 */
	r = sc_migdir(&b, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback one in c1");
	sc_run_free(r);
	r = sc_migdir(&a, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply in c0 without a wait");
	sc_expect_contains(r->out, "Applying 2 migrations");
	sc_run_free(r);
	s = sc_psql(p, "SELECT string_agg(v, ',' ORDER BY v) FROM ran");
	assert_string_equal(s, "one,two");
	free(s);
	print_message("apply racing a rollback: %.1f s\n", now_s() - t0);
	free(ea);
	free(eb);
	free(head);
	free(gate_out);
	free(a.dir);
	free(b.dir);
	sc_free(p);
}

/*
 * The other way: DBA 0's apply of 20240102_two holds migdir's lock (its
 * file waits on the gate) while DBA 1, in a clone that has the same
 * pending file, runs rollback.  The rollback waits, then refuses: another
 * migdir applied 20240102_two meanwhile, and c1's folders do not show it
 * (rolling back "the last applied" now would roll back around a
 * migration this clone has never seen).  After a git pull it rolls back
 * cleanly: the migration the other DBA applied, the newest.
 */
static void
test_rollback_waiting_for_an_apply_in_another_clone(void **state)
{
	struct proj *p = sc_project("race_ap", NULL), a, b;
	char *gate_out = tu_path(p->tmp, "gate.out"), *ea, *eb, *s;
	double t0 = now_s();
	struct tu_run *r;
	pid_t gate, pa, pb;

	(void)state;
	free(sc_psql(p, "CREATE TABLE ran (v text)"));
	sc_pair(p, "pending", "20240101_one",
	    "INSERT INTO ran VALUES ('one');\n",
	    "DELETE FROM ran WHERE v = 'one';\n");
	sc_commit(p, "one");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply one");
	sc_run_free(r);
	sc_pair(p, "pending", "20240102_two",
	    "SELECT pg_advisory_xact_lock(4242);\n"
	    "INSERT INTO ran VALUES ('two');\n",
	    "DELETE FROM ran WHERE v = 'two';\n");
	sc_commit(p, "two");
	two_clones(p, &a, &b);

	gate = psql_bg(p, "race-gate",
	    "SELECT pg_advisory_lock(4242); SELECT pg_sleep(120)", gate_out);
	wait_holds(p, "race-gate");
	pa = migdir_bg(&a, "apply", &ea, "apply", NULL);
	sc_wait_for_query(p, "SELECT pg_advisory_xact_lock(4242)%");
	pb = migdir_bg(&b, "rollback", &eb, "rollback", "--force", NULL);
	wait_all_say(&eb, 1, "waiting for the migration lock");
	release(p, "race-gate", gate);
	free(expect_exit(pa, ea, 0, "the apply that holds the lock"));
	s = expect_exit(pb, eb, 1, "the rollback that waited for it");
	sc_expect_contains(s, "held by pid");
	sc_expect_contains(s,
	    "migdir: error: another migdir applied 20240102_two (by ");
	sc_expect_contains(s,
	    ") while this rollback waited for the migration lock; this "
	    "clone's folders do not show that yet");
	sc_expect_contains(s, "Nothing was rolled back.");
	free(s);
	s = sc_psql(p,
	    "SELECT string_agg(v, ',' ORDER BY v) FROM ran; "
	    "SELECT count(*) FILTER (WHERE is_active) FROM schema_versions");
	assert_string_equal(s, "one,two\n2");
	free(s);
	assert_string_equal(sc_folder_of(&b, "20240102_two"), "pending");
	assert_true(sc_git_clean(&b));

	/* after a pull, c1 rolls back what c0 applied */
	sh_ok(&a, "git push -q origin HEAD:main");
	sh_ok(&b, "git pull -q --no-rebase origin main");
	r = sc_migdir(&b, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback in c1 after a pull");
	sc_expect_contains(r->out, "20240102_two");
	sc_run_free(r);
	s = sc_psql(p, "SELECT string_agg(v, ',' ORDER BY v) FROM ran");
	assert_string_equal(s, "one");
	free(s);
	sh_ok(&b, "git push -q origin HEAD:main");
	sh_ok(&a, "git pull -q --no-rebase origin main");
	r = sc_migdir(&a, NULL, "status", NULL);
	sc_expect_contains(r->out, "1 applied, 1 pending; no problems");
	sc_run_free(r);
	expect_fsck(p);
	print_message("rollback racing an apply: %.1f s\n", now_s() - t0);
	free(ea);
	free(eb);
	free(gate_out);
	free(a.dir);
	free(b.dir);
	sc_free(p);
}

/*
 * Two DBAs consolidate at once in two clones: the test holds migdir's
 * lock until both wait for it, then lets go.  One builds while the other
 * waits, then the other builds again from the same files and rows: the
 * two files are byte for byte the same, their commits merge without a
 * conflict, and afterwards both clones hold a whole consolidated schema
 * that holds what archive/ holds; no scratch database is left.
 */
static void
test_two_consolidates_at_once(void **state)
{
	struct proj *p = sc_project("race_cons", NULL), a, b;
	char *bout = tu_path(p->tmp, "barrier.out"), *ea, *eb, *fa, *fb, *s;
	double t0 = now_s();
	struct tu_run *r;
	pid_t barrier, pa, pb;
	char *errs[2];
	int k;

	(void)state;
	sc_pair(p, "pending", "20240101_customers",
	    "CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n",
	    "DROP TABLE customers;\n");
	sc_pair(p, "pending", "20240102_orders",
	    "CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint "
	    "REFERENCES customers);\n",
	    "DROP TABLE orders;\n");
	sc_pair(p, "pending", "20240103_orders_idx",
	    "CREATE INDEX orders_customer ON orders (customer);\n",
	    "DROP INDEX orders_customer;\n");
	sc_commit(p, "three");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply three");
	sc_run_free(r);
	two_clones(p, &a, &b);

	barrier = psql_bg(p, "race-barrier",
	    "SELECT pg_advisory_lock(" LOCK_KEY "); SELECT pg_sleep(120)",
	    bout);
	wait_holds(p, "race-barrier");
	pa = migdir_bg(&a, "consolidate0", &ea, "consolidate", NULL);
	pb = migdir_bg(&b, "consolidate1", &eb, "consolidate", NULL);
	errs[0] = ea;
	errs[1] = eb;
	wait_all_say(errs, 2, "waiting for the migration lock");
	release(p, "race-barrier", barrier);
	free(expect_exit(pa, ea, 0, "consolidate in c0"));
	free(expect_exit(pb, eb, 0, "consolidate in c1"));
	for (k = 0; k < 2; k++) {
		/* the one that came second built again, from the same */
		char *o = tu_asprintf("%s/consolidate%d.out", p->tmp, k);

		s = tu_read_file(o);
		sc_expect_contains(s,
		    "Consolidated 3 migrations into "
		    "consolidated_schema.sql");
		free(s);
		free(o);
	}
	fa = sc_read(&a, "consolidated_schema.sql");
	fb = sc_read(&b, "consolidated_schema.sql");
	assert_non_null(fa);
	sc_expect_contains(fa, "CREATE TABLE public.orders");
	sc_expect_contains(fa,
	    "-- migdir-archive: 3 versions, the last "
	    "20240103_orders_idx");
	assert_string_equal(fa, fb);
	assert_int_equal(sc_scratch_dbs(p), 0);

	/* c0 pushes; c1 merges the same change and pushes; c0 pulls */
	sh_ok(&a, "git push -q origin HEAD:main");
	sh_ok(&b,
	    "git pull -q --no-rebase origin main && git push -q origin "
	    "HEAD:main");
	sh_ok(&a, "git pull -q --no-rebase origin main");
	s = tu_sh(p->tmp,
	    "for c in c0 c1; do test -z \"$(git -C $c status --porcelain)\" "
	    "&& test \"$(git -C $c rev-parse HEAD^{tree})\" = "
	    "\"$(git -C origin.git rev-parse main^{tree})\" || exit 1; "
	    "done; ls c0/migrations/archive | wc -l; "
	    "ls c0/migrations/applied | wc -l");
	assert_string_equal(s, "6\n0");
	free(s);
	free(fa);
	fa = sc_read(&a, "consolidated_schema.sql");
	assert_string_equal(fa, fb);
	r = sc_migdir(&a, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status in c0 after the pull");
	sc_run_free(r);
	r = sc_migdir(&b, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status in c1 after the pull");
	sc_run_free(r);
	expect_fsck(p);
	assert_int_equal(sc_scratch_dbs(p), 0);
	print_message("two consolidates: %.1f s\n", now_s() - t0);
	free(fa);
	free(fb);
	free(ea);
	free(eb);
	free(bout);
	free(a.dir);
	free(b.dir);
	sc_free(p);
}

int
main(void)
{
	/*
	 * Eight clones and a thousand renames a round: on tmpfs, the round
	 * costs what migdir and git do, not what the disk under a shared
	 * machine does (the races are the same on any file system).
	 */
	if (!getenv("TMPDIR") && access("/dev/shm", W_OK | X_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_index_concurrently_in_another_session),
	    cmocka_unit_test(
		test_apply_waiting_for_a_rollback_in_another_clone),
	    cmocka_unit_test(
		test_rollback_waiting_for_an_apply_in_another_clone),
	    cmocka_unit_test(test_two_consolidates_at_once),
	    cmocka_unit_test(test_eight_clones_apply_the_same_folder_at_once),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
