/*
 * vcs.h - git, through libgit2: blob ids, what HEAD holds, commits of moves.
 *
 * The only module that uses libgit2 (loaded on first use).  migdir's
 * commits contain only the paths it moved: the tree is built from HEAD plus
 * those moves, and the index is updated for those paths only, so the user's
 * other staged and unstaged work stays exactly as it was.  Paths given to
 * this module are relative to the repository's working directory.
 */
#ifndef MIGDIR_VCS_H
#define MIGDIR_VCS_H

#include <stddef.h>
#include <sys/stat.h>

#include "buf.h"

#define VCS_ID_HEX 40

struct vcs;

/* One file that moved (or appeared) in the working tree. */
struct vcs_move {
	const char *from; /* old path, or NULL for a file new to git */
	const char *to;   /* new path: the file must exist there now */
	const char *blob; /* its blob id (hex) if known, else NULL */
};

/* Where a file's content last changed in history (vcs_find_change). */
struct vcs_change {
	char id[VCS_ID_HEX + 1]; /* commit id, "" when not found */
	char *author;            /* name <email> */
	char *summary;           /* first line of the message */
	long long when;          /* commit time, seconds since the epoch */
};

/*
 * Hash data as git hashes a blob ("blob LEN\0" + data): the checksum
 * migdir records for each file.  Needs no repository.  out receives 40 hex
 * digits and a NUL.
 */
int vcs_blob_id(char out[VCS_ID_HEX + 1], const void *data, size_t len);

/*
 * Open the repository whose working tree contains path.  Returns 0,
 * MG_ENOTFOUND when path is in no repository (or only a bare one).
 */
int vcs_open(struct vcs **out, const char *path);

/* Free; NULL is a no-op. */
void vcs_free(struct vcs *v);

/* The working directory, with a trailing slash (borrowed). */
const char *vcs_workdir(const struct vcs *v);

/*
 * Append path (absolute, or relative to the current directory) relative to
 * the working directory to out; a file that does not exist yet is placed
 * by its directory.  MG_ERROR if it lies outside.
 */
int vcs_relpath(const struct vcs *v, struct buf *out, const char *path);

/*
 * Check that a commit (or, with commit = 0, an index update) can be made
 * now: no merge, rebase, cherry-pick or bisect in progress, no index.lock,
 * and for a commit: HEAD on a branch that has a commit, and an identity
 * (user.name and user.email, or GIT_AUTHOR_* / GIT_COMMITTER_*).  Each
 * refusal says what to do.
 */
int vcs_check_ready(struct vcs *v, int commit);

/*
 * Append, comma-separated, the commit hooks (pre-commit,
 * prepare-commit-msg, commit-msg, post-commit) that git would run for a
 * commit here, in core.hooksPath or the hooks folder: libgit2 runs none
 * of them, so migdir's commits skip them.
 */
void vcs_commit_hooks(struct vcs *v, struct buf *out);

/*
 * The names of the files HEAD holds in directory dir (repository-relative,
 * no trailing slash): a sorted array of malloc'd strings.  A directory
 * HEAD lacks gives none.
 */
int vcs_head_files(struct vcs *v, const char *dir, char ***out, size_t *n);

/*
 * The same for the index (what is staged), for git = stage: the files the
 * index holds directly in dir.
 */
int vcs_index_files(struct vcs *v, const char *dir, char ***out, size_t *n);

/* Free what vcs_head_files returned. */
void vcs_free_names(char **names, size_t n);

/*
 * Record moves: update the index for exactly these paths, then, when
 * commit is set, commit a tree made of HEAD's tree plus the moves, with the
 * given message, on the current branch.  out_id (may be NULL) receives the
 * commit id ("" when only staged).
 */
int vcs_record_moves(struct vcs *v, const struct vcs_move *moves, size_t n,
    const char *message, int commit, char out_id[VCS_ID_HEX + 1]);

/* A file as the commit that last brought it into a folder had it. */
struct vcs_arrival {
	char *name;                  /* file name inside the folder */
	char blob[VCS_ID_HEX + 1];   /* its blob id then */
	char commit[VCS_ID_HEX + 1]; /* that commit */
	int gen;                     /* (internal) found */
};

/*
 * For every file that folder dir (relative to the work tree, "" for its
 * root) holds in HEAD, the most recent commit on HEAD's first-parent
 * chain that brought it there (its parent did not hold it) and its
 * content then, sorted by name.  For applied/ that is the commit that
 * applied the migration, even when it was rolled back and applied again,
 * and even after a merge of a branch that forked before.  With also (may
 * be NULL), a file there counts as in dir: for archive/, also applied/
 * gives the commit that applied an archived file.  *n = 0 when HEAD is
 * unborn or lacks the folder.
 */
int vcs_arrivals(struct vcs *v, const char *dir, const char *also,
    struct vcs_arrival **out, size_t *n);

void vcs_arrivals_release(struct vcs_arrival *a, size_t n);

/*
 * Find the most recent commit after which the file at one of paths (the
 * same file in its different folders) no longer had the blob id `was`:
 * the commit that changed it.  Walks at most a few thousand commits.
 * Returns 0 (out->id may be "" when nothing was found).
 */
int vcs_find_change(struct vcs *v, const char *const *paths, size_t npaths,
    const char *was, struct vcs_change *out);

/*
 * The blob id git's index records for path (repository-relative), if the
 * index's stat data for it still match st, the file's stat (mtime, ctime,
 * inode, size), and the entry is not "racily clean": then the file's
 * content is that blob, as git status trusts.  Returns 1 and fills out,
 * else 0.
 */
int vcs_cached_blob(struct vcs *v, const char *path, const struct stat *st,
    char out[VCS_ID_HEX + 1]);

/* Free the strings of a vcs_change. */
void vcs_change_release(struct vcs_change *c);

/* HEAD's commit, described as vcs_find_change does (id "" when unborn). */
int vcs_head_commit(struct vcs *v, struct vcs_change *out);

/* How many tags point at commit (hex id), annotated ones peeled. */
int vcs_tags_on(struct vcs *v, const char *commit, size_t *n);

/* libgit2's version, "1.5.1" (static). */
const char *vcs_library_version(void);

/*
 * Append a unified diff (3 lines of context) of text a, called label_a,
 * against text b to out: nothing when they are equal.  Needs no
 * repository.
 */
int vcs_diff_text(struct buf *out, const char *a, size_t alen, const char *b,
    size_t blen, const char *label_a, const char *label_b);

/*
 * The blob id HEAD holds at path (repository-relative): 0, or
 * MG_ENOTFOUND when HEAD has no such file (or no commit).
 */
int vcs_head_blob(struct vcs *v, const char *path, char out[VCS_ID_HEX + 1]);

/*
 * Can tag NAME be made?  MG_EUSAGE for an invalid name, MG_ERROR when the
 * tag exists; 0 otherwise.
 */
int vcs_tag_check(struct vcs *v, const char *name);

/* Make annotated tag NAME on commit (hex id), tagged by the committer. */
int vcs_tag(struct vcs *v, const char *name, const char *commit,
    const char *message);

#endif
