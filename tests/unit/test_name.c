/*
 * test_name.c - unit tests for migration file names (src/name.c).
 *
 * Covers name_parse on forward and rollback names with each prefix length
 * (8, 12, 14 digits), on names that are silently not migrations (no .sql
 * suffix, hidden files) and on every way a *.sql name can be wrong (case
 * of the extension, missing or short prefix, impossible dates and clock
 * times including leap years, empty or illegal descriptions, a doubled
 * "rollback_", overlong names), each with the key words of its message;
 * the run order of name_cmp and name_stamp; the file names built from a
 * version; description normalisation for `migdir new`; and name_is_version,
 * which must leave no error behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "error.h"
#include "name.h"
#include "banned.h"

static void
test_name_parse_accepts_forward_and_rollback_names(void **state)
{
	static const struct {
		const char *file;
		enum name_kind kind;
		const char *stamp;
		size_t prefix_len;
		const char *version;
		const char *desc;
	} cases[] = {
	    {"20230601_add_email_templates.sql", NAME_FORWARD, "20230601000000",
		8, "20230601_add_email_templates", "add_email_templates"},
	    {"20230601_rollback_add_email_templates.sql", NAME_ROLLBACK,
		"20230601000000", 8, "20230601_add_email_templates",
		"add_email_templates"},
	    {"202306011230_x.sql", NAME_FORWARD, "20230601123000", 12,
		"202306011230_x", "x"},
	    {"202306011230_rollback_x.sql", NAME_ROLLBACK, "20230601123000", 12,
		"202306011230_x", "x"},
	    {"20230601123045_a1_b2.sql", NAME_FORWARD, "20230601123045", 14,
		"20230601123045_a1_b2", "a1_b2"},
	    {"20240229_leap_day.sql", NAME_FORWARD, "20240229000000", 8,
		"20240229_leap_day", "leap_day"},
	    {"20000229_leap_century.sql", NAME_FORWARD, "20000229000000", 8,
		"20000229_leap_century", "leap_century"},
	    {"20231231235959_last_second.sql", NAME_FORWARD, "20231231235959",
		14, "20231231235959_last_second", "last_second"},
	    {"19000101_oldest.sql", NAME_FORWARD, "19000101000000", 8,
		"19000101_oldest", "oldest"},
	    {"20230601_rollbacks.sql", NAME_FORWARD, "20230601000000", 8,
		"20230601_rollbacks", "rollbacks"},
	    {"20230601___.sql", NAME_FORWARD, "20230601000000", 8,
		"20230601___", "__"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct name n;

		assert_int_equal(name_parse(&n, cases[i].file), 0);
		assert_int_equal(n.kind, cases[i].kind);
		assert_string_equal(n.stamp, cases[i].stamp);
		assert_int_equal(n.prefix_len, cases[i].prefix_len);
		assert_string_equal(n.version, cases[i].version);
		assert_string_equal(n.desc, cases[i].desc);
		/* desc points inside version, not at a copy */
		assert_ptr_equal(n.desc, n.version + n.prefix_len + 1);
	}
}

static void
test_name_parse_ignores_files_that_are_not_meant_as_migrations(void **state)
{
	static const char *const files[] = {
	    "README.md",
	    ".gitkeep",
	    ".20230601_hidden.sql",
	    ".sql",
	    "20230601_x.sql~",
	    "20230601_x.sql.orig",
	    "notes.txt",
	    "sql",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct name n;

		mg_error_clear();
		assert_int_equal(name_parse(&n, files[i]), MG_ENOTFOUND);
		/* silent: no message for callers to print */
		assert_null(mg_error_last()->message);
	}
}

static void
test_name_parse_rejects_mistyped_sql_names_with_a_reason(void **state)
{
	static const struct {
		const char *file;
		const char *words; /* must occur in the message */
	} cases[] = {
	    {"20230601_x.SQL", "lowercase \".sql\""},
	    {"20230601_x.Sql", "lowercase \".sql\""},
	    {"add_x.sql", "starts with YYYYMMDD_"},
	    {"20230601.sql", "starts with YYYYMMDD_"},
	    {"20230601x.sql", "starts with YYYYMMDD_"},
	    {"20230601-x.sql", "starts with YYYYMMDD_"},
	    {"_x.sql", "starts with YYYYMMDD_"},
	    {"2023061_x.sql", "YYYYMMDDHHMM"},
	    {"202306011_x.sql", "the prefix must be"},
	    {"2023060112345_x.sql", "the prefix must be"},
	    {"202306011234567_x.sql", "the prefix must be"},
	    {"20230230_x.sql", "real calendar date"},
	    {"20230229_x.sql", "real calendar date"},
	    {"19000229_x.sql", "real calendar date"},
	    {"18991231_x.sql", "real calendar date"},
	    {"20231301_x.sql", "real calendar date"},
	    {"20230001_x.sql", "real calendar date"},
	    {"20230600_x.sql", "real calendar date"},
	    {"20230431_x.sql", "real calendar date"},
	    {"202306012400_x.sql", "real clock time"},
	    {"202306011260_x.sql", "real clock time"},
	    {"20230601235960_x.sql", "real clock time"},
	    {"20230601_.sql", "description after the prefix is empty"},
	    {"20230601_rollback_.sql", "description after the prefix is empty"},
	    {"20230601_Add_x.sql", "lowercase letters, digits"},
	    {"20230601_add-x.sql", "lowercase letters, digits"},
	    {"20230601_add x.sql", "lowercase letters, digits"},
	    {"20230601_caf\xc3\xa9.sql", "lowercase letters, digits"},
	    {"20230601_x.sql.sql", "lowercase letters, digits"},
	    {"20230601_rollback_rollback_x.sql",
		"may not start with \"rollback_\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct name n;

		mg_error_clear();
		assert_int_equal(name_parse(&n, cases[i].file), MG_ERROR);
		assert_int_equal(mg_error_last()->code, MG_ERROR);
		assert_non_null(mg_error_last()->message);
		if (!strstr(mg_error_last()->message, cases[i].words))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].file,
			    mg_error_last()->message, cases[i].words);
	}
	mg_error_clear();
}

static void
test_name_parse_limits_the_version_to_its_maximum_length(void **state)
{
	char file[NAME_MAX_VERSION + 16];
	struct name n;
	size_t desc_len;

	(void)state;
	/* exactly NAME_MAX_VERSION characters of version: accepted */
	desc_len = NAME_MAX_VERSION - 9;
	memcpy(file, "20230601_", 9);
	memset(file + 9, 'a', desc_len);
	memcpy(file + 9 + desc_len, ".sql", 5);
	assert_int_equal(name_parse(&n, file), 0);
	assert_int_equal(strlen(n.version), NAME_MAX_VERSION);

	/* one more: refused, not truncated */
	memset(file + 9, 'a', desc_len + 1);
	memcpy(file + 9 + desc_len + 1, ".sql", 5);
	mg_error_clear();
	assert_int_equal(name_parse(&n, file), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "longer than 200"));
	mg_error_clear();
}

static void
test_name_cmp_orders_by_normalised_stamp_then_bytes(void **state)
{
	static const struct {
		const char *a, *b;
		int sign; /* -1: a runs first, 0: same, 1: b runs first */
	} cases[] = {
	    {"20230601_a", "20230601_b", -1},
	    {"20230601_b", "20230601_a", 1},
	    {"20230601_a", "20230601_a", 0},
	    {"20230601_z", "20230602_a", -1},
	    {"20230601235959_z", "20230602_a", -1},
	    {"202306011200_a", "20230601_z", 1},
	    {"20230601120000_a", "202306011200_b", -1},
	    /* same stamp: the whole version bytewise ('0' < '_') */
	    {"202306010000_a", "20230601_b", -1},
	    {"20230601000000_x", "202306010000_x", -1},
	    {"20230601_add", "20230601_add_more", -1},
	    {"20991231_last", "20000101_first", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int c = name_cmp(cases[i].a, cases[i].b);
		int sign = (c > 0) - (c < 0);

		if (sign != cases[i].sign)
			fail_msg("name_cmp(%s, %s) = %d, want sign %d",
			    cases[i].a, cases[i].b, c, cases[i].sign);
	}
}

static void
test_name_stamp_pads_valid_prefixes_and_zeroes_others(void **state)
{
	static const struct {
		const char *version;
		const char *stamp;
	} cases[] = {
	    {"20230601_x", "20230601000000"},
	    {"202306011230_x", "20230601123000"},
	    {"20230601123045_x", "20230601123045"},
	    {"2023060_x", "00000000000000"},
	    {"202306011_x", "00000000000000"},
	    {"x_20230601", "00000000000000"},
	    {"", "00000000000000"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[NAME_STAMP_LEN + 1];

		name_stamp(out, cases[i].version);
		assert_string_equal(out, cases[i].stamp);
	}
}

static void
test_name_files_are_built_from_the_version(void **state)
{
	static const struct {
		const char *version;
		const char *forward;
		const char *rollback;
	} cases[] = {
	    {"20230601_add_email_templates", "20230601_add_email_templates.sql",
		"20230601_rollback_add_email_templates.sql"},
	    {"20230601123045_x", "20230601123045_x.sql",
		"20230601123045_rollback_x.sql"},
	    {"202306011230_a_b_c", "202306011230_a_b_c.sql",
		"202306011230_rollback_a_b_c.sql"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		struct name n;

		buf_puts(&b, "dir/");
		name_forward_file(&b, cases[i].version);
		assert_string_equal(b.ptr + 4, cases[i].forward);
		buf_reset(&b);
		name_rollback_file(&b, cases[i].version);
		assert_string_equal(b.ptr, cases[i].rollback);
		/* and the rollback name parses back to the version */
		assert_int_equal(name_parse(&n, b.ptr), 0);
		assert_int_equal(n.kind, NAME_ROLLBACK);
		assert_string_equal(n.version, cases[i].version);
		buf_release(&b);
	}
}

static void
test_name_normalize_description_accepts_what_a_user_types(void **state)
{
	static const struct {
		const char *typed;
		const char *want;
	} cases[] = {
	    {"add_email_templates", "add_email_templates"},
	    {"Add Email-Templates", "add_email_templates"},
	    {"x1 2", "x1_2"},
	    {"UPPER", "upper"},
	    {"rollbacks", "rollbacks"},
	    {"undo rollback", "undo_rollback"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		buf_puts(&b, "stale");
		assert_int_equal(name_normalize_description(&b, cases[i].typed),
		    0);
		assert_string_equal(b.ptr, cases[i].want);
		buf_release(&b);
	}
}

static void
test_name_normalize_description_refuses_unsafe_text(void **state)
{
	static const struct {
		const char *typed;
		const char *words;
	} cases[] = {
	    {"it's", "character ''' is not allowed"},
	    {"a;b", "character ';' is not allowed"},
	    {"a/b", "character '/' is not allowed"},
	    {"drop\"table", "character '\"' is not allowed"},
	    {"a.b", "character '.' is not allowed"},
	    {"caf\xc3\xa9", "non-ASCII"},
	    {"", "the description is empty"},
	    {"rollback", "may not start with \"rollback\""},
	    {"Rollback users", "may not start with \"rollback\""},
	    {"rollback-users", "may not start with \"rollback\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		mg_error_clear();
		assert_int_equal(name_normalize_description(&b, cases[i].typed),
		    MG_ERROR);
		if (!strstr(mg_error_last()->message, cases[i].words))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].typed,
			    mg_error_last()->message, cases[i].words);
		buf_release(&b);
	}
	mg_error_clear();
}

static void
test_name_is_version_accepts_forward_versions_only(void **state)
{
	static const struct {
		const char *version;
		int ok;
	} cases[] = {
	    {"20230601_add_email_templates", 1},
	    {"202306011230_x", 1},
	    {"20230601123045_x", 1},
	    {"20230601_rollback_add_email_templates", 0},
	    {"20230601_Add", 0},
	    {"20230230_x", 0},
	    {"20230601_x.sql", 0},
	    {"20230601", 0},
	    {"x", 0},
	    {"", 0},
	    {"../20230601_x", 0},
	    {"20230601_x'; drop table t; --", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_error_clear();
		if (name_is_version(cases[i].version) != cases[i].ok)
			fail_msg("name_is_version(\"%s\") != %d",
			    cases[i].version, cases[i].ok);
		/* a plain question: it leaves no error behind */
		assert_int_equal(mg_error_last()->code, MG_OK);
		assert_null(mg_error_last()->message);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_name_parse_accepts_forward_and_rollback_names),
	    cmocka_unit_test(
		test_name_parse_ignores_files_that_are_not_meant_as_migrations),
	    cmocka_unit_test(
		test_name_parse_rejects_mistyped_sql_names_with_a_reason),
	    cmocka_unit_test(
		test_name_parse_limits_the_version_to_its_maximum_length),
	    cmocka_unit_test(
		test_name_cmp_orders_by_normalised_stamp_then_bytes),
	    cmocka_unit_test(
		test_name_stamp_pads_valid_prefixes_and_zeroes_others),
	    cmocka_unit_test(test_name_files_are_built_from_the_version),
	    cmocka_unit_test(
		test_name_normalize_description_accepts_what_a_user_types),
	    cmocka_unit_test(
		test_name_normalize_description_refuses_unsafe_text),
	    cmocka_unit_test(
		test_name_is_version_accepts_forward_versions_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
