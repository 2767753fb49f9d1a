/*
 * vcs.c - libgit2: checksums, HEAD's view of the folders, commits of moves.
 *
 * The only file that includes git2.h.  libgit2 is loaded with dlopen the
 * first time it is needed; its functions are called through the `g` table.
 *
 * A migdir commit is HEAD's tree with the moved paths removed and added
 * (git_tree_create_updated), never a snapshot of the index, so that
 * whatever else the user has staged stays out of it.  The index is updated
 * for the moved paths only, and written before the commit: a crash between
 * the two leaves the moves staged, which `status` reports and `repair`
 * commits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "dl.h"
#include "error.h"
#include "fault.h"
#include "fsutil.h"
#include "vcs.h"
#include "xalloc.h"
#include "banned.h"

#ifndef LIBGIT2_SONAME
#define LIBGIT2_SONAME "libgit2.so"
#endif

#define MAX_WALK     5000
#define FOLDER_SLOTS 16

/* clang-format off */
#define GIT_FUNCS(X) \
	X(git_libgit2_init) \
	X(git_libgit2_version) \
	X(git_error_last) \
	X(git_repository_open_ext) \
	X(git_repository_free) \
	X(git_repository_workdir) \
	X(git_repository_path) \
	X(git_repository_commondir) \
	X(git_repository_set_ident) \
	X(git_tag_foreach) \
	X(git_object_peel) \
	X(git_object_id) \
	X(git_repository_state) \
	X(git_repository_head_unborn) \
	X(git_repository_head_detached) \
	X(git_repository_index) \
	X(git_repository_config_snapshot) \
	X(git_config_get_string) \
	X(git_config_free) \
	X(git_index_remove_bypath) \
	X(git_index_get_bypath) \
	X(git_index_write) \
	X(git_index_free) \
	X(git_reference_name_to_id) \
	X(git_commit_lookup) \
	X(git_commit_tree) \
	X(git_commit_free) \
	X(git_commit_parent) \
	X(git_commit_create) \
	X(git_commit_time) \
	X(git_commit_author) \
	X(git_commit_summary) \
	X(git_commit_id) \
	X(git_tree_create_updated) \
	X(git_tree_free) \
	X(git_tree_entry_bypath) \
	X(git_tree_entry_free) \
	X(git_tree_entry_id) \
	X(git_tree_entry_type) \
	X(git_tree_entrycount) \
	X(git_tree_entry_byindex) \
	X(git_tree_entry_name) \
	X(git_tree_lookup) \
	X(git_tree_id) \
	X(git_tree_entry_byname) \
	X(git_signature_new) \
	X(git_signature_now) \
	X(git_signature_free) \
	X(git_odb_hash) \
	X(git_oid_fmt) \
	X(git_oid_equal) \
	X(git_oid_fromstrn) \
	X(git_revwalk_new) \
	X(git_revwalk_push_head) \
	X(git_revwalk_next) \
	X(git_revwalk_sorting) \
	X(git_revwalk_free) \
	X(git_repository_odb) \
	X(git_odb_exists) \
	X(git_odb_free) \
	X(git_blob_create_from_buffer) \
	X(git_index_entrycount) \
	X(git_index_get_byindex) \
	X(git_index_add) \
	X(git_diff_options_init) \
	X(git_patch_from_buffers) \
	X(git_patch_to_buf) \
	X(git_patch_free) \
	X(git_buf_dispose) \
	X(git_tag_create) \
	X(git_object_lookup) \
	X(git_object_free) \
	X(git_reference_name_is_valid) \
	X(git_reference_lookup) \
	X(git_reference_type) \
	X(git_reference_symbolic_target) \
	X(git_reference_create) \
	X(git_reference_create_matching) \
	X(git_reference_free)
/* clang-format on */

static struct {
#define X(f) __typeof__(f) *f;
	GIT_FUNCS(X)
#undef X
} g;

static int g_loaded;

static int
git_load(void)
{
	static const struct dl_sym syms[] = {
#define X(f) {#f, &g.f},
	    GIT_FUNCS(X)
#undef X
	};
	int error;

	if (g_loaded)
		return 0;
	if ((error = dl_load(LIBGIT2_SONAME, "libgit2", NULL, syms,
		 sizeof(syms) / sizeof(syms[0]))) < 0)
		return error;
	g.git_libgit2_init();
	g_loaded = 1;
	return 0;
}

struct vcs {
	git_repository *repo;
	char *workdir;    /* with trailing slash */
	git_index *index; /* loaded by vcs_cached_blob */
	struct timespec index_mtime;
	int index_state; /* 0 not loaded, 1 loaded, -1 unusable */
};

static int load_index(struct vcs *v);

/* Record libgit2's last error with a prefix; returns MG_ERROR. */
static int
git_fail(const char *what)
{
	const git_error *e = g.git_error_last();

	return mg_error_set(MG_ERROR, "%s: %s", what,
	    e && e->message ? e->message : "unknown libgit2 error");
}

static void
hex(char out[VCS_ID_HEX + 1], const git_oid *id)
{
	g.git_oid_fmt(out, id);
	out[VCS_ID_HEX] = '\0';
}

int
vcs_blob_id(char out[VCS_ID_HEX + 1], const void *data, size_t len)
{
	git_oid id;
	int error;

	if ((error = git_load()) < 0)
		return error;
	if (g.git_odb_hash(&id, data, len, GIT_OBJECT_BLOB) < 0)
		return git_fail("could not hash a file");
	hex(out, &id);
	return 0;
}

const char *
vcs_library_version(void)
{
	static char v[32];
	int major, minor, rev;

	if (git_load() < 0) {
		mg_error_clear();
		return "unavailable";
	}
	g.git_libgit2_version(&major, &minor, &rev);
	snprintf(v, sizeof(v), "%d.%d.%d", major, minor, rev);
	return v;
}

int
vcs_open(struct vcs **out, const char *path)
{
	git_repository *repo = NULL;
	const char *wd;
	struct vcs *v;
	int error;

	*out = NULL;
	if ((error = git_load()) < 0)
		return error;
	if (g.git_repository_open_ext(&repo, path, 0, NULL) < 0)
		return mg_error_set(MG_ENOTFOUND,
		    "\"%s\" is not inside a git repository", path);
	if (!(wd = g.git_repository_workdir(repo))) {
		g.git_repository_free(repo);
		return mg_error_set(MG_ENOTFOUND,
		    "the repository of \"%s\" is bare", path);
	}
	v = xcalloc(1, sizeof(*v));
	v->repo = repo;
	v->workdir = xstrdup(wd);
	*out = v;
	return 0;
}

void
vcs_free(struct vcs *v)
{
	if (!v)
		return;
	g.git_index_free(v->index);
	g.git_repository_free(v->repo);
	free(v->workdir);
	free(v);
}

const char *
vcs_workdir(const struct vcs *v)
{
	return v->workdir;
}

int
vcs_relpath(const struct vcs *v, struct buf *out, const char *path)
{
	char *abs, *wd;
	const char *base = NULL;
	size_t m;
	int error = 0;

	if (!(abs = realpath(path, NULL)) && errno == ENOENT &&
	    (base = strrchr(path, '/')) && base[1]) {
		/* a file still to be written: its directory must exist */
		char *dir = xstrndup(path, (size_t)(base - path));

		abs = realpath(*dir ? dir : "/", NULL);
		free(dir);
		base++;
	} else if (!abs && errno == ENOENT && !strchr(path, '/')) {
		abs = realpath(".", NULL);
		base = path;
	}
	if (!abs)
		return mg_error_os(MG_ERROR, "could not resolve \"%s\"", path);
	if (base) {
		char *full = xasprintf("%s/%s", abs, base);

		free(abs);
		abs = full;
	}
	if (!(wd = realpath(v->workdir, NULL))) {
		free(abs);
		return mg_error_os(MG_ERROR, "could not resolve \"%s\"", path);
	}
	m = strlen(wd);
	if (!strcmp(abs, wd))
		; /* the working directory itself */
	else if (strncmp(abs, wd, m) || abs[m] != '/')
		error = mg_error_set(MG_ERROR,
		    "\"%s\" is outside the repository at \"%s\"", path, wd);
	else
		buf_puts(out, abs + m + 1);
	free(abs);
	free(wd);
	return error;
}

/* user.name / user.email from the environment or git's configuration. */
static char *
identity(git_repository *repo, const char *env, const char *key)
{
	git_config *cfg = NULL;
	const char *v = getenv(env);
	char *found = NULL;

	if (v && *v)
		return xstrdup(v);
	if (g.git_repository_config_snapshot(&cfg, repo) == 0 &&
	    g.git_config_get_string(&v, cfg, key) == 0 && v && *v)
		found = xstrdup(v);
	g.git_config_free(cfg);
	if (!found && !strcmp(key, "user.email") && (v = getenv("EMAIL")) && *v)
		found = xstrdup(v);
	return found;
}

/*
 * Parse a GIT_*_DATE in git's internal forms "@EPOCH [+-]HHMM" or
 * "EPOCH [+-]HHMM" (the zone optional); returns 0 and the time, or -1 to
 * use the clock for anything else (an ISO date must not be read as its
 * year in seconds).
 */
static int
parse_date(const char *s, git_time_t *when, int *offset)
{
	long long t;
	int tz = 0, sign = 1;
	char *end;

	if (!s || !*s)
		return -1;
	if (*s == '@')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	t = strtoll(s, &end, 10);
	if (errno)
		return -1;
	s = end;
	if (*s == ' ') {
		s++;
		if ((*s != '+' && *s != '-') ||
		    strspn(s + 1, "0123456789") != 4 || s[5])
			return -1;
		sign = *s == '-' ? -1 : 1;
		tz = atoi(s + 1);
	} else if (*s)
		return -1;
	*when = (git_time_t)t;
	*offset = sign * ((tz / 100) * 60 + tz % 100);
	return 0;
}

static int
signature(git_signature **out, git_repository *repo, const char *who)
{
	char name_env[32], email_env[32], date_env[32];
	char *name, *email;
	git_time_t when;
	int offset, rc;

	snprintf(name_env, sizeof(name_env), "GIT_%s_NAME", who);
	snprintf(email_env, sizeof(email_env), "GIT_%s_EMAIL", who);
	snprintf(date_env, sizeof(date_env), "GIT_%s_DATE", who);
	name = identity(repo, name_env, "user.name");
	email = identity(repo, email_env, "user.email");
	if (!name || !email) {
		free(name);
		free(email);
		mg_error_set(MG_ERROR,
		    "git does not know who you are: "
		    "user.name and user.email are not set");
		mg_error_hint("Run git config user.name \"Your Name\" and git "
			      "config user.email you@example.com, or set "
			      "git = stage (or off) in migdir.ini.");
		return MG_ERROR;
	}
	if (parse_date(getenv(date_env), &when, &offset) == 0)
		rc = g.git_signature_new(out, name, email, when, offset);
	else
		rc = g.git_signature_now(out, name, email);
	free(name);
	free(email);
	return rc < 0 ? git_fail("could not make a git signature") : 0;
}

/* The git command that finishes or abandons an operation in progress. */
static const char *
state_fix(int state)
{
	switch (state) {
	case GIT_REPOSITORY_STATE_MERGE:
		return "git commit, or git merge --abort";
	case GIT_REPOSITORY_STATE_REVERT:
	case GIT_REPOSITORY_STATE_REVERT_SEQUENCE:
		return "git revert --continue, or git revert --abort";
	case GIT_REPOSITORY_STATE_CHERRYPICK:
	case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE:
		return "git cherry-pick --continue, or git cherry-pick --abort";
	case GIT_REPOSITORY_STATE_BISECT:
		return "git bisect reset";
	case GIT_REPOSITORY_STATE_REBASE:
	case GIT_REPOSITORY_STATE_REBASE_INTERACTIVE:
	case GIT_REPOSITORY_STATE_REBASE_MERGE:
		return "git rebase --continue, or git rebase --abort";
	case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
	case GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE:
		return "git am --continue, or git am --abort";
	default:
		return "git status says how";
	}
}

static const char *
state_name(int state)
{
	switch (state) {
	case GIT_REPOSITORY_STATE_MERGE:
		return "a merge";
	case GIT_REPOSITORY_STATE_REVERT:
	case GIT_REPOSITORY_STATE_REVERT_SEQUENCE:
		return "a revert";
	case GIT_REPOSITORY_STATE_CHERRYPICK:
	case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE:
		return "a cherry-pick";
	case GIT_REPOSITORY_STATE_BISECT:
		return "a bisect";
	case GIT_REPOSITORY_STATE_REBASE:
	case GIT_REPOSITORY_STATE_REBASE_INTERACTIVE:
	case GIT_REPOSITORY_STATE_REBASE_MERGE:
		return "a rebase";
	case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
	case GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE:
		return "git am";
	default:
		return "another git operation";
	}
}

/*
 * Is the git file rel (index, HEAD, refs/heads/main) locked?  A git
 * process writing it holds rel.lock; one killed while writing leaves it
 * behind, and every later write fails.  Which of the two it is only the
 * DBA can tell: refuse before anything runs, naming the file.
 */
static int
locked(struct vcs *v, const char *rel, const char *what)
{
	struct buf lock = BUF_INIT;
	struct stat st;
	int error = 0;

	/* a linked worktree has its own index and HEAD; refs are shared */
	buf_printf(&lock, "%s%s.lock",
	    strncmp(rel, "refs/", 5) ? g.git_repository_path(v->repo)
				     : g.git_repository_commondir(v->repo),
	    rel);
	if (stat(lock.ptr, &st) == 0) {
		error = mg_error_set(MG_ERROR, "%s is locked (\"%s\" exists)",
		    what, lock.ptr);
		mg_error_hint("Another git process is running; if none is, "
			      "one was killed while writing: remove the file "
			      "(rm '%s'); nothing has run.",
		    lock.ptr);
	}
	buf_release(&lock);
	return error;
}

int
vcs_check_ready(struct vcs *v, int commit)
{
	int state = g.git_repository_state(v->repo);

	if (state != GIT_REPOSITORY_STATE_NONE) {
		mg_error_set(MG_ERROR, "%s is in progress in the repository",
		    state_name(state));
		mg_error_hint("Finish it or abort it first (%s): migdir "
			      "commits its moves and will not mix them into "
			      "it; nothing has run.",
		    state_fix(state));
		return MG_ERROR;
	}
	if (locked(v, "index", "the git index") < 0)
		return MG_ERROR;
	if (!commit)
		return 0;
	if (locked(v, "HEAD", "HEAD") < 0)
		return MG_ERROR;
	{
		/* the branch a commit moves (a lock a killed git left) */
		git_reference *head = NULL;
		int error = 0;

		if (g.git_reference_lookup(&head, v->repo, "HEAD") == 0 &&
		    g.git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
			error = locked(v, g.git_reference_symbolic_target(head),
			    "the branch");
		g.git_reference_free(head);
		if (error < 0)
			return error;
	}
	if (g.git_repository_head_unborn(v->repo) == 1) {
		mg_error_set(MG_ERROR, "the current branch has no commits yet");
		mg_error_hint("Commit the migrations folder first, so that "
			      "migdir's moves have a history to join.");
		return MG_ERROR;
	}
	if (g.git_repository_head_detached(v->repo) == 1) {
		mg_error_set(MG_ERROR,
		    "HEAD is detached: migdir's commit "
		    "would belong to no branch");
		mg_error_hint("Check out a branch, or set git = stage (or off) "
			      "in migdir.ini.");
		return MG_ERROR;
	}
	{
		/* both, as git wants both: the commit comes after the point
		 * of no return */
		git_signature *sig = NULL;
		int error = signature(&sig, v->repo, "AUTHOR");

		g.git_signature_free(sig);
		sig = NULL;
		if (!error)
			error = signature(&sig, v->repo, "COMMITTER");
		g.git_signature_free(sig);
		return error;
	}
}

void
vcs_commit_hooks(struct vcs *v, struct buf *out)
{
	static const char *const hooks[] = {"pre-commit", "prepare-commit-msg",
	    "commit-msg", "post-commit"};
	struct buf dir = BUF_INIT, path = BUF_INIT;
	git_config *cfg = NULL;
	const char *hp = NULL, *home = getenv("HOME");
	size_t i;

	if (g.git_repository_config_snapshot(&cfg, v->repo) == 0 &&
	    g.git_config_get_string(&hp, cfg, "core.hooksPath") == 0 && hp &&
	    *hp) {
		/* as git resolves it: ~/, absolute, or from the top */
		if (!strncmp(hp, "~/", 2) && home)
			buf_printf(&dir, "%s/%s", home, hp + 2);
		else if (hp[0] == '/')
			buf_puts(&dir, hp);
		else
			buf_printf(&dir, "%s%s",
			    g.git_repository_workdir(v->repo), hp);
	} else
		buf_printf(&dir, "%shooks",
		    g.git_repository_commondir(v->repo));
	g.git_config_free(cfg);
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir.ptr, hooks[i]);
		if (access(path.ptr, X_OK) == 0)
			buf_printf(out, "%s%s", out->len ? ", " : "", path.ptr);
	}
	buf_release(&dir);
	buf_release(&path);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* HEAD's tree, or NULL with *out left NULL when HEAD is unborn. */
static int
head_tree(struct vcs *v, git_commit **commit, git_tree **tree)
{
	git_oid id;

	*commit = NULL;
	*tree = NULL;
	if (g.git_reference_name_to_id(&id, v->repo, "HEAD") < 0)
		return 0; /* unborn */
	if (g.git_commit_lookup(commit, v->repo, &id) < 0)
		return git_fail("could not read HEAD");
	if (g.git_commit_tree(tree, *commit) < 0)
		return git_fail("could not read HEAD's tree");
	return 0;
}

/* The directory dir of tree root: 0 and *out, or -1 (no such tree). */
static int
subtree(struct vcs *v, git_tree *root, const char *dir, git_tree **out)
{
	git_tree_entry *e = NULL;
	int error = -1;

	*out = NULL;
	if (g.git_tree_entry_bypath(&e, root, dir) == 0 &&
	    g.git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    g.git_tree_lookup(out, v->repo, g.git_tree_entry_id(e)) == 0)
		error = 0;
	g.git_tree_entry_free(e);
	return error;
}

int
vcs_head_files(struct vcs *v, const char *dir, char ***out, size_t *n)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL, *sub = NULL;
	size_t i, count, cap = 0;
	int error;

	*out = NULL;
	*n = 0;
	if ((error = head_tree(v, &commit, &tree)) < 0 || !tree)
		goto out;
	if (!*dir) {
		sub = tree;
		tree = NULL;
	} else if (subtree(v, tree, dir, &sub) < 0)
		goto out; /* no such directory in HEAD */
	count = g.git_tree_entrycount(sub);
	for (i = 0; i < count; i++) {
		const git_tree_entry *e = g.git_tree_entry_byindex(sub, i);

		if (g.git_tree_entry_type(e) != GIT_OBJECT_BLOB)
			continue;
		XGROW(*out, cap, *n + 1);
		(*out)[(*n)++] = xstrdup(g.git_tree_entry_name(e));
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_str);
out:
	g.git_tree_free(sub);
	g.git_tree_free(tree);
	g.git_commit_free(commit);
	return error;
}

int
vcs_index_files(struct vcs *v, const char *dir, char ***out, size_t *n)
{
	size_t i, count, dlen = strlen(dir), cap = 0;

	*out = NULL;
	*n = 0;
	if (!load_index(v))
		return 0;
	count = g.git_index_entrycount(v->index);
	for (i = 0; i < count; i++) {
		const git_index_entry *e = g.git_index_get_byindex(v->index, i);
		const char *rest;

		if (strncmp(e->path, dir, dlen) || e->path[dlen] != '/')
			continue;
		rest = e->path + dlen + 1;
		if (strchr(rest, '/'))
			continue;
		XGROW(*out, cap, *n + 1);
		(*out)[(*n)++] = xstrdup(rest);
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

void
vcs_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Directories of HEAD's tree, loaded once each: a folder of a thousand
 * migrations is a large tree object, and looking every path up from the
 * root would inflate and verify it once per path.
 */
struct dir_cache {
	char *dir[FOLDER_SLOTS];
	git_tree *tree[FOLDER_SLOTS];
	int n;
};

/* Does tree hold path?  (dir part looked up once via the cache) */
static int
tree_has(struct vcs *v, git_tree *root, struct dir_cache *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	git_tree *t = NULL;
	int i;

	if (!root)
		return 0;
	if (!slash)
		return g.git_tree_entry_byname(root, path) != NULL;
	for (i = 0; i < c->n; i++)
		if (strlen(c->dir[i]) == dlen &&
		    !strncmp(c->dir[i], path, dlen))
			break;
	if (i == c->n && c->n == FOLDER_SLOTS) {
		/* cache full: look the path up from the root */
		git_tree_entry *e = NULL;
		int found = g.git_tree_entry_bypath(&e, root, path) == 0;

		g.git_tree_entry_free(e);
		return found;
	}
	if (i == c->n) {
		/* a directory HEAD lacks is cached too, as NULL */
		c->dir[c->n] = xstrndup(path, dlen);
		subtree(v, root, c->dir[c->n], &c->tree[c->n]);
		c->n++;
	}
	t = c->tree[i];
	return t && g.git_tree_entry_byname(t, slash + 1) != NULL;
}

static void
dir_cache_release(struct dir_cache *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->dir[i]);
		g.git_tree_free(c->tree[i]);
	}
	c->n = 0;
}

/* Read a working-tree file into a blob of the object database. */
static int
write_blob(struct vcs *v, const char *abs, git_oid *out)
{
	struct buf b = BUF_INIT;
	int error = fs_read(&b, abs);

	if (!error &&
	    g.git_blob_create_from_buffer(out, v->repo, b.ptr, b.len) < 0)
		error = git_fail("could not store a file in git");
	buf_release(&b);
	if (!error)
		fault_point(FAULT_git_after_blob_write);
	return error;
}

/*
 * An index entry for a moved file, from its blob id and a stat of the
 * file, so that git sees it as unmodified.  The blob is written only when
 * the object database lacks it (a file never committed): hashing a
 * working file again through git_index_add_bypath costs a temporary file
 * per path, which at a thousand migrations is most of a run.
 */
static int
index_entry(struct vcs *v, git_odb *odb, const struct vcs_move *m,
    git_index_entry *e)
{
	struct buf abs = BUF_INIT;
	struct stat st;
	int error = 0;

	memset(e, 0, sizeof(*e));
	buf_printf(&abs, "%s%s", v->workdir, m->to);
	if (stat(abs.ptr, &st) < 0) {
		error = mg_error_os(MG_ERROR, "could not stat \"%s\"", abs.ptr);
		goto out;
	}
	if (!m->blob ||
	    g.git_oid_fromstrn(&e->id, m->blob, strlen(m->blob)) < 0 ||
	    !g.git_odb_exists(odb, &e->id))
		if ((error = write_blob(v, abs.ptr, &e->id)) < 0)
			goto out;
	e->ctime.seconds = (int32_t)st.st_ctim.tv_sec;
	e->ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
	e->mtime.seconds = (int32_t)st.st_mtim.tv_sec;
	e->mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
	e->dev = (uint32_t)st.st_dev;
	e->ino = (uint32_t)st.st_ino;
	e->mode = (st.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE
					 : GIT_FILEMODE_BLOB;
	e->uid = (uint32_t)st.st_uid;
	e->gid = (uint32_t)st.st_gid;
	e->file_size = (uint32_t)st.st_size;
	e->path = m->to;
out:
	buf_release(&abs);
	return error;
}

/*
 * Point HEAD's branch (or a detached HEAD) at the new commit, as git
 * commit does, with the reflog line it writes.  The commit object is
 * written first, the ref after it, so a crash between the two leaves a
 * dangling commit and the moves staged, never a ref to a missing object.
 * Refused when another process moved the branch since we read it.
 */
static int
advance_head(struct vcs *v, const git_oid *id, git_commit *parent,
    const char *message, const git_signature *committer)
{
	git_reference *head = NULL, *ref = NULL;
	const char *name = "HEAD";
	char *log;
	int rc;

	/* the reflog names the committer, as git's does (not config's) */
	g.git_repository_set_ident(v->repo, committer->name, committer->email);
	if (g.git_reference_lookup(&head, v->repo, "HEAD") < 0)
		return git_fail("could not read HEAD");
	if (g.git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		name = g.git_reference_symbolic_target(head);
	log = xasprintf("commit%s: %.*s", parent ? "" : " (initial)",
	    (int)strcspn(message, "\n"), message);
	if (parent)
		rc = g.git_reference_create_matching(&ref, v->repo, name, id, 1,
		    g.git_commit_id(parent), log);
	else
		rc = g.git_reference_create(&ref, v->repo, name, id, 0, log);
	free(log);
	g.git_reference_free(ref);
	g.git_reference_free(head);
	if (rc < 0)
		return git_fail("could not move the branch to the new commit");
	return 0;
}

int
vcs_record_moves(struct vcs *v, const struct vcs_move *moves, size_t n,
    const char *message, int commit, char out_id[VCS_ID_HEX + 1])
{
	git_index *index = NULL;
	git_odb *odb = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *new_tree = NULL;
	git_tree_update *updates = NULL;
	struct dir_cache cache = {{NULL}, {NULL}, 0};
	git_signature *author = NULL, *committer = NULL;
	git_oid tree_id, commit_id;
	size_t i, nup = 0;
	int error = 0;

	if (out_id)
		out_id[0] = '\0';
	if (n == 0)
		return 0;
	if (g.git_repository_index(&index, v->repo) < 0 ||
	    g.git_repository_odb(&odb, v->repo) < 0) {
		error = git_fail("could not open the git index");
		goto out;
	}
	for (i = 0; i < n; i++) {
		git_index_entry entry;

		if (moves[i].from &&
		    g.git_index_get_bypath(index, moves[i].from, 0) &&
		    g.git_index_remove_bypath(index, moves[i].from) < 0) {
			error = git_fail("could not update the git index");
			goto out;
		}
		if ((error = index_entry(v, odb, &moves[i], &entry)) < 0)
			goto out;
		if (g.git_index_add(index, &entry) < 0) {
			error =
			    git_fail("could not add a file to the git index");
			goto out;
		}
	}
	if (g.git_index_write(index) < 0) {
		error = git_fail("could not write the git index");
		goto out;
	}
	fault_point(FAULT_git_after_index_write);
	if (!commit)
		goto out;
	if ((error = head_tree(v, &parent, &tree)) < 0)
		goto out;
	updates = xcalloc(2 * n, sizeof(*updates));
	for (i = 0; i < n; i++) {
		const git_index_entry *e =
		    g.git_index_get_bypath(index, moves[i].to, 0);

		if (moves[i].from && tree_has(v, tree, &cache, moves[i].from)) {
			updates[nup].action = GIT_TREE_UPDATE_REMOVE;
			updates[nup].path = moves[i].from;
			nup++;
		}
		if (!e) {
			error = mg_error_set(MG_ERROR,
			    "\"%s\" vanished from the git index", moves[i].to);
			goto out;
		}
		updates[nup].action = GIT_TREE_UPDATE_UPSERT;
		updates[nup].id = e->id;
		updates[nup].filemode = e->mode;
		updates[nup].path = moves[i].to;
		nup++;
	}
	if (g.git_tree_create_updated(&tree_id, v->repo, tree, nup, updates) <
	    0) {
		error = git_fail("could not build the commit's tree");
		goto out;
	}
	fault_point(FAULT_git_after_tree_write);
	if (tree && g.git_oid_equal(&tree_id, g.git_tree_id(tree)))
		goto out; /* the files are back where HEAD has them */
	if (g.git_tree_lookup(&new_tree, v->repo, &tree_id) < 0) {
		error = git_fail("could not read the new tree");
		goto out;
	}
	if ((error = signature(&author, v->repo, "AUTHOR")) < 0 ||
	    (error = signature(&committer, v->repo, "COMMITTER")) < 0)
		goto out;
	{
		const git_commit *parents[1] = {parent};

		if (g.git_commit_create(&commit_id, v->repo, NULL, author,
			committer, NULL, message, new_tree, parent ? 1 : 0,
			parents) < 0) {
			error = git_fail("could not commit the moves");
			goto out;
		}
	}
	fault_point(FAULT_git_after_commit_object);
	if ((error = advance_head(v, &commit_id, parent, message, committer)) <
	    0)
		goto out;
	fault_point(FAULT_git_after_ref_update);
	if (out_id)
		hex(out_id, &commit_id);
out:
	dir_cache_release(&cache);
	free(updates);
	g.git_signature_free(author);
	g.git_signature_free(committer);
	g.git_tree_free(new_tree);
	g.git_tree_free(tree);
	g.git_commit_free(parent);
	g.git_odb_free(odb);
	g.git_index_free(index);
	return error;
}

/* The blob id of the first of paths found in commit c's tree. */
static int
blob_in(git_commit *c, const char *const *paths, size_t npaths, git_oid *out)
{
	git_tree *tree = NULL;
	size_t i;
	int found = 0;

	if (g.git_commit_tree(&tree, c) < 0)
		return 0;
	for (i = 0; i < npaths && !found; i++) {
		git_tree_entry *e = NULL;

		if (g.git_tree_entry_bypath(&e, tree, paths[i]) == 0) {
			*out = *g.git_tree_entry_id(e);
			found = 1;
		}
		g.git_tree_entry_free(e);
	}
	g.git_tree_free(tree);
	return found;
}

/* Fill out with commit c's id, author, summary and time. */
static void
describe(struct vcs_change *out, git_commit *c)
{
	const git_signature *a = g.git_commit_author(c);
	const char *s = g.git_commit_summary(c);

	hex(out->id, g.git_commit_id(c));
	out->author = xasprintf("%s <%s>", a->name, a->email);
	out->summary = xstrdup(s ? s : "");
	out->when = (long long)g.git_commit_time(c);
}

int
vcs_find_change(struct vcs *v, const char *const *paths, size_t npaths,
    const char *was, struct vcs_change *out)
{
	git_revwalk *walk = NULL;
	git_commit *cand = NULL;
	git_oid id, want, blob;
	int steps = 0;

	memset(out, 0, sizeof(*out));
	if (g.git_oid_fromstrn(&want, was, strlen(was)) < 0)
		return 0;
	if (g.git_revwalk_new(&walk, v->repo) < 0 ||
	    g.git_revwalk_push_head(walk) < 0) {
		g.git_revwalk_free(walk);
		return 0; /* no history: nothing to say */
	}
	g.git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (steps++ < MAX_WALK && g.git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		int has;

		if (g.git_commit_lookup(&c, v->repo, &id) < 0)
			break;
		has = blob_in(c, paths, npaths, &blob);
		if (has && g.git_oid_equal(&blob, &want)) {
			g.git_commit_free(c);
			break; /* before this point the content was `was` */
		}
		if (!has) {
			g.git_commit_free(c);
			break; /* the file did not exist yet */
		}
		g.git_commit_free(cand);
		cand = c;
	}
	if (cand)
		describe(out, cand);
	g.git_commit_free(cand);
	g.git_revwalk_free(walk);
	return 0;
}

struct tag_count {
	git_repository *repo;
	git_oid commit;
	size_t n;
};

static int
count_tag(const char *name, git_oid *id, void *payload)
{
	struct tag_count *t = payload;
	git_object *obj = NULL, *peeled = NULL;

	(void)name;
	if (g.git_object_lookup(&obj, t->repo, id, GIT_OBJECT_ANY) == 0 &&
	    g.git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0 &&
	    g.git_oid_equal(g.git_object_id(peeled), &t->commit))
		t->n++;
	g.git_object_free(peeled);
	g.git_object_free(obj);
	return 0;
}

int
vcs_tags_on(struct vcs *v, const char *commit, size_t *n)
{
	struct tag_count t = {v->repo, {{0}}, 0};

	*n = 0;
	if (g.git_oid_fromstrn(&t.commit, commit, strlen(commit)) < 0)
		return mg_error_set(MG_ERROR, "\"%s\" is not a commit id",
		    commit);
	if (g.git_tag_foreach(v->repo, count_tag, &t) < 0)
		return git_fail("could not list the tags");
	*n = t.n;
	return 0;
}

int
vcs_head_commit(struct vcs *v, struct vcs_change *out)
{
	git_commit *head;
	git_tree *tree;
	int error = head_tree(v, &head, &tree);

	memset(out, 0, sizeof(*out));
	if (!error && head)
		describe(out, head);
	g.git_tree_free(tree);
	g.git_commit_free(head);
	return error;
}

/* The folder dir of a commit's tree (dir "" is the root), or NULL. */
static git_tree *
commit_folder(struct vcs *v, git_commit *c, const char *dir)
{
	git_tree *root = NULL, *sub = NULL;

	if (g.git_commit_tree(&root, c) < 0)
		return NULL;
	if (!*dir)
		return root;
	subtree(v, root, dir, &sub);
	g.git_tree_free(root);
	return sub;
}

/* The entry name of a folder, or of its companion, or NULL. */
static const git_tree_entry *
entry_in(git_tree *t, git_tree *also, const char *name)
{
	const git_tree_entry *e = t ? g.git_tree_entry_byname(t, name) : NULL;

	return e ? e : also ? g.git_tree_entry_byname(also, name) : NULL;
}

static int
same_tree(git_tree *a, git_tree *b)
{
	return a && b ? g.git_oid_equal(g.git_tree_id(a), g.git_tree_id(b))
		      : a == b;
}

int
vcs_arrivals(struct vcs *v, const char *dir, const char *also,
    struct vcs_arrival **out, size_t *n)
{
	git_commit *c = NULL, *parent = NULL;
	git_tree *here, *here2, *tree = NULL, *before, *before2;
	char **names = NULL;
	size_t i, count, left;
	int error;

	*out = NULL;
	*n = 0;
	if ((error = head_tree(v, &c, &tree)) < 0 || !c) {
		g.git_tree_free(tree);
		g.git_commit_free(c);
		return error;
	}
	g.git_tree_free(tree);
	if (!(here = commit_folder(v, c, dir))) {
		g.git_commit_free(c);
		return 0;
	}
	here2 = also ? commit_folder(v, c, also) : NULL;
	/* the files HEAD holds in dir: when did each last arrive? */
	if (vcs_head_files(v, dir, &names, &count) < 0) {
		vcs_free_names(names, count);
		names = NULL;
		count = 0;
		mg_error_clear();
	}
	*out = xcalloc(count + 1, sizeof(**out));
	for (*n = 0; *n < count; (*n)++)
		(*out)[*n].name = names[*n];
	free(names);
	/*
	 * Down the first-parent chain (the branch's own history: a merged
	 * branch that forked before the apply does not bring files back),
	 * a file arrives at the first commit whose parent holds it in
	 * neither folder.
	 */
	for (left = *n; c && left > 0;) {
		before = before2 = NULL;
		if (g.git_commit_parent(&parent, c, 0) < 0)
			parent = NULL; /* the root: everything left arrived */
		else {
			before = commit_folder(v, parent, dir);
			before2 = also ? commit_folder(v, parent, also) : NULL;
		}
		if (!parent || !same_tree(here, before) ||
		    !same_tree(here2, before2))
			for (i = 0; i < *n; i++) {
				struct vcs_arrival *a = &(*out)[i];
				const git_tree_entry *e;

				if (a->gen ||
				    entry_in(before, before2, a->name))
					continue;
				e = entry_in(here, here2, a->name);
				if (!e)
					continue; /* not a file of this chain */
				hex(a->blob, g.git_tree_entry_id(e));
				hex(a->commit, g.git_commit_id(c));
				a->gen = 1;
				left--;
			}
		g.git_tree_free(here);
		g.git_tree_free(here2);
		g.git_commit_free(c);
		c = parent;
		here = before;
		here2 = before2;
	}
	g.git_tree_free(here);
	g.git_tree_free(here2);
	g.git_commit_free(c);
	return 0;
}

void
vcs_arrivals_release(struct vcs_arrival *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i].name);
	free(a);
}

static int
load_index(struct vcs *v)
{
	struct buf path = BUF_INIT;
	struct stat st;

	if (v->index_state)
		return v->index_state > 0;
	v->index_state = -1;
	buf_printf(&path, "%sindex", g.git_repository_path(v->repo));
	if (stat(path.ptr, &st) == 0 &&
	    g.git_repository_index(&v->index, v->repo) == 0) {
		v->index_mtime = st.st_mtim;
		v->index_state = 1;
	}
	buf_release(&path);
	return v->index_state > 0;
}

int
vcs_cached_blob(struct vcs *v, const char *path, const struct stat *st,
    char out[VCS_ID_HEX + 1])
{
	const git_index_entry *e;
	int ok;

	if (!load_index(v) || !(e = g.git_index_get_bypath(v->index, path, 0)))
		return 0;
	ok = e->mtime.seconds == (int32_t)st->st_mtim.tv_sec &&
	    e->mtime.nanoseconds == (uint32_t)st->st_mtim.tv_nsec &&
	    e->ctime.seconds == (int32_t)st->st_ctim.tv_sec &&
	    e->ctime.nanoseconds == (uint32_t)st->st_ctim.tv_nsec &&
	    e->ino == (uint32_t)st->st_ino &&
	    e->file_size == (uint32_t)st->st_size &&
	    /* racily clean: written in the same instant as the index */
	    (st->st_mtim.tv_sec < v->index_mtime.tv_sec ||
		(st->st_mtim.tv_sec == v->index_mtime.tv_sec &&
		    st->st_mtim.tv_nsec < v->index_mtime.tv_nsec));
	if (ok)
		hex(out, &e->id);
	return ok;
}

void
vcs_change_release(struct vcs_change *c)
{
	free(c->author);
	free(c->summary);
	c->author = c->summary = NULL;
}

int
vcs_diff_text(struct buf *out, const char *a, size_t alen, const char *b,
    size_t blen, const char *label_a, const char *label_b)
{
	git_diff_options opts;
	git_patch *patch = NULL;
	git_buf text = {0};
	const char *p;
	int error;

	if ((error = git_load()) < 0)
		return error;
	g.git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = 3;
	opts.old_prefix = "";
	opts.new_prefix = "";
	if (g.git_patch_from_buffers(&patch, a, alen, label_a, b, blen, label_b,
		&opts) < 0 ||
	    (patch && g.git_patch_to_buf(&text, patch) < 0)) {
		error = git_fail("could not compare two texts");
		goto out;
	}
	/* from the "--- " line on: the "diff --git" header says nothing here */
	p = text.ptr ? text.ptr : "";
	if (strncmp(p, "--- ", 4)) {
		const char *q = strstr(p, "\n--- ");

		p = q ? q + 1 : p + strlen(p);
	}
	buf_puts(out, p);
out:
	g.git_buf_dispose(&text);
	if (patch)
		g.git_patch_free(patch);
	return error;
}

int
vcs_head_blob(struct vcs *v, const char *path, char out[VCS_ID_HEX + 1])
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	int error;

	out[0] = '\0';
	if ((error = head_tree(v, &commit, &tree)) < 0)
		return error;
	if (!tree || g.git_tree_entry_bypath(&e, tree, path) < 0 ||
	    g.git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		error = MG_ENOTFOUND;
	else
		hex(out, g.git_tree_entry_id(e));
	g.git_tree_entry_free(e);
	g.git_tree_free(tree);
	g.git_commit_free(commit);
	return error;
}

/* "refs/tags/NAME" (caller frees), or NULL with an error for a bad name. */
static char *
tag_ref(const char *name)
{
	char *ref = xasprintf("refs/tags/%s", name);
	int valid = 0;

	if (g.git_reference_name_is_valid(&valid, ref) < 0 || !valid ||
	    !*name || *name == '-') {
		mg_error_set(MG_EUSAGE, "\"%s\" is not a valid tag name", name);
		free(ref);
		return NULL;
	}
	return ref;
}

int
vcs_tag_check(struct vcs *v, const char *name)
{
	git_oid id;
	char *ref;
	int error = 0;

	if ((error = git_load()) < 0)
		return error;
	if (!(ref = tag_ref(name)))
		return MG_EUSAGE;
	if (g.git_reference_name_to_id(&id, v->repo, ref) == 0) {
		error = mg_error_set(MG_ERROR, "tag %s already exists", name);
		mg_error_hint("Choose another name: migdir does not move a "
			      "tag. Nothing was changed.");
	}
	free(ref);
	return error;
}

int
vcs_tag(struct vcs *v, const char *name, const char *commit,
    const char *message)
{
	git_object *target = NULL;
	git_signature *tagger = NULL;
	git_oid id, tag_id;
	int error = 0;

	if (g.git_oid_fromstrn(&id, commit, strlen(commit)) < 0 ||
	    g.git_object_lookup(&target, v->repo, &id, GIT_OBJECT_COMMIT) < 0) {
		error = git_fail("could not find the commit to tag");
		goto out;
	}
	if ((error = signature(&tagger, v->repo, "COMMITTER")) < 0)
		goto out;
	if (g.git_tag_create(&tag_id, v->repo, name, target, tagger, message,
		0) < 0)
		error = git_fail("could not create the tag");
out:
	g.git_signature_free(tagger);
	g.git_object_free(target);
	return error;
}
