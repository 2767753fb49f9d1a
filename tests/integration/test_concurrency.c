/*
 * test_concurrency.c - two DBAs apply the same pending folder at once.
 *
 * Two clones of one repository, one database: both run `migdir apply` at
 * the same moment.  The session advisory lock (taken by polling, never a
 * blocking pg_advisory_lock) serialises them; the second sees the rows
 * the first committed and only moves its files.  Every migration runs
 * exactly once, and both clones end with every pair in applied/ and a
 * commit that says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "../../include/banned.h"

static void
test_two_clones_applying_at_once_run_each_migration_once(void **state)
{
	struct proj *p = sc_project("twins", NULL);
	char *clone = tu_path(p->tmp, "clone"), *out[2], *err[2];
	const char *argv[] = {getenv("MIGDIR_BIN"), "apply", NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	const char *dirs[2];
	pid_t pid[2];
	char *s;
	int i, k;

	(void)state;
	free(sc_psql(p, "CREATE TABLE ran (version text)"));
	for (i = 1; i <= 4; i++) {
		char v[32], fwd[160], rb[64];

		snprintf(v, sizeof(v), "2023010%d_m%d", i, i);
		snprintf(fwd, sizeof(fwd),
		    "CREATE TABLE t%d (id int);\n"
		    "INSERT INTO ran VALUES ('m%d');\n"
		    "SELECT pg_sleep(0.3);\n",
		    i, i);
		snprintf(rb, sizeof(rb), "DROP TABLE t%d;\n", i);
		sc_pair(p, "pending", v, fwd, rb);
	}
	sc_commit(p, "four slow migrations");
	s = tu_sh(NULL,
	    "git clone -q %s %s && git -C %s config user.name "
	    "Other && git -C %s config user.email other@example."
	    "invalid",
	    p->dir, clone, clone, clone);
	assert_non_null(s);
	free(s);
	dirs[0] = p->dir;
	dirs[1] = clone;
	for (k = 0; k < 2; k++) {
		out[k] = tu_asprintf("%s/out%d", p->tmp, k);
		err[k] = tu_asprintf("%s/err%d", p->tmp, k);
		pid[k] = tu_spawn(dirs[k], env, argv, out[k], err[k]);
		assert_true(pid[k] > 0);
	}
	for (k = 0; k < 2; k++) {
		int rc = tu_wait(pid[k]);

		if (rc != 0) {
			char *e = tu_read_file(err[k]);

			fail_msg("clone %d: exit %d\n%s", k, rc, e);
		}
	}
	for (i = 1; i <= 4; i++) {
		char v[16];

		snprintf(v, sizeof(v), "m%d", i);
		assert_int_equal(sc_psql_long(p,
				     "SELECT count(*) FROM ran "
				     "WHERE version = '%s'",
				     v),
		    1);
	}
	{
		/* one of them waited for the other */
		char *e0 = tu_read_file(err[0]), *e1 = tu_read_file(err[1]);

		assert_true(strstr(e0, "waiting for the migration lock") ||
		    strstr(e1, "waiting for the migration lock"));
		free(e0);
		free(e1);
	}
	for (k = 0; k < 2; k++) {
		for (i = 1; i <= 4; i++) {
			char *f = tu_asprintf("%s/migrations/applied/"
					      "2023010%d_m%d.sql",
			    dirs[k], i, i);
			char *r = tu_asprintf("%s/migrations/applied/"
					      "2023010%d_rollback_m%d.sql",
			    dirs[k], i, i);

			assert_true(tu_exists(f));
			assert_true(tu_exists(r));
			free(f);
			free(r);
		}
		s = tu_sh(dirs[k], "git status --porcelain");
		assert_string_equal(s, "");
		free(s);
		s = tu_sh(dirs[k], "git log -1 --format=%%s");
		assert_true(!strcmp(s, "apply 4 migrations") ||
		    !strcmp(s, "repair: record the moves of 4 migrations"));
		free(s);
		free(out[k]);
		free(err[k]);
	}
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    4);
	assert_int_equal(pgcluster_wait_sessions(sc_cluster, p->db, 0, 5000),
	    0);
	free(clone);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_two_clones_applying_at_once_run_each_migration_once),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
