/*
 * test_lint.c - unit tests for the risk rules (src/lint.c).
 *
 * Table-driven: for every rule, statements that must trigger it and near
 * misses that must not (the same statement on a table created earlier in
 * the file or by an earlier pending migration, CONCURRENTLY, NOT VALID,
 * USING INDEX, a WHERE clause, a stable default ...).  Then the risk class
 * of whole files, the allows (on the statement's line, before it, unused,
 * unknown), lock_timeout from the file or the environment, the transaction
 * shape rules, and the rule table itself (names unique, texts present).
 * Every case is parsed by libpg_query, as migdir does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lint.h"
#include "sql.h"
#include "banned.h"

#define PATH      "m/20230601_x.sql"
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* lock_timeout is set in every case unless the case is about it. */
#define LT "SET lock_timeout = '5s';\n"

static struct sql_script *
parse(const char *text)
{
	struct sql_script *s = NULL;
	int rc;

	mg_error_clear();
	rc = sql_parse_script(&s, PATH, text, strlen(text));
	if (rc != 0)
		fail_msg("rejected (%d): %s\n%s", rc,
		    mg_error_last()->message ? mg_error_last()->message : "?",
		    text);
	return s;
}

/* How many findings of rule the text gives (tables: earlier pending). */
static int
count_rule(const char *text, const char *rule, struct lint_tables *tables)
{
	struct sql_script *s = parse(text);
	struct lint_result r;
	size_t i;
	int n = 0;

	lint_script(&r, s, tables, 0);
	for (i = 0; i < r.n; i++)
		if (!strcmp(r.f[i].rule->name, rule))
			n++;
	lint_result_release(&r);
	sql_script_free(s);
	return n;
}

struct rule_case {
	const char *rule;
	const char *hit;  /* must give exactly one finding of rule */
	const char *miss; /* must give none */
};

static const struct rule_case cases[] = {
    {"drop-table", LT "DROP TABLE users;",
	LT "CREATE TABLE tmp (a int); DROP TABLE tmp;"},
    {"drop-table",
	LT "CREATE TABLE backup.orders AS SELECT * FROM orders;\n"
	   "DROP TABLE orders;",
	LT "CREATE TABLE orders (a int); DROP TABLE public.orders;"},
    {"drop-table", LT "DROP TABLE IF EXISTS app.users;", LT "DROP VIEW users;"},
    {"drop-column", LT "ALTER TABLE users DROP COLUMN email;",
	LT "CREATE TABLE t (a int, b int); ALTER TABLE t DROP COLUMN b;"},
    {"drop-schema", "DROP SCHEMA app CASCADE;", "CREATE SCHEMA app;"},
    {"drop-database", "DROP DATABASE crm;", "CREATE SCHEMA crm;"},
    {"drop-type", "DROP TYPE mood;", "CREATE TYPE mood AS ENUM ('a');"},
    {"drop-cascade", "DROP TYPE mood CASCADE;", "DROP TYPE mood;"},
    {"drop-cascade", LT "TRUNCATE sessions CASCADE;",
	LT "CREATE TABLE s (a int); DROP TABLE s CASCADE;"},
    {"drop-cascade", "DROP FUNCTION f() CASCADE;", "DROP FUNCTION f();"},
    {"drop-cascade", "DROP EXTENSION postgis CASCADE;",
	"DROP EXTENSION postgis;"},
    {"drop-cascade", "DROP OWNED BY app CASCADE;", "DROP OWNED BY app;"},
    {"drop-cascade", LT "ALTER TABLE users DROP COLUMN a CASCADE;",
	LT "ALTER TABLE users DROP COLUMN a;"},
    {"drop-type", "DROP DOMAIN email;", "DROP FUNCTION f();"},
    {"truncate", LT "TRUNCATE sessions;",
	LT "CREATE TABLE s (a int); TRUNCATE s;"},
    {"delete-without-where", "DELETE FROM sessions;",
	"DELETE FROM sessions WHERE expires < now();"},
    {"update-without-where", "UPDATE users SET active = true;",
	"UPDATE users SET active = true WHERE id = 1;"},
    {"add-not-null-column", LT "ALTER TABLE users ADD COLUMN age int NOT NULL;",
	LT "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;"},
    {"add-foreign-key",
	LT "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (uid) "
	   "REFERENCES users (id);",
	LT "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (uid) "
	   "REFERENCES users (id) NOT VALID;"},
    {"add-foreign-key",
	LT "ALTER TABLE posts ADD COLUMN uid int REFERENCES users (id);",
	LT "CREATE TABLE posts (uid int REFERENCES users (id));"},
    {"add-check", LT "ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0);",
	LT "ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0) NOT VALID;"},
    {"add-unique", LT "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);",
	LT "ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_e;"},
    {"add-unique", LT "ALTER TABLE users ADD PRIMARY KEY (id);",
	LT "CREATE TABLE u (id int); ALTER TABLE u ADD PRIMARY KEY (id);"},
    {"unique-index", "CREATE UNIQUE INDEX CONCURRENTLY u ON users (email);",
	"CREATE INDEX CONCURRENTLY u ON users (email);"},
    {"set-not-null", LT "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
	LT "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;"},
    {"column-type-change", LT "ALTER TABLE users ALTER COLUMN id TYPE bigint;",
	LT "CREATE TABLE t (id int); ALTER TABLE t ALTER id TYPE bigint;"},
    {"rename-table", LT "ALTER TABLE users RENAME TO accounts;",
	LT "CREATE TABLE t (a int); ALTER TABLE t RENAME TO u;"},
    {"rename-column", LT "ALTER TABLE users RENAME COLUMN name TO login;",
	LT "ALTER INDEX users_name RENAME TO users_login;"},
    {"enum-add-value", "ALTER TYPE mood ADD VALUE 'meh';",
	"ALTER TYPE mood RENAME VALUE 'meh' TO 'ok';"},
    {"index-not-concurrent", LT "CREATE INDEX i ON users (email);",
	LT "CREATE TABLE t (a int); CREATE INDEX i ON t (a);"},
    {"index-not-concurrent", LT "CREATE INDEX ON app.users (email);",
	"CREATE INDEX CONCURRENTLY i ON users (email);"},
    {"drop-index-not-concurrent", LT "DROP INDEX users_email;",
	"DROP INDEX CONCURRENTLY users_email;"},
    {"drop-index-not-concurrent", LT "DROP INDEX users_email;",
	LT "CREATE TABLE t (a int); CREATE INDEX ti ON t (a); DROP INDEX "
	   "ti;"},
    {"reindex-not-concurrent", LT "REINDEX TABLE users;",
	"REINDEX TABLE CONCURRENTLY users;"},
    {"drop-constraint", LT "ALTER TABLE users DROP CONSTRAINT u;",
	LT "ALTER TABLE users VALIDATE CONSTRAINT u;"},
    {"volatile-default",
	LT "ALTER TABLE users ADD COLUMN token uuid DEFAULT "
	   "gen_random_uuid();",
	LT "ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT now();"},
    {"volatile-default", LT "ALTER TABLE users ADD COLUMN n bigserial;",
	LT "ALTER TABLE users ADD COLUMN n bigint;"},
    {"vacuum-full", LT "VACUUM FULL users;", "VACUUM users;"},
    {"cluster", LT "CLUSTER users USING users_pkey;",
	LT "CREATE TABLE t (a int); CLUSTER t USING ti;"},
    {"lock-timeout", "ALTER TABLE users ADD COLUMN x int;",
	"SET lock_timeout = '2s'; ALTER TABLE users ADD COLUMN x int;"},
    {"lock-timeout", "SET lock_timeout = 0; DROP TABLE users;",
	"CREATE TABLE t (a int); CREATE INDEX i ON t (a);"},
    {"non-atomic",
	"CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON users (a);",
	"CREATE INDEX CONCURRENTLY i ON users (a);"},
    {"non-atomic", "ALTER TYPE mood ADD VALUE 'x';\nSELECT 'x'::mood;",
	"-- migdir:no-transaction\nALTER TYPE mood ADD VALUE 'x';\n"
	"SELECT 'x'::mood;"},
    {"enum-add-used",
	"BEGIN;\nALTER TYPE mood ADD VALUE 'x';\nSELECT 'x'::mood;\nCOMMIT;",
	"BEGIN;\nALTER TYPE mood ADD VALUE 'x';\nCOMMIT;\nSELECT "
	"'x'::mood;"},
    {"repeated-transaction",
	"BEGIN; CREATE TABLE a (x int); COMMIT;\n"
	"BEGIN; CREATE TABLE b (x int); COMMIT;",
	"BEGIN; CREATE TABLE a (x int); CREATE TABLE b (x int); COMMIT;"},
    {"unused-allow", "-- migdir:allow drop-table\nCREATE TABLE t (a int);",
	"-- migdir:allow truncate\nTRUNCATE users;"},
};

static void
test_every_rule_hits_and_misses(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		int hit = count_rule(cases[i].hit, cases[i].rule, NULL);
		int miss = count_rule(cases[i].miss, cases[i].rule, NULL);

		if (hit != 1 || miss != 0)
			fail_msg("%s: hit %d (want 1) in\n%s\nmiss %d (want "
				 "0) in\n%s",
			    cases[i].rule, hit, cases[i].hit, miss,
			    cases[i].miss);
	}
}

static void
test_every_rule_has_a_case_and_texts(void **state)
{
	const struct lint_rule *r, *q;
	size_t i;

	(void)state;
	for (r = lint_rules; r->name; r++) {
		int found = 0;

		for (i = 0; i < NCASES(cases); i++)
			found |= !strcmp(cases[i].rule, r->name);
		if (!found)
			fail_msg("rule %s has no test case", r->name);
		assert_non_null(r->reason);
		assert_non_null(r->remedy);
		for (q = lint_rules; q < r; q++)
			if (!strcmp(q->name, r->name))
				fail_msg("rule %s listed twice", r->name);
		assert_ptr_equal(lint_rule_find(r->name), r);
	}
	assert_null(lint_rule_find("no-such-rule"));
}

static enum lint_risk
risk_of(const char *text)
{
	struct sql_script *s = parse(text);
	struct lint_result r;
	enum lint_risk risk;

	lint_script(&r, s, NULL, 0);
	risk = r.risk;
	lint_result_release(&r);
	sql_script_free(s);
	return risk;
}

/* The seed's four rollbacks, and the order of the classes. */
static void
test_risk_class_is_the_worst_effect(void **state)
{
	(void)state;
	assert_int_equal(risk_of(LT "DROP TABLE users; DROP INDEX i;"),
	    RISK_DESTRUCTIVE);
	assert_int_equal(risk_of(
			     LT "ALTER TABLE users DROP COLUMN deleted_at;"),
	    RISK_DESTRUCTIVE);
	assert_int_equal(risk_of(LT "DROP INDEX email_unique_active_idx;\n"
				    "ALTER TABLE users ADD CONSTRAINT "
				    "users_email_unique UNIQUE (email);"),
	    RISK_MAY_FAIL);
	assert_int_equal(risk_of(LT "DROP INDEX user_sessions_expire_idx;"),
	    RISK_BLOCKING);
	assert_int_equal(risk_of("DROP INDEX CONCURRENTLY i;"), RISK_SAFE);
	assert_int_equal(risk_of("CREATE TABLE t (a int primary key);"),
	    RISK_SAFE);
	/* notes do not raise the class */
	assert_int_equal(risk_of("BEGIN; CREATE TABLE a (x int); COMMIT;\n"
				 "BEGIN; CREATE TABLE b (x int); COMMIT;"),
	    RISK_SAFE);
}

static void
test_risk_names_round_trip(void **state)
{
	enum lint_risk r;
	int i;
	char buf[64];

	(void)state;
	for (i = RISK_SAFE; i <= RISK_DESTRUCTIVE; i++) {
		assert_int_equal(lint_risk_parse(lint_risk_name(i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_int_equal(lint_risk_parse("dangerous", &r), -1);
	assert_string_equal(lint_effect_words(EF_LOSS | EF_LOCK, buf,
				sizeof(buf)),
	    "data loss, blocking lock");
	assert_string_equal(lint_effect_words(EF_FAIL, buf, sizeof(buf)),
	    "may fail");
	assert_string_equal(lint_effect_words(0, buf, sizeof(buf)), "note");
}

/* Tables an earlier pending migration created are new; carry adds them. */
static void
test_tables_of_earlier_pending_migrations_are_new(void **state)
{
	struct lint_tables t = {0};
	struct sql_script *s = parse("CREATE TABLE app.orders (id int);");
	struct lint_result r;

	(void)state;
	lint_script(&r, s, &t, 1);
	lint_result_release(&r);
	sql_script_free(s);
	assert_int_equal(t.n, 1);
	/* unqualified means public: not app.orders */
	assert_int_equal(count_rule(LT "CREATE INDEX i ON orders (id);",
			     "index-not-concurrent", &t),
	    1);
	assert_int_equal(count_rule(LT "CREATE INDEX i ON app.orders (id);",
			     "index-not-concurrent", &t),
	    0);
	assert_int_equal(count_rule(LT "CREATE INDEX i ON other.orders (id);",
			     "index-not-concurrent", &t),
	    1);
	assert_int_equal(count_rule(LT "CREATE INDEX i ON users (id);",
			     "index-not-concurrent", &t),
	    1);
	/* without carry, nothing is added */
	s = parse("CREATE TABLE lines (id int);");
	lint_script(&r, s, &t, 0);
	lint_result_release(&r);
	sql_script_free(s);
	assert_int_equal(t.n, 1);
	/* the environment's lock_timeout satisfies the rule */
	t.lock_timeout_set = 1;
	assert_int_equal(count_rule("DROP TABLE users;", "lock-timeout", &t),
	    0);
	lint_tables_release(&t);
}

/* A renamed new table stays new; a dropped and re-created one is new. */
static void
test_renamed_new_tables_stay_new(void **state)
{
	(void)state;
	assert_int_equal(count_rule(LT "CREATE TABLE a (x int);\n"
				       "ALTER TABLE a RENAME TO b;\n"
				       "CREATE INDEX i ON b (x);",
			     "index-not-concurrent", NULL),
	    0);
	assert_int_equal(count_rule(LT "CREATE TABLE n AS SELECT 1 AS x;\n"
				       "CREATE INDEX i ON n (x);",
			     "index-not-concurrent", NULL),
	    0);
	assert_int_equal(count_rule(LT
			     "DROP TABLE a;\nCREATE TABLE a (x int);\n"
			     "CREATE INDEX i ON a (x);",
			     "index-not-concurrent", NULL),
	    0);
}

static void
test_allows(void **state)
{
	struct sql_script *s;
	struct lint_result r;

	(void)state;
	/* on the statement's line, after it */
	assert_int_equal(count_rule(LT "DROP TABLE users; -- migdir:allow "
				       "drop-table\n",
			     "drop-table", NULL),
	    0);
	/* before it, two rules in one comment */
	s = parse("-- migdir:allow drop-table, lock-timeout\n"
		  "DROP TABLE users;\n"
		  "DROP TABLE orders;\n");
	lint_script(&r, s, NULL, 0);
	assert_int_equal(r.nallows, 2);
	assert_int_equal(r.allowed, 2);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.f[0].rule->name, "drop-table");
	assert_int_equal(r.f[0].line, 3);
	assert_string_equal(r.f[0].subject, "orders");
	assert_int_equal(r.risk, RISK_DESTRUCTIVE);
	lint_result_release(&r);
	sql_script_free(s);
	/* inside a statement's lines */
	assert_int_equal(count_rule(LT "ALTER TABLE users\n"
				       "  -- migdir:allow drop-column\n"
				       "  DROP COLUMN email;",
			     "drop-column", NULL),
	    0);
	/* an allow for the previous statement does not reach the next */
	assert_int_equal(count_rule(LT "DROP TABLE a; -- migdir:allow "
				       "drop-table\nDROP TABLE b;",
			     "drop-table", NULL),
	    1);
	/* unknown rule names and allows past the end are unused */
	s = parse("SELECT 1;\n-- migdir:allow no-such-rule\n");
	lint_script(&r, s, NULL, 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.f[0].rule->name, "unused-allow");
	assert_string_equal(r.f[0].subject, "no-such-rule");
	assert_int_equal(r.f[0].line, 2);
	assert_int_equal(r.f[0].col, 17);
	lint_result_release(&r);
	sql_script_free(s);
	/* words after the list are a free comment, not rules */
	assert_int_equal(count_rule(LT "DROP TABLE a; -- migdir:allow "
				       "drop-table because it was archived\n",
			     "unused-allow", NULL),
	    0);
	assert_int_equal(count_rule(LT "DROP TABLE a; -- migdir:allow "
				       "drop-table because it was archived\n",
			     "drop-table", NULL),
	    0);
	/* the word in a string or a plain comment is not an allow */
	assert_int_equal(count_rule(LT "SELECT 'migdir:allow x';\n"
				       "-- see migdir:allow docs\n",
			     "unused-allow", NULL),
	    0);
}

/* Findings carry the statement's line and column and what it touches. */
static void
test_findings_name_the_statement(void **state)
{
	struct sql_script *s = parse("SET lock_timeout = '1s';\n\n"
				     "  ALTER TABLE app.users\n"
				     "    DROP COLUMN a,\n"
				     "    ALTER COLUMN b SET NOT NULL;\n");
	struct lint_result r;

	(void)state;
	lint_script(&r, s, NULL, 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.f[0].rule->name, "drop-column");
	assert_string_equal(r.f[1].rule->name, "set-not-null");
	assert_int_equal(r.f[0].line, 3);
	assert_int_equal(r.f[0].col, 3);
	assert_string_equal(r.f[0].subject, "app.users");
	assert_int_equal(r.effects, EF_LOSS | EF_LOCK | EF_FAIL);
	lint_result_release(&r);
	sql_script_free(s);
}

/* lock-timeout is reported once, at the first strong lock. */
static void
test_lock_timeout_once_per_file(void **state)
{
	struct sql_script *s = parse("CREATE TABLE t (a int);\n"
				     "ALTER TABLE users ADD COLUMN a int;\n"
				     "ALTER TABLE orders ADD COLUMN a int;\n");
	struct lint_result r;

	(void)state;
	lint_script(&r, s, NULL, 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.f[0].rule->name, "lock-timeout");
	assert_int_equal(r.f[0].line, 2);
	lint_result_release(&r);
	sql_script_free(s);
}

/* A file the parser rejects has no actions, hence no findings. */
static void
test_unparsed_file_has_no_findings(void **state)
{
	struct sql_script *s = NULL;
	struct lint_result r;
	const char *text = "ALTER TABLE t ADD COLUMN x int VIRTUAL;";

	(void)state;
	assert_int_equal(sql_parse_script(&s, PATH, text, strlen(text)),
	    MG_ESQL);
	lint_script(&r, s, NULL, 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.risk, RISK_SAFE);
	lint_result_release(&r);
	sql_script_free(s);
}

/* migdir-check(1) lists every rule (".B drop\-table"). */
static void
test_man_page_lists_every_rule(void **state)
{
	const char *src = getenv("MIGDIR_SOURCE");
	char path[4096], want[128], reason[512], *text;
	const struct lint_rule *r;
	FILE *f;
	long len;

	(void)state;
	if (!src)
		src = ".";
	snprintf(path, sizeof(path), "%s/man/migdir-check.1", src);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = test_malloc((size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	for (r = lint_rules; r->name; r++) {
		size_t i, k = 0;

		k += (size_t)snprintf(want, sizeof(want), ".B ");
		for (i = 0; r->name[i] && k + 3 < sizeof(want); i++) {
			if (r->name[i] == '-')
				want[k++] = '\\';
			want[k++] = r->name[i];
		}
		memcpy(want + k, "\n", 2);
		if (!strstr(text, want))
			fail_msg("%s does not list rule %s", path, r->name);
		/* ... with the reason the program gives, as roff writes it */
		k = 0;
		for (i = 0; r->reason[i] && k + 3 < sizeof(reason); i++) {
			if (r->reason[i] == '-')
				reason[k++] = '\\';
			reason[k++] = r->reason[i];
		}
		reason[k] = '\0';
		if (!strstr(text, reason))
			fail_msg("%s: rule %s: reason differs from \"%s\"",
			    path, r->name, r->reason);
	}
	test_free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_rule_hits_and_misses),
	    cmocka_unit_test(test_every_rule_has_a_case_and_texts),
	    cmocka_unit_test(test_risk_class_is_the_worst_effect),
	    cmocka_unit_test(test_risk_names_round_trip),
	    cmocka_unit_test(test_tables_of_earlier_pending_migrations_are_new),
	    cmocka_unit_test(test_renamed_new_tables_stay_new),
	    cmocka_unit_test(test_allows),
	    cmocka_unit_test(test_findings_name_the_statement),
	    cmocka_unit_test(test_lock_timeout_once_per_file),
	    cmocka_unit_test(test_unparsed_file_has_no_findings),
	    cmocka_unit_test(test_man_page_lists_every_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
