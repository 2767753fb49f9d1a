/*
 * test_corpora.c - three real migration histories applied whole.
 *
 * tests/corpora holds authelia's, lemmy's and langfuse's histories in
 * migdir's layout (see tests/corpora/README.md), with the schema
 * fingerprint psql gives after running every forward file: the sha256 of
 * pg_dump --schema-only --no-owner without its version and \restrict
 * lines.  Each is copied into a scratch repository and applied by migdir;
 * leaving out migdir's own bookkeeping tables, the dump must hash the
 * same.  Then the corpus is consolidated, and a new database built from
 * the consolidated file alone must hash the same too.  Then everything is
 * rolled back where the corpus's rollbacks are known to form a clean
 * reverse chain (authelia).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "../../include/banned.h"

static char *
fingerprint_of(const char *url)
{
	return sc_schema_of(url, " | sha256sum | cut -d' ' -f1");
}

static char *
fingerprint(struct proj *p)
{
	return fingerprint_of(p->url);
}

/*
 * Consolidate the applied corpus, then build a new database from the
 * consolidated file alone: it must hash as psql's replay does.
 */
static void
consolidate_and_check(struct proj *p, const char *name, size_t forward,
    const char *want)
{
	char *db = tu_asprintf("%s_new", p->db);
	char *url = pgcluster_createdb(sc_cluster, db);
	char *env[] = {NULL, NULL};
	char *got, *count;
	struct tu_run *r;

	assert_non_null(url);
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, name);
	sc_run_free(r);
	count = tu_sh(p->dir, "ls migrations/archive | grep -c -v rollback_");
	assert_int_equal(atol(count), (long)forward);
	free(count);
	assert_true(sc_git_clean(p));
	env[0] = tu_asprintf("STAGING_URL=%s", url);
	r = sc_migdir_env(p, (const char *const *)env, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 0, "apply the consolidated corpus");
	sc_expect_contains(r->out, "baseline");
	sc_run_free(r);
	got = fingerprint_of(url);
	assert_string_equal(got, want);
	free(got);
	pgcluster_dropdb(sc_cluster, db);
	free(env[0]);
	free(url);
	free(db);
}

static struct proj *
corpus(const char *name, size_t files)
{
	struct proj *p = sc_project(name, NULL);
	char *src = tu_asprintf("%s/tests/corpora/%s/pending",
	    getenv("MIGDIR_SOURCE"), name);
	char *dst = tu_path(p->dir, "migrations/pending");
	char *n;

	assert_int_equal(tu_copy_tree(src, dst), 0);
	n = tu_sh(dst, "ls *.sql | wc -l");
	assert_int_equal(atol(n), (long)files);
	free(n);
	sc_commit(p, name);
	free(src);
	free(dst);
	return p;
}

static void
apply_and_check(const char *name, size_t files, size_t forward,
    const char *want)
{
	struct proj *p = corpus(name, files);
	struct tu_run *r;
	char *got;

	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, name);
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    (long)forward);
	got = fingerprint(p);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status after the corpus");
	sc_run_free(r);
	assert_true(sc_git_clean(p));
	consolidate_and_check(p, name, forward, want);
	sc_free(p);
}

static void
test_authelia_applies_to_the_fingerprint_psql_gives(void **state)
{
	(void)state;
	apply_and_check("authelia", 52, 26,
	    "c68a5f3eef7c7d8dec60cc6eb10efb1d50ce72fb0194598875673c44dbeed16d");
}

static void
test_lemmy_applies_to_the_fingerprint_psql_gives(void **state)
{
	(void)state;
	apply_and_check("lemmy", 466, 233,
	    "bbce97b3ea650f5da80b1bb89fa0798bf005778e3f518bb693b9f6a9834182c7");
}

static void
test_langfuse_applies_to_the_fingerprint_psql_gives(void **state)
{
	(void)state;
	apply_and_check("langfuse", 434, 434,
	    "0374acbe82cb737b50f63babac2460bd5374467fee0590c392098dd9ea12a656");
}

static void
test_authelia_rolls_back_to_an_empty_schema(void **state)
{
	struct proj *p = corpus("authelia", 52);
	struct tu_run *r;
	char *empty, *got;

	(void)state;
	empty = fingerprint(p);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "rollback", "--all", "--force", NULL);
	sc_expect_status(r, 0, "rollback --all --force");
	sc_run_free(r);
	got = fingerprint(p);
	assert_string_equal(got, empty);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    0);
	assert_true(sc_git_clean(p));
	free(empty);
	free(got);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_authelia_applies_to_the_fingerprint_psql_gives),
	    cmocka_unit_test(test_lemmy_applies_to_the_fingerprint_psql_gives),
	    cmocka_unit_test(
		test_langfuse_applies_to_the_fingerprint_psql_gives),
	    cmocka_unit_test(test_authelia_rolls_back_to_an_empty_schema),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
