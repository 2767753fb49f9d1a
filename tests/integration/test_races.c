/*
 * test_races.c - migdir runs racing each other and other sessions.
 *
 * Eight clones of one origin repository apply the same pending folder of
 * 200 migrations to one database at the same moment, round after round
 * (MIGDIR_RACE_ROUNDS, 20 by default): every migration runs exactly once,
 * and after a git pull every clone holds the same tree and agrees with
 * the database.  An apply racing a rollback and two consolidates racing
 * each other: one waits for the other, nothing is corrupted.  A long
 * CREATE INDEX CONCURRENTLY in another session: migdir says what it waits
 * on, and lock_timeout stops it cleanly.
 */
#include <dirent.h>
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

/* Wait (up to 10 s) until the barrier session holds migdir's lock. */
static void
wait_barrier(struct proj *p)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_locks l JOIN "
			"pg_stat_activity a USING (pid) WHERE "
			"l.locktype = 'advisory' AND l.granted AND "
			"a.application_name = 'race-barrier'") > 0)
			return;
		nap_ms(50);
	}
	fail_msg("the barrier session did not take the lock");
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
		wait_barrier(p);
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
		free(sc_psql(p,
		    "SELECT pg_terminate_backend(pid) FROM "
		    "pg_stat_activity WHERE application_name = "
		    "'race-barrier'"));
		tu_wait(barrier);
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
	    cmocka_unit_test(test_eight_clones_apply_the_same_folder_at_once),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
