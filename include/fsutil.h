/*
 * fsutil.h - files and directories: read, create, move, sync, lock.
 *
 * Moves use rename(2), which is atomic within a file system; migdir never
 * overwrites a file it did not create.  Directory fsyncs are done once per
 * run by the caller (the database commit is the point of no return, and a
 * move a crash loses is redone from the database row).
 */
#ifndef MIGDIR_FSUTIL_H
#define MIGDIR_FSUTIL_H

#include <stddef.h>

#include "buf.h"

/* Read a whole file into out (replacing its contents).  MG_ENOTFOUND if missing. */
int fs_read(struct buf *out, const char *path);

/*
 * Create path with data, failing if it exists (O_EXCL), and fsync it.
 * Returns 0, MG_ERROR ("already exists" when it does).
 */
int fs_create(const char *path, const void *data, size_t len);

/*
 * Replace (or create) path with data at once: written and fsynced beside
 * it as path.migdir-new, then renamed over it.  A crash leaves either the
 * old file or the new one, never a mix.
 */
int fs_replace(const char *path, const void *data, size_t len);

/* Create a directory; an existing one is fine. */
int fs_mkdir(const char *path);

/* Does path exist? */
int fs_exists(const char *path);

/* Is path a directory (or a link to one)? */
int fs_is_dir(const char *path);

/*
 * Move from to to with rename(2), refusing to replace an existing file.
 * Creates the destination directory when it is missing.
 */
int fs_move(const char *from, const char *to);

/* fsync a directory, so that renames in it survive a power cut. */
int fs_sync_dir(const char *dir);

struct fs_lock;

/*
 * Take an exclusive lock file at path (fcntl lock: a crash releases it),
 * waiting up to wait_ms for another holder, and write what holds it
 * (`what`, e.g. "apply") into the file.  Returns 0, MG_ELOCKED, or
 * MG_ERROR.
 */
int fs_lock(struct fs_lock **out, const char *path, const char *what,
    long wait_ms);

/* Remove the lock file and release it; NULL is a no-op. */
void fs_unlock(struct fs_lock *lock);

#endif
