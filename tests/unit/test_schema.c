/*
 * test_schema.c - unit tests for normalising and comparing schema dumps
 * (src/schema.c), on texts shaped as pg_dump --schema-only writes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema.h"
#include "banned.h"

static const char dump[] =
    "--\n-- PostgreSQL database dump\n--\n\n"
    "\\restrict Ab3dEf9\n\n"
    "-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n"
    "-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)\n\n"
    "SET statement_timeout = 0;\n"
    "CREATE TABLE public.t (\n"
    "    id integer NOT NULL,\n"
    "    name text,\n"
    "    email text\n"
    ");\n"
    "\\unrestrict Ab3dEf9\n";

static void
test_normalize_drops_versions_and_restrict_lines(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, dump);
	schema_normalize(&b);
	assert_string_equal(b.ptr,
	    "--\n-- PostgreSQL database dump\n--\n\n\n\n"
	    "SET statement_timeout = 0;\n"
	    "CREATE TABLE public.t (\n"
	    "    id integer NOT NULL,\n"
	    "    name text,\n"
	    "    email text\n"
	    ");\n");
	/* a text without those lines is left as it is */
	buf_reset(&b);
	buf_puts(&b, "CREATE TABLE x ();\n-- Dumped elsewhere\nno newline");
	schema_normalize(&b);
	assert_string_equal(b.ptr,
	    "CREATE TABLE x ();\n-- Dumped elsewhere\nno newline");
	buf_release(&b);
}

static void
test_compare_categories(void **state)
{
	static const char a[] =
	    "CREATE TABLE public.t (\n"
	    "    id integer NOT NULL,\n"
	    "    name text,\n"
	    "    email text\n"
	    ");\n"
	    "CREATE VIEW public.v AS\n"
	    " SELECT t.id\n"
	    "  WHERE ('2026-11-23 10:00:00.123456'::timestamp "
	    "without time zone < now());\n";
	/* email dropped and added back: it comes back last */
	static const char reordered[] =
	    "CREATE TABLE public.t (\n"
	    "    id integer NOT NULL,\n"
	    "    email text,\n"
	    "    name text\n"
	    ");\n"
	    "CREATE VIEW public.v AS\n"
	    " SELECT t.id\n"
	    "  WHERE ('2026-11-23 10:00:00.123456'::"
	    "timestamp without time zone < now());\n";
	static const char frozen[] =
	    "CREATE TABLE public.t (\n"
	    "    id integer NOT NULL,\n"
	    "    name text,\n"
	    "    email text\n"
	    ");\n"
	    "CREATE VIEW public.v AS\n"
	    " SELECT t.id\n"
	    "  WHERE ('2026-11-23 10:00:07.9'::timestamp "
	    "without time zone < now());\n";
	static const char both[] = "CREATE TABLE public.t (\n"
				   "    id integer NOT NULL,\n"
				   "    email text,\n"
				   "    name text\n"
				   ");\n"
				   "CREATE VIEW public.v AS\n"
				   " SELECT t.id\n"
				   "  WHERE ('2026-11-24 11:00:00'::timestamp "
				   "without time zone < now());\n";
	static const char other[] = "CREATE TABLE public.t (\n"
				    "    id integer NOT NULL,\n"
				    "    name text\n"
				    ");\n";
	static const char index_left[] =
	    "CREATE TABLE public.t (\n"
	    "    id integer NOT NULL,\n"
	    "    name text,\n"
	    "    email text\n"
	    ");\n"
	    "CREATE VIEW public.v AS\n"
	    " SELECT t.id\n"
	    "  WHERE ('2026-11-23 10:00:00.123456'::timestamp "
	    "without time zone < now());\n"
	    "CREATE INDEX t_name ON public.t USING btree (name);\n";

	(void)state;
	assert_int_equal(schema_compare(a, a), SCHEMA_IDENTICAL);
	assert_int_equal(schema_compare(a, reordered), SCHEMA_COLUMN_ORDER);
	assert_int_equal(schema_compare(a, frozen), SCHEMA_FROZEN_NOW);
	assert_int_equal(schema_compare(a, both), SCHEMA_COLUMN_ORDER);
	assert_int_equal(schema_compare(a, other), SCHEMA_DIFFERS);
	assert_int_equal(schema_compare(a, index_left), SCHEMA_DIFFERS);
	/* a date that is not a frozen timestamp literal is a difference */
	assert_int_equal(schema_compare("COMMENT ON TABLE t IS '2026-11-23';\n",
			     "COMMENT ON TABLE t IS '2026-11-24';\n"),
	    SCHEMA_DIFFERS);
	assert_string_equal(schema_verdict_name(SCHEMA_IDENTICAL), "identical");
	assert_string_equal(schema_verdict_name(SCHEMA_COLUMN_ORDER),
	    "same-modulo-column-order");
	assert_string_equal(schema_verdict_name(SCHEMA_FROZEN_NOW),
	    "same-modulo-frozen-now-timestamps");
	assert_string_equal(schema_verdict_name(SCHEMA_DIFFERS), "differs");
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
	    cmocka_unit_test(test_normalize_drops_versions_and_restrict_lines),
	    cmocka_unit_test(test_compare_categories),
	    cmocka_unit_test(test_diff_is_unified_and_empty_for_equal_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
