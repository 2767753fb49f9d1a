/*
 * test_proc.c - unit tests for running programs (src/proc.c).
 *
 * Real programs, no shell in proc.c itself (the tests use sh to make
 * programs that misbehave): output captured on both streams, exit codes
 * and signals, a program that does not exist, one that cannot be run,
 * standard input at end of file, and more output on both pipes than a
 * pipe holds, which must not dead-lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "proc.h"
#include "testutil.h"
#include "banned.h"

static void
test_output_and_exit_status(void **state)
{
	const char *argv[] = {"sh", "-c",
	    "printf 'out\\n'; printf 'err\\n' >&2; "
	    "exit 3",
	    NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out.ptr, "out\n");
	assert_string_equal(r.err.ptr, "err\n");
	proc_result_release(&r);
}

static void
test_arguments_are_not_interpreted(void **state)
{
	const char *argv[] = {"printf", "%s|", "a b", "$HOME", "'q'", ";ls",
	    NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.ptr, "a b|$HOME|'q'|;ls|");
	proc_result_release(&r);
}

static void
test_a_signal_is_128_plus_its_number(void **state)
{
	const char *argv[] = {"sh", "-c", "kill -9 $$", NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), 0);
	assert_int_equal(r.status, 128 + 9);
	proc_result_release(&r);
}

static void
test_a_missing_program_is_not_found(void **state)
{
	const char *argv[] = {"/nonexistent/pg_dump", "--version", NULL};
	const char *bare[] = {"migdir-no-such-program", NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), MG_ENOTFOUND);
	assert_non_null(
	    strstr(mg_error_last()->message, "/nonexistent/pg_dump"));
	proc_result_release(&r);
	assert_int_equal(proc_run(&r, bare), MG_ENOTFOUND);
	proc_result_release(&r);
	mg_error_clear();
}

static void
test_a_file_that_cannot_run_is_an_error(void **state)
{
	char *dir = tu_mkdtemp("migdir-proc"), *path;
	const char *argv[2] = {NULL, NULL};
	struct proc_result r;

	(void)state;
	assert_non_null(dir);
	path = tu_path(dir, "not-executable");
	assert_int_equal(tu_write_file(path, "#!/bin/sh\n"), 0);
	argv[0] = path;
	assert_int_equal(proc_run(&r, argv), MG_ERROR);
	proc_result_release(&r);
	mg_error_clear();
	tu_rmrf(dir);
	free(path);
	free(dir);
}

static void
test_standard_input_is_empty(void **state)
{
	const char *argv[] = {"cat", NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 0);
	proc_result_release(&r);
}

static void
test_much_output_on_both_streams(void **state)
{
	const char *argv[] = {"sh", "-c",
	    "head -c 300000 /dev/zero >&2; head -c 500000 /dev/zero", NULL};
	struct proc_result r;

	(void)state;
	assert_int_equal(proc_run(&r, argv), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 500000);
	assert_int_equal(r.err.len, 300000);
	proc_result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_and_exit_status),
	    cmocka_unit_test(test_arguments_are_not_interpreted),
	    cmocka_unit_test(test_a_signal_is_128_plus_its_number),
	    cmocka_unit_test(test_a_missing_program_is_not_found),
	    cmocka_unit_test(test_a_file_that_cannot_run_is_an_error),
	    cmocka_unit_test(test_standard_input_is_empty),
	    cmocka_unit_test(test_much_output_on_both_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
