/*
 * test_hostile.c - hostile and broken input, end to end.
 *
 * Symbolic links in the migrations folders, names with control
 * characters and invalid UTF-8, `new` with a path or nothing in it, NUL
 * bytes and invalid UTF-8 in SQL, a schema_versions table altered by
 * hand, a repository in the middle of a merge, rebase or am, with
 * index.lock, detached, shallow, or with commit hooks.  Each refusal must
 * be one clear line, exit 1 (2 for a bad argument), and change nothing:
 * snapshot() records the folders (with file types), git status, HEAD,
 * the rows and shape of schema_versions and a side-effect table before
 * and after, and the two must be equal.  Nothing is mocked.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

/* Each pending migration of the tests adds a row here when it runs. */
#define SIDE "INSERT INTO side VALUES (1);\n"

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of one folder, sorted, each with its type (l, d or f). */
static void
list_folder(struct proj *p, const char *rel, char **out)
{
	char *path = tu_path(p->dir, rel), *names[512], *acc;
	size_t n = 0, i;
	struct dirent *de;
	DIR *d = opendir(path);

	acc = tu_asprintf("%s%s:", *out, rel);
	free(*out);
	*out = acc;
	if (!d) {
		free(path);
		return;
	}
	while ((de = readdir(d)) && n < 512) {
		char *full = tu_path(path, de->d_name);
		struct stat st;
		char t = '?';

		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] ||
			(de->d_name[1] == '.' && !de->d_name[2]))) {
			free(full);
			continue;
		}
		if (lstat(full, &st) == 0)
			t = S_ISLNK(st.st_mode)   ? 'l'
			    : S_ISDIR(st.st_mode) ? 'd'
						  : 'f';
		names[n++] = tu_asprintf("%c %s", t, de->d_name);
		free(full);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		acc = tu_asprintf("%s [%s]", *out, names[i]);
		free(*out);
		free(names[i]);
		*out = acc;
	}
	acc = tu_asprintf("%s\n", *out);
	free(*out);
	*out = acc;
	free(path);
}

static char *
or_none(char *s)
{
	return s ? s : tu_asprintf("(none)");
}

/* Everything a refusal must leave as it was. */
static char *
snapshot(struct proj *p)
{
	char *s = tu_asprintf("%s", ""), *status, *head, *rows, *shape, *side,
	     *r;

	list_folder(p, "migrations", &s);
	list_folder(p, "migrations/pending", &s);
	list_folder(p, "migrations/applied", &s);
	list_folder(p, "migrations/archive", &s);
	status = or_none(sc_git(p, "status --porcelain --untracked-files=all"));
	head = or_none(sc_git(p, "rev-parse HEAD"));
	shape = or_none(sc_psql(p,
	    "SELECT coalesce(string_agg(attname || ':' || "
	    "format_type(atttypid, NULL), ',' ORDER BY attnum), '') || "
	    "' indexes ' || (SELECT count(*) FROM pg_index WHERE indrelid = "
	    "to_regclass('schema_versions')) FROM pg_attribute WHERE "
	    "attrelid = to_regclass('schema_versions') AND attnum > 0 AND "
	    "NOT attisdropped"));
	rows = strstr(shape, " indexes") == shape
	    ? tu_asprintf("(no table)")
	    : or_none(sc_psql(p,
		  "SELECT string_agg(t::text, ';' ORDER BY t::text) FROM "
		  "schema_versions t"));
	side = or_none(sc_psql(p,
	    "SELECT CASE WHEN to_regclass('side') IS NULL THEN -1 ELSE "
	    "(xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n "
	    "FROM side', false, false, '')))[1]::text::int END"));
	r = tu_asprintf("%sgit status: %s\nHEAD: %s\nshape: %s\nrows: %s\n"
			"side: %s\n",
	    s, status, head, shape, rows, side);
	free(s);
	free(status);
	free(head);
	free(shape);
	free(rows);
	free(side);
	return r;
}

/*
 * Run migdir with the arguments (up to four, NULL-terminated), expect exit
 * status want, its output holding `needle`, no raw control character, and
 * nothing changed.  Returns the run.
 */
static struct tu_run *
refused_argv(struct proj *p, int want, const char *needle,
    const char *const *argv)
{
	char *before = snapshot(p), *after;
	struct tu_run *r;

	r = sc_migdir(p, NULL, argv[0], argv[1], argv[2], argv[3], NULL);
	sc_expect_status(r, want, argv[0]);
	/* check reports on stdout, the others on stderr */
	if (!strstr(r->out, needle))
		sc_expect_contains(r->err, needle);
	/* never a raw control character on the terminal */
	{
		const char *c;

		for (c = r->err; *c; c++)
			assert_true((unsigned char)*c >= 0x20 || *c == '\n' ||
			    *c == '\t');
		for (c = r->out; *c; c++)
			assert_true((unsigned char)*c >= 0x20 || *c == '\n' ||
			    *c == '\t');
	}
	after = snapshot(p);
	assert_string_equal(before, after);
	free(before);
	free(after);
	return r;
}

/* refused_argv for a command of up to three words. */
static void
refused(struct proj *p, int want, const char *needle, const char *a,
    const char *b, const char *c)
{
	const char *argv[4] = {a, b, c, NULL};

	sc_run_free(refused_argv(p, want, needle, argv));
}

/* Every command that reads the folders or the table refuses. */
static void
all_refuse(struct proj *p, const char *needle)
{
	refused(p, 1, needle, "status", NULL, NULL);
	refused(p, 1, needle, "plan", NULL, NULL);
	refused(p, 1, needle, "apply", NULL, NULL);
	refused(p, 1, needle, "--yes", "rollback", "--force");
	refused(p, 1, needle, "repair", NULL, NULL);
}

/* Run SQL that must succeed (the output is not wanted). */
static void
psql_ok(struct proj *p, const char *sql)
{
	char *out = sc_psql(p, "%s", sql);

	assert_non_null(out);
	free(out);
}

/* A project with one applied migration and one pending, and table side. */
static struct proj *
hostile_project(const char *name)
{
	struct proj *p = sc_project(name, NULL);
	struct tu_run *r;

	psql_ok(p, "CREATE TABLE side (n int)");
	sc_pair(p, "pending", "20230101_a", "CREATE TABLE a (id int);\n",
	    "DROP TABLE a;\n");
	sc_commit(p, "a");
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply");
	sc_run_free(r);
	sc_pair(p, "pending", "20230102_b", SIDE, "DELETE FROM side;\n");
	sc_commit(p, "b");
	return p;
}

static void
test_symlinked_migration_files_are_refused_by_every_command(void **state)
{
	struct proj *p = hostile_project("symfile");
	char *outside = tu_path(p->tmp, "outside.sql");
	char *link = tu_path(p->dir, "migrations/pending/20230103_c.sql");
	char *rb =
	    tu_path(p->dir, "migrations/pending/20230103_rollback_c.sql");
	struct tu_run *r;
	const char *argv[] = {"check", NULL, NULL, NULL};

	(void)state;
	assert_int_equal(tu_write_file(outside, "CREATE TABLE outside ();\n"),
	    0);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(symlink("/etc/passwd", rb), 0);
	all_refuse(p,
	    "/20230103_c.sql is a symbolic link: migdir moves and commits "
	    "files, not links");
	r = refused_argv(p, 1, "is a symbolic link", argv);
	/* the content behind the link is never shown */
	assert_null(strstr(r->err, "root:"));
	assert_null(strstr(r->out, "root:"));
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_tables WHERE "
			     "tablename = 'outside'"),
	    0);
	free(outside);
	free(link);
	free(rb);
	sc_free(p);
}

static void
test_symlinked_applied_file_and_folder_are_refused(void **state)
{
	struct proj *p = hostile_project("symdir");
	char *elsewhere = tu_path(p->tmp, "elsewhere");
	char *from = tu_path(p->dir, "migrations/applied/20230101_a.sql");
	char *copy = tu_path(p->tmp, "a.sql");
	char *pending = tu_path(p->dir, "migrations/pending");

	(void)state;
	/* an applied file replaced by a link to the same text */
	assert_int_equal(rename(from, copy), 0);
	assert_int_equal(symlink(copy, from), 0);
	all_refuse(p, "migrations/applied/20230101_a.sql is a symbolic link");
	assert_int_equal(unlink(from), 0);
	assert_int_equal(rename(copy, from), 0);
	/* pending/ itself a link to a folder outside the repository */
	assert_int_equal(rename(pending, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, pending), 0);
	all_refuse(p,
	    "migrations/pending is a symbolic link: migdir moves and commits "
	    "directories, not links");
	free(elsewhere);
	free(from);
	free(copy);
	free(pending);
	sc_free(p);
}

static void
test_names_with_control_characters_are_escaped_never_echoed(void **state)
{
	struct proj *p = hostile_project("ctlnames");
	struct tu_run *r;

	(void)state;
	sc_write(p, "migrations/pending/20230104_a\033[2Jb.sql", SIDE);
	sc_write(p, "migrations/pending/20230105_\377\376.sql", SIDE);
	sc_write(p, "migrations/pending/x\ny.sql", SIDE);
	refused(p, 1, "migrations/pending/20230104_a\\x1b[2Jb.sql", "apply",
	    NULL, NULL);
	refused(p, 1, "migrations/pending/20230105_\\xff\\xfe.sql", "apply",
	    NULL, NULL);
	refused(p, 1, "migrations/pending/x\\x0ay.sql", "apply", NULL, NULL);
	/* status lists them, escaped, on stdout and in JSON */
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_status(r, 0, "status");
	sc_expect_contains(r->out, "20230104_a\\x1b[2Jb.sql");
	assert_null(strchr(r->out, '\033'));
	assert_null(strstr(r->out, "\377"));
	sc_run_free(r);
	r = sc_migdir(p, NULL, "--json", "status", NULL);
	sc_expect_status(r, 0, "status --json");
	sc_expect_contains(r->out, "\"pending/20230105_\\\\xff\\\\xfe.sql\"");
	sc_expect_contains(r->out, "\"pending/x\\\\x0ay.sql\"");
	sc_run_free(r);
	sc_free(p);
}

static void
test_new_refuses_paths_controls_and_empty_descriptions(void **state)
{
	struct proj *p = sc_project("newbad", NULL);
	char long_desc[300];

	(void)state;
	memset(long_desc, 'a', sizeof(long_desc) - 1);
	long_desc[sizeof(long_desc) - 1] = '\0';
	refused(p, 2,
	    "invalid description \"../../x\": character '.' is "
	    "not allowed",
	    "new", "../../x", NULL);
	refused(p, 2, "character '/' is not allowed", "new", "a/b", NULL);
	refused(p, 2, "the description is empty", "new", "", NULL);
	refused(p, 2, "invalid description \"a\\x1b[2Jb\"", "new", "a\033[2Jb",
	    NULL);
	refused(p, 2, "non-ASCII characters are not allowed", "new", "caf\351",
	    NULL);
	refused(p, 2, "the description \" - \" has no letter or digit", "new",
	    " - ", NULL);
	refused(p, 2, "the description is too long", "new", long_desc, NULL);
	sc_free(p);
}

static void
test_nul_byte_and_invalid_utf8_stop_everything_at_file_line_col(void **state)
{
	struct proj *p = hostile_project("badbytes");
	char *path = tu_path(p->dir, "migrations/pending/20230103_nul.sql");
	FILE *f;

	(void)state;
	/* NUL: tu_write_file stops at it, so write the bytes by hand */
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite("SELECT 1;\nSELECT\0 2;\n", 1, 21, f), 21);
	assert_int_equal(fclose(f), 0);
	sc_write(p, "migrations/pending/20230103_rollback_nul.sql",
	    "SELECT 1;\n");
	sc_commit(p, "nul");
	refused(p, 1,
	    "migrations/pending/20230103_nul.sql:2:7: the file holds a NUL "
	    "byte",
	    "plan", NULL, NULL);
	refused(p, 1, "migrations/pending/20230103_nul.sql:2:7", "apply", NULL,
	    NULL);
	refused(p, 1, "2:7     error: cannot-run  the file holds a NUL byte",
	    "check", NULL, NULL);
	assert_int_equal(unlink(path), 0);
	sc_write(p, "migrations/pending/20230103_nul.sql",
	    "-- Latin-1, not UTF-8\nCOMMENT ON TABLE side IS 'caf\351';\n");
	sc_commit(p, "latin1");
	refused(p, 1,
	    "migrations/pending/20230103_nul.sql:2:30: invalid UTF-8: byte "
	    "0xe9 cannot start or continue a character",
	    "plan", NULL, NULL);
	refused(p, 1, "hint: migdir sends SQL as UTF-8: convert the file",
	    "apply", NULL, NULL);
	refused(p, 1, "2:30    error: cannot-run  invalid UTF-8", "check", NULL,
	    NULL);
	free(path);
	sc_free(p);
}

static void
test_schema_versions_with_a_null_version_is_refused(void **state)
{
	struct proj *p = hostile_project("svnull");

	(void)state;
	psql_ok(p,
	    "ALTER TABLE schema_versions ALTER version DROP NOT NULL; "
	    "INSERT INTO schema_versions (version) VALUES (NULL)");
	all_refuse(p,
	    "\"public\".\"schema_versions\" has 1 row with a NULL version");
	sc_free(p);
}

static void
test_schema_versions_holding_a_version_twice_is_refused(void **state)
{
	struct proj *p = hostile_project("svdup");

	(void)state;
	psql_ok(p,
	    "ALTER TABLE schema_versions DROP CONSTRAINT "
	    "schema_versions_version_key; "
	    "INSERT INTO schema_versions (version) VALUES ('20230101_a')");
	all_refuse(p,
	    "\"public\".\"schema_versions\" holds versions in more than one "
	    "row: 20230101_a (2 rows)");
	sc_free(p);
}

static void
test_schema_versions_without_version_or_with_a_wrong_type_is_refused(
    void **state)
{
	struct proj *p = hostile_project("svshape");

	(void)state;
	psql_ok(p, "ALTER TABLE schema_versions RENAME version TO v");
	all_refuse(p,
	    "\"public\".\"schema_versions\" has no column \"version\"");
	psql_ok(p,
	    "ALTER TABLE schema_versions RENAME v TO version; "
	    "ALTER TABLE schema_versions ALTER is_active TYPE text");
	all_refuse(p,
	    "\"public\".\"schema_versions\": column \"is_active\" is text, "
	    "migdir needs boolean");
	psql_ok(p,
	    "ALTER TABLE schema_versions ALTER is_active TYPE boolean "
	    "USING is_active::boolean; "
	    "ALTER TABLE schema_versions ALTER checksum TYPE int USING 1");
	all_refuse(p, "column \"checksum\" is integer, migdir needs text");
	sc_free(p);
}

/* Two branches that change the same file differently: a conflict. */
static void
conflicting_branch(struct proj *p)
{
	free(sc_git(p, "checkout -q -b other"));
	sc_write(p, "notes.txt", "other\n");
	sc_commit(p, "other");
	free(sc_git(p, "checkout -q main"));
	sc_write(p, "notes.txt", "main\n");
	sc_commit(p, "main");
}

static void
test_git_operations_in_progress_refuse_with_the_command_that_ends_them(
    void **state)
{
	struct proj *p = hostile_project("gitstates");
	char *lock = tu_path(p->dir, ".git/index.lock"), *patch;

	(void)state;
	conflicting_branch(p);
	assert_null(sc_git(p, "merge -q other"));
	refused(p, 1, "error: a merge is in progress in the repository",
	    "apply", NULL, NULL);
	refused(p, 1, "(git commit, or git merge --abort)", "--yes", "rollback",
	    "--force");
	free(sc_git(p, "merge --abort"));
	assert_null(sc_git(p, "rebase other"));
	assert_true(sc_exists(p, ".git/rebase-merge"));
	refused(p, 1,
	    "a rebase is in progress in the repository\nmigdir: hint: Finish "
	    "it or abort it first (git rebase --continue, or git rebase "
	    "--abort)",
	    "apply", NULL, NULL);
	free(sc_git(p, "rebase --abort"));
	patch = sc_git(p, "format-patch -1 other -o ../patches");
	assert_non_null(patch);
	assert_null(sc_git(p, "am %s", patch));
	assert_true(sc_exists(p, ".git/rebase-apply"));
	refused(p, 1, "(git am --continue, or git am --abort)", "apply", NULL,
	    NULL);
	free(sc_git(p, "am --abort"));
	assert_int_equal(tu_write_file(lock, ""), 0);
	refused(p, 1, "the git index is locked", "apply", NULL, NULL);
	refused(p, 1, "remove the file (rm ", "--yes", "rollback", "--force");
	assert_int_equal(unlink(lock), 0);
	free(sc_git(p, "checkout -q --detach"));
	refused(p, 1, "HEAD is detached", "apply", NULL, NULL);
	free(sc_git(p, "checkout -q main"));
	free(patch);
	free(lock);
	sc_free(p);
}

static void
test_shallow_clone_applies_and_commits(void **state)
{
	struct proj *p = hostile_project("shallow");
	char *clone = tu_path(p->tmp, "clone"), *log;
	struct tu_run *r;
	static const char *const who[] = {"GIT_AUTHOR_NAME=Test User",
	    "GIT_AUTHOR_EMAIL=test@example.invalid",
	    "GIT_COMMITTER_NAME=Test User",
	    "GIT_COMMITTER_EMAIL=test@example.invalid", NULL};
	char *shallow;

	(void)state;
	free(sc_git(p, "clone -q --depth 1 file://%s %s", p->dir, clone));
	shallow = tu_path(clone, ".git/shallow");
	assert_true(tu_exists(shallow));
	free(shallow);
	r = sc_migdir_env(p, who, NULL, "-C", clone, "apply", NULL);
	sc_expect_status(r, 0, "apply in a shallow clone");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM side"), 1);
	log = sc_git(p, "-C %s log --format=%%s", clone);
	assert_string_equal(log, "apply 20230102_b\nb");
	free(log);
	log = sc_git(p, "-C %s status --porcelain", clone);
	assert_string_equal(log, "");
	free(log);
	free(clone);
	sc_free(p);
}

static void
test_commit_hooks_are_named_as_not_run(void **state)
{
	struct proj *p = hostile_project("hooks");
	char *hook = tu_path(p->dir, ".githooks/pre-commit"), *log;
	struct tu_run *r;

	(void)state;
	assert_int_equal(tu_write_file(hook,
			     "#!/bin/sh\necho hook >>hook-ran\nexit 1\n"),
	    0);
	assert_int_equal(chmod(hook, 0755), 0);
	free(sc_git(p, "add .githooks"));
	free(sc_git(p, "commit -q --no-verify -m hooks"));
	free(sc_git(p, "config core.hooksPath .githooks"));
	r = sc_migdir(p, NULL, "apply", NULL);
	sc_expect_status(r, 0, "apply with a pre-commit hook");
	sc_expect_contains(r->err,
	    "warning: migdir's git commits do not run hooks (libgit2 runs "
	    "none): ");
	sc_expect_contains(r->err, ".githooks/pre-commit will not run");
	sc_run_free(r);
	assert_false(sc_exists(p, "hook-ran"));
	log = sc_git(p, "log -1 --format=%%s");
	assert_string_equal(log, "apply 20230102_b");
	free(log);
	free(hook);
	sc_free(p);
}

static void
test_a_password_in_an_ini_others_can_read_is_a_warning(void **state)
{
	struct proj *p = sc_project("pwini", NULL);
	char *ini = tu_path(p->dir, "migdir.ini"), *text;
	struct tu_run *r;

	(void)state;
	text = tu_asprintf("[migdir]\ntracked = production\n"
			   "[env production]\nurl = postgresql://app:"
			   "s3cret@127.0.0.1:1/x?connect_timeout=2\n");
	assert_int_equal(tu_write_file(ini, text), 0);
	assert_int_equal(chmod(ini, 0644), 0);
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_status(r, 1, "status (no server)");
	sc_expect_contains(r->err,
	    "migdir.ini holds a password and is readable by others: move it "
	    "to ~/.pgpass or a service file");
	assert_null(strstr(r->err, "s3cret"));
	sc_run_free(r);
	assert_int_equal(chmod(ini, 0600), 0);
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_status(r, 1, "status (no server)");
	assert_null(strstr(r->err, "readable by others"));
	sc_run_free(r);
	free(text);
	free(ini);
	sc_free(p);
}

static void
test_two_thousand_pending_files_stay_fast(void **state)
{
	struct proj *p = sc_project("many", NULL);
	struct timespec t0, t1;
	struct tu_run *r;
	char name[96];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name),
		    "migrations/pending/20230101_m%04d.sql", i);
		sc_write(p, name, "SELECT 1;\n");
		snprintf(name, sizeof(name),
		    "migrations/pending/20230101_rollback_m%04d.sql", i);
		sc_write(p, name, "SELECT 1;\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_status(r, 0, "status");
	sc_expect_contains(r->out, "0 archived, 0 applied, 1000 pending");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "plan", NULL);
	sc_expect_status(r, 0, "plan");
	sc_expect_contains(r->out, "apply 1000 migrations");
	sc_run_free(r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* measured: well under a second each on 2 shared cores */
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_symlinked_migration_files_are_refused_by_every_command),
	    cmocka_unit_test(
		test_symlinked_applied_file_and_folder_are_refused),
	    cmocka_unit_test(
		test_names_with_control_characters_are_escaped_never_echoed),
	    cmocka_unit_test(
		test_new_refuses_paths_controls_and_empty_descriptions),
	    cmocka_unit_test(
		test_nul_byte_and_invalid_utf8_stop_everything_at_file_line_col),
	    cmocka_unit_test(
		test_schema_versions_with_a_null_version_is_refused),
	    cmocka_unit_test(
		test_schema_versions_holding_a_version_twice_is_refused),
	    cmocka_unit_test(
		test_schema_versions_without_version_or_with_a_wrong_type_is_refused),
	    cmocka_unit_test(
		test_git_operations_in_progress_refuse_with_the_command_that_ends_them),
	    cmocka_unit_test(test_shallow_clone_applies_and_commits),
	    cmocka_unit_test(test_commit_hooks_are_named_as_not_run),
	    cmocka_unit_test(
		test_a_password_in_an_ini_others_can_read_is_a_warning),
	    cmocka_unit_test(test_two_thousand_pending_files_stay_fast),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
