/*
 * test_baseline.c - migdir baseline end to end.
 *
 * A copy of the sample CRM project and a database migrated by hand with
 * psql (consolidated_schema.sql, then the files of applied/, without
 * schema_versions, or with the seed's hand-kept one): baseline records
 * exactly the versions the database has, without running them, after a
 * scratch replay showed the same schema; then apply runs only the rest.
 * Also: --to into pending/ moves and commits on the tracked environment
 * and moves nothing elsewhere; a different schema is refused with its diff
 * unless --force; --dry-run changes nothing; rows already recorded stay;
 * an empty database, unreliable folders, a database further along than
 * the choice, bad --to values and held locks are refused, changing
 * nothing; no scratch database is ever left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "state.h"
#include "../../include/banned.h"

static const char *const archived[] = {
    "20230103_create_customers",
    "20230110_create_contacts",
    "20230201_add_pipeline_statuses",
};
static const char *const applied[] = {
    "20230315_create_support_tickets",
    "20230512_add_ringcentral_tokens",
    "20230601_add_email_templates",
};
static const char *const pending[] = {
    "20230615_add_customer_satisfaction",
    "20230620_add_ticket_tags",
    "20230705_index_tickets_by_status",
    "20230712_add_contact_preferences",
};

#define SAMPLE_ARCHIVED                                                        \
	"20230103_create_customers 20230110_create_contacts "                  \
	"20230201_add_pipeline_statuses"
#define SAMPLE_APPLIED                                                         \
	"20230315_create_support_tickets 20230512_add_ringcentral_tokens "     \
	"20230601_add_email_templates"

/* Run a file of the project with psql in database db, as a DBA would. */
static void
psql_file(struct proj *p, const char *db, const char *rel)
{
	char *text = sc_read(p, rel), *out;

	assert_non_null(text);
	if (!(out = pgcluster_psql(sc_cluster, db, text)))
		fail_msg("psql -f %s failed", rel);
	free(out);
	free(text);
}

/* Run SQL in database db; fails the test when psql does. */
static char *
psql_in(const char *db, const char *sql)
{
	char *out = pgcluster_psql(sc_cluster, db, sql);

	if (!out)
		fail_msg("psql failed: %s", sql);
	return out;
}

/*
 * Migrate db by hand: consolidated_schema.sql, the files of applied/ and
 * the first npending files of pending/; then drop the seed's
 * schema_versions table unless keep_table (it then holds the archived
 * versions and 20230601_add_email_templates, which records itself).
 */
static void
hand_migrate(struct proj *p, const char *db, size_t npending, int keep_table)
{
	size_t i;
	char *rel;

	psql_file(p, db, "consolidated_schema.sql");
	for (i = 0; i < sizeof(applied) / sizeof(applied[0]); i++) {
		rel = tu_asprintf("migrations/applied/%s.sql", applied[i]);
		psql_file(p, db, rel);
		free(rel);
	}
	for (i = 0; i < npending; i++) {
		rel = tu_asprintf("migrations/pending/%s.sql", pending[i]);
		psql_file(p, db, rel);
		free(rel);
	}
	if (!keep_table)
		free(psql_in(db, "DROP TABLE schema_versions"));
}

/* The active versions of the project's database, in order, one space. */
static char *
active(struct proj *p)
{
	return sc_psql(p,
	    "SELECT string_agg(version, ' ' ORDER BY version) "
	    "FROM schema_versions WHERE is_active");
}

static void
expect_active(struct proj *p, const char *want)
{
	char *got = active(p);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* migdir's bookkeeping tables do not exist: nothing was written. */
static void
expect_no_bookkeeping(struct proj *p)
{
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_class WHERE relname IN "
			     "('schema_versions', 'schema_versions_history')"),
	    0);
}

/* Every scratch database is gone. */
static void
expect_no_scratch(struct proj *p)
{
	char *left = sc_psql(p,
	    "SELECT coalesce(string_agg(datname, ' '), '') FROM pg_database "
	    "WHERE datname LIKE 'migdir_scratch_%%'");

	assert_non_null(left);
	assert_string_equal(left, "");
	free(left);
}

/* Is needle absent from haystack?  (fails with both printed if not) */
static void
expect_lacks(const char *haystack, const char *needle)
{
	if (haystack && strstr(haystack, needle))
		fail_msg("did not expect \"%s\" in:\n%s", needle, haystack);
}

static void
test_baseline_adopts_a_hand_migrated_copy_of_the_sample(void **state)
{
	struct proj *p = sc_sample("adopt", NULL);
	struct tu_run *r;
	char *head, *now, *sum, *recorded;
	size_t i;

	(void)state;
	hand_migrate(p, p->db, 0, 0);
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 0, "baseline");
	sc_expect_contains(r->out,
	    "replayed consolidated_schema.sql (3 archived) and 3 migrations "
	    "on a scratch database");
	sc_expect_contains(r->out, "left out): identical");
	sc_expect_contains(r->out,
	    "Recorded 6 migrations as applied without running them in ");
	sc_run_free(r);
	/* exactly the versions present, each with its files' checksums */
	expect_active(p, SAMPLE_ARCHIVED " " SAMPLE_APPLIED);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions"),
	    6);
	sum = sc_git(p,
	    "hash-object "
	    "migrations/applied/20230315_create_support_tickets.sql");
	recorded = sc_psql(p,
	    "SELECT checksum FROM schema_versions "
	    "WHERE version = '20230315_create_support_tickets'");
	assert_string_equal(sum, recorded);
	free(sum);
	free(recorded);
	sum = sc_git(p,
	    "hash-object "
	    "migrations/archive/20230103_rollback_create_customers.sql");
	recorded = sc_psql(p,
	    "SELECT rollback_checksum FROM schema_versions "
	    "WHERE version = '20230103_create_customers'");
	assert_string_equal(sum, recorded);
	free(sum);
	free(recorded);
	/* the run history says baseline, once per version */
	recorded = sc_psql(p,
	    "SELECT string_agg(version, ' ' ORDER BY version) FROM "
	    "schema_versions_history WHERE action = 'baseline' AND success "
	    "AND environment = 'production' AND checksum IS NOT NULL");
	assert_string_equal(recorded, SAMPLE_ARCHIVED " " SAMPLE_APPLIED);
	free(recorded);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions_history"),
	    6);
	/* nothing moved, so no commit */
	now = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, now);
	free(now);
	assert_true(sc_git_clean(p));
	expect_no_scratch(p);
	/* apply then runs only what the database lacks */
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply after baseline");
	sc_expect_contains(r->out, "Applying 4 migrations to production");
	for (i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		sc_expect_contains(r->out, pending[i]);
	for (i = 0; i < sizeof(applied) / sizeof(applied[0]); i++)
		expect_lacks(r->out, applied[i]);
	for (i = 0; i < sizeof(archived) / sizeof(archived[0]); i++)
		expect_lacks(r->out, archived[i]);
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE is_active"),
	    10);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions_history "
			     "WHERE action = 'apply' AND success"),
	    4);
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	sc_expect_status(r, 0, "status after baseline and apply");
	sc_run_free(r);
	free(head);
	sc_free(p);
}

static void
test_baseline_to_into_pending_moves_the_files_and_commits(void **state)
{
	struct proj *p = sc_sample("into_pending", NULL);
	struct tu_run *r;
	char *s;

	(void)state;
	hand_migrate(p, p->db, 2, 0);
	r = sc_migdir(p, NULL, "baseline", "--to", "20230620_add_ticket_tags",
	    NULL);
	sc_expect_status(r, 0, "baseline --to a pending version");
	sc_expect_contains(r->out,
	    "record  20230615_add_customer_satisfaction  pending/ -> "
	    "applied/");
	sc_expect_contains(r->out,
	    "moved 20230620_add_ticket_tags: pending/ -> applied/");
	sc_expect_contains(r->out, "moved 2 to applied/; committed ");
	sc_run_free(r);
	expect_active(p,
	    SAMPLE_ARCHIVED
	    " " SAMPLE_APPLIED
	    " 20230615_add_customer_satisfaction 20230620_add_ticket_tags");
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "applied");
	assert_string_equal(sc_folder_of(p, "20230620_add_ticket_tags"),
	    "applied");
	assert_true(sc_exists(p,
	    "migrations/applied/20230620_rollback_add_ticket_tags.sql"));
	assert_string_equal(sc_folder_of(p, "20230705_index_tickets_by_status"),
	    "pending");
	/* one commit, the moves only, with the trailers reviewers read */
	s = sc_git(p, "log -1 --format=%%s");
	assert_string_equal(s, "baseline 2 migrations");
	free(s);
	s = sc_git(p, "log -1 --format='%%(trailers)'");
	sc_expect_contains(s,
	    "Migdir-Action: baseline\n"
	    "Migdir-Version: 20230615_add_customer_satisfaction\n"
	    "Migdir-Version: 20230620_add_ticket_tags\n"
	    "Migdir-Environment: production\n"
	    "Migdir-Database: ");
	sc_expect_contains(s, p->db);
	free(s);
	s = sc_git(p, "log -1 --format=%%b");
	sc_expect_contains(s, "without running them, and moved from pending/");
	sc_expect_contains(s,
	    "compared with a replay of the folders up to\n"
	    "20230620_add_ticket_tags: identical.");
	free(s);
	s = sc_git(p, "show --name-status --format= HEAD | sort");
	sc_expect_contains(s,
	    "R100\tmigrations/pending/20230615_add_customer_satisfaction.sql\t"
	    "migrations/applied/20230615_add_customer_satisfaction.sql");
	sc_expect_contains(s,
	    "R100\tmigrations/pending/20230620_rollback_add_ticket_tags.sql\t"
	    "migrations/applied/20230620_rollback_add_ticket_tags.sql");
	free(s);
	s = sc_git(p, "show --name-only --format= HEAD | wc -l");
	assert_string_equal(s, "4");
	free(s);
	s = sc_git(p, "status --porcelain");
	assert_string_equal(s, "");
	free(s);
	free(sc_git(p, "fsck --no-progress"));
	expect_no_scratch(p);
	/* apply runs the two left */
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply the rest");
	sc_expect_contains(r->out, "Applying 2 migrations");
	expect_lacks(r->out, "20230620_add_ticket_tags");
	sc_run_free(r);
	sc_free(p);
}

static void
test_baseline_refuses_a_different_schema_with_its_diff_unless_forced(
    void **state)
{
	struct proj *p = sc_sample("differs", NULL);
	struct tu_run *r;

	(void)state;
	hand_migrate(p, p->db, 0, 0);
	free(psql_in(p->db, "CREATE TABLE audit_trail (id bigint)"));
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline of a different schema");
	sc_expect_contains(r->out, "left out): different");
	sc_expect_contains(r->out,
	    "--- replay of the folders\n+++ the database\n");
	sc_expect_contains(r->out, "+CREATE TABLE public.audit_trail (\n");
	expect_lacks(r->out, "record  ");
	sc_expect_contains(r->err,
	    "error: the database's schema differs from a replay of the "
	    "folders up to 20230601_add_email_templates");
	sc_expect_contains(r->err, "hint: Nothing was recorded.");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	expect_no_scratch(p);
	/* the same, as one JSON document carrying the error */
	r = sc_migdir(p, NULL, "--json", "baseline", NULL);
	sc_expect_status(r, 1, "baseline --json of a different schema");
	sc_expect_contains(r->out, "\"verdict\": \"differs\"");
	sc_expect_contains(r->out, "+CREATE TABLE public.audit_trail");
	sc_expect_contains(r->out, "\"recorded\": []");
	sc_expect_contains(r->out, "\"error\": {");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	/* --force records anyway, and says so */
	r = sc_migdir(p, NULL, "baseline", "--force", NULL);
	sc_expect_status(r, 0, "baseline --force");
	sc_expect_contains(r->out, "+CREATE TABLE public.audit_trail (\n");
	sc_expect_contains(r->err, "warning: the database's schema differs");
	sc_expect_contains(r->err, "recording anyway (--force)");
	sc_expect_contains(r->out, "despite the differences (--force)");
	sc_run_free(r);
	expect_active(p, SAMPLE_ARCHIVED " " SAMPLE_APPLIED);
	expect_no_scratch(p);
	sc_free(p);
}

static void
test_baseline_says_when_only_the_column_order_differs(void **state)
{
	struct proj *p = sc_sample("column_order", NULL);
	struct tu_run *r;

	(void)state;
	hand_migrate(p, p->db, 1, 0);
	/* the DBA dropped and re-added a column: it now comes last */
	free(psql_in(p->db,
	    "ALTER TABLE customers DROP COLUMN phone;\n"
	    "ALTER TABLE customers ADD COLUMN phone text;\n"));
	r = sc_migdir(p, NULL, "baseline", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 1, "baseline with columns in another order");
	sc_expect_contains(r->out,
	    "left out): the same columns, some in another order");
	sc_expect_contains(r->out, "-    phone text,\n");
	sc_expect_contains(r->err,
	    "differs from a replay of the folders up to "
	    "20230615_add_customer_satisfaction, only in the order of "
	    "columns");
	sc_expect_contains(r->err, "hint: Nothing was recorded. Column order");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "pending");
	r = sc_migdir(p, NULL, "--json", "baseline", "--force", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0,
	    "baseline --force with columns in another order");
	sc_expect_contains(r->out, "\"verdict\": \"same-modulo-column-order\"");
	sc_expect_contains(r->out, "\"forced\": true");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "applied");
	{
		char *s = sc_git(p, "log -1 --format=%%b");

		sc_expect_contains(s,
		    "(same-modulo-column-order); recorded anyway with "
		    "--force.");
		free(s);
	}
	sc_free(p);
}

static void
test_baseline_dry_run_changes_nothing(void **state)
{
	struct proj *p = sc_sample("dry", NULL);
	struct tu_run *r;
	char *head, *now;

	(void)state;
	hand_migrate(p, p->db, 1, 0);
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "baseline", "--dry-run", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0, "baseline --dry-run");
	sc_expect_contains(r->out, "left out): identical");
	sc_expect_contains(r->out, "record  20230601_add_email_templates ");
	sc_expect_contains(r->out,
	    "Dry run: would record 7 migrations as applied and move 1 from "
	    "pending/ to applied/; nothing was changed.");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "--json", "baseline", "-n", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0, "baseline --dry-run --json");
	sc_expect_contains(r->out, "\"dry_run\": true");
	sc_expect_contains(r->out, "\"verdict\": \"identical\"");
	sc_expect_contains(r->out,
	    "\"moved\": [\n    {\n      \"version\": "
	    "\"20230615_add_customer_satisfaction\"");
	sc_expect_contains(r->out, "\"commit\": null");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "pending");
	now = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, now);
	assert_true(sc_git_clean(p));
	expect_no_scratch(p);
	free(head);
	free(now);
	sc_free(p);
}

static void
test_baseline_refuses_an_empty_database(void **state)
{
	struct proj *p = sc_sample("empty", NULL);
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline of an empty database");
	sc_expect_contains(r->err, "is empty: there is nothing to baseline");
	sc_expect_contains(r->err,
	    "migdir apply builds it from consolidated_schema.sql");
	assert_string_equal(r->out, "");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	/* migdir's own tables are no user's objects */
	free(psql_in(p->db,
	    "CREATE TABLE schema_versions (id serial, version text UNIQUE, "
	    "applied_at timestamptz DEFAULT now(), description text, "
	    "is_active boolean DEFAULT true, rolled_back_at timestamptz)"));
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline of a database with only its table");
	sc_expect_contains(r->err, "is empty: there is nothing to baseline");
	sc_run_free(r);
	sc_free(p);
}

static void
test_baseline_on_an_untracked_environment_moves_nothing(void **state)
{
	struct proj *p = sc_sample("untracked", NULL);
	char *db = tu_asprintf("%s_staging", p->db);
	char *url = pgcluster_createdb(sc_cluster, db);
	char *env_url = tu_asprintf("STAGING_URL=%s", url);
	const char *env[] = {env_url, NULL};
	struct tu_run *r;
	char *head, *now, *rows;

	(void)state;
	assert_non_null(url);
	hand_migrate(p, db, 1, 0);
	head = sc_git(p, "rev-parse HEAD");
	r = sc_migdir_env(p, env, NULL, "-e", "staging", "baseline", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0, "baseline of staging");
	sc_expect_contains(r->out, "Baseline staging at ");
	sc_expect_contains(r->out,
	    "record  20230615_add_customer_satisfaction  pending/\n");
	sc_expect_contains(r->out,
	    "; no file moved (staging is not the tracked environment).");
	sc_run_free(r);
	rows =
	    psql_in(db, "SELECT count(*) FROM schema_versions WHERE is_active");
	assert_string_equal(rows, "7");
	free(rows);
	rows = psql_in(db,
	    "SELECT count(*) FROM schema_versions_history "
	    "WHERE action = 'baseline' AND environment = 'staging'");
	assert_string_equal(rows, "7");
	free(rows);
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "pending");
	now = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, now);
	assert_true(sc_git_clean(p));
	expect_no_bookkeeping(p); /* the tracked database is untouched */
	expect_no_scratch(p);
	/* elsewhere --to may stop before applied/ ends: nothing is moved */
	free(
	    psql_in(db, "DROP TABLE schema_versions, schema_versions_history"));
	free(psql_in(db,
	    "ALTER TABLE support_tickets DROP COLUMN satisfaction_score, "
	    "DROP COLUMN satisfaction_survey;\n"
	    "DROP TABLE email_templates, ringcentral_tokens;\n"));
	r = sc_migdir_env(p, env, NULL, "-e", "staging", "baseline", "--to",
	    "20230315_create_support_tickets", NULL);
	sc_expect_status(r, 0, "baseline of staging before applied/ ends");
	sc_run_free(r);
	rows = psql_in(db,
	    "SELECT string_agg(version, ' ' ORDER BY version) "
	    "FROM schema_versions WHERE is_active");
	assert_string_equal(rows,
	    SAMPLE_ARCHIVED " 20230315_create_support_tickets");
	free(rows);
	pgcluster_dropdb(sc_cluster, db);
	free(head);
	free(now);
	free(env_url);
	free(url);
	free(db);
	sc_free(p);
}

static void
test_baseline_keeps_recorded_rows_and_refuses_a_database_further_along(
    void **state)
{
	struct proj *p = sc_sample("further", NULL);
	struct tu_run *r;
	char *s;

	(void)state;
	/* the seed's own table, kept by hand: the archived versions and the
	   self-recording 20230601_add_email_templates; then one more by hand,
	   and a hotfix that has no file */
	hand_migrate(p, p->db, 1, 1);
	free(psql_in(p->db,
	    "INSERT INTO schema_versions (version, description) VALUES "
	    "('20230615_add_customer_satisfaction', 'by hand'), "
	    "('20230102_hotfix_by_hand', 'no file')"));
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline behind the database");
	sc_expect_contains(r->err,
	    "error: the database already records "
	    "20230615_add_customer_satisfaction as applied, which is newer "
	    "than the chosen versions (up to 20230601_add_email_templates)");
	sc_expect_contains(r->err,
	    "hint: Choose what it records: migdir baseline --to "
	    "20230615_add_customer_satisfaction");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_class WHERE relname = "
			     "'schema_versions_history'"),
	    0);
	r = sc_migdir(p, NULL, "baseline", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0, "baseline --to what the database has");
	sc_expect_contains(r->err,
	    "warning: 20230102_hotfix_by_hand is recorded as applied, but no "
	    "file has this version: left as it is");
	sc_expect_contains(r->out,
	    "keep    20230601_add_email_templates        applied/  (already "
	    "recorded as applied)");
	sc_expect_contains(r->out,
	    "keep    20230615_add_customer_satisfaction  pending/ -> applied/"
	    "  (already recorded as applied)");
	sc_expect_contains(r->out,
	    "Recorded 2 migrations as applied without running them (5 "
	    "already recorded)");
	sc_run_free(r);
	/* the kept rows are as they were: no checksum, their descriptions */
	s = sc_psql(p,
	    "SELECT string_agg(version, ' ' ORDER BY version) FROM "
	    "schema_versions WHERE checksum IS NULL AND is_active");
	assert_string_equal(s,
	    "20230102_hotfix_by_hand " SAMPLE_ARCHIVED
	    " 20230601_add_email_templates "
	    "20230615_add_customer_satisfaction");
	free(s);
	s = sc_psql(p,
	    "SELECT description FROM schema_versions "
	    "WHERE version = '20230615_add_customer_satisfaction'");
	assert_string_equal(s, "by hand");
	free(s);
	s = sc_psql(p,
	    "SELECT string_agg(version, ' ' ORDER BY version) FROM "
	    "schema_versions_history WHERE action = 'baseline'");
	assert_string_equal(s,
	    "20230315_create_support_tickets 20230512_add_ringcentral_tokens");
	free(s);
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "applied");
	s = sc_git(p, "log -1 --format='%%(trailers:key=Migdir-Version)'");
	assert_string_equal(s,
	    "Migdir-Version: 20230615_add_customer_satisfaction");
	free(s);
	expect_no_scratch(p);
	sc_free(p);
}

static void
test_baseline_killed_after_recording_is_finished_by_repair(void **state)
{
	struct proj *p = sc_sample("crash", NULL);
	struct tu_run *r;
	char *s;

	(void)state;
	hand_migrate(p, p->db, 1, 0);
	r = sc_migdir(p, "baseline_after_commit", "baseline", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 99, "baseline killed after its transaction");
	sc_run_free(r);
	/* the rows are there, the file is not moved: status says so */
	expect_active(p,
	    SAMPLE_ARCHIVED " " SAMPLE_APPLIED
			    " 20230615_add_customer_satisfaction");
	assert_string_equal(sc_folder_of(p,
				"20230615_add_customer_satisfaction"),
	    "pending");
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->out,
	    "applied in the database, but not moved to applied/: apply or "
	    "repair finishes the move");
	sc_run_free(r);
	/* the scratch database was gone before the point of no return */
	free(psql_in(p->db,
	    "DO $$DECLARE d text; BEGIN FOR d IN SELECT datname FROM "
	    "pg_database WHERE datname LIKE 'migdir_scratch_%' LOOP "
	    "RAISE EXCEPTION 'left behind: %', d; END LOOP; END$$"));
	r = sc_migdir(p, NULL, "repair", NULL);
	sc_expect_status(r, 0, "repair after the crash");
	sc_expect_contains(r->out,
	    "moved 20230615_add_customer_satisfaction: pending/ -> applied/");
	sc_run_free(r);
	s = sc_git(p, "log -1 --format='%%(trailers:key=Migdir-Action)'");
	assert_string_equal(s, "Migdir-Action: repair");
	free(s);
	/* running it again finds nothing left to do */
	r = sc_migdir(p, NULL, "baseline", "--to",
	    "20230615_add_customer_satisfaction", NULL);
	sc_expect_status(r, 0, "baseline again");
	sc_expect_contains(r->out,
	    "Nothing to baseline: production (tracked) already records the 7 "
	    "chosen versions as applied.");
	sc_run_free(r);
	sc_free(p);
}

static void
test_baseline_accepts_now_frozen_into_a_view(void **state)
{
	struct proj *p = sc_project("frozen", NULL);
	struct tu_run *r;

	(void)state;
	/* (and a table without columns, which the comparison sorts too) */
	sc_pair(p, "applied", "20230101_made_at",
	    "CREATE TABLE no_columns ();\n"
	    "CREATE VIEW made_at AS SELECT 'now'::timestamp AS t;\n",
	    "DROP VIEW made_at;\nDROP TABLE no_columns;\n");
	sc_commit(p, "a view that froze its creation time");
	free(psql_in(p->db,
	    "CREATE TABLE no_columns ();\n"
	    "CREATE VIEW made_at AS SELECT "
	    "'2001-02-03 04:05:06.789'::timestamp AS t"));
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 0, "baseline of a view with a frozen now");
	sc_expect_contains(r->out,
	    "left out): the same, but for timestamps 'now' froze into views");
	sc_expect_contains(r->out, "+ SELECT '2001-02-03 04:05:06.789'");
	expect_lacks(r->err, "--force");
	sc_run_free(r);
	expect_active(p, "20230101_made_at");
	/* anything more in the view is a difference */
	free(psql_in(p->db,
	    "DROP TABLE schema_versions, "
	    "schema_versions_history;\n"
	    "CREATE OR REPLACE VIEW made_at AS SELECT "
	    "'2001-02-03 04:05:06.789'::timestamp AS t, 1 AS n"));
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline of a view that differs");
	sc_expect_contains(r->out, "left out): different");
	sc_run_free(r);
	sc_free(p);
}

/* ---------------------------------------------------------- refusals --- */

/* A small project: m1 in applied/, its table made by hand. */
static struct proj *
small(const char *name, const char *ini_extra)
{
	struct proj *p = sc_project(name, ini_extra);

	sc_pair(p, "applied", "20230101_m1", "CREATE TABLE t1 (id int);\n",
	    "DROP TABLE t1;\n");
	sc_commit(p, "m1");
	free(psql_in(p->db, "CREATE TABLE t1 (id int)"));
	return p;
}

static void
setup_stray(struct proj *p)
{
	sc_write(p, "migrations/applied/20230102-m2.sql", "SELECT 1;\n");
	sc_commit(p, "stray");
}

static void
setup_duplicate(struct proj *p)
{
	sc_pair(p, "pending", "20230101_m1", "CREATE TABLE t1 (id int);\n",
	    NULL);
	sc_commit(p, "duplicate");
}

static void
setup_no_forward(struct proj *p)
{
	sc_write(p, "migrations/applied/20230102_rollback_m2.sql",
	    "DROP TABLE t2;\n");
	sc_commit(p, "rollback alone");
}

static void
setup_uncommitted(struct proj *p)
{
	sc_pair(p, "applied", "20230102_m2", "SELECT 1;\n", NULL);
}

static void
setup_drift(struct proj *p)
{
	free(psql_in(p->db,
	    "CREATE TABLE schema_versions (id serial, version text UNIQUE, "
	    "applied_at timestamptz DEFAULT now(), description text, "
	    "is_active boolean DEFAULT true, rolled_back_at timestamptz, "
	    "checksum text);\n"
	    "INSERT INTO schema_versions (version, checksum) "
	    "VALUES ('20230101_m1', 'deadbeefdeadbeefdeadbeef');\n"));
}

static void
setup_replay_fails(struct proj *p)
{
	sc_pair(p, "applied", "20230102_m2",
	    "-- m2\nINSERT INTO no_such_table VALUES (1);\n", NULL);
	sc_commit(p, "m2 cannot run");
}

static void
setup_nothing_chosen(struct proj *p)
{
	free(sc_git(p,
	    "mv migrations/applied/20230101_m1.sql "
	    "migrations/applied/20230101_rollback_m1.sql "
	    "migrations/pending/"));
	sc_commit(p, "m1 pending");
}

static void
test_baseline_refuses_unreliable_folders_and_changes_nothing(void **state)
{
	static const struct {
		const char *name;
		void (*setup)(struct proj *);
		const char *message, *hint;
	} cases[] = {
	    {"stray", setup_stray,
		"migrations/applied/20230102-m2.sql is not a migration name",
		"Name migrations YYYYMMDD_description.sql"},
	    {"duplicate", setup_duplicate,
		"20230101_m1 present in more than one folder",
		"A baseline trusts the folders"},
	    {"no_forward", setup_no_forward,
		"20230102_m2 has no forward file: only its rollback file is "
		"in applied/",
		"put 20230102_m2.sql back"},
	    {"uncommitted", setup_uncommitted,
		"20230102_m2 moved to applied/ but not committed",
		"migdir repair finishes moves"},
	    {"drift", setup_drift,
		"20230101_m1 changed since it was applied (database has "
		"deadbeefdead",
		"A baseline trusts the folders"},
	    {"replay", setup_replay_fails,
		"error: migrations/applied/20230102_m2.sql:2:13: relation "
		"\"no_such_table\" does not exist (SQLSTATE 42P01)",
		"do not replay on an empty database"},
	    {"nothing", setup_nothing_chosen,
		"nothing to baseline: archive/ and applied/ hold no migration",
		"migdir baseline --to VERSION"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proj *p = small(cases[i].name, NULL);
		char *head = NULL, *now;
		struct tu_run *r;

		cases[i].setup(p);
		head = sc_git(p, "rev-parse HEAD");
		r = sc_migdir(p, NULL, "baseline", NULL);
		sc_expect_status(r, 1, cases[i].name);
		sc_expect_contains(r->err, cases[i].message);
		sc_expect_contains(r->err, cases[i].hint);
		sc_run_free(r);
		assert_int_equal(sc_psql_long(p,
				     "SELECT count(*) FROM pg_class WHERE "
				     "relname = 'schema_versions_history'"),
		    0);
		now = sc_git(p, "rev-parse HEAD");
		assert_string_equal(head, now);
		expect_no_scratch(p);
		free(head);
		free(now);
		sc_free(p);
	}
}

static void
test_baseline_usage_errors(void **state)
{
	static const struct {
		const char *a, *b, *message, *hint;
	} cases[] = {
	    {"--to", "20230101_nope",
		"no migration \"20230101_nope\" in the folders",
		"migdir status lists them"},
	    {"--to", "20230110_create_contacts",
		"--to 20230110_create_contacts is older than "
		"20230201_add_pipeline_statuses, the newest archived migration",
		"use --to 20230201_add_pipeline_statuses or a later version"},
	    {"--to", "20230512_add_ringcentral_tokens",
		"--to 20230512_add_ringcentral_tokens leaves "
		"20230601_add_email_templates in applied/ without a row in the "
		"tracked database",
		"On the tracked environment applied/ means applied"},
	    {"--to", "not_a_version",
		"\"not_a_version\" is not a migration "
		"version",
		"Try \"migdir help baseline\""},
	    {"20230601_add_email_templates", NULL,
		"unexpected argument \"20230601_add_email_templates\"",
		"Try \"migdir help baseline\""},
	    {"--step", "1", "unknown option \"--step\"",
		"Try \"migdir help baseline\""},
	    {"--to", NULL, "option \"--to\" needs a value",
		"Try \"migdir help baseline\""},
	};
	struct proj *p = sc_sample("usage", NULL);
	size_t i;

	(void)state;
	hand_migrate(p, p->db, 0, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tu_run *r = sc_migdir(p, NULL, "baseline", cases[i].a,
		    cases[i].b, NULL);

		sc_expect_status(r, 2, cases[i].message);
		sc_expect_contains(r->err, cases[i].message);
		sc_expect_contains(r->err, cases[i].hint);
		assert_string_equal(r->out, "");
		sc_run_free(r);
	}
	expect_no_bookkeeping(p);
	expect_no_scratch(p);
	sc_free(p);
}

static void
test_baseline_takes_the_locks_apply_takes(void **state)
{
	struct proj *p = sc_sample("locks", "lock_wait = 200ms\n");
	struct fs_lock *lock = NULL;
	struct db_target t;
	struct db *db = NULL;
	struct tu_run *r;
	char *path = tu_path(p->dir, "migrations/" STATE_LOCK_FILE);

	(void)state;
	hand_migrate(p, p->db, 0, 0);
	/* another migdir in this directory */
	assert_int_equal(fs_lock(&lock, path, "apply", 0), 0);
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline while the lock file is held");
	sc_expect_contains(r->err,
	    "another migdir is working in this directory");
	sc_run_free(r);
	/* a dry run takes no lock */
	r = sc_migdir(p, NULL, "baseline", "--dry-run", NULL);
	sc_expect_status(r, 0, "baseline --dry-run while locked");
	sc_run_free(r);
	fs_unlock(lock);
	/* another migdir on this database, from another clone */
	memset(&t, 0, sizeof(t));
	t.conninfo = p->url;
	t.schema = "public";
	t.table = "schema_versions";
	if (db_connect(&db, &t) < 0 || db_lock(db, 1000) < 0)
		fail_msg("could not take the lock: %s",
		    mg_error_last()->message);
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 1, "baseline while the advisory lock is held");
	sc_expect_contains(r->err, "could not get the migration lock");
	sc_run_free(r);
	expect_no_bookkeeping(p);
	db_close(db);
	r = sc_migdir(p, NULL, "baseline", NULL);
	sc_expect_status(r, 0, "baseline once the locks are free");
	sc_run_free(r);
	expect_active(p, SAMPLE_ARCHIVED " " SAMPLE_APPLIED);
	free(path);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_baseline_adopts_a_hand_migrated_copy_of_the_sample),
	    cmocka_unit_test(
		test_baseline_to_into_pending_moves_the_files_and_commits),
	    cmocka_unit_test(
		test_baseline_refuses_a_different_schema_with_its_diff_unless_forced),
	    cmocka_unit_test(
		test_baseline_says_when_only_the_column_order_differs),
	    cmocka_unit_test(test_baseline_dry_run_changes_nothing),
	    cmocka_unit_test(test_baseline_refuses_an_empty_database),
	    cmocka_unit_test(
		test_baseline_on_an_untracked_environment_moves_nothing),
	    cmocka_unit_test(
		test_baseline_keeps_recorded_rows_and_refuses_a_database_further_along),
	    cmocka_unit_test(
		test_baseline_refuses_unreliable_folders_and_changes_nothing),
	    cmocka_unit_test(
		test_baseline_killed_after_recording_is_finished_by_repair),
	    cmocka_unit_test(test_baseline_accepts_now_frozen_into_a_view),
	    cmocka_unit_test(test_baseline_usage_errors),
	    cmocka_unit_test(test_baseline_takes_the_locks_apply_takes),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
