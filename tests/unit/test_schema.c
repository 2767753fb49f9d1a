/*
 * test_schema.c - unit tests for how two schema dumps compare
 * (src/schema.c: schema_compare, schema_normalize, schema_diff).
 *
 * Table-driven, on texts in pg_dump's layout: a column that comes back
 * last is column order, also in a view of SELECT * that follows the
 * table; a frozen 'now'::timestamp literal is its own category; anything
 * else differs, including lines that trade places inside one output
 * column (CASE branches) or between the branches of a UNION, which
 * sorting must not hide.  pg_dump itself runs in the integration tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "schema.h"
#include "banned.h"

#define TABLE_AB                                                               \
	"CREATE TABLE public.t (\n"                                            \
	"    a integer NOT NULL,\n"                                            \
	"    b text\n"                                                         \
	");\n"
#define TABLE_BA                                                               \
	"CREATE TABLE public.t (\n"                                            \
	"    b text,\n"                                                        \
	"    a integer NOT NULL\n"                                             \
	");\n"
#define VIEW(cols)                                                             \
	"CREATE VIEW public.v AS\n"                                            \
	" SELECT " cols "\n"                                                   \
	"   FROM public.t;\n"
#define CASE_AB                                                                \
	"t.a,\n"                                                               \
	"        CASE\n"                                                       \
	"            WHEN (t.a > 1) THEN 'x'::text\n"                          \
	"            WHEN (t.a < 0) THEN 'y'::text\n"                          \
	"            ELSE t.b\n"                                               \
	"        END AS k,\n"                                                  \
	"    ( SELECT max(u.a) AS max\n"                                       \
	"           FROM public.t u\n"                                         \
	"          WHERE (u.a < t.a)) AS m"

static void
test_schema_compare_categories(void **state)
{
	static const struct {
		const char *a, *b;
		enum schema_verdict want;
	} cases[] = {
	    {TABLE_AB, TABLE_AB, SCHEMA_IDENTICAL},
	    {TABLE_AB, TABLE_BA, SCHEMA_COLUMN_ORDER},
	    /* a view of SELECT * lists the columns in the table's order */
	    {TABLE_AB VIEW("t.a,\n    t.b"), TABLE_BA VIEW("t.b,\n    t.a"),
		SCHEMA_COLUMN_ORDER},
	    /* a view's columns in another order, the table the same */
	    {TABLE_AB VIEW("t.a,\n    t.b"), TABLE_AB VIEW("t.b,\n    t.a"),
		SCHEMA_COLUMN_ORDER},
	    /* output columns of several lines each trade places */
	    {TABLE_AB VIEW(CASE_AB),
		TABLE_AB VIEW("( SELECT max(u.a) AS max\n"
			      "           FROM public.t u\n"
			      "          WHERE (u.a < t.a)) AS m,\n"
			      "        CASE\n"
			      "            WHEN (t.a > 1) THEN 'x'::text\n"
			      "            WHEN (t.a < 0) THEN 'y'::text\n"
			      "            ELSE t.b\n"
			      "        END AS k,\n"
			      "    t.a"),
		SCHEMA_COLUMN_ORDER},
	    /* lines trading places inside one column are a real change */
	    {TABLE_AB VIEW(CASE_AB),
		TABLE_AB VIEW("t.a,\n"
			      "        CASE\n"
			      "            WHEN (t.a < 0) THEN 'y'::text\n"
			      "            WHEN (t.a > 1) THEN 'x'::text\n"
			      "            ELSE t.b\n"
			      "        END AS k,\n"
			      "    ( SELECT max(u.a) AS max\n"
			      "           FROM public.t u\n"
			      "          WHERE (u.a < t.a)) AS m"),
		SCHEMA_DIFFERS},
	    /* another column, another expression */
	    {TABLE_AB VIEW("t.a,\n    t.b"),
		TABLE_AB VIEW("t.a,\n    t.a AS b"), SCHEMA_DIFFERS},
	    {TABLE_AB,
		"CREATE TABLE public.t (\n    a bigint NOT NULL,\n"
		"    b text\n);\n",
		SCHEMA_DIFFERS},
	    /* the branches of a UNION pair up by position: not sorted */
	    {"CREATE VIEW public.u AS\n SELECT t.a AS x,\n    t.b AS y\n"
	     "   FROM public.t\nUNION ALL\n SELECT 1 AS x,\n    'z'::text AS "
	     "y;\n",
		"CREATE VIEW public.u AS\n SELECT t.b AS y,\n    t.a AS x\n"
		"   FROM public.t\nUNION ALL\n SELECT 1 AS x,\n"
		"    'z'::text AS y;\n",
		SCHEMA_DIFFERS},
	    /* a view without FROM ends its list with the semicolon */
	    {"CREATE VIEW public.c AS\n SELECT 1 AS a,\n    2 AS b;\n",
		"CREATE VIEW public.c AS\n SELECT 2 AS b,\n    1 AS a;\n",
		SCHEMA_COLUMN_ORDER},
	    {"CREATE MATERIALIZED VIEW public.m AS\n SELECT t.a,\n    t.b\n"
	     "   FROM public.t\n  WITH NO DATA;\n",
		"CREATE MATERIALIZED VIEW public.m AS\n SELECT t.b,\n    t.a\n"
		"   FROM public.t\n  WITH NO DATA;\n",
		SCHEMA_COLUMN_ORDER},
	    /* a frozen now in a view body */
	    {VIEW(
		 "t.a\n  WHERE (t.c < ('2026-11-23 17:07:43.117163'::timestamp "
		 "without time zone - '1 mon'::interval))"),
		VIEW("t.a\n  WHERE (t.c < ('2026-11-23 17:07:44.5'::timestamp "
		     "without time zone - '1 mon'::interval))"),
		SCHEMA_FROZEN_NOW},
	    /* both: column order says more */
	    {TABLE_AB VIEW("t.a\n  WHERE (t.c < '2026-11-23 17:07:43.1'::"
			   "timestamp without time zone)"),
		TABLE_BA VIEW("t.a\n  WHERE (t.c < '2026-11-23 17:07:49.9'::"
			      "timestamp without time zone)"),
		SCHEMA_COLUMN_ORDER},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum schema_verdict v = schema_compare(cases[i].a, cases[i].b);

		if (v != cases[i].want)
			fail_msg("case %zu: %s, not %s", i,
			    schema_verdict_name(v),
			    schema_verdict_name(cases[i].want));
		/* and the other way round */
		v = schema_compare(cases[i].b, cases[i].a);
		if (v != cases[i].want)
			fail_msg("case %zu reversed: %s, not %s", i,
			    schema_verdict_name(v),
			    schema_verdict_name(cases[i].want));
	}
}

static void
test_schema_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(schema_verdict_name(SCHEMA_IDENTICAL), "identical");
	assert_string_equal(schema_verdict_name(SCHEMA_COLUMN_ORDER),
	    "same-modulo-column-order");
	assert_string_equal(schema_verdict_name(SCHEMA_FROZEN_NOW),
	    "same-modulo-frozen-now-timestamps");
	assert_string_equal(schema_verdict_name(SCHEMA_DIFFERS), "differs");
}

static void
test_schema_normalize_drops_what_changes_between_runs(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b,
	    "--\n-- PostgreSQL database dump\n--\n\n"
	    "\\restrict 8f0a9bXYZ\n"
	    "-- Dumped from database version 15.18\n"
	    "-- Dumped by pg_dump version 15.18\n"
	    "SET statement_timeout = 0;\n"
	    "\\unrestrict 8f0a9bXYZ\n");
	schema_normalize(&b);
	assert_string_equal(b.ptr,
	    "--\n-- PostgreSQL database dump\n--\n\n"
	    "SET statement_timeout = 0;\n");
	buf_release(&b);
}

static void
test_diff_is_unified_and_empty_for_equal_texts(void **state)
{
	struct buf d = BUF_INIT;

	(void)state;
	assert_int_equal(schema_diff(&d, "a\nb\nc\n", "before", "a\nb\nc\n",
			     "after"),
	    0);
	assert_string_equal(d.ptr, "");
	assert_int_equal(schema_diff(&d, "a\nb\nc\n", "before",
			     "a\nb\nc\nCREATE INDEX i ON t (x);\n", "after"),
	    0);
	assert_string_equal(d.ptr,
	    "--- before\n"
	    "+++ after\n"
	    "@@ -1,3 +1,4 @@\n"
	    " a\n"
	    " b\n"
	    " c\n"
	    "+CREATE INDEX i ON t (x);\n");
	buf_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schema_compare_categories),
	    cmocka_unit_test(test_schema_verdict_names),
	    cmocka_unit_test(test_diff_is_unified_and_empty_for_equal_texts),
	    cmocka_unit_test(
		test_schema_normalize_drops_what_changes_between_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
