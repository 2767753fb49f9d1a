/*
 * test_scan.c - unit tests for listing the migrations directory (src/scan.c).
 *
 * Each test builds a fixture tree under a fresh mkdtemp directory: the three
 * folders with forward and rollback files, pairs split across folders,
 * duplicates, an orphan rollback, files that are ignored (README, hidden
 * files) and strays (*.SQL, bad prefixes), then checks what scan_dir makes
 * of it: run order across prefix lengths, the folder masks of each file,
 * the strays with their reasons, the folders present, and the error codes
 * for a missing directory and an unreadable folder.  scan_find,
 * migration_folder, folder_count and scan_path are checked on the result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "scan.h"
#include "testutil.h"
#include "banned.h"

#define P (1u << FOLDER_PENDING)
#define A (1u << FOLDER_APPLIED)
#define R (1u << FOLDER_ARCHIVE)

/* Create each "folder/file" (empty content) under dir. */
static void
make_tree(const char *dir, const char *const *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *path = tu_path(dir, files[i]);

		assert_int_equal(tu_write_file(path, "SELECT 1;\n"), 0);
		free(path);
	}
}

static int
setup_dir(void **state)
{
	char *dir = tu_mkdtemp("migdir-scan");

	if (!dir)
		return -1;
	*state = dir;
	return 0;
}

static int
teardown_dir(void **state)
{
	char *dir = *state;

	tu_rmrf(dir);
	free(dir);
	return 0;
}

static const struct stray *
find_stray(const struct scan *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->nstrays; i++)
		if (!strcmp(s->strays[i].path, path))
			return &s->strays[i];
	return NULL;
}

static void
test_scan_pairs_files_and_sorts_them_in_run_order(void **state)
{
	static const char *const files[] = {
	    "archive/20220101_old.sql",
	    "archive/20220101_rollback_old.sql",
	    "applied/20230601_a.sql",
	    "applied/20230601_rollback_a.sql",
	    "applied/202306011200_b.sql",
	    "applied/20230602_split.sql",
	    "pending/20230602_rollback_split.sql",
	    "pending/20230603_c.sql",
	    "pending/20230603_rollback_c.sql",
	    "pending/20230605_dup.sql",
	    "applied/20230605_dup.sql",
	    "pending/20230606_rollback_orphan.sql",
	    "pending/20230601120000_a_later.sql",
	    "pending/202306010000_first.sql",
	};
	static const struct {
		const char *version;
		const char *stamp;
		unsigned fwd, rb;
		int folder;
	} want[] = {
	    {"20220101_old", "20220101000000", R, R, FOLDER_ARCHIVE},
	    /* same stamp: '0' sorts before '_' */
	    {"202306010000_first", "20230601000000", P, 0, FOLDER_PENDING},
	    {"20230601_a", "20230601000000", A, A, FOLDER_APPLIED},
	    {"20230601120000_a_later", "20230601120000", P, 0, FOLDER_PENDING},
	    {"202306011200_b", "20230601120000", A, 0, FOLDER_APPLIED},
	    {"20230602_split", "20230602000000", A, P, FOLDER_APPLIED},
	    {"20230603_c", "20230603000000", P, P, FOLDER_PENDING},
	    {"20230605_dup", "20230605000000", P | A, 0, FOLDER_PENDING},
	    {"20230606_orphan", "20230606000000", 0, P, FOLDER_PENDING},
	};
	const char *dir = *state;
	struct scan s;
	size_t i;

	make_tree(dir, files, sizeof(files) / sizeof(files[0]));
	assert_int_equal(scan_dir(&s, dir), 0);
	assert_string_equal(s.dir, dir);
	assert_int_equal(s.present, P | A | R);
	assert_int_equal(s.nstrays, 0);
	assert_int_equal(s.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < s.n; i++) {
		assert_string_equal(s.v[i].version, want[i].version);
		assert_string_equal(s.v[i].stamp, want[i].stamp);
		assert_int_equal(s.v[i].fwd, want[i].fwd);
		assert_int_equal(s.v[i].rb, want[i].rb);
		assert_int_equal(migration_folder(&s.v[i]), want[i].folder);
		assert_ptr_equal(scan_find(&s, want[i].version), &s.v[i]);
	}
	assert_null(scan_find(&s, "20230604_missing"));
	assert_null(scan_find(&s, "20990101_after_all"));
	assert_null(scan_find(&s, "19000101_before_all"));
	scan_release(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	scan_release(&s); /* safe on a zeroed struct */
}

static void
test_scan_ignores_other_files_and_lists_strays_with_reasons(void **state)
{
	static const char *const files[] = {
	    "pending/README.md",
	    "pending/.gitkeep",
	    "pending/.20230601_hidden.sql",
	    "pending/20230601_ok.sql",
	    "pending/20230601_rollback_ok.sql",
	    "pending/20230602_upper.SQL",
	    "applied/2023_short.sql",
	    "applied/notes.txt",
	    "archive/20230230_bad_date.sql",
	    "archive/20230601_Bad.sql",
	    "archive/20230601_rollback_rollback_x.sql",
	};
	static const struct {
		const char *path;
		const char *words;
	} want[] = {
	    {"pending/20230602_upper.SQL", "lowercase \".sql\""},
	    {"applied/2023_short.sql", "the prefix must be"},
	    {"archive/20230230_bad_date.sql", "real calendar date"},
	    {"archive/20230601_Bad.sql", "lowercase letters"},
	    {"archive/20230601_rollback_rollback_x.sql",
		"may not start with \"rollback_\""},
	};
	const char *dir = *state;
	struct scan s;
	size_t i;

	make_tree(dir, files, sizeof(files) / sizeof(files[0]));
	mg_error_clear();
	assert_int_equal(scan_dir(&s, dir), 0);
	/* strays are listed, not raised: no error is left behind */
	assert_null(mg_error_last()->message);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].version, "20230601_ok");
	assert_int_equal(s.v[0].fwd, P);
	assert_int_equal(s.v[0].rb, P);
	assert_int_equal(s.nstrays, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct stray *st = find_stray(&s, want[i].path);

		if (!st)
			fail_msg("stray %s not listed", want[i].path);
		if (!strstr(st->reason, want[i].words))
			fail_msg("%s: \"%s\" lacks \"%s\"", want[i].path,
			    st->reason, want[i].words);
	}
	/* strays are grouped by folder, in pending, applied, archive order */
	assert_int_equal(strncmp(s.strays[0].path, "pending/", 8), 0);
	assert_int_equal(strncmp(s.strays[1].path, "applied/", 8), 0);
	assert_int_equal(strncmp(s.strays[4].path, "archive/", 8), 0);
	scan_release(&s);
}

static void
test_scan_counts_missing_folders_as_empty(void **state)
{
	static const char *const files[] = {
	    "pending/20230601_only.sql",
	};
	const char *dir = *state;
	struct scan s;

	make_tree(dir, files, 1);
	assert_int_equal(scan_dir(&s, dir), 0);
	assert_int_equal(s.present, P);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].fwd, P);
	assert_int_equal(s.v[0].rb, 0);
	scan_release(&s);
}

static void
test_scan_of_an_empty_directory_finds_nothing(void **state)
{
	const char *dir = *state;
	struct scan s;

	assert_int_equal(scan_dir(&s, dir), 0);
	assert_int_equal(s.present, 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.nstrays, 0);
	assert_null(scan_find(&s, "20230601_x"));
	scan_release(&s);
}

static void
test_scan_of_a_missing_directory_is_not_found(void **state)
{
	const char *dir = *state;
	char *missing = tu_path(dir, "nope");
	char *file = tu_path(dir, "plain");
	struct scan s;

	mg_error_clear();
	assert_int_equal(scan_dir(&s, missing), MG_ENOTFOUND);
	assert_int_equal(mg_error_last()->code, MG_ENOTFOUND);
	assert_non_null(strstr(mg_error_last()->message, "not found"));
	assert_non_null(strstr(mg_error_last()->message, missing));
	scan_release(&s);

	/* a file where the directory should be: not found either */
	assert_int_equal(tu_write_file(file, "x"), 0);
	assert_int_equal(scan_dir(&s, file), MG_ENOTFOUND);
	scan_release(&s);
	mg_error_clear();
	free(missing);
	free(file);
}

static void
test_scan_of_an_unreadable_folder_is_an_error(void **state)
{
	const char *dir = *state;
	char *pending = tu_path(dir, "pending");
	struct scan s;

	/* a regular file named pending/: opendir fails with ENOTDIR */
	assert_int_equal(tu_write_file(pending, "not a folder"), 0);
	mg_error_clear();
	assert_int_equal(scan_dir(&s, dir), MG_ERROR);
	assert_non_null(
	    strstr(mg_error_last()->message, "could not open directory"));
	assert_non_null(strstr(mg_error_last()->message, "/pending"));
	scan_release(&s);
	mg_error_clear();
	free(pending);
}

static void
test_folder_count_counts_bits(void **state)
{
	static const struct {
		unsigned mask;
		int count;
	} cases[] = {
	    {0, 0},
	    {P, 1},
	    {A, 1},
	    {P | R, 2},
	    {P | A | R, 3},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(folder_count(cases[i].mask), cases[i].count);
}

static void
test_migration_folder_prefers_forward_then_lowest_folder(void **state)
{
	static const struct {
		unsigned fwd, rb;
		int folder;
	} cases[] = {
	    {P, P, FOLDER_PENDING},
	    {A, P, FOLDER_APPLIED},
	    {A | R, 0, FOLDER_APPLIED},
	    {0, R, FOLDER_ARCHIVE},
	    {0, A | R, FOLDER_APPLIED},
	    {0, 0, -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct migration m = {0};

		m.fwd = cases[i].fwd;
		m.rb = cases[i].rb;
		assert_int_equal(migration_folder(&m), cases[i].folder);
	}
}

static void
test_scan_path_names_forward_and_rollback_files(void **state)
{
	static const struct {
		int folder;
		enum name_kind kind;
		const char *want;
	} cases[] = {
	    {FOLDER_PENDING, NAME_FORWARD, "m/pending/20230601_x.sql"},
	    {FOLDER_APPLIED, NAME_ROLLBACK,
		"m/applied/20230601_rollback_x.sql"},
	    {FOLDER_ARCHIVE, NAME_FORWARD, "m/archive/20230601_x.sql"},
	};
	size_t i;

	(void)state;
	assert_string_equal(folder_name[FOLDER_PENDING], "pending");
	assert_string_equal(folder_name[FOLDER_APPLIED], "applied");
	assert_string_equal(folder_name[FOLDER_ARCHIVE], "archive");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		scan_path(&b, "m", cases[i].folder, "20230601_x",
		    cases[i].kind);
		assert_string_equal(b.ptr, cases[i].want);
		buf_release(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_scan_pairs_files_and_sorts_them_in_run_order, setup_dir,
		teardown_dir),
	    cmocka_unit_test_setup_teardown(
		test_scan_ignores_other_files_and_lists_strays_with_reasons,
		setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(
		test_scan_counts_missing_folders_as_empty, setup_dir,
		teardown_dir),
	    cmocka_unit_test_setup_teardown(
		test_scan_of_an_empty_directory_finds_nothing, setup_dir,
		teardown_dir),
	    cmocka_unit_test_setup_teardown(
		test_scan_of_a_missing_directory_is_not_found, setup_dir,
		teardown_dir),
	    cmocka_unit_test_setup_teardown(
		test_scan_of_an_unreadable_folder_is_an_error, setup_dir,
		teardown_dir),
	    cmocka_unit_test(test_folder_count_counts_bits),
	    cmocka_unit_test(
		test_migration_folder_prefers_forward_then_lowest_folder),
	    cmocka_unit_test(test_scan_path_names_forward_and_rollback_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
