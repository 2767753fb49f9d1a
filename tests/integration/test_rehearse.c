/*
 * test_rehearse.c - migdir rehearse end to end.
 *
 * Rehearse applies, rolls back and applies again every pending migration
 * on scratch databases that first reach the tracked state, and compares
 * pg_dump's schema after each step.  It passes on the sample; it catches
 * a rollback that forgets an index (differs, the index in the diff), a
 * rollback that fails (at its file:line:col), a forward file that fails
 * (the rest skipped) and a second apply that fails; it goes on from the
 * right state after each failure, with one job or two; --json, --strict,
 * usage errors and refusals.  Whatever happens, nothing changes in the
 * folders, git or the tracked database, and no scratch database is left,
 * also after Ctrl-C.  On the corpora with rollbacks (authelia, lemmy) its
 * verdicts agree file by file with the isolated_* columns of RESULTS.tsv,
 * except where the disagreements listed below say why.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "scenario.h"
#include "../../include/banned.h"

/* ---------------------------------------------------------- helpers --- */

/* What must not change: git, the files, the tracked database's rows. */
struct snap {
	char *head, *status, *files, *rows, *history, *tables;
};

static void
take(struct proj *p, struct snap *s)
{
	s->head = sc_git(p, "rev-parse HEAD");
	s->status = sc_git(p, "status --porcelain --ignored");
	s->files = tu_sh(p->dir,
	    "find migrations consolidated_schema.sql -type f 2>/dev/null | "
	    "LC_ALL=C sort | xargs md5sum");
	s->tables = sc_psql(p,
	    "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class "
	    "WHERE relnamespace = 'public'::regnamespace");
	s->rows = s->history = NULL;
	if (sc_psql_long(p,
		"SELECT count(*) FROM pg_class WHERE relname = "
		"'schema_versions'") == 0)
		return; /* no bookkeeping table: it must stay so */
	s->rows = sc_psql(p,
	    "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY "
	    "version)), 'none') FROM schema_versions t");
	s->history = sc_psql(p,
	    "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY id)), "
	    "'none') FROM schema_versions_history t");
}

static void
release(struct snap *s)
{
	free(s->head);
	free(s->status);
	free(s->files);
	free(s->rows);
	free(s->history);
	free(s->tables);
	memset(s, 0, sizeof(*s));
}

/* Nothing changed since *before, and no scratch database is left. */
static void
unchanged(struct proj *p, struct snap *before)
{
	struct snap now;

	take(p, &now);
	assert_string_equal(now.head, before->head);
	assert_string_equal(now.status, before->status);
	assert_string_equal(now.files, before->files);
	if (before->rows) {
		assert_non_null(now.rows);
		assert_string_equal(now.rows, before->rows);
		assert_string_equal(now.history, before->history);
	} else
		assert_null(now.rows);
	assert_string_equal(now.tables ? now.tables : "",
	    before->tables ? before->tables : "");
	assert_int_equal(sc_scratch_dbs(p), 0);
	release(&now);
	release(before);
}

/*
 * A project whose tracked database has accounts (applied, in applied/)
 * and some rows; the test adds pending migrations.
 */
static struct proj *
project(const char *name, const char *ini_extra)
{
	struct proj *p = sc_project(name, ini_extra);
	struct tu_run *r;

	sc_pair(p, "pending", "20230101_accounts",
	    "CREATE TABLE accounts (id int PRIMARY KEY, email text, "
	    "name text);\n"
	    "INSERT INTO accounts VALUES (1, 'a@example.com', 'A');\n",
	    "DROP TABLE accounts;\n");
	sc_commit(p, "accounts");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply");
	sc_run_free(r);
	return p;
}

static struct tu_run *
rehearse(struct proj *p, int want, const char *a1, const char *a2,
    const char *a3)
{
	struct tu_run *r = sc_migdir(p, NULL, "rehearse", a1, a2, a3, NULL);

	sc_expect_status(r, want, "rehearse");
	return r;
}

/* The JSON document of a run (fails the test when it is not one). */
static json_t *
parse(const struct tu_run *r)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);

	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r->out);
	return j;
}

/* "version verdict" per line, from a --json run. */
static char *
verdicts(const struct tu_run *r)
{
	json_t *j = parse(r), *m;
	char *out = tu_asprintf("%s", "");
	size_t i;

	json_array_foreach (json_object_get(j, "migrations"), i, m) {
		char *next = tu_asprintf("%s%s %s\n", out,
		    json_string_value(json_object_get(m, "version")),
		    json_string_value(json_object_get(m, "verdict")));

		free(out);
		out = next;
	}
	json_decref(j);
	return out;
}

/* ------------------------------------------------------------ tests --- */

static void
test_rehearse_passes_on_the_sample(void **state)
{
	struct proj *p = sc_sample("sample", NULL);
	const char *src = getenv("MIGDIR_SOURCE");
	char *ini, *cs, *var;
	struct snap before;
	struct tu_run *r;

	(void)state;
	cs = tu_asprintf("%s/migdir.ini", src);
	ini = tu_read_file(cs);
	assert_non_null(ini);
	assert_non_null(var = strstr(ini, "${CRM_DATABASE_URL}"));
	*var = '\0';
	free(cs);
	cs = tu_asprintf("%s%s%s", ini, p->url,
	    var + strlen("${CRM_DATABASE_URL}"));
	sc_write(p, "migdir.ini", cs);
	sc_commit(p, "the sample's migdir.ini");
	take(p, &before);
	r = rehearse(p, 0, NULL, NULL, NULL);
	sc_expect_contains(r->out,
	    "  tracked state: consolidated_schema.sql and 3 migrations of "
	    "applied/");
	sc_expect_contains(r->out, "[1/4] 20230615_add_customer_satisfaction");
	sc_expect_contains(r->out, "[3/4] 20230705_index_tickets_by_status");
	sc_expect_contains(r->out, "Rehearsed 4 migrations in");
	sc_expect_contains(r->out, ": 4 identical; all round-trip.");
	assert_null(strstr(r->out, "differs"));
	assert_string_equal(r->err, "");
	sc_run_free(r);
	/* the tracked database was never touched: not even its table */
	unchanged(p, &before);
	free(cs);
	free(ini);
	sc_free(p);
}

static void
test_rehearse_catches_a_rollback_that_forgets_an_index(void **state)
{
	struct proj *p = project("forgets", NULL);
	struct snap before;
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230201_index_emails",
	    "CREATE INDEX IF NOT EXISTS accounts_email ON accounts (email);\n"
	    "CREATE INDEX IF NOT EXISTS accounts_name ON accounts (name);\n",
	    "DROP INDEX accounts_name;\n");
	sc_pair(p, "pending", "20230202_orders",
	    "CREATE TABLE orders (id int PRIMARY KEY);\n",
	    "DROP TABLE orders;\n");
	sc_commit(p, "pending");
	take(p, &before);
	r = rehearse(p, 3, NULL, NULL, NULL);
	sc_expect_contains(r->out, "  tracked state: 1 migration of applied/");
	sc_expect_contains(r->out, "  rollback ");
	sc_expect_contains(r->out,
	    "differs\n"
	    "      after the rollback the schema is not "
	    "what it was before (differs):\n"
	    "        --- before\n"
	    "        +++ after rollback\n");
	sc_expect_contains(r->out,
	    "        +CREATE INDEX accounts_email ON public.accounts USING "
	    "btree (email);");
	assert_null(strstr(r->out, "+CREATE INDEX accounts_name"));
	/* applied again, the index is there once more: that part is fine */
	assert_null(strstr(r->out, "applied again, the schema"));
	sc_expect_contains(r->out, "[2/2] 20230202_orders");
	sc_expect_contains(r->out,
	    ": 1 identical, 1 differs; 1 did not round-trip.");
	sc_run_free(r);
	/* without IF NOT EXISTS, the second apply fails on it: fails */
	sc_write(p, "migrations/pending/20230201_index_emails.sql",
	    "CREATE INDEX accounts_email ON accounts (email);\n"
	    "CREATE INDEX accounts_name ON accounts (name);\n");
	sc_commit(p, "no IF NOT EXISTS");
	release(&before);
	take(p, &before);
	r = rehearse(p, 3, NULL, NULL, NULL);
	sc_expect_contains(r->out,
	    " ms  fails\n"
	    "      apply again failed: "
	    "migrations/pending/20230201_index_emails.sql:1:1: relation "
	    "\"accounts_email\" already exists (SQLSTATE 42P07)\n"
	    "      after the rollback the schema is not what it was before "
	    "(differs):\n");
	sc_expect_contains(r->out,
	    "        +CREATE INDEX accounts_email ON public.accounts USING "
	    "btree (email);");
	sc_expect_contains(r->out, "[2/2] 20230202_orders");
	sc_expect_contains(r->out,
	    ": 1 identical, 1 fails; 1 did not round-trip.");
	sc_run_free(r);
	unchanged(p, &before);
	sc_free(p);
}

static void
test_rehearse_reports_a_failing_rollback_and_goes_on(void **state)
{
	struct proj *p = project("rbfails", NULL);
	struct snap before;
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230201_index_emails",
	    "CREATE INDEX accounts_email ON accounts (email);\n",
	    "-- the wrong name\n  DROP INDEX accounts_mail;\n");
	/* only runs where the index of 20230201 is still there */
	/* a rollback that does not parse: its step fails at the place */
	sc_pair(p, "pending", "20230202_rename_index",
	    "ALTER INDEX accounts_email RENAME TO accounts_by_email;\n",
	    "ALTER INDEX accounts_by_email\n  RENAM TO accounts_email;\n");
	sc_pair(p, "pending", "20230203_drop_index",
	    "DROP INDEX accounts_by_email;\n",
	    "CREATE INDEX accounts_by_email ON accounts (email);\n");
	sc_commit(p, "pending");
	take(p, &before);
	r = rehearse(p, 3, NULL, NULL, NULL);
	sc_expect_contains(r->out,
	    "rollback   failed  fails\n"
	    "      rollback failed: "
	    "migrations/pending/20230201_rollback_index_emails.sql:2:3: "
	    "index \"accounts_mail\" does not exist (SQLSTATE 42704)\n");
	sc_expect_contains(r->out,
	    "      rollback failed: "
	    "migrations/pending/20230202_rollback_rename_index.sql:2:3: "
	    "syntax error at or near \"RENAM\"");
	sc_expect_contains(r->out, "[3/3] 20230203_drop_index ");
	sc_expect_contains(r->out, ": 1 identical, 2 fails; 2 did not");
	sc_run_free(r);
	unchanged(p, &before);
	sc_free(p);
}

static void
test_rehearse_skips_what_follows_a_forward_file_that_fails(void **state)
{
	struct proj *p = project("fwdfails", NULL);
	struct snap before;
	struct tu_run *r;
	char *v;

	(void)state;
	sc_pair(p, "pending", "20230201_ok", "CREATE TABLE ok (id int);\n",
	    "DROP TABLE ok;\n");
	sc_pair(p, "pending", "20230202_broken",
	    "CREATE TABLE b (id int);\n"
	    "ALTER TABLE nowhere ADD COLUMN x int;\n",
	    "DROP TABLE b;\n");
	sc_pair(p, "pending", "20230203_after", "CREATE TABLE c (id int);\n",
	    "DROP TABLE c;\n");
	sc_commit(p, "pending");
	take(p, &before);
	r = rehearse(p, 3, NULL, NULL, NULL);
	sc_expect_contains(r->out,
	    "[2/3] 20230202_broken  apply   failed  rollback        -  fails\n"
	    "      apply failed: migrations/pending/20230202_broken.sql:2:1: "
	    "relation \"nowhere\" does not exist (SQLSTATE 42P01)\n");
	sc_expect_contains(r->out,
	    "[3/3] 20230203_after   apply        -  rollback        -  "
	    "skipped\n"
	    "      not rehearsed: 20230202_broken before it does not apply\n");
	sc_expect_contains(r->out,
	    ": 1 identical, 1 fails, 1 skipped; 2 did not round-trip.");
	sc_run_free(r);
	/* two jobs: the second one's start fails on the same file */
	r = rehearse(p, 3, "--json", "--jobs", "2");
	v = verdicts(r);
	assert_string_equal(v,
	    "20230201_ok identical\n"
	    "20230202_broken fails\n"
	    "20230203_after skipped\n");
	free(v);
	sc_run_free(r);
	/* a syntax error is the apply's failure, at its place */
	sc_write(p, "migrations/pending/20230202_broken.sql",
	    "CREATE TABLE b (id int);\nCREAT TABLE oops ();\n");
	sc_commit(p, "syntax");
	release(&before);
	take(p, &before);
	r = rehearse(p, 3, "20230202_broken", NULL, NULL);
	sc_expect_contains(r->out,
	    "      apply failed: migrations/pending/20230202_broken.sql:2:1: "
	    "syntax error at or near \"CREAT\"");
	sc_run_free(r);
	unchanged(p, &before);
	sc_free(p);
}

/*
 * A rollback that leaves its table behind: the second apply fails, and
 * the migration after it is rehearsed on a new copy that has the state
 * after the forward file (one job or two).  A rollback file run outside a
 * transaction that stops half-way does the same.
 */
static void
test_rehearse_goes_on_from_a_new_copy_after_a_second_apply_fails(void **state)
{
	struct proj *p = project("rebuild", NULL);
	struct snap before;
	struct tu_run *r;
	const char *want = "20230201_orders fails\n"
			   "20230202_orders_total identical\n"
			   "20230203_by_total fails\n"
			   "20230204_rename identical\n";
	char *v;

	(void)state;
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int PRIMARY KEY);\n",
	    "SELECT 1; -- forgets the table\n");
	sc_pair(p, "pending", "20230202_orders_total",
	    "ALTER TABLE orders ADD COLUMN total int;\n",
	    "ALTER TABLE orders DROP COLUMN total;\n");
	sc_pair(p, "pending", "20230203_by_total",
	    "CREATE INDEX CONCURRENTLY orders_total ON orders (total);\n",
	    "DROP INDEX CONCURRENTLY orders_total;\n"
	    "DROP INDEX CONCURRENTLY orders_nope;\n");
	sc_pair(p, "pending", "20230204_rename",
	    "ALTER INDEX orders_total RENAME TO orders_by_total;\n",
	    "ALTER INDEX orders_by_total RENAME TO orders_total;\n");
	sc_commit(p, "pending");
	take(p, &before);
	r = rehearse(p, 3, "-v", NULL, NULL);
	sc_expect_contains(r->out, "[1/4] 20230201_orders        apply");
	sc_expect_contains(r->out,
	    "      apply again failed: "
	    "migrations/pending/20230201_orders.sql:1:1: relation \"orders\" "
	    "already exists (SQLSTATE 42P07)\n");
	sc_expect_contains(r->out,
	    "      rollback failed: "
	    "migrations/pending/20230203_rollback_by_total.sql:2:1: index "
	    "\"orders_nope\" does not exist (SQLSTATE 42704)\n"
	    "      detail: This file runs without a transaction: statement 1 "
	    "of 2 ran and stays done.\n");
	sc_expect_contains(r->err,
	    "20230201_orders left its scratch database in another state than "
	    "its forward file makes: going on from a new copy of the tracked "
	    "state");
	sc_expect_contains(r->err, "20230203_by_total left its scratch");
	sc_run_free(r);
	r = rehearse(p, 3, "--json", NULL, NULL);
	v = verdicts(r);
	assert_string_equal(v, want);
	free(v);
	sc_run_free(r);
	r = rehearse(p, 3, "--json", "--jobs", "2");
	v = verdicts(r);
	assert_string_equal(v, want);
	free(v);
	sc_run_free(r);
	r = rehearse(p, 3, "--json", "-j4", NULL);
	v = verdicts(r);
	assert_string_equal(v, want);
	free(v);
	sc_run_free(r);
	unchanged(p, &before);
	sc_free(p);
}

/*
 * A migration meets the schema the forward files before it make, not
 * what the rehearsal of the one before left: with one job as with two.
 */
static void
test_rehearse_each_migration_meets_the_forward_state(void **state)
{
	struct proj *p = project("forward", NULL);
	struct tu_run *r;
	char *v;

	(void)state;
	/* its rollback adds a column instead; applied again, it stays */
	sc_pair(p, "pending", "20230201_t",
	    "CREATE TABLE IF NOT EXISTS t (a int);\n",
	    "ALTER TABLE t ADD COLUMN b int;\n");
	/* fails where the column is there */
	sc_pair(p, "pending", "20230202_t_b",
	    "ALTER TABLE t ADD COLUMN b int;\n",
	    "ALTER TABLE t DROP COLUMN b;\n");
	sc_commit(p, "pending");
	r = rehearse(p, 3, "--json", NULL, NULL);
	v = verdicts(r);
	assert_string_equal(v, "20230201_t differs\n20230202_t_b identical\n");
	free(v);
	sc_run_free(r);
	r = rehearse(p, 3, "--json", "--jobs", "2");
	v = verdicts(r);
	assert_string_equal(v, "20230201_t differs\n20230202_t_b identical\n");
	free(v);
	sc_run_free(r);
	r = rehearse(p, 3, NULL, NULL, NULL);
	sc_expect_contains(r->out,
	    "      applied again, the schema is not what the first apply made "
	    "(differs):\n");
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);
	sc_free(p);
}

static void
test_rehearse_json_says_everything(void **state)
{
	struct proj *p = project("json", NULL);
	struct snap before;
	struct tu_run *r;
	json_t *j, *m, *e, *s;

	(void)state;
	sc_pair(p, "pending", "20230201_index_names",
	    "CREATE INDEX IF NOT EXISTS accounts_name ON accounts (name);\n",
	    "SELECT 1;\n");
	sc_pair(p, "pending", "20230202_reorder",
	    "ALTER TABLE accounts DROP COLUMN email;\n",
	    "ALTER TABLE accounts ADD COLUMN email text;\n");
	sc_pair(p, "pending", "20230203_fails", "CREATE TABLE f (id int);\n",
	    "DROP TABLE f;\nSELECT nope FROM accounts;\n");
	sc_pair(p, "pending", "20230204_no_rollback",
	    "CREATE TABLE n (id int);\n", NULL);
	sc_commit(p, "pending");
	take(p, &before);
	r = rehearse(p, 3, "--json", "--jobs", "2");
	assert_string_equal(r->err, "");
	j = parse(r);
	assert_string_equal(json_string_value(
				json_object_get(j, "environment")),
	    "production");
	assert_int_equal(json_integer_value(json_object_get(j, "jobs")), 2);
	assert_true(json_is_false(json_object_get(j, "strict")));
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(j, "tracked_state"),
				 "applied")),
	    1);
	assert_int_equal(json_array_size(json_object_get(j, "migrations")), 4);
	/* the forgotten index: differs, the index in the diff */
	m = json_array_get(json_object_get(j, "migrations"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")),
	    "differs");
	assert_true(json_is_false(json_object_get(m, "round_trip")));
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(m, "compared"),
				    "rollback")),
	    "differs");
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(m, "compared"),
				    "reapply")),
	    "identical");
	sc_expect_contains(json_string_value(
			       json_object_get(json_object_get(m, "diff"),
				   "rollback")),
	    "+CREATE INDEX accounts_name ON public.accounts USING btree "
	    "(name);");
	assert_true(json_is_null(
	    json_object_get(json_object_get(m, "diff"), "reapply")));
	assert_int_equal(json_array_size(json_object_get(m, "steps")), 3);
	s = json_array_get(json_object_get(m, "steps"), 2);
	assert_string_equal(json_string_value(json_object_get(s, "step")),
	    "reapply");
	assert_true(json_is_true(json_object_get(s, "ok")));
	assert_true(json_is_integer(json_object_get(s, "ms")));
	assert_true(json_is_null(json_object_get(m, "error")));
	/* a column added back comes last: passes, with the note */
	m = json_array_get(json_object_get(j, "migrations"), 1);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")),
	    "same-modulo-column-order");
	assert_true(json_is_true(json_object_get(m, "round_trip")));
	/* a rollback that fails: the step, the place, the SQLSTATE */
	m = json_array_get(json_object_get(j, "migrations"), 2);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")),
	    "fails");
	e = json_object_get(m, "error");
	assert_string_equal(json_string_value(json_object_get(e, "step")),
	    "rollback");
	assert_string_equal(json_string_value(json_object_get(e, "location")),
	    "migrations/pending/20230203_rollback_fails.sql:2:8");
	assert_string_equal(json_string_value(json_object_get(e, "sqlstate")),
	    "42703");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "column \"nope\" does not exist");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 2);
	assert_int_equal(json_integer_value(json_object_get(e, "column")), 8);
	assert_int_equal(json_array_size(json_object_get(m, "steps")), 2);
	/* no rollback file */
	m = json_array_get(json_object_get(j, "migrations"), 3);
	assert_string_equal(json_string_value(json_object_get(m, "verdict")),
	    "no-rollback");
	assert_true(json_is_false(json_object_get(m, "rollback_file")));
	assert_int_equal(json_array_size(json_object_get(m, "steps")), 1);
	/* totals */
	m = json_object_get(j, "totals");
	assert_int_equal(json_integer_value(json_object_get(m, "migrations")),
	    4);
	assert_int_equal(json_integer_value(json_object_get(m, "round_trip")),
	    1);
	assert_int_equal(json_integer_value(
			     json_object_get(m, "not_round_trip")),
	    3);
	assert_int_equal(json_integer_value(json_object_get(m, "differs")), 1);
	assert_int_equal(json_integer_value(json_object_get(m, "no-rollback")),
	    1);
	json_decref(j);
	sc_run_free(r);
	unchanged(p, &before);
	/* the same in words; a stray file name is said and left alone */
	sc_write(p, "migrations/pending/notes.sql", "-- not a migration\n");
	r = rehearse(p, 3, "20230204_no_rollback", NULL, NULL);
	sc_expect_contains(r->out,
	    "  no-rollback\n"
	    "      no rollback file: write "
	    "migrations/pending/20230204_rollback_no_rollback.sql to rehearse "
	    "it\n");
	sc_expect_contains(r->out, ": 1 no-rollback; 1 did not round-trip.");
	sc_expect_contains(r->err,
	    "migrations/pending/notes.sql is not a "
	    "migration name (");
	sc_expect_contains(r->err, "): not rehearsed");
	sc_run_free(r);
	sc_free(p);
}

static void
test_rehearse_strict_passes_only_identical(void **state)
{
	struct proj *p = project("strict", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230201_drop_email",
	    "ALTER TABLE accounts DROP COLUMN email;\n",
	    "ALTER TABLE accounts ADD COLUMN email text;\n");
	sc_commit(p, "pending");
	r = rehearse(p, 0, NULL, NULL, NULL);
	sc_expect_contains(r->out, "same-modulo-column-order\n");
	sc_expect_contains(r->out,
	    ": 1 same-modulo-column-order; all round-trip.");
	assert_null(strstr(r->out, "+++"));
	sc_run_free(r);
	r = rehearse(p, 3, "--strict", NULL, NULL);
	sc_expect_contains(r->out,
	    "      after the rollback the schema is not what it was before "
	    "(same-modulo-column-order):\n");
	sc_expect_contains(r->out, "        +    email text\n");
	sc_expect_contains(r->out,
	    ": 1 same-modulo-column-order; 1 did not round-trip "
	    "identically.");
	sc_run_free(r);
	/* -q: only what did not round-trip, and the summary */
	r = rehearse(p, 3, "--strict", "-q", NULL);
	assert_null(strstr(r->out, "Rehearsing"));
	sc_expect_contains(r->out, "[1/1] 20230201_drop_email");
	sc_run_free(r);
	sc_free(p);
}

/* Only the named migrations; those before them are applied on the way. */
static void
test_rehearse_versions_limit_it(void **state)
{
	struct proj *p = project("versions", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int);\n", "SELECT 1;\n");
	sc_pair(p, "pending", "20230202_orders_total",
	    "ALTER TABLE orders ADD COLUMN total int;\n",
	    "ALTER TABLE orders DROP COLUMN total;\n");
	sc_commit(p, "pending");
	r = rehearse(p, 0, "migrations/pending/20230202_orders_total.sql", NULL,
	    NULL);
	sc_expect_contains(r->out, "Rehearsing 1 pending migration on");
	sc_expect_contains(r->out, "[1/1] 20230202_orders_total");
	assert_null(strstr(r->out, "20230201_orders "));
	sc_run_free(r);
	r = rehearse(p, 3, "20230201_orders", "20230202_orders_total", NULL);
	sc_expect_contains(r->out, "[1/2] 20230201_orders ");
	sc_run_free(r);
	r = rehearse(p, 2, "20230101_accounts", NULL, NULL);
	sc_expect_contains(r->err,
	    "20230101_accounts is in applied/, not pending: rehearse works on "
	    "pending migrations");
	sc_run_free(r);
	r = rehearse(p, 2, "20230301_nothing", NULL, NULL);
	sc_expect_contains(r->err, "no pending migration \"20230301_nothing\"");
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);
	sc_free(p);
}

static void
test_rehearse_usage_errors(void **state)
{
	struct proj *p = sc_project("usage", NULL);
	static const struct {
		const char *a1, *a2, *says;
	} cases[] = {
	    {"--jobs", "0", "--jobs needs a positive number, not \"0\""},
	    {"--jobs", "two", "--jobs needs a positive number, not \"two\""},
	    {"-j", "33", "--jobs is at most 32, not 33"},
	    {"-j", NULL, "option \"-j\" needs a value"},
	    {"--fast", NULL, "unknown option \"--fast\""},
	};
	struct tu_run *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = rehearse(p, 2, cases[i].a1, cases[i].a2, NULL);
		sc_expect_contains(r->err, cases[i].says);
		sc_expect_contains(r->err, "Try \"migdir help rehearse\"");
		sc_run_free(r);
	}
	r = rehearse(p, 0, "--help", NULL, NULL);
	sc_expect_contains(r->out,
	    "usage: migdir [-e ENV] rehearse [--jobs N]");
	sc_run_free(r);
	r = rehearse(p, 0, NULL, NULL, NULL);
	assert_string_equal(r->out,
	    "Nothing to rehearse: pending/ is empty.\n");
	sc_run_free(r);
	r = rehearse(p, 0, "--json", NULL, NULL);
	sc_expect_contains(r->out, "\"migrations\": []");
	sc_run_free(r);
	sc_free(p);
}

/* Folders that define no one tracked state, and what cannot run. */
static void
test_rehearse_refuses_and_fails_cleanly(void **state)
{
	struct proj *p = project("refuse", NULL);
	const char *env_dump[] = {"MIGDIR_PG_DUMP=/nonexistent/pg_dump", NULL};
	struct snap before;
	struct tu_run *r;
	char *plain;

	(void)state;
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n");
	sc_commit(p, "pending");
	take(p, &before);
	/* pg_dump cannot run: an error, no scratch database left */
	r = sc_migdir_env(p, env_dump, NULL, "rehearse", NULL);
	sc_expect_status(r, 1, "no pg_dump");
	sc_expect_contains(r->err,
	    "could not run \"/nonexistent/pg_dump\": no such program");
	sc_run_free(r);
	unchanged(p, &before);
	/* a role that may not make databases */
	take(p, &before);
	free(sc_psql(p, "CREATE ROLE rehearse_plain LOGIN"));
	plain = tu_asprintf("postgresql://rehearse_plain@%s",
	    strchr(p->url, '@') + 1);
	r = sc_migdir(p, NULL, "--database-url", plain, "rehearse", NULL);
	sc_expect_status(r, 1, "rehearse without CREATEDB");
	sc_expect_contains(r->err,
	    "could not create a database: permission denied to create "
	    "database");
	sc_expect_contains(r->err,
	    "its role needs CREATEDB, or set "
	    "scratch_url in migdir.ini");
	sc_run_free(r);
	free(sc_psql(p, "DROP ROLE rehearse_plain"));
	free(plain);
	unchanged(p, &before);
	/* the same file in two folders */
	sc_write(p, "migrations/pending/20230101_accounts.sql",
	    "CREATE TABLE accounts (id int);\n");
	take(p, &before);
	r = rehearse(p, 1, NULL, NULL, NULL);
	sc_expect_contains(r->err, "20230101_accounts ");
	sc_expect_contains(r->err,
	    "rehearse needs the folders to define one state: see migdir "
	    "status. Nothing was changed.");
	sc_run_free(r);
	unchanged(p, &before);
	sc_free(p);
}

/* Empty files, in the tracked state and pending (0-byte rollbacks exist). */
static void
test_rehearse_takes_empty_files(void **state)
{
	struct proj *p = project("empty", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "applied", "20230102_nothing", "", "");
	sc_pair(p, "pending", "20230201_data_only",
	    "INSERT INTO accounts VALUES (2, 'b@example.com', 'B') "
	    "ON CONFLICT DO NOTHING;\n",
	    "");
	sc_pair(p, "pending", "20230202_empty", "", "");
	sc_commit(p, "empty files");
	/* the tracked state needs 20230102's row: apply it as apply would */
	free(sc_psql(p,
	    "INSERT INTO schema_versions (version) VALUES "
	    "('20230102_nothing')"));
	r = rehearse(p, 0, NULL, NULL, NULL);
	sc_expect_contains(r->out, "2 migrations of applied/");
	sc_expect_contains(r->out, ": 2 identical; all round-trip.");
	sc_run_free(r);
	sc_free(p);
}

/*
 * The tracked database is never needed: with scratch_url, rehearse runs
 * while the environment's database does not even exist; a scratch server
 * that cannot be reached is one clear error.
 */
static void
test_rehearse_needs_only_the_scratch_server(void **state)
{
	const char *unset[] = {"-STAGING_URL", NULL};
	struct proj *p;
	struct tu_run *r;
	char *server, *ini, *url;

	(void)state;
	sc_need_cluster();
	server = pgcluster_url(sc_cluster, "postgres");
	ini = tu_asprintf("scratch_url = %s\n", server);
	p = sc_project("scratchurl", ini);
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n");
	sc_commit(p, "pending");
	r = sc_migdir(p, NULL, "--database-url",
	    "postgresql:///nonexistent_database_for_rehearse", "rehearse",
	    NULL);
	sc_expect_status(r, 0, "rehearse with scratch_url");
	sc_expect_contains(r->out, "(scratch_url)");
	sc_expect_contains(r->out, ": 1 identical; all round-trip.");
	sc_run_free(r);
	/* no table was made in the tracked database either */
	assert_null(sc_psql(p, "SELECT 1 FROM schema_versions"));
	/* an environment whose url is not even set */
	r = sc_migdir_env(p, unset, NULL, "-e", "staging", "rehearse", NULL);
	sc_expect_status(r, 0, "rehearse -e staging without STAGING_URL");
	sc_expect_contains(r->out, ": 1 identical; all round-trip.");
	sc_run_free(r);
	url = tu_asprintf("[migdir]\nmigrations = migrations\n"
			  "tracked = production\n"
			  "scratch_url = postgresql:///postgres?port=1\n"
			  "[env production]\nurl = %s\n",
	    p->url);
	sc_write(p, "migdir.ini", url);
	r = rehearse(p, 1, NULL, NULL, NULL);
	sc_expect_contains(r->err,
	    "the server for scratch databases "
	    "(scratch_url): could not connect to");
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);
	free(url);
	free(ini);
	free(server);
	sc_free(p);
}

/* applied/ that does not replay: the tracked state is not there. */
static void
test_rehearse_stops_when_the_tracked_state_does_not_replay(void **state)
{
	struct proj *p = project("noreplay", NULL);
	struct tu_run *r;

	(void)state;
	sc_write(p, "migrations/applied/20230101_accounts.sql",
	    "CREATE TABLE accounts (id int);\nSELECT nothing FROM nowhere;\n");
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n");
	sc_commit(p, "broken applied");
	r = rehearse(p, 1, NULL, NULL, NULL);
	sc_expect_contains(r->err,
	    "migrations/applied/20230101_accounts.sql:2:");
	sc_expect_contains(r->err, "relation \"nowhere\" does not exist");
	sc_expect_contains(r->err,
	    "The tracked state does not replay on an empty database");
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);
	sc_free(p);
}

/* A statement that runs long on a scratch database: said only with -v. */
static void
test_rehearse_is_quiet_about_long_statements(void **state)
{
	struct proj *p = project("quiet", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230201_slowish", "CREATE TABLE s (id int);\n",
	    "DROP TABLE s;\nSELECT pg_sleep(1.3);\n");
	sc_commit(p, "slowish");
	r = rehearse(p, 0, "20230201_slowish", NULL, NULL);
	assert_string_equal(r->err, "");
	sc_run_free(r);
	r = rehearse(p, 0, "-v", NULL, NULL);
	sc_expect_contains(r->err, "20230201_slowish: still running after 1 s");
	sc_run_free(r);
	sc_free(p);
}

/* Wait until n queries matching pattern run (at most 10 s). */
static void
wait_for_queries(struct proj *p, const char *pattern, long n)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_stat_activity "
			"WHERE query LIKE '%s' AND pid <> "
			"pg_backend_pid()",
			pattern) >= n)
			return;
		nanosleep(&(struct timespec){0, 50000000L}, NULL);
	}
	fail_msg("not %ld queries like %s started", n, pattern);
}

/* Ctrl-C: the running statements are canceled, every scratch db dropped. */
static void
interrupt(const char *name, const char *jobs)
{
	struct proj *p = project(name, NULL);
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	const char *argv[] = {getenv("MIGDIR_BIN"), "rehearse", "--jobs", jobs,
	    NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	struct snap before;
	char *e;
	pid_t pid;

	/* with two jobs, the second one's start runs the slow file too */
	sc_pair(p, "pending", "20230201_slow",
	    "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n",
	    "DROP TABLE slow;\n");
	sc_pair(p, "pending", "20230202_orders",
	    "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n");
	sc_commit(p, "slow");
	take(p, &before);
	pid = tu_spawn(p->dir, env, argv, out, err);
	assert_true(pid > 0);
	wait_for_queries(p, "SELECT pg_sleep(30)%%", atol(jobs));
	kill(pid, SIGINT);
	assert_int_equal(tu_wait(pid), 1);
	e = tu_read_file(err);
	sc_expect_contains(e, "interrupted by Ctrl-C after ");
	sc_expect_contains(e,
	    "Nothing was changed; the scratch databases are "
	    "dropped.");
	free(e);
	unchanged(p, &before);
	assert_int_equal(pgcluster_wait_sessions(sc_cluster, p->db, 0, 5000),
	    0);
	free(out);
	free(err);
	sc_free(p);
}

static void
test_rehearse_ctrl_c_drops_every_scratch_database(void **state)
{
	(void)state;
	interrupt("sigint1", "1");
	interrupt("sigint2", "2");
}

/* Ctrl-C while the tracked state is built (rows are not read: none). */
static void
test_rehearse_ctrl_c_while_building_the_tracked_state(void **state)
{
	struct proj *p = sc_project("sigintbase", NULL);
	char *out = tu_path(p->tmp, "out"), *err = tu_path(p->tmp, "err");
	const char *argv[] = {getenv("MIGDIR_BIN"), "rehearse", NULL};
	const char *env[] = {"-DATABASE_URL", "-PGHOST", "NO_COLOR=1", NULL};
	struct snap before;
	char *e;
	pid_t pid;

	(void)state;
	sc_pair(p, "applied", "20230101_slow_history",
	    "CREATE TABLE old (id int);\nSELECT pg_sleep(30);\n",
	    "DROP TABLE old;\n");
	sc_pair(p, "pending", "20230201_orders",
	    "CREATE TABLE orders (id int);\n", "DROP TABLE orders;\n");
	sc_commit(p, "slow history");
	take(p, &before);
	pid = tu_spawn(p->dir, env, argv, out, err);
	assert_true(pid > 0);
	wait_for_queries(p, "SELECT pg_sleep(30)%%", 1);
	kill(pid, SIGINT);
	assert_int_equal(tu_wait(pid), 1);
	e = tu_read_file(err);
	sc_expect_contains(e, "canceled by Ctrl-C");
	sc_expect_contains(e,
	    "Nothing was changed; the scratch databases are "
	    "dropped.");
	free(e);
	unchanged(p, &before);
	free(out);
	free(err);
	sc_free(p);
}

/* ---------------------------------------------------------- corpora --- */

/*
 * Where rehearse's verdict is not RESULTS.tsv's, and why.  RESULTS.tsv
 * ran each rollback once after its forward file and compared the schema
 * with the one before the forward file; rehearse also applies the file
 * again and compares that with the first apply, in the same database.
 */
static const struct {
	const char *corpus, *version;
	const char *results, *rehearse; /* the two verdicts */
	const char *why;
} known[] = {
    {"lemmy", "20200208145624_add_post_newest_activity_time", "identical",
	"same-modulo-frozen-now-timestamps",
	"applying it again recreates post_aggregates_view, whose body "
	"freezes 'now'::timestamp; RESULTS.tsv never applied it twice"},
    /*
     * RESULTS.tsv compared dumps of two databases built apart, so every
     * view that froze 'now' differed while such views existed
     * (20200208-20200803); in one database they only change when a file
     * recreates them, and these rollbacks recreate none of them.
     */
    {"lemmy", "20200326192410_add_activitypub_tables",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates no view that freezes 'now'"},
    {"lemmy", "20200403194936_add_activitypub_for_posts_and_comments",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates no view that freezes 'now'"},
    {"lemmy", "20200421123957_remove_unique_user_constraints",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates no view that freezes 'now'"},
    {"lemmy", "20200505210233_add_activitypub_for_private_messages",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates private-message views, none of which freezes 'now'"},
    {"lemmy", "20200712100442_add_post_title_to_comments_view",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates comment views, none of which freezes 'now'"},
    {"lemmy", "20200718234519_add_unique_community_user_actor_ids",
	"same-modulo-frozen-now-timestamps", "identical",
	"recreates no view that freezes 'now'"},
    {"lemmy", "20230802174444_fix_timezones", "differs", "fails",
	"the rollback leaves hot_rank(numeric, timestamptz) beside the "
	"hot_rank(numeric, timestamp) it restores, so applying it again "
	"fails at DROP FUNCTION IF EXISTS hot_rank CASCADE: the name is not "
	"unique"},
};

/* RESULTS.tsv's isolated verdict of the rollback of version. */
static char *
results_verdict(const char *tsv, const char *version)
{
	const char *us = strchr(version, '_');
	char *file = tu_asprintf("\n%.*s_rollback_%s.sql\t",
	    (int)(us - version), version, us + 1);
	const char *line = strstr(tsv, file);
	char *cols[8] = {NULL}, *copy, *p, *out = NULL;
	int n = 0;

	free(file);
	if (!line)
		return NULL;
	copy = tu_asprintf("%.*s", (int)strcspn(line + 1, "\n"), line + 1);
	for (p = copy; n < 8; n++) {
		cols[n] = p;
		if (!(p = strchr(p, '\t')))
			break;
		*p++ = '\0';
	}
	/* file kind forward_rc chain_rc chain_state isolated_rc isolated */
	if (n >= 6)
		out =
		    tu_asprintf("%s", strcmp(cols[5], "0") ? "fails" : cols[6]);
	free(copy);
	return out;
}

static void
corpus_agrees(const char *name, size_t pairs, const char *jobs)
{
	struct proj *p = sc_project(name, NULL);
	char *src =
	    tu_asprintf("%s/tests/corpora/%s", getenv("MIGDIR_SOURCE"), name);
	char *pending = tu_path(src, "pending");
	char *dst = tu_path(p->dir, "migrations/pending");
	char *tsvpath = tu_path(src, "RESULTS.tsv"), *tsv;
	int used[sizeof(known) / sizeof(known[0])] = {0};
	size_t i, k, agree = 0;
	struct tu_run *r;
	json_t *j, *m;

	assert_int_equal(tu_copy_tree(pending, dst), 0);
	sc_commit(p, name);
	assert_non_null(tsv = tu_read_file(tsvpath));
	r = rehearse(p, 3, "--json", "--jobs", jobs);
	j = parse(r);
	assert_int_equal(json_array_size(json_object_get(j, "migrations")),
	    pairs);
	json_array_foreach (json_object_get(j, "migrations"), i, m) {
		const char *v =
		    json_string_value(json_object_get(m, "version"));
		const char *got =
		    json_string_value(json_object_get(m, "verdict"));
		char *want = results_verdict(tsv, v);

		if (!want)
			fail_msg("%s: %s is not in RESULTS.tsv", name, v);
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(known[k].corpus, name) &&
			    !strcmp(known[k].version, v))
				break;
		if (k < sizeof(known) / sizeof(known[0])) {
			/* a known disagreement: exactly as listed */
			if (strcmp(want, known[k].results) ||
			    strcmp(got, known[k].rehearse))
				fail_msg("%s %s: RESULTS.tsv %s, rehearse %s; "
					 "listed as %s / %s (%s)",
				    name, v, want, got, known[k].results,
				    known[k].rehearse, known[k].why);
			used[k] = 1;
		} else if (strcmp(want, got)) {
			char *d = json_dumps(m, JSON_INDENT(2));

			fail_msg("%s %s: RESULTS.tsv says %s, rehearse %s:\n%s",
			    name, v, want, got, d);
		} else
			agree++;
		free(want);
	}
	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (!strcmp(known[k].corpus, name) && !used[k])
			fail_msg(
			    "%s %s is listed as a disagreement but was not "
			    "rehearsed",
			    name, known[k].version);
	fprintf(stderr, "%s: %zu of %zu verdicts as RESULTS.tsv\n", name, agree,
	    pairs);
	json_decref(j);
	sc_run_free(r);
	assert_int_equal(sc_scratch_dbs(p), 0);
	assert_true(sc_git_clean(p));
	free(src);
	free(pending);
	free(dst);
	free(tsvpath);
	free(tsv);
	sc_free(p);
}

static void
test_rehearse_agrees_with_authelia_results(void **state)
{
	(void)state;
	corpus_agrees("authelia", 26, "2");
}

static void
test_rehearse_agrees_with_lemmy_results(void **state)
{
	(void)state;
	corpus_agrees("lemmy", 233, "2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rehearse_passes_on_the_sample),
	    cmocka_unit_test(
		test_rehearse_catches_a_rollback_that_forgets_an_index),
	    cmocka_unit_test(
		test_rehearse_reports_a_failing_rollback_and_goes_on),
	    cmocka_unit_test(
		test_rehearse_skips_what_follows_a_forward_file_that_fails),
	    cmocka_unit_test(
		test_rehearse_goes_on_from_a_new_copy_after_a_second_apply_fails),
	    cmocka_unit_test(
		test_rehearse_each_migration_meets_the_forward_state),
	    cmocka_unit_test(test_rehearse_json_says_everything),
	    cmocka_unit_test(test_rehearse_strict_passes_only_identical),
	    cmocka_unit_test(test_rehearse_versions_limit_it),
	    cmocka_unit_test(test_rehearse_usage_errors),
	    cmocka_unit_test(test_rehearse_refuses_and_fails_cleanly),
	    cmocka_unit_test(test_rehearse_takes_empty_files),
	    cmocka_unit_test(test_rehearse_needs_only_the_scratch_server),
	    cmocka_unit_test(
		test_rehearse_stops_when_the_tracked_state_does_not_replay),
	    cmocka_unit_test(test_rehearse_is_quiet_about_long_statements),
	    cmocka_unit_test(test_rehearse_ctrl_c_drops_every_scratch_database),
	    cmocka_unit_test(
		test_rehearse_ctrl_c_while_building_the_tracked_state),
	    cmocka_unit_test(test_rehearse_agrees_with_authelia_results),
	    cmocka_unit_test(test_rehearse_agrees_with_lemmy_results),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
