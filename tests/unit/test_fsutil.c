/*
 * test_fsutil.c - unit tests for file work (src/fsutil.c).
 *
 * fs_read of present, missing and directory paths; fs_create never
 * overwrites and leaves no partial file; fs_move refuses to replace a file
 * and creates a missing destination folder; fs_sync_dir; and the lock file:
 * a second holder (another process) waits and then gives up with the
 * first holder's description, a crashed holder leaves no lock behind, and
 * release removes the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "report.h"
#include "testutil.h"
#include "banned.h"

static char *dir;

static int
setup(void **state)
{
	(void)state;
	dir = tu_mkdtemp("migdir-fsutil");
	rp_setup(-1, 0);
	return dir ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmrf(dir);
	free(dir);
	return 0;
}

static void
test_fsutil_read_gives_contents_or_says_why_not(void **state)
{
	struct buf b = BUF_INIT;
	char *f = tu_path(dir, "read.sql"), *d = tu_path(dir, "a_dir.sql");

	(void)state;
	assert_int_equal(tu_write_file(f, "SELECT 1;\n"), 0);
	assert_int_equal(fs_read(&b, f), 0);
	assert_string_equal(b.ptr, "SELECT 1;\n");
	assert_int_equal(b.len, 10);
	assert_int_equal(fs_read(&b, "/nonexistent/x.sql"), MG_ENOTFOUND);
	assert_non_null(strstr(mg_error_last()->message, "does not exist"));
	assert_int_equal(tu_mkdirs(d), 0);
	assert_int_equal(fs_read(&b, d), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "Is a directory"));
	mg_error_clear();
	buf_release(&b);
	free(f);
	free(d);
}

static void
test_fsutil_create_never_overwrites(void **state)
{
	struct buf b = BUF_INIT;
	char *f = tu_path(dir, "new.sql");

	(void)state;
	assert_int_equal(fs_create(f, "one", 3), 0);
	assert_int_equal(fs_create(f, "two", 3), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "already exists"));
	assert_int_equal(fs_read(&b, f), 0);
	assert_string_equal(b.ptr, "one");
	assert_int_equal(fs_create("/nonexistent/dir/x", "x", 1), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "could not create"));
	mg_error_clear();
	buf_release(&b);
	free(f);
}

static void
test_fsutil_move_refuses_to_replace_and_makes_the_folder(void **state)
{
	char *a = tu_path(dir, "a.sql"), *b = tu_path(dir, "b.sql");
	char *c = tu_path(dir, "newfolder/a.sql");
	char *none = tu_path(dir, "none.sql");

	(void)state;
	assert_int_equal(tu_write_file(a, "a"), 0);
	assert_int_equal(tu_write_file(b, "b"), 0);
	assert_int_equal(fs_move(a, b), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "already exists"));
	assert_true(fs_exists(a));
	assert_int_equal(fs_move(a, c), 0);
	assert_false(fs_exists(a));
	assert_true(fs_exists(c));
	assert_int_equal(fs_move(none, a), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "could not move"));
	assert_int_equal(fs_sync_dir(dir), 0);
	assert_int_equal(fs_sync_dir("/nonexistent"), MG_ERROR);
	assert_int_equal(fs_mkdir(dir), 0); /* exists: fine */
	mg_error_clear();
	free(a);
	free(b);
	free(c);
	free(none);
}

/* Hold the lock in a child until killed; returns its pid. */
static pid_t
hold_in_child(const char *path)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fs_lock *l;

		close(ready[0]);
		if (fs_lock(&l, path, "apply", 1000) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void
test_fsutil_lock_waits_gives_up_and_survives_a_crash(void **state)
{
	char *path = tu_path(dir, ".migdir.lock");
	struct fs_lock *l = NULL;
	pid_t pid;
	int status;

	(void)state;
	pid = hold_in_child(path);
	assert_int_equal(fs_lock(&l, path, "rollback", 200), MG_ELOCKED);
	assert_null(l);
	assert_non_null(strstr(mg_error_last()->message,
	    "another migdir is working in this directory"));
	assert_non_null(strstr(mg_error_last()->message, "migdir apply"));
	/* the holder dies without unlocking: the lock goes with it */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(fs_lock(&l, path, "rollback", 200), 0);
	assert_non_null(l);
	fs_unlock(l);
	assert_false(fs_exists(path));
	fs_unlock(NULL);
	mg_error_clear();
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fsutil_read_gives_contents_or_says_why_not),
	    cmocka_unit_test(test_fsutil_create_never_overwrites),
	    cmocka_unit_test(
		test_fsutil_move_refuses_to_replace_and_makes_the_folder),
	    cmocka_unit_test(
		test_fsutil_lock_waits_gives_up_and_survives_a_crash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
