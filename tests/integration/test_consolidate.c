/*
 * test_consolidate.c - consolidate, and new databases built from
 * consolidated_schema.sql.
 *
 * The sample CRM project (migrations/ and consolidated_schema.sql of the
 * source tree) is copied into a repository whose tracked database is
 * first brought to the state its folders describe: an empty database, so
 * apply loads the consolidated schema and runs applied/ (moving nothing,
 * since --to stops before pending/).  Everything is checked from outside:
 * files, git (the git CLI), psql and pg_dump.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

#define LAST_APPLIED "20230601_add_email_templates"

/* The sample project, its tracked database at the state of its folders. */
static struct proj *
sample(const char *name, const char *ini_extra)
{
	struct proj *p = sc_sample(name, ini_extra);
	struct tu_run *r;

	r = sc_migdir(p, NULL, "apply", "--to", LAST_APPLIED, NULL);
	sc_expect_status(r, 0, "apply to the tracked state");
	sc_expect_contains(r->out, "consolidated_schema.sql");
	sc_run_free(r);
	assert_true(sc_git_clean(p));
	return p;
}

static char *
new_db(const char *name)
{
	char *n = tu_asprintf("c%d_%s", (int)getpid(), name);
	char *url = pgcluster_createdb(sc_cluster, n);

	free(n);
	assert_non_null(url);
	return url;
}

static void
test_consolidate_sample_twice(void **state)
{
	struct proj *p = sample("twice", NULL);
	struct tu_run *r;
	char *before, *after, *head, *log, *ls;

	(void)state;
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate");
	sc_expect_contains(r->out,
	    "Consolidated 3 migrations into "
	    "consolidated_schema.sql");
	sc_expect_contains(r->out, "proved");
	/* the sample's seed rows are not kept, and it says so */
	sc_expect_contains(r->err, "public.pipeline_statuses");
	sc_run_free(r);
	ls = tu_sh(p->dir,
	    "ls migrations/applied | wc -l; "
	    "ls migrations/archive | grep -c sql");
	assert_string_equal(ls, "0\n12"); /* 6 pairs moved */
	free(ls);
	/* one commit: the new file and twelve renames, with trailers */
	log = sc_git(p, "show --name-status --format=%%s HEAD");
	sc_expect_contains(log,
	    "consolidate 3 migrations into "
	    "consolidated_schema.sql");
	sc_expect_contains(log, "M\tconsolidated_schema.sql");
	sc_expect_contains(log,
	    "R100\tmigrations/applied/20230315_create_support_tickets.sql\t"
	    "migrations/archive/20230315_create_support_tickets.sql");
	free(log);
	log = sc_git(p,
	    "show -s '--format=%%(trailers:key=Migdir-Action,"
	    "valueonly)' HEAD");
	assert_string_equal(log, "consolidate");
	free(log);
	log = sc_git(p,
	    "log --follow --format=%%s -- "
	    "migrations/archive/20230315_create_support_tickets.sql");
	assert_string_equal(log,
	    "consolidate 3 migrations into consolidated_schema.sql\n"
	    "the CRM history");
	free(log);
	log = sc_git(p, "fsck --no-progress 2>&1 && echo fsck-ok");
	sc_expect_contains(log, "fsck-ok");
	free(log);
	assert_true(sc_git_clean(p));
	/* the database is untouched and agrees: archived rows are active */
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 3, "status: pending remain");
	sc_expect_contains(r->out,
	    "6 archived, 0 applied, 4 pending; no "
	    "problems");
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);

	/* again: nothing to do, nothing changes */
	before = sc_read(p, "consolidated_schema.sql");
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate again");
	sc_expect_contains(r->out,
	    "Nothing to consolidate: applied/ is "
	    "empty.");
	sc_run_free(r);
	after = sc_read(p, "consolidated_schema.sql");
	assert_string_equal(before, after);
	free(after);
	after = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, after);
	/* deterministic: no \restrict, no pg_dump version, no date */
	assert_null(strstr(before, "\\restrict"));
	assert_null(strstr(before, "Dumped by pg_dump version"));
	assert_null(strstr(before, "Dumped from"));
	free(after);
	free(head);
	free(before);
	sc_free(p);
}

static void
test_consolidate_gives_the_same_bytes_on_two_machines(void **state)
{
	char *url, *extra, *a, *b;
	struct proj *p, *q;
	struct tu_run *r;

	(void)state;
	/* the second "machine" makes its scratch databases elsewhere */
	url = pgcluster_url(sc_cluster, "postgres");
	extra = tu_asprintf("scratch_url = %s\n", url);
	p = sample("machine_a", NULL);
	q = sample("machine_b", extra);
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate on a");
	sc_run_free(r);
	r = sc_migdir(q, NULL, "consolidate", "--json", NULL);
	sc_expect_status(r, 0, "consolidate on b");
	sc_expect_contains(r->out, "\"dry_run\": false");
	sc_run_free(r);
	a = sc_read(p, "consolidated_schema.sql");
	b = sc_read(q, "consolidated_schema.sql");
	assert_non_null(a);
	assert_string_equal(a, b);
	assert_int_equal(sc_scratch_dbs(q), 0);
	free(a);
	free(b);
	free(extra);
	free(url);
	sc_free(p);
	sc_free(q);
}

static void
test_new_database_from_the_consolidated_file_equals_a_full_replay(void **state)
{
	struct proj *p = sample("newdb", NULL);
	char *fresh = new_db("fresh"), *full = new_db("full");
	char *env1[] = {NULL, NULL}, *env2[] = {NULL, NULL};
	char *a, *b, *out;
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate");
	sc_run_free(r);
	/* a new environment: the consolidated schema, then the rest */
	env1[0] = tu_asprintf("STAGING_URL=%s", fresh);
	r = sc_migdir_env(p, (const char *const *)env1, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 0, "apply to a new database");
	sc_expect_contains(r->out, "consolidated_schema.sql ");
	sc_expect_contains(r->out, "6 archived versions");
	sc_expect_contains(r->out, "[4/4]");
	sc_run_free(r);
	/* every migration from the start: the same project, no baseline */
	out = tu_sh(p->dir, "git rm -q consolidated_schema.sql && echo ok");
	assert_string_equal(out, "ok");
	free(out);
	env2[0] = tu_asprintf("STAGING_URL=%s", full);
	r = sc_migdir_env(p, (const char *const *)env2, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 0, "apply every migration");
	sc_expect_contains(r->out, "[10/10]");
	sc_run_free(r);
	a = sc_schema_of(fresh, "");
	b = sc_schema_of(full, "");
	assert_non_null(a);
	assert_true(strlen(a) > 1000);
	assert_string_equal(a, b);
	/* both record every version, the archived ones as a baseline */
	out = tu_sh(NULL,
	    "%s/psql -X -At '%s' -c \"SELECT count(*) FILTER (WHERE "
	    "is_active), (SELECT count(*) FROM schema_versions_history WHERE "
	    "action = 'baseline') FROM schema_versions\"",
	    sc_cluster->bindir, fresh);
	assert_string_equal(out, "10|6");
	free(out);
	free(a);
	free(b);
	free(env1[0]);
	free(env2[0]);
	free(fresh);
	free(full);
	sc_free(p);
}

static void
test_consolidate_refuses_an_applied_file_changed_since(void **state)
{
	struct proj *p = sample("changed", NULL);
	struct tu_run *r;
	char *head, *after, *before;

	(void)state;
	sc_write(p, "migrations/applied/20230512_add_ringcentral_tokens.sql",
	    "-- edited after it ran\nSELECT 1;\n");
	sc_commit(p, "edit an applied file");
	head = sc_git(p, "rev-parse HEAD");
	before = sc_read(p, "consolidated_schema.sql");
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "consolidate with an edited applied file");
	sc_expect_contains(r->err, "20230512_add_ringcentral_tokens");
	sc_expect_contains(r->err, "Nothing was changed.");
	sc_run_free(r);
	after = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, after);
	free(after);
	after = sc_read(p, "consolidated_schema.sql");
	assert_string_equal(before, after);
	assert_string_equal(sc_folder_of(p, LAST_APPLIED), "applied");
	assert_true(sc_git_clean(p));
	free(after);
	free(before);
	free(head);
	sc_free(p);
}

static void
test_consolidate_refuses_a_rollback_file_changed_since(void **state)
{
	struct proj *p = sample("rbchanged", NULL);
	struct tu_run *r;
	char *out;

	(void)state;
	/* the database cannot tell (a hand-kept row has no checksum)... */
	out = sc_psql(p, "UPDATE schema_versions SET checksum = NULL");
	free(out);
	sc_write(p,
	    "migrations/applied/20230315_rollback_create_support_tickets.sql",
	    "DROP TABLE support_tickets CASCADE;\n");
	sc_commit(p, "edit an applied rollback file");
	/* ...git can: the commit that applied it held another file */
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "consolidate with an edited rollback file");
	sc_expect_contains(r->err,
	    "applied/20230315_rollback_create_support_tickets.sql changed "
	    "since commit");
	sc_expect_contains(r->err, "git show ");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, LAST_APPLIED), "applied");
	assert_int_equal(sc_scratch_dbs(p), 0);
	sc_free(p);
}

static void
test_consolidate_refuses_a_move_left_half_done(void **state)
{
	struct proj *p = sample("halfdone", NULL);
	struct tu_run *r;
	char *out;

	(void)state;
	/* the row says applied, the file still waits in pending/ */
	r = sc_migdir(p, NULL, "apply", "--step", "1", NULL);
	sc_expect_status(r, 0, "apply one");
	sc_run_free(r);
	out = tu_sh(p->dir,
	    "git mv migrations/applied/"
	    "20230615_add_customer_satisfaction.sql "
	    "migrations/pending/ && echo ok");
	assert_string_equal(out, "ok");
	free(out);
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "consolidate with a half-done move");
	sc_expect_contains(r->err, "20230615_add_customer_satisfaction");
	sc_expect_contains(r->err, "migdir repair");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, LAST_APPLIED), "applied");
	assert_int_equal(sc_scratch_dbs(p), 0);
	sc_free(p);
}

static void
test_consolidate_refuses_uncommitted_edits_of_the_file(void **state)
{
	struct proj *p = sample("edited", NULL);
	struct tu_run *r;
	char *text;

	(void)state;
	sc_write(p, "consolidated_schema.sql", "-- my notes\n");
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "consolidate over an edited file");
	sc_expect_contains(r->err,
	    "consolidated_schema.sql has changes git "
	    "does not have");
	sc_run_free(r);
	text = sc_read(p, "consolidated_schema.sql");
	assert_string_equal(text, "-- my notes\n");
	free(text);
	sc_free(p);
}

static void
test_consolidate_dry_run_and_tag(void **state)
{
	struct proj *p = sample("tag", NULL);
	struct tu_run *r;
	char *head, *after, *out;

	(void)state;
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "consolidate", "--dry-run", NULL);
	sc_expect_status(r, 0, "dry run");
	sc_expect_contains(r->out,
	    "Dry run: consolidated_schema.sql would "
	    "be");
	sc_run_free(r);
	after = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, after);
	free(after);
	assert_true(sc_git_clean(p));
	assert_string_equal(sc_folder_of(p, LAST_APPLIED), "applied");

	r = sc_migdir(p, NULL, "consolidate", "--tag", "bad..name", NULL);
	sc_expect_status(r, 2, "invalid tag name");
	sc_run_free(r);
	out = sc_git(p, "tag release-1 && echo ok");
	assert_string_equal(out, "ok");
	free(out);
	r = sc_migdir(p, NULL, "consolidate", "--tag", "release-1", NULL);
	sc_expect_status(r, 1, "existing tag");
	sc_expect_contains(r->err, "tag release-1 already exists");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, LAST_APPLIED), "applied");
	r = sc_migdir(p, NULL, "consolidate", "--tag", "release-2", NULL);
	sc_expect_status(r, 0, "consolidate --tag");
	sc_expect_contains(r->out, "tagged release-2");
	sc_run_free(r);
	out = sc_git(p, "cat-file -t release-2");
	assert_string_equal(out, "tag");
	free(out);
	out = sc_git(p, "rev-parse release-2^{commit}");
	after = sc_git(p, "rev-parse HEAD");
	assert_string_equal(out, after);
	free(out);
	free(after);
	free(head);
	sc_free(p);
}

static void
test_consolidate_aborts_when_the_file_does_not_load_back_the_same(void **state)
{
	struct proj *p = sample("proof", "keep_rows = stamped\n");
	struct tu_run *r;
	char *before, *after, *head, *now;

	(void)state;
	/*
	 * Rows of a kept table whose trigger rewrites them on insert: the
	 * dump has the replay's values, a load gets new ones.
	 */
	sc_pair(p, "pending", "20230801_stamped",
	    "CREATE TABLE stamped (id int PRIMARY KEY, at timestamptz);\n"
	    "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS\n"
	    "$$ BEGIN NEW.at := clock_timestamp(); RETURN NEW; END $$;\n"
	    "CREATE TRIGGER stamped BEFORE INSERT ON stamped\n"
	    "  FOR EACH ROW EXECUTE FUNCTION stamp();\n"
	    "INSERT INTO stamped (id) VALUES (1);\n",
	    "DROP TABLE stamped;\nDROP FUNCTION stamp();\n");
	sc_commit(p, "stamped");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply");
	sc_run_free(r);
	before = sc_read(p, "consolidated_schema.sql");
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "proof fails");
	sc_expect_contains(r->err, "does not give the schema of the replay");
	sc_expect_contains(r->err, "--- replay");
	sc_expect_contains(r->err, "+++ loaded");
	sc_expect_contains(r->err, "INSERT INTO public.stamped");
	sc_expect_contains(r->err, "Nothing was changed.");
	sc_run_free(r);
	after = sc_read(p, "consolidated_schema.sql");
	assert_string_equal(before, after);
	free(after);
	now = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, now);
	assert_string_equal(sc_folder_of(p, "20230801_stamped"), "applied");
	assert_int_equal(sc_scratch_dbs(p), 0);
	free(now);
	free(before);
	free(head);
	sc_free(p);
}

static void
test_consolidate_drops_its_scratch_databases_on_ctrl_c(void **state)
{
	struct proj *p = sample("sigint", NULL);
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	const char *argv[] = {getenv("MIGDIR_BIN"), "consolidate", NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	struct tu_run *r;
	char *e;
	pid_t pid;

	(void)state;
	/* slow on a scratch database only */
	sc_pair(p, "pending", "20230801_slow",
	    "CREATE TABLE slow (id int);\n"
	    "SELECT pg_sleep(CASE WHEN current_database() LIKE "
	    "'migdir_scratch%' THEN 30 ELSE 0 END);\n",
	    "DROP TABLE slow;\n");
	sc_commit(p, "slow");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply (slow)");
	sc_run_free(r);
	pid = tu_spawn(p->dir, env, argv, out, err);
	assert_true(pid > 0);
	sc_wait_for_query(p, "SELECT pg_sleep(CASE%%");
	assert_int_equal(sc_scratch_dbs(p), 1);
	kill(pid, SIGINT);
	assert_int_equal(tu_wait(pid), 1);
	e = tu_read_file(err);
	sc_expect_contains(e, "canceled by Ctrl-C");
	free(e);
	assert_int_equal(sc_scratch_dbs(p), 0);
	assert_string_equal(sc_folder_of(p, "20230801_slow"), "applied");
	assert_true(sc_git_clean(p));
	free(out);
	free(err);
	sc_free(p);
}

static void
test_consolidate_names_scratch_databases_a_killed_run_left(void **state)
{
	struct proj *p = sample("leftover", NULL);
	struct tu_run *r;
	char *out;

	(void)state;
	out = sc_psql(p, "CREATE DATABASE migdir_scratch_999_1_dead");
	free(out);
	r = sc_migdir(p, NULL, "consolidate", "--dry-run", NULL);
	sc_expect_status(r, 0, "consolidate --dry-run");
	sc_expect_contains(r->err,
	    "scratch database migdir_scratch_999_1_dead was left behind by "
	    "an interrupted migdir");
	sc_run_free(r);
	/* named, not dropped: it might be another run's */
	assert_int_equal(sc_scratch_dbs(p), 1);
	out = sc_psql(p, "DROP DATABASE migdir_scratch_999_1_dead");
	free(out);
	sc_free(p);
}

/* Killed at fault, then: status explains, repair leaves it, consolidate
 * finishes it; a new database refuses the half-written state meanwhile. */
static void
crash_and_finish(const char *fault)
{
	struct proj *p = sample("crash", NULL);
	char *fresh = new_db(fault), *env[] = {NULL, NULL}, *out;
	struct tu_run *r;

	r = sc_migdir(p, fault, "consolidate", NULL);
	sc_expect_status(r, 99, fault);
	sc_run_free(r);
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->out, "migdir consolidate finishes");
	sc_run_free(r);
	env[0] = tu_asprintf("STAGING_URL=%s", fresh);
	r = sc_migdir_env(p, (const char *const *)env, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 1, "a new database before the finish");
	sc_expect_contains(r->err, "but archive/ holds");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "repair", NULL);
	sc_expect_status(r, 0, "repair");
	sc_expect_contains(r->err, "a consolidate was interrupted");
	sc_run_free(r);
	out = sc_git(p, "log -1 --format=%%s");
	assert_string_equal(out, "the CRM history");
	free(out);
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate finishes");
	sc_expect_contains(r->out, "Finishing an interrupted consolidate");
	sc_run_free(r);
	assert_true(sc_git_clean(p));
	out = sc_git(p, "show --format=%%s --name-status HEAD");
	sc_expect_contains(out, "consolidate 3 migrations");
	sc_expect_contains(out, "M\tconsolidated_schema.sql");
	sc_expect_contains(out,
	    "R100\tmigrations/applied/"
	    "20230601_rollback_add_email_templates.sql");
	free(out);
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 3, "status after the finish");
	sc_expect_contains(r->out,
	    "6 archived, 0 applied, 4 pending; no "
	    "problems");
	sc_run_free(r);
	r = sc_migdir_env(p, (const char *const *)env, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 0, "a new database after the finish");
	sc_expect_contains(r->out, "6 archived versions");
	sc_run_free(r);
	free(env[0]);
	free(fresh);
	sc_free(p);
}

static void
test_consolidate_killed_after_writing_the_file_is_finished(void **state)
{
	(void)state;
	crash_and_finish("consolidate_after_write");
}

static void
test_consolidate_killed_between_two_moves_is_finished(void **state)
{
	(void)state;
	/* the first pair moved, then the second's forward file only */
	crash_and_finish("consolidate_between_moves:3");
}

static void
test_consolidate_refuses_an_empty_tracked_database(void **state)
{
	struct proj *p = sc_project("emptytracked", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "applied", "20230101_t", "CREATE TABLE t (id int);\n",
	    "DROP TABLE t;\n");
	sc_commit(p, "t");
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 1, "consolidate of an empty database");
	sc_expect_contains(r->err, "is empty");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230101_t"), "applied");
	assert_false(sc_exists(p, "consolidated_schema.sql"));
	sc_free(p);
}

static void
test_consolidate_with_bookkeeping_in_its_own_schema(void **state)
{
	struct proj *p = sample("ownschema", "schema = migdir\n");
	char *fresh = new_db("ownschema"), *env[] = {NULL, NULL}, *text;
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "consolidate", NULL);
	sc_expect_status(r, 0, "consolidate, schema = migdir");
	sc_run_free(r);
	text = sc_read(p, "consolidated_schema.sql");
	sc_expect_contains(text, "CREATE SCHEMA IF NOT EXISTS \"migdir\";");
	sc_expect_contains(text, "INSERT INTO \"migdir\".\"schema_versions\"");
	assert_null(strstr(text, "CREATE SCHEMA migdir;"));
	free(text);
	env[0] = tu_asprintf("STAGING_URL=%s", fresh);
	r = sc_migdir_env(p, (const char *const *)env, NULL, "-e", "staging",
	    "apply", NULL);
	sc_expect_status(r, 0, "a new database, schema = migdir");
	sc_run_free(r);
	free(env[0]);
	free(fresh);
	sc_free(p);
}

static void
test_apply_to_a_database_built_by_hand_points_to_baseline(void **state)
{
	struct proj *p = sc_project("byhand", NULL);
	struct tu_run *r;
	char *out;

	(void)state;
	sc_pair(p, "applied", "20230101_t", "CREATE TABLE t (id int);\n",
	    "DROP TABLE t;\n");
	sc_commit(p, "t");
	out = sc_psql(p, "CREATE TABLE t (id int)");
	free(out);
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply to a database built by hand");
	sc_expect_contains(r->err, "migdir baseline");
	sc_expect_contains(r->err, "table public.t");
	sc_run_free(r);
	sc_free(p);
}

static void
test_a_consolidated_file_that_fails_applies_nothing(void **state)
{
	struct proj *p = sc_project("badbase", NULL);
	struct tu_run *r;

	(void)state;
	sc_write(p, "consolidated_schema.sql",
	    "CREATE TABLE a (id int);\nCREATE TABLE a (id int);\n");
	sc_pair(p, "archive", "20230101_a", "CREATE TABLE a (id int);\n",
	    "DROP TABLE a;\n");
	sc_pair(p, "pending", "20230102_b", "CREATE TABLE b (id int);\n",
	    "DROP TABLE b;\n");
	sc_commit(p, "a broken baseline");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 1, "apply with a broken baseline");
	sc_expect_contains(r->err, "consolidated_schema.sql:2:");
	sc_expect_contains(r->err, "already exists");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM a"));
	assert_null(sc_psql(p, "SELECT 1 FROM b"));
	assert_string_equal(sc_folder_of(p, "20230102_b"), "pending");
	assert_true(sc_git_clean(p));
	/* migdir's own tables (made before the load) leave it empty */
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history"),
	    1);
	r = sc_migdir(p, NULL, "--json", "status", NULL);
	sc_expect_contains(r->out, "\"empty_database\": true");
	sc_run_free(r);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_consolidate_sample_twice),
	    cmocka_unit_test(
		test_consolidate_gives_the_same_bytes_on_two_machines),
	    cmocka_unit_test(
		test_new_database_from_the_consolidated_file_equals_a_full_replay),
	    cmocka_unit_test(
		test_consolidate_refuses_an_applied_file_changed_since),
	    cmocka_unit_test(
		test_consolidate_refuses_a_rollback_file_changed_since),
	    cmocka_unit_test(test_consolidate_refuses_a_move_left_half_done),
	    cmocka_unit_test(
		test_consolidate_refuses_uncommitted_edits_of_the_file),
	    cmocka_unit_test(test_consolidate_dry_run_and_tag),
	    cmocka_unit_test(
		test_consolidate_aborts_when_the_file_does_not_load_back_the_same),
	    cmocka_unit_test(
		test_consolidate_drops_its_scratch_databases_on_ctrl_c),
	    cmocka_unit_test(
		test_consolidate_names_scratch_databases_a_killed_run_left),
	    cmocka_unit_test(
		test_consolidate_killed_after_writing_the_file_is_finished),
	    cmocka_unit_test(
		test_consolidate_killed_between_two_moves_is_finished),
	    cmocka_unit_test(
		test_consolidate_refuses_an_empty_tracked_database),
	    cmocka_unit_test(
		test_consolidate_with_bookkeeping_in_its_own_schema),
	    cmocka_unit_test(
		test_apply_to_a_database_built_by_hand_points_to_baseline),
	    cmocka_unit_test(
		test_a_consolidated_file_that_fails_applies_nothing),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
