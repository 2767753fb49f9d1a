/*
 * scan.c - list pending/, applied/ and archive/ and pair the files.
 *
 * Reads directory entries only; file contents are read by the callers that
 * need them.  Each name is parsed once with name_parse; the forward and
 * rollback files of a version are merged into one struct migration that
 * records which folders hold which file, so that duplicates and pairs split
 * across folders (a move interrupted between its two renames) are visible
 * to plan.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "scan.h"
#include "xalloc.h"
#include "banned.h"

const char *const folder_name[FOLDER_COUNT] = {"pending", "applied", "archive"};

struct found {
	char *version;
	char stamp[NAME_STAMP_LEN + 1];
	int folder;
	enum name_kind kind;
};

static int
cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	int c = strcmp(x->stamp, y->stamp);

	return c ? c : strcmp(x->version, y->version);
}

static void
add_stray(struct scan *s, int folder, const char *file, const char *reason)
{
	struct buf path = BUF_INIT;

	/* a name is shown, never used: escape what a terminal would obey */
	buf_printf(&path, "%s/", folder_name[folder]);
	buf_put_shown(&path, file, "");
	XGROW(s->strays, s->strays_cap, s->nstrays + 1);
	s->strays[s->nstrays].path = buf_detach(&path);
	s->strays[s->nstrays].reason = xstrdup(reason);
	s->nstrays++;
}

/*
 * Refuse a symbolic link where migdir reads, moves and commits files:
 * rename(2) would move the link, not the SQL, and git would record the
 * link (or, for a folder, a tree outside the repository).
 */
static int
refuse_link(const char *shown_path, const char *what)
{
	mg_error_set(MG_ERROR,
	    "%s is a symbolic link: migdir moves and commits %s, not links",
	    shown_path, what);
	mg_error_hint("Replace the link with the %s it points to (or remove "
		      "it); nothing has run.",
	    !strcmp(what, "files") ? "file" : "directory");
	return MG_ERROR;
}

static int
is_link(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int
read_folder(struct scan *s, int folder, struct found **found, size_t *n,
    size_t *cap)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int error = 0;

	buf_printf(&path, "%s/%s", s->dir, folder_name[folder]);
	if (is_link(path.ptr)) {
		char *p = buf_shown(path.ptr);

		error = refuse_link(p, "directories");
		free(p);
		goto out;
	}
	if (!(d = opendir(path.ptr))) {
		if (errno != ENOENT)
			error = mg_error_os(MG_ERROR,
			    "could not open directory \"%s\"", path.ptr);
		goto out;
	}
	s->present |= 1u << folder;
	while ((errno = 0, de = readdir(d))) {
		struct name nm;
		int rc = name_parse(&nm, de->d_name);

		if (rc == MG_ENOTFOUND)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			0 &&
		    S_ISLNK(st.st_mode)) {
			struct buf p = BUF_INIT;

			buf_printf(&p, "%s/", path.ptr);
			buf_put_shown(&p, de->d_name, "");
			error = refuse_link(p.ptr, "files");
			buf_release(&p);
			break;
		}
		if (rc < 0) {
			add_stray(s, folder, de->d_name,
			    mg_error_last()->message);
			mg_error_clear();
			continue;
		}
		XGROW(*found, *cap, *n + 1);
		(*found)[*n].version = xstrdup(nm.version);
		memcpy((*found)[*n].stamp, nm.stamp, sizeof(nm.stamp));
		(*found)[*n].folder = folder;
		(*found)[*n].kind = nm.kind;
		(*n)++;
	}
	if (!error && errno)
		error = mg_error_os(MG_ERROR, "could not read directory \"%s\"",
		    path.ptr);
	closedir(d);
out:
	buf_release(&path);
	return error;
}

int
scan_dir(struct scan *out, const char *dir)
{
	struct found *found = NULL;
	size_t n = 0, cap = 0, i;
	DIR *d;
	int folder, error = 0;

	memset(out, 0, sizeof(*out));
	out->dir = xstrdup(dir);
	if (!(d = opendir(dir))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return mg_error_set(MG_ENOTFOUND,
			    "migrations directory \"%s\" not found", dir);
		return mg_error_os(MG_ERROR, "could not open directory \"%s\"",
		    dir);
	}
	closedir(d);
	if (is_link(dir)) {
		char *p = buf_shown(dir);

		refuse_link(p, "directories");
		free(p);
		return MG_ERROR;
	}
	for (folder = 0; folder < FOLDER_COUNT; folder++)
		if ((error = read_folder(out, folder, &found, &n, &cap)) < 0)
			goto out;
	if (n) /* qsort(NULL, 0, ...) is undefined */
		qsort(found, n, sizeof(*found), cmp_found);
	for (i = 0; i < n; i++) {
		struct migration *m;

		if (!out->n ||
		    strcmp(out->v[out->n - 1].version, found[i].version)) {
			XGROW(out->v, out->cap, out->n + 1);
			m = &out->v[out->n++];
			m->version = found[i].version;
			found[i].version = NULL;
			memcpy(m->stamp, found[i].stamp, sizeof(m->stamp));
			m->fwd = m->rb = 0;
		}
		m = &out->v[out->n - 1];
		if (found[i].kind == NAME_FORWARD)
			m->fwd |= 1u << found[i].folder;
		else
			m->rb |= 1u << found[i].folder;
	}
out:
	for (i = 0; i < n; i++)
		free(found[i].version);
	free(found);
	return error;
}

void
scan_release(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].version);
	for (i = 0; i < s->nstrays; i++) {
		free(s->strays[i].path);
		free(s->strays[i].reason);
	}
	free(s->v);
	free(s->strays);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}

const struct migration *
scan_find(const struct scan *s, const char *version)
{
	return name_bsearch(s->v, s->n, sizeof(*s->v),
	    offsetof(struct migration, version), version);
}

int
folder_lowest(unsigned mask)
{
	int f;

	for (f = 0; f < FOLDER_COUNT; f++)
		if (mask & (1u << f))
			return f;
	return -1;
}

int
migration_folder(const struct migration *m)
{
	return m->fwd ? folder_lowest(m->fwd) : folder_lowest(m->rb);
}

int
folder_count(unsigned mask)
{
	int n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

void
scan_path(struct buf *out, const char *dir, int folder, const char *version,
    enum name_kind kind)
{
	buf_printf(out, "%s/%s/", dir, folder_name[folder]);
	name_file(out, version, kind);
}
