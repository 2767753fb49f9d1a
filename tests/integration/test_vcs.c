/*
 * test_vcs.c - vcs.h against real git repositories.
 *
 * Each test makes throwaway repositories with the git command line
 * (gitrepo.h), calls vcs.h directly, and checks the result the way a
 * reviewer would: git show, git log --follow, git fsck --strict, git
 * status, git diff, trailers read by git itself.  The group setup points
 * HOME and XDG_CONFIG_HOME at an empty directory and drops the GIT_* and
 * EMAIL variables before libgit2 is loaded, so that identity comes only
 * from what a test puts in a repository's configuration or environment.
 * Nothing is mocked.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

#include "buf.h"
#include "error.h"
#include "vcs.h"
#include "banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DATA(s)       s, sizeof(s) - 1

#define EMPTY_BLOB    "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

/* Variables that would choose an identity, a date or another repository. */
static const char *const scrubbed[] = {
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
};

static char *home; /* the empty HOME of the whole run */

/* One test's temporary directory and its main repository. */
struct fx {
	char *tmp;     /* private temporary directory (real path) */
	char *dir;     /* tmp/repo, a repository on branch main */
	struct vcs *v; /* opened by vopen(); freed by the teardown */
};

static void
scrub_env(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scrubbed); i++)
		unsetenv(scrubbed[i]);
}

static int
group_setup(void **state)
{
	(void)state;
	if (!(home = tu_mkdtemp("migdir-home")))
		return -1;
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	scrub_env();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tu_rmrf(home);
	free(home);
	return 0;
}

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *tmp;

	assert_non_null(f);
	assert_non_null(tmp = tu_mkdtemp("migdir-vcs"));
	assert_non_null(f->tmp = realpath(tmp, NULL));
	free(tmp);
	f->dir = tu_path(f->tmp, "repo");
	assert_int_equal(gitrepo_init(f->dir), 0);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	scrub_env();
	vcs_free(f->v);
	if (tu_keep_requested())
		fprintf(stderr, "test_vcs: kept %s\n", f->tmp);
	else
		tu_rmrf(f->tmp);
	free(f->tmp);
	free(f->dir);
	free(f);
	return 0;
}

/* Write a file under dir (parents created). */
static void
put(const char *dir, const char *rel, const char *content)
{
	char *path = tu_path(dir, rel);

	assert_int_equal(tu_write_file(path, content), 0);
	free(path);
}

/* rename(2) a file under dir, creating the target's directory. */
static void
mv(const char *dir, const char *from, const char *to)
{
	char *a = tu_path(dir, from), *b = tu_path(dir, to);
	char *parent = tu_path(dir, to);

	*strrchr(parent, '/') = '\0';
	assert_int_equal(tu_mkdirs(parent), 0);
	if (rename(a, b) < 0)
		fail_msg("rename %s %s: %s", a, b, strerror(errno));
	free(parent);
	free(a);
	free(b);
}

/* git ARGS in dir; stdout (caller frees), failing the test on an error. */
static char *git(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
git(const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *args, *out;

	va_start(ap, fmt);
	args = tu_vasprintf(fmt, ap);
	va_end(ap);
	if (!(out = gitrepo_git(dir, "%s", args)))
		fail_msg("git %s failed in %s", args, dir);
	free(args);
	return out;
}

/* Fail unless the stdout of git ARGS is exactly want. */
static void expect_git(const char *dir, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
expect_git(const char *dir, const char *want, const char *fmt, ...)
{
	va_list ap;
	char *args, *out;

	va_start(ap, fmt);
	args = tu_vasprintf(fmt, ap);
	va_end(ap);
	if (!(out = gitrepo_git(dir, "%s", args)))
		fail_msg("git %s failed in %s", args, dir);
	if (strcmp(out, want))
		fail_msg("git %s\n--- got:\n%s\n--- want:\n%s", args, out,
		    want);
	free(out);
	free(args);
}

static void
commit_all(const char *dir, const char *msg)
{
	assert_int_equal(gitrepo_commit_all(dir, msg), 0);
}

/* `git hash-object` of a file under dir. */
static char *
hash_object(const char *dir, const char *rel)
{
	char *path = tu_path(dir, rel), *q = tu_shquote(path);
	char *id = tu_sh(NULL, "git hash-object %s", q);

	assert_non_null(id);
	free(q);
	free(path);
	return id;
}

/* Open f->dir (or a path) as f->v, closing an earlier one. */
static struct vcs *
vopen(struct fx *f, const char *path)
{
	vcs_free(f->v);
	f->v = NULL;
	if (vcs_open(&f->v, path ? path : f->dir) < 0)
		fail_msg("vcs_open: %s", mg_error_last()->message);
	return f->v;
}

/* Let the coarse file-system clock move on (racy-git checks). */
static void
pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Author and committer date of the next commits made with git. */
static void
dates(const char *date)
{
	setenv("GIT_AUTHOR_DATE", date, 1);
	setenv("GIT_COMMITTER_DATE", date, 1);
}

/* The migrations folders with three files and two unrelated ones. */
static void
seed_project(const char *dir)
{
	put(dir, "migrations/pending/20230101_a.sql",
	    "CREATE TABLE a (id int);\n");
	put(dir, "migrations/pending/20230101_rollback_a.sql",
	    "DROP TABLE a;\n");
	put(dir, "migrations/pending/20230102_b.sql",
	    "CREATE TABLE b (id int);\n");
	put(dir, "migrations/applied/.gitkeep", "");
	put(dir, "other.txt", "other v1\n");
	put(dir, "notes.txt", "notes v1\n");
	commit_all(dir, "start");
}

static const char *const moved[][2] = {
    {"migrations/pending/20230101_a.sql", "migrations/applied/20230101_a.sql"},
    {"migrations/pending/20230101_rollback_a.sql",
	"migrations/applied/20230101_rollback_a.sql"},
    {"migrations/pending/20230102_b.sql", "migrations/applied/20230102_b.sql"},
};

/* ---------------------------------------------------------- blob ids --- */

static void
test_vcs_blob_id_equals_git_hash_object(void **state)
{
	static const struct {
		const char *name;
		const char *data;
		size_t len;
	} cases[] = {
	    {"empty", DATA("")},
	    {"one line", DATA("hello\n")},
	    {"no final newline", DATA("SELECT 1")},
	    {"multi-line",
		DATA("BEGIN;\nCREATE TABLE t (id int);\r\n"
		     "\n-- ünïcode\nCOMMIT;\n\n")},
	    {"binary-ish", DATA("\0\001\002\377\376 \0tail\0")},
	};
	struct fx *f = *state;
	struct buf big = BUF_INIT;
	char id[VCS_ID_HEX + 1];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases) + 1; i++) {
		const char *data = i < ARRAY_SIZE(cases) ? cases[i].data : NULL;
		size_t len = i < ARRAY_SIZE(cases) ? cases[i].len : 0;
		char *path = tu_path(f->tmp, "blob"), *q = tu_shquote(path);
		char *want;
		FILE *fp;

		if (!data) { /* one more: a megabyte that spans reads */
			while (big.len < (1 << 20))
				buf_printf(&big,
				    "INSERT INTO t VALUES (%zu);\n", big.len);
			data = big.ptr;
			len = big.len;
		}
		assert_non_null(fp = fopen(path, "wb"));
		assert_int_equal(fwrite(data, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
		want = tu_sh(NULL, "git hash-object %s", q);
		assert_non_null(want);
		memset(id, 'x', sizeof(id));
		assert_int_equal(vcs_blob_id(id, data, len), 0);
		if (strcmp(id, want))
			fail_msg("%s: vcs_blob_id %s, git hash-object %s",
			    i < ARRAY_SIZE(cases) ? cases[i].name : "1 MB", id,
			    want);
		free(want);
		free(q);
		free(path);
	}
	assert_int_equal(vcs_blob_id(id, "", 0), 0);
	assert_string_equal(id, EMPTY_BLOB);
	buf_release(&big);
}

/* ------------------------------------------------------------- open --- */

static void
test_vcs_open_outside_a_repository_is_not_found(void **state)
{
	struct fx *f = *state;
	char *plain = tu_path(f->tmp, "plain"), *bare = tu_path(f->tmp, "b");
	char *missing = tu_path(f->tmp, "missing");
	const struct {
		const char *path;
		const char *fmt; /* %s: the path */
	} cases[] = {
	    {plain, "\"%s\" is not inside a git repository"},
	    {missing, "\"%s\" is not inside a git repository"},
	    {bare, "the repository of \"%s\" is bare"},
	};
	size_t i;

	assert_int_equal(tu_mkdirs(plain), 0);
	free(tu_sh(NULL, "git init -q --bare %s", bare));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		static char dummy;
		struct vcs *v = (struct vcs *)&dummy; /* comes back NULL */
		char *want = tu_asprintf(cases[i].fmt, cases[i].path);

		mg_error_clear();
		assert_int_equal(vcs_open(&v, cases[i].path), MG_ENOTFOUND);
		assert_null(v);
		assert_int_equal(mg_error_last()->code, MG_ENOTFOUND);
		assert_string_equal(mg_error_last()->message, want);
		free(want);
	}
	free(plain);
	free(bare);
	free(missing);
}

static void
test_vcs_open_finds_the_working_directory_from_inside(void **state)
{
	struct fx *f = *state;
	char *sub = tu_path(f->dir, "migrations/pending");
	char *want = tu_asprintf("%s/", f->dir);

	seed_project(f->dir);
	vopen(f, sub);
	assert_string_equal(vcs_workdir(f->v), want);
	free(want);
	free(sub);
}

static void
test_vcs_relpath_is_relative_to_the_working_directory(void **state)
{
	struct fx *f = *state;
	char *link = tu_path(f->tmp, "link");
	char *mig = tu_path(f->dir, "migrations");
	char cwd[PATH_MAX];
	const struct {
		char base; /* path under 'r' repository, 't' tmp, '-' . */
		const char *path;
		int chdir_to_migrations;
		int error;
		const char *want; /* relative path, or the message (%s: the
				   * path, then the repository) */
	} cases[] = {
	    {'r', "", 0, 0, ""},
	    {'r', "/", 0, 0, ""},
	    {'r', "/migrations/pending/20230101_a.sql", 0, 0,
		"migrations/pending/20230101_a.sql"},
	    {'r', "/migrations/../migrations/./applied", 0, 0,
		"migrations/applied"},
	    {'t', "/link/pending", 0, 0, "migrations/pending"},
	    {'-', "pending/20230101_a.sql", 1, 0,
		"migrations/pending/20230101_a.sql"},
	    {'-', "..", 1, 0, ""},
	    {'t', "", 0, MG_ERROR,
		"\"%s\" is outside the repository at \"%s\""},
	    /* a file still to be written is placed by its directory */
	    {'r', "/consolidated_schema.sql", 0, 0, "consolidated_schema.sql"},
	    {'r', "/migrations/new.sql", 0, 0, "migrations/new.sql"},
	    {'t', "/repo-not", 0, MG_ERROR,
		"\"%s\" is outside the repository at \"%s\""},
	    {'r', "/no-such-dir/x.sql", 0, MG_ERROR,
		"could not resolve \"%s\": No such file or directory"},
	};
	size_t i;

	seed_project(f->dir);
	assert_int_equal(symlink(mig, link), 0);
	vopen(f, NULL);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf out = BUF_INIT;
		char *path = tu_asprintf("%s%s",
		    cases[i].base == 'r'       ? f->dir
			: cases[i].base == 't' ? f->tmp
					       : "",
		    cases[i].path);
		char *want = tu_asprintf(cases[i].want, path, f->dir);
		int rc;

		if (cases[i].chdir_to_migrations)
			assert_int_equal(chdir(mig), 0);
		buf_puts(&out, "");
		rc = vcs_relpath(f->v, &out, path);
		assert_int_equal(chdir(cwd), 0);
		if (rc != cases[i].error)
			fail_msg("%s: %d", path, rc);
		if (rc == 0 && strcmp(out.ptr, want))
			fail_msg("%s: \"%s\", want \"%s\"", path, out.ptr,
			    want);
		if (rc < 0 && strcmp(mg_error_last()->message, want))
			fail_msg("%s: \"%s\", want \"%s\"", path,
			    mg_error_last()->message, want);
		if (rc < 0)
			assert_string_equal(out.ptr, "");
		buf_release(&out);
		free(path);
		free(want);
	}
	free(mig);
	free(link);
}

/* ------------------------------------------------------------- ready --- */

static void
make_ready(const char *dir)
{
	(void)dir;
}

static void
make_unborn(const char *dir)
{
	/* a repository that has files staged but no commit yet */
	put(dir, "migrations/pending/.gitkeep", "");
	free(git(dir, "add -A"));
}

static void
make_detached(const char *dir)
{
	free(git(dir, "checkout -q --detach"));
}

/* main and branch "other" change README differently. */
static void
make_conflict(const char *dir)
{
	free(git(dir, "checkout -q -b other"));
	put(dir, "README", "other side\n");
	commit_all(dir, "other");
	free(git(dir, "checkout -q main"));
	put(dir, "README", "main side\n");
	commit_all(dir, "main");
}

static void
make_merge(const char *dir)
{
	make_conflict(dir);
	free(git(dir, "merge -q other >/dev/null 2>&1 || true"));
	expect_git(dir, "UU README", "status --porcelain");
}

static void
make_cherry_pick(const char *dir)
{
	make_conflict(dir);
	free(git(dir, "cherry-pick other >/dev/null 2>&1 || true"));
	expect_git(dir, "UU README", "status --porcelain");
}

static void
make_no_identity(const char *dir)
{
	free(git(dir, "config --unset user.name"));
	free(git(dir, "config --unset user.email"));
}

static void
make_no_email(const char *dir)
{
	free(git(dir, "config --unset user.email"));
}

static void
make_index_lock(const char *dir)
{
	put(dir, ".git/index.lock", "");
}

/* What a git (or migdir) killed while moving the branch leaves. */
static void
make_branch_lock(const char *dir)
{
	put(dir, ".git/refs/heads/main.lock", "");
}

static void
test_vcs_check_ready_refuses_what_git_would_refuse(void **state)
{
	static const struct {
		const char *name;
		void (*make)(const char *dir);
		int commit;       /* 0 stage mode, 1 commit mode */
		int born;         /* make the first commit before make() */
		const char *want; /* NULL: ready; %s: the repository */
	} cases[] = {
	    {"ready", make_ready, 1, 1, NULL},
	    {"ready to stage", make_ready, 0, 1, NULL},
	    {"unborn", make_unborn, 1, 0,
		"the current branch has no commits yet"},
	    {"unborn, stage", make_unborn, 0, 0, NULL},
	    {"detached", make_detached, 1, 1,
		"HEAD is detached: migdir's commit would belong to no "
		"branch"},
	    {"detached, stage", make_detached, 0, 1, NULL},
	    {"merge", make_merge, 1, 1,
		"a merge is in progress in the repository"},
	    {"merge, stage", make_merge, 0, 1,
		"a merge is in progress in the repository"},
	    {"cherry-pick", make_cherry_pick, 1, 1,
		"a cherry-pick is in progress in the repository"},
	    {"no identity", make_no_identity, 1, 1,
		"git does not know who you are: user.name and user.email "
		"are not set"},
	    {"no email", make_no_email, 1, 1,
		"git does not know who you are: user.name and user.email "
		"are not set"},
	    {"no identity, stage", make_no_identity, 0, 1, NULL},
	    {"index.lock", make_index_lock, 1, 1,
		"the git index is locked (\"%s/.git/index.lock\" exists)"},
	    {"index.lock, stage", make_index_lock, 0, 1,
		"the git index is locked (\"%s/.git/index.lock\" exists)"},
	    {"branch lock", make_branch_lock, 1, 1,
		"the branch is locked (\"%s/.git/refs/heads/main.lock\" "
		"exists)"},
	    {"branch lock, stage", make_branch_lock, 0, 1, NULL},
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = tu_asprintf("case%zu", i);
		char *dir = tu_path(f->tmp, name);
		struct vcs *v = NULL;
		int rc;

		assert_int_equal(gitrepo_init(dir), 0);
		if (cases[i].born) {
			put(dir, "README", "start\n");
			commit_all(dir, "start");
		}
		cases[i].make(dir);
		assert_int_equal(vcs_open(&v, dir), 0);
		mg_error_clear();
		rc = vcs_check_ready(v, cases[i].commit);
		if (!cases[i].want) {
			if (rc != 0)
				fail_msg("%s: refused: %s", cases[i].name,
				    mg_error_last()->message);
		} else {
			char *want = tu_asprintf(cases[i].want, dir);

			if (rc != MG_ERROR)
				fail_msg("%s: not refused (%d)", cases[i].name,
				    rc);
			if (strcmp(mg_error_last()->message, want))
				fail_msg("%s: \"%s\", want \"%s\"",
				    cases[i].name, mg_error_last()->message,
				    want);
			/* each refusal says what to do */
			assert_non_null(mg_error_last()->hint);
			free(want);
		}
		vcs_free(v);
		free(dir);
		free(name);
	}
}

static void
test_vcs_check_ready_wants_author_and_committer_as_git_does(void **state)
{
	/*
	 * Whatever check_ready accepts, the commit must then succeed: the
	 * database has committed by the time the moves are recorded.
	 */
	static const struct {
		const char *config_name; /* user.name, or NULL */
		const char *env[5];      /* NAME=value */
		int ready;
		const char *author, *committer;
	} cases[] = {
	    {NULL, {NULL}, 0, NULL, NULL},
	    {NULL,
		{"GIT_COMMITTER_NAME=Carl",
		    "GIT_COMMITTER_EMAIL=carl@example.invalid"},
		0, NULL, NULL},
	    {NULL,
		{"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.invalid"},
		0, NULL, NULL},
	    {NULL,
		{"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.invalid",
		    "GIT_COMMITTER_NAME=Carl",
		    "GIT_COMMITTER_EMAIL=carl@example.invalid"},
		1, "Ann <ann@example.invalid>", "Carl <carl@example.invalid>"},
	    {"Cfg User", {"EMAIL=mail@example.invalid"}, 1,
		"Cfg User <mail@example.invalid>",
		"Cfg User <mail@example.invalid>"},
	    {"Cfg User",
		{"EMAIL=mail@example.invalid",
		    "GIT_AUTHOR_EMAIL=ann@example.invalid"},
		1, "Cfg User <ann@example.invalid>",
		"Cfg User <mail@example.invalid>"},
	};
	struct fx *f = *state;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = tu_asprintf("case%zu", i);
		char *dir = tu_path(f->tmp, name);
		struct vcs_move m = {moved[0][0], moved[0][1], NULL};
		struct vcs *v = NULL;
		char *want;
		int rc;

		assert_int_equal(gitrepo_init(dir), 0);
		seed_project(dir);
		make_no_identity(dir);
		if (cases[i].config_name)
			free(git(dir, "config user.name '%s'",
			    cases[i].config_name));
		mv(dir, moved[0][0], moved[0][1]);
		for (j = 0; cases[i].env[j]; j++)
			assert_int_equal(putenv((char *)cases[i].env[j]), 0);
		assert_int_equal(vcs_open(&v, dir), 0);
		rc = vcs_check_ready(v, 1);
		if (rc != (cases[i].ready ? 0 : MG_ERROR))
			fail_msg("case %zu: check_ready %d", i, rc);
		if (cases[i].ready) {
			assert_int_equal(vcs_record_moves(v, &m, 1, "x\n", 1,
					     NULL),
			    0);
			want = tu_asprintf("%s|%s", cases[i].author,
			    cases[i].committer);
			expect_git(dir, want,
			    "log -1 --format='%%an <%%ae>|%%cn <%%ce>'");
			free(want);
		}
		scrub_env();
		vcs_free(v);
		free(dir);
		free(name);
	}
}

/* -------------------------------------------------------- head files --- */

static void
test_vcs_head_files_lists_a_directory_of_head(void **state)
{
	static const struct {
		const char *dir;
		const char *want; /* names joined by ',' */
	} cases[] = {
	    {"migrations/pending",
		"20230101_a.sql,20230101_rollback_a.sql,20230102_b.sql"},
	    {"migrations/applied", ".gitkeep"},
	    {"migrations", ""},         /* only directories */
	    {"migrations/archive", ""}, /* not in HEAD */
	    {"other.txt", ""},          /* a file, not a directory */
	    {"", "notes.txt,other.txt"},
	};
	struct fx *f = *state;
	size_t i, j;

	/* an empty history first: no names, no error */
	vopen(f, NULL);
	{
		char *dummy[1] = {NULL};
		char **names = dummy; /* comes back NULL */
		size_t n = 99;

		assert_int_equal(vcs_head_files(f->v, "", &names, &n), 0);
		assert_int_equal(n, 0);
		assert_null(names);
	}
	seed_project(f->dir);
	put(f->dir, "migrations/pending/sub/20230104_d.sql", "SELECT 1;\n");
	commit_all(f->dir, "a subdirectory");
	/* the working tree and the index are not HEAD */
	put(f->dir, "migrations/pending/20230105_untracked.sql", "");
	put(f->dir, "migrations/pending/20230106_staged.sql", "");
	free(git(f->dir, "add migrations/pending/20230106_staged.sql"));
	free(git(f->dir, "rm -q --cached migrations/pending/20230102_b.sql"));
	vopen(f, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf got = BUF_INIT;
		char **names = NULL;
		size_t n = 0;

		assert_int_equal(vcs_head_files(f->v, cases[i].dir, &names, &n),
		    0);
		for (j = 0; j < n; j++)
			buf_printf(&got, "%s%s", j ? "," : "", names[j]);
		if (strcmp(got.ptr, cases[i].want))
			fail_msg("\"%s\": %s, want %s", cases[i].dir, got.ptr,
			    cases[i].want);
		vcs_free_names(names, n);
		buf_release(&got);
	}
}

/* ------------------------------------------------------------- moves --- */

#define MESSAGE                                                                \
	"apply 20230101_a, 20230102_b\n"                                       \
	"\n"                                                                   \
	"Applied to production.\n"                                             \
	"\n"                                                                   \
	"Migdir-Action: apply\n"                                               \
	"Migdir-Version: 20230101_a\n"                                         \
	"Migdir-Version: 20230102_b\n"                                         \
	"Migdir-Environment: production\n"                                     \
	"Migdir-Database: /run/postgresql:5432/crm\n"

/*
 * The user's own work, staged and not: a modified file staged and then
 * modified again, a new staged file (one inside migrations/), an unstaged
 * change and an untracked file.
 */
static void
user_work(const char *dir)
{
	put(dir, "other.txt", "other v2, staged\n");
	put(dir, "staged_new.txt", "new and staged\n");
	put(dir, "migrations/pending/20230103_c.sql", "SELECT 3;\n");
	free(git(dir,
	    "add other.txt staged_new.txt "
	    "migrations/pending/20230103_c.sql"));
	put(dir, "other.txt", "other v3, not staged\n");
	put(dir, "notes.txt", "notes v2, not staged\n");
	put(dir, "untracked.txt", "untracked\n");
}

/* The moves of `moved`, done in the working tree; blob ids for some. */
static void
do_moves(const char *dir, struct vcs_move *m, char ids[][VCS_ID_HEX + 1])
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(moved); i++) {
		char *id = hash_object(dir, moved[i][0]);

		mv(dir, moved[i][0], moved[i][1]);
		m[i].from = moved[i][0];
		m[i].to = moved[i][1];
		/* the first and last known, the middle one left to vcs.c */
		snprintf(ids[i], VCS_ID_HEX + 1, "%s", id);
		m[i].blob = i == 1 ? NULL : ids[i];
		free(id);
	}
}

static void
test_vcs_record_moves_commits_exactly_the_moves(void **state)
{
	struct fx *f = *state;
	struct vcs_move m[ARRAY_SIZE(moved)];
	char ids[ARRAY_SIZE(moved)][VCS_ID_HEX + 1];
	char out[VCS_ID_HEX + 1];
	char *head0, *cached0, *diff0, *status0, *s;

	seed_project(f->dir);
	user_work(f->dir);
	head0 = git(f->dir, "rev-parse HEAD");
	cached0 = git(f->dir, "diff --cached");
	diff0 = git(f->dir, "diff");
	status0 = git(f->dir, "status --porcelain --untracked-files=all");
	assert_string_equal(status0,
	    "A  migrations/pending/20230103_c.sql\n"
	    " M notes.txt\n"
	    "MM other.txt\n"
	    "A  staged_new.txt\n"
	    "?? untracked.txt");

	do_moves(f->dir, m, ids);
	setenv("GIT_AUTHOR_NAME", "Ann Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "ann@example.invalid", 1);
	setenv("GIT_AUTHOR_DATE", "@1700000000 +0100", 1);
	setenv("GIT_COMMITTER_NAME", "Carl Committer", 1);
	setenv("GIT_COMMITTER_EMAIL", "carl@example.invalid", 1);
	setenv("GIT_COMMITTER_DATE", "@1700000100 -0530", 1);
	vopen(f, NULL);
	assert_int_equal(vcs_check_ready(f->v, 1), 0);
	assert_int_equal(vcs_record_moves(f->v, m, ARRAY_SIZE(m), MESSAGE, 1,
			     out),
	    0);
	scrub_env();

	/* one new commit on main, holding the three renames only */
	expect_git(f->dir, out, "rev-parse HEAD");
	expect_git(f->dir, head0, "rev-parse HEAD~1");
	expect_git(f->dir, "refs/heads/main", "symbolic-ref HEAD");
	expect_git(f->dir,
	    "R100\tmigrations/pending/20230101_a.sql\t"
	    "migrations/applied/20230101_a.sql\n"
	    "R100\tmigrations/pending/20230101_rollback_a.sql\t"
	    "migrations/applied/20230101_rollback_a.sql\n"
	    "R100\tmigrations/pending/20230102_b.sql\t"
	    "migrations/applied/20230102_b.sql",
	    "show -M --name-status --format= HEAD");
	expect_git(f->dir, "",
	    "diff --name-only HEAD~1 HEAD -- other.txt "
	    "notes.txt staged_new.txt untracked.txt "
	    "migrations/pending/20230103_c.sql");
	s = tu_asprintf("%s\n%s", ids[0], ids[1]);
	expect_git(f->dir, s, "rev-parse HEAD:%s HEAD:%s", moved[0][1],
	    moved[1][1]);
	free(s);

	/* what reviewers run */
	expect_git(f->dir,
	    "apply 20230101_a, 20230102_b\n"
	    "R100\tmigrations/pending/20230101_a.sql\t"
	    "migrations/applied/20230101_a.sql\n"
	    "start\n"
	    "A\tmigrations/pending/20230101_a.sql",
	    "log --follow --format=%%s --name-status -- "
	    "migrations/applied/20230101_a.sql | grep -v '^$'");
	expect_git(f->dir, "", "fsck --strict 2>&1");
	expect_git(f->dir,
	    "Ann Author|ann@example.invalid|1700000000 +0100|"
	    "Carl Committer|carl@example.invalid|1700000100 -0530",
	    "log -1 --date=raw --format='%%an|%%ae|%%ad|%%cn|%%ce|%%cd'");
	expect_git(f->dir, "apply",
	    "log -1 --format='%%(trailers:key=Migdir-Action,valueonly)'");
	expect_git(f->dir, "20230101_a\n20230102_b",
	    "log -1 --format='%%(trailers:key=Migdir-Version,valueonly)'");
	expect_git(f->dir,
	    "Migdir-Action: apply\n"
	    "Migdir-Version: 20230101_a\n"
	    "Migdir-Version: 20230102_b\n"
	    "Migdir-Environment: production\n"
	    "Migdir-Database: /run/postgresql:5432/crm",
	    "log -1 --format=%%B | git interpret-trailers --parse");
	/* the message as given (git drops only the final newline here) */
	expect_git(f->dir,
	    s = tu_asprintf("%.*s", (int)sizeof(MESSAGE) - 2, MESSAGE),
	    "log -1 --format=%%B");
	free(s);

	/* the user's work is exactly as it was, and stays out */
	s = git(f->dir, "diff --cached");
	assert_string_equal(s, cached0);
	free(s);
	s = git(f->dir, "diff");
	assert_string_equal(s, diff0);
	free(s);
	s = git(f->dir, "status --porcelain --untracked-files=all");
	assert_string_equal(s, status0);
	free(s);
	/* the moved files' index entries carry right stat data */
	expect_git(f->dir, "notes.txt\nother.txt", "diff-files --name-only");
	free(head0);
	free(cached0);
	free(diff0);
	free(status0);
}

static void
test_vcs_record_moves_takes_the_identity_from_config(void **state)
{
	struct fx *f = *state;
	struct vcs_move m = {moved[0][0], moved[0][1], NULL};
	char out[VCS_ID_HEX + 1];
	long long now = (long long)time(NULL), at;
	char *s;

	seed_project(f->dir);
	mv(f->dir, moved[0][0], moved[0][1]);
	vopen(f, NULL);
	assert_int_equal(vcs_record_moves(f->v, &m, 1, "apply x\n", 1, out), 0);
	expect_git(f->dir,
	    "Test User|test@example.invalid|Test User|test@example.invalid",
	    "log -1 --format='%%an|%%ae|%%cn|%%ce'");
	s = git(f->dir, "log -1 --format=%%ct");
	at = atoll(s);
	free(s);
	if (at < now - 60 || at > now + 60)
		fail_msg("committed at %lld, now is %lld", at, now);
	expect_git(f->dir, "apply x", "log -1 --format=%%B");
	expect_git(f->dir, "", "fsck --strict 2>&1");
	expect_git(f->dir, "", "status --porcelain");
}

/* The reflog line of a commit names its committer, as git commit's does. */
static void
test_vcs_record_moves_writes_the_reflog_as_git_does(void **state)
{
	struct fx *f = *state;
	struct vcs_move m = {moved[0][0], moved[0][1], NULL};
	char out[VCS_ID_HEX + 1];

	seed_project(f->dir);
	mv(f->dir, moved[0][0], moved[0][1]);
	vopen(f, NULL);
	setenv("GIT_COMMITTER_NAME", "Env Committer", 1);
	setenv("GIT_COMMITTER_EMAIL", "env@example.invalid", 1);
	assert_int_equal(vcs_record_moves(f->v, &m, 1, "apply x\n\nbody\n", 1,
			     out),
	    0);
	unsetenv("GIT_COMMITTER_NAME");
	unsetenv("GIT_COMMITTER_EMAIL");
	expect_git(f->dir,
	    "Env Committer <env@example.invalid>|commit: apply x",
	    "reflog -1 --format='%%gn <%%ge>|%%gs' main");
	expect_git(f->dir, "Env Committer|commit: apply x",
	    "reflog -1 --format='%%gn|%%gs' HEAD");
}

/*
 * A linked worktree has its own index and HEAD, but the branch's ref and
 * its lock file live in the repository's common directory.
 */
static void
test_vcs_check_ready_sees_a_branch_lock_from_a_linked_worktree(void **state)
{
	struct fx *f = *state;
	char *wt = tu_path(f->tmp, "wt"), *want, *s;

	put(f->dir, "README", "start\n");
	commit_all(f->dir, "start");
	s = git(f->dir, "worktree add -q -b feature %s", wt);
	free(s);
	put(f->dir, ".git/refs/heads/feature.lock", "");
	assert_int_equal(vcs_open(&f->v, wt), 0);
	mg_error_clear();
	assert_int_equal(vcs_check_ready(f->v, 1), MG_ERROR);
	want = tu_asprintf("the branch is locked (\"%s/.git/refs/heads/"
			   "feature.lock\" exists)",
	    f->dir);
	assert_string_equal(mg_error_last()->message, want);
	free(want);
	free(wt);
}

static void
test_vcs_record_moves_in_stage_mode_updates_only_the_index(void **state)
{
	struct fx *f = *state;
	struct vcs_move m[ARRAY_SIZE(moved)];
	char ids[ARRAY_SIZE(moved)][VCS_ID_HEX + 1];
	char out[VCS_ID_HEX + 1] = "not touched";
	char *head0, *s;

	seed_project(f->dir);
	user_work(f->dir);
	head0 = git(f->dir, "rev-parse HEAD");
	do_moves(f->dir, m, ids);
	vopen(f, NULL);
	assert_int_equal(vcs_check_ready(f->v, 0), 0);
	assert_int_equal(vcs_record_moves(f->v, m, ARRAY_SIZE(m), MESSAGE, 0,
			     out),
	    0);
	assert_string_equal(out, "");
	expect_git(f->dir, head0, "rev-parse HEAD");
	expect_git(f->dir,
	    "R  migrations/pending/20230101_a.sql -> "
	    "migrations/applied/20230101_a.sql\n"
	    "R  migrations/pending/20230101_rollback_a.sql -> "
	    "migrations/applied/20230101_rollback_a.sql\n"
	    "R  migrations/pending/20230102_b.sql -> "
	    "migrations/applied/20230102_b.sql\n"
	    "A  migrations/pending/20230103_c.sql\n"
	    " M notes.txt\n"
	    "MM other.txt\n"
	    "A  staged_new.txt\n"
	    "?? untracked.txt",
	    "status --porcelain --untracked-files=all");
	expect_git(f->dir, "notes.txt\nother.txt", "diff-files --name-only");
	s = tu_asprintf("%s\n%s\n%s", ids[0], ids[1], ids[2]);
	expect_git(f->dir, s, "rev-parse :%s :%s :%s", moved[0][1], moved[1][1],
	    moved[2][1]);
	free(s);
	expect_git(f->dir, "", "fsck --strict 2>&1");
	free(head0);
}

static void
test_vcs_record_moves_adds_files_git_never_had(void **state)
{
	struct fx *f = *state;
	char new_id[VCS_ID_HEX + 1], x_id[VCS_ID_HEX + 1];
	struct vcs_move m[4];
	char out[VCS_ID_HEX + 1];
	char *s;

	seed_project(f->dir);
	/* written straight into its folder: no old path */
	put(f->dir, "migrations/applied/20230301_new.sql", "SELECT 'new';\n");
	/* untracked, then moved: the old path is in neither HEAD nor index */
	put(f->dir, "migrations/pending/20230302_x.sql", "SELECT 'x';\n");
	mv(f->dir, "migrations/pending/20230302_x.sql",
	    "migrations/applied/20230302_x.sql");
	/* staged only, then moved: in the index, not in HEAD */
	put(f->dir, "migrations/pending/20230303_y.sql", "SELECT 'y';\n");
	free(git(f->dir, "add migrations/pending/20230303_y.sql"));
	mv(f->dir, "migrations/pending/20230303_y.sql",
	    "migrations/applied/20230303_y.sql");
	/* into a folder HEAD does not have */
	mv(f->dir, moved[2][0], "migrations/archive/20230102_b.sql");

	assert_int_equal(vcs_blob_id(new_id, DATA("SELECT 'new';\n")), 0);
	assert_int_equal(vcs_blob_id(x_id, DATA("SELECT 'x';\n")), 0);
	m[0].from = NULL;
	m[0].to = "migrations/applied/20230301_new.sql";
	m[0].blob = new_id; /* known, though no object holds it yet */
	m[1].from = "migrations/pending/20230302_x.sql";
	m[1].to = "migrations/applied/20230302_x.sql";
	m[1].blob = x_id;
	m[2].from = "migrations/pending/20230303_y.sql";
	m[2].to = "migrations/applied/20230303_y.sql";
	m[2].blob = NULL;
	m[3].from = moved[2][0];
	m[3].to = "migrations/archive/20230102_b.sql";
	m[3].blob = NULL;
	vopen(f, NULL);
	assert_int_equal(vcs_record_moves(f->v, m, 4, "apply new\n", 1, out),
	    0);
	expect_git(f->dir,
	    "A\tmigrations/applied/20230301_new.sql\n"
	    "A\tmigrations/applied/20230302_x.sql\n"
	    "A\tmigrations/applied/20230303_y.sql\n"
	    "R100\tmigrations/pending/20230102_b.sql\t"
	    "migrations/archive/20230102_b.sql",
	    "show -M --name-status --format= HEAD");
	s = tu_asprintf("%s\n%s", new_id, x_id);
	expect_git(f->dir, s, "rev-parse HEAD:%s HEAD:%s", m[0].to, m[1].to);
	free(s);
	s = hash_object(f->dir, m[2].to);
	expect_git(f->dir, s, "rev-parse HEAD:%s", m[2].to);
	free(s);
	expect_git(f->dir, "", "status --porcelain --untracked-files=all");
	expect_git(f->dir, "", "diff-files --name-only");
	expect_git(f->dir, "", "fsck --strict 2>&1");
}

static void
test_vcs_record_moves_removes_old_paths_after_many_new_files(void **state)
{
	/*
	 * Twenty files from a folder HEAD lacks, then one from a folder it
	 * has: the last one is a rename, not a copy.
	 */
	enum { NEW = 20 };
	struct fx *f = *state;
	struct vcs_move m[NEW + 1];
	char *from[NEW], *to[NEW];
	struct buf want = BUF_INIT;
	size_t i;

	put(f->dir, "migrations/applied/20230101_a.sql", "SELECT 'a';\n");
	commit_all(f->dir, "start");
	for (i = 0; i < NEW; i++) {
		from[i] =
		    tu_asprintf("migrations/pending/202302%02zu_n.sql", i + 1);
		to[i] =
		    tu_asprintf("migrations/applied/202302%02zu_n.sql", i + 1);
		put(f->dir, from[i], from[i]);
		mv(f->dir, from[i], to[i]);
		m[i].from = from[i];
		m[i].to = to[i];
		m[i].blob = NULL;
		buf_printf(&want, "A\t%s\n", to[i]);
	}
	mv(f->dir, "migrations/applied/20230101_a.sql",
	    "migrations/archive/20230101_a.sql");
	m[NEW].from = "migrations/applied/20230101_a.sql";
	m[NEW].to = "migrations/archive/20230101_a.sql";
	m[NEW].blob = NULL;
	buf_puts(&want,
	    "R100\tmigrations/applied/20230101_a.sql\t"
	    "migrations/archive/20230101_a.sql");
	vopen(f, NULL);
	assert_int_equal(vcs_record_moves(f->v, m, NEW + 1, "x\n", 1, NULL), 0);
	expect_git(f->dir, want.ptr, "show -M --name-status --format= HEAD");
	expect_git(f->dir, "", "status --porcelain --untracked-files=all");
	for (i = 0; i < NEW; i++) {
		free(from[i]);
		free(to[i]);
	}
	buf_release(&want);
}

static void
test_vcs_record_moves_reads_dates_as_git_does(void **state)
{
	/*
	 * git's internal form "[@]EPOCH [+-]HHMM" is taken as it is; a
	 * form vcs.c does not read (ISO 8601 here) must not turn into some
	 * other date: the clock is used.
	 */
	static const struct {
		const char *date;
		const char *want; /* %ad --date=raw, or NULL: about now */
	} cases[] = {
	    {"@1700000000 +0100", "1700000000 +0100"},
	    {"1700000000 -0530", "1700000000 -0530"},
	    {"@1700000000", "1700000000 +0000"},
	    {"@1700000000 +0000", "1700000000 +0000"},
	    {"2023-11-14T22:13:20+01:00", NULL},
	    {"Tue, 14 Nov 2023 22:13:20 +0100", NULL},
	    {"yesterday", NULL},
	};
	struct fx *f = *state;
	size_t i;

	seed_project(f->dir);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *rel =
		    tu_asprintf("migrations/applied/2023010%zu_d.sql", i + 1);
		struct vcs_move m = {NULL, rel, NULL};
		long long now = (long long)time(NULL);
		char *got;

		put(f->dir, rel, rel);
		setenv("GIT_AUTHOR_DATE", cases[i].date, 1);
		vopen(f, NULL);
		assert_int_equal(vcs_record_moves(f->v, &m, 1, "d\n", 1, NULL),
		    0);
		scrub_env();
		got = git(f->dir, "log -1 --date=raw --format=%%ad");
		if (cases[i].want && strcmp(got, cases[i].want))
			fail_msg("%s: %s, want %s", cases[i].date, got,
			    cases[i].want);
		if (!cases[i].want &&
		    (atoll(got) < now - 60 || atoll(got) > now + 60))
			fail_msg("%s: %s, want about %lld", cases[i].date, got,
			    now);
		free(got);
		free(rel);
	}
}

static void
test_vcs_record_moves_of_nothing_changes_nothing(void **state)
{
	struct fx *f = *state;
	char out[VCS_ID_HEX + 1] = "x";
	char *head0;

	seed_project(f->dir);
	head0 = git(f->dir, "rev-parse HEAD");
	vopen(f, NULL);
	assert_int_equal(vcs_record_moves(f->v, NULL, 0, "nothing\n", 1, out),
	    0);
	assert_string_equal(out, "");
	expect_git(f->dir, head0, "rev-parse HEAD");
	free(head0);
}

/* ----------------------------------------------------- cached blobs --- */

/* vcs_cached_blob with the file's stat, as state.c calls it. */
static int
cached(struct fx *f, const char *path, char id[VCS_ID_HEX + 1])
{
	char *abs = tu_path(f->dir, path);
	struct stat sb;
	int ok = stat(abs, &sb) == 0 && vcs_cached_blob(f->v, path, &sb, id);

	free(abs);
	return ok;
}

static void
test_vcs_cached_blob_trusts_only_unchanged_stat_data(void **state)
{
	static const char *const path = "migrations/pending/20230101_a.sql";
	struct fx *f = *state;
	char id[VCS_ID_HEX + 1];
	char *want;

	seed_project(f->dir);
	/* an index written well after the files, with their stat data */
	pause_ms(30);
	free(git(f->dir, "read-tree HEAD"));
	free(git(f->dir, "update-index -q --really-refresh"));
	want = hash_object(f->dir, path);

	vopen(f, NULL);
	memset(id, 0, sizeof(id));
	assert_int_equal(cached(f, path, id), 1);
	assert_string_equal(id, want);
	assert_int_equal(cached(f, "migrations/pending/nope.sql", id), 0);
	assert_int_equal(cached(f, "migrations/pending", id), 0);

	/* modified: same size even, and the stat data gives it away */
	put(f->dir, path, "CREATE TABLE z (id int);\n");
	assert_int_equal(cached(f, path, id), 0);
	free(want);

	/* staged again (and given time), it is trusted again */
	pause_ms(30);
	free(git(f->dir, "add %s", path));
	want = hash_object(f->dir, path);
	vopen(f, NULL);
	assert_int_equal(cached(f, path, id), 1);
	assert_string_equal(id, want);
	free(want);

	/* touched: the content is the same, the stat data is not */
	free(tu_sh(f->dir, "touch %s", path));
	assert_int_equal(cached(f, path, id), 0);
	vopen(f, NULL);
	assert_int_equal(cached(f, path, id), 0);

	/*
	 * Racily clean: the index is no newer than the file.  (Staged
	 * afresh first: git compares whole seconds only, so it would not
	 * refresh the entry of a file touched within the same second.)
	 */
	pause_ms(30);
	free(git(f->dir, "rm -q --cached %s", path));
	free(git(f->dir, "add %s", path));
	vopen(f, NULL);
	assert_int_equal(cached(f, path, id), 1);
	free(tu_sh(f->dir, "touch -r %s .git/index", path));
	vopen(f, NULL);
	assert_int_equal(cached(f, path, id), 0);
}

static void
test_vcs_cached_blob_trusts_the_entries_record_moves_wrote(void **state)
{
	struct fx *f = *state;
	struct vcs_move m[ARRAY_SIZE(moved)];
	char ids[ARRAY_SIZE(moved)][VCS_ID_HEX + 1];
	char id[VCS_ID_HEX + 1];
	size_t i;

	seed_project(f->dir);
	pause_ms(30);
	do_moves(f->dir, m, ids);
	vopen(f, NULL);
	assert_int_equal(vcs_record_moves(f->v, m, ARRAY_SIZE(m), MESSAGE, 1,
			     NULL),
	    0);
	vopen(f, NULL);
	for (i = 0; i < ARRAY_SIZE(moved); i++) {
		memset(id, 0, sizeof(id));
		assert_int_equal(cached(f, moved[i][1], id), 1);
		assert_string_equal(id, ids[i]);
		assert_int_equal(cached(f, moved[i][0], id), 0);
	}
}

/* ------------------------------------------------------ find change --- */

static void
test_vcs_find_change_names_the_commit_that_changed_a_file(void **state)
{
	static const char *const paths[] = {
	    "migrations/pending/20230101_x.sql",
	    "migrations/applied/20230101_x.sql",
	    "migrations/archive/20230101_x.sql",
	};
	struct fx *f = *state;
	char a[VCS_ID_HEX + 1], b[VCS_ID_HEX + 1], c[VCS_ID_HEX + 1];
	char *first, *edit1, *edit2;
	struct vcs_change ch;
	const struct {
		const char *was;
		const char *commit; /* NULL: none */
		const char *author, *summary;
		long long when;
	} * k,
	    cases[] = {
		{a, "edit1", "Changer <changer@example.invalid>",
		    "edit x after apply", 1690000000},
		{b, "edit2", "Test User <test@example.invalid>", "edit x again",
		    1690000500},
		{c, NULL, NULL, NULL, 0},    /* what HEAD holds */
		{"zz", NULL, NULL, NULL, 0}, /* not an id */
		{"0123456789012345678901234567890123456789", "first",
		    "Test User <test@example.invalid>", "add x", 1680000000},
	    };
	size_t i;

	put(f->dir, "README", "start\n");
	commit_all(f->dir, "start");
	put(f->dir, paths[0], "SELECT 'a';\n");
	dates("@1680000000 +0000");
	commit_all(f->dir, "add x");
	first = git(f->dir, "rev-parse HEAD");
	mv(f->dir, paths[0], paths[1]);
	dates("@1685000000 +0000");
	commit_all(f->dir, "apply x");
	put(f->dir, paths[1], "SELECT 'b';\n");
	dates("@1690000000 +0000");
	free(git(f->dir,
	    "-c user.name=Changer "
	    "-c user.email=changer@example.invalid "
	    "commit -q -am 'edit x after apply'"));
	edit1 = git(f->dir, "rev-parse HEAD");
	put(f->dir, "README", "unrelated\n");
	commit_all(f->dir, "unrelated");
	mv(f->dir, paths[1], paths[2]);
	put(f->dir, paths[2], "SELECT 'c';\n");
	dates("@1690000500 +0000");
	commit_all(f->dir, "edit x again");
	edit2 = git(f->dir, "rev-parse HEAD");
	put(f->dir, "README", "more\n");
	commit_all(f->dir, "more unrelated");
	scrub_env();

	assert_int_equal(vcs_blob_id(a, DATA("SELECT 'a';\n")), 0);
	assert_int_equal(vcs_blob_id(b, DATA("SELECT 'b';\n")), 0);
	assert_int_equal(vcs_blob_id(c, DATA("SELECT 'c';\n")), 0);
	vopen(f, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *want;

		k = &cases[i];
		want = !k->commit                 ? ""
		    : !strcmp(k->commit, "edit1") ? edit1
		    : !strcmp(k->commit, "edit2") ? edit2
						  : first;
		memset(&ch, 0x55, sizeof(ch));
		assert_int_equal(vcs_find_change(f->v, paths, ARRAY_SIZE(paths),
				     k->was, &ch),
		    0);
		if (strcmp(ch.id, want))
			fail_msg("case %zu: commit \"%s\", want \"%s\"", i,
			    ch.id, want);
		if (!k->commit) {
			assert_null(ch.author);
			assert_null(ch.summary);
		} else {
			assert_string_equal(ch.author, k->author);
			assert_string_equal(ch.summary, k->summary);
			assert_true(ch.when == k->when);
		}
		vcs_change_release(&ch);
	}
	free(first);
	free(edit1);
	free(edit2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const char *filter = getenv("MIGDIR_TEST_FILTER");
	const struct CMUnitTest tests[] = {
	    T(test_vcs_blob_id_equals_git_hash_object),
	    T(test_vcs_open_outside_a_repository_is_not_found),
	    T(test_vcs_open_finds_the_working_directory_from_inside),
	    T(test_vcs_relpath_is_relative_to_the_working_directory),
	    T(test_vcs_check_ready_refuses_what_git_would_refuse),
	    T(test_vcs_check_ready_wants_author_and_committer_as_git_does),
	    T(test_vcs_head_files_lists_a_directory_of_head),
	    T(test_vcs_record_moves_commits_exactly_the_moves),
	    T(test_vcs_record_moves_takes_the_identity_from_config),
	    T(test_vcs_record_moves_writes_the_reflog_as_git_does),
	    T(test_vcs_check_ready_sees_a_branch_lock_from_a_linked_worktree),
	    T(test_vcs_record_moves_in_stage_mode_updates_only_the_index),
	    T(test_vcs_record_moves_adds_files_git_never_had),
	    T(test_vcs_record_moves_removes_old_paths_after_many_new_files),
	    T(test_vcs_record_moves_reads_dates_as_git_does),
	    T(test_vcs_record_moves_of_nothing_changes_nothing),
	    T(test_vcs_cached_blob_trusts_only_unchanged_stat_data),
	    T(test_vcs_cached_blob_trusts_the_entries_record_moves_wrote),
	    T(test_vcs_find_change_names_the_commit_that_changed_a_file),
	};

	if (filter && *filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
