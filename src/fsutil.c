/*
 * fsutil.c - plain POSIX file work for migdir (see fsutil.h).
 *
 * The lock file is locked with fcntl(F_SETLK), so a crashed holder leaves
 * no lock behind, and removed on release.  Removing a lock file opens a
 * race (a waiter may lock the unlinked inode while a newcomer creates a new
 * file), so a holder checks after locking that the path still names the
 * inode it locked, and starts again if not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fault.h"
#include "fsutil.h"
#include "report.h"
#include "xalloc.h"
#include "banned.h"

int
fs_read(struct buf *out, const char *path)
{
	char chunk[65536];
	int fd;
	ssize_t n;

	buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return mg_error_set(MG_ENOTFOUND,
			    "file \"%s\" does not exist", path);
		return mg_error_os(MG_ERROR, "could not open file \"%s\"",
		    path);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			mg_error_os(MG_ERROR, "could not read file \"%s\"",
			    path);
			close(fd);
			return MG_ERROR;
		}
		buf_put(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int
fs_create(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) <
	    0) {
		if (errno == EEXIST)
			return mg_error_set(MG_ERROR,
			    "\"%s\" already exists: migdir does not overwrite "
			    "files",
			    path);
		return mg_error_os(MG_ERROR, "could not create file \"%s\"",
		    path);
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			mg_error_os(MG_ERROR, "could not write file \"%s\"",
			    path);
			close(fd);
			unlink(path);
			return MG_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		mg_error_os(MG_ERROR, "could not write file \"%s\"", path);
		unlink(path);
		return MG_ERROR;
	}
	return 0;
}

int
fs_mkdir(const char *path)
{
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return mg_error_os(MG_ERROR,
		    "could not create directory \"%s\"", path);
	return 0;
}

int
fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
fs_move(const char *from, const char *to)
{
	const char *slash = strrchr(to, '/');

	if (fs_exists(to))
		return mg_error_set(MG_ERROR,
		    "cannot move \"%s\": \"%s\" already exists", from, to);
	if (rename(from, to) == 0)
		return 0;
	if (errno == ENOENT && slash) {
		char *dir = xstrndup(to, (size_t)(slash - to));
		int rc = fs_mkdir(dir);

		free(dir);
		if (rc == 0 && rename(from, to) == 0)
			return 0;
	}
	return mg_error_os(MG_ERROR, "could not move \"%s\" to \"%s\"", from,
	    to);
}

int
fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return mg_error_os(MG_ERROR, "could not open directory \"%s\"",
		    dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		mg_error_os(MG_ERROR, "could not sync directory \"%s\"", dir);
		close(fd);
		return MG_ERROR;
	}
	close(fd);
	return 0;
}

struct fs_lock {
	int fd;
	char *path;
};

static int
try_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* What the holder wrote into the lock file, for the waiting message. */
static void
holder(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int
fs_lock(struct fs_lock **out, const char *path, const char *what, long wait_ms)
{
	struct timespec start, now;
	int said = 0;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

		if (fd < 0)
			return mg_error_os(MG_ERROR,
			    "could not open lock file \"%s\"", path);
		if (try_lock(fd) == 0) {
			if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
			    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
				char line[256];
				int n = snprintf(line, sizeof(line),
				    "pid %ld, migdir %s, since %ld\n",
				    (long)getpid(), what, (long)time(NULL));

				if (ftruncate(fd, 0) == 0 && n > 0)
					(void)!write(fd, line, (size_t)n);
				*out = xcalloc(1, sizeof(**out));
				(*out)->fd = fd;
				(*out)->path = xstrdup(path);
				return 0;
			}
			close(fd); /* the file was replaced: start again */
			continue;
		}
		if (errno != EACCES && errno != EAGAIN) {
			mg_error_os(MG_ERROR, "could not lock \"%s\"", path);
			close(fd);
			return MG_ERROR;
		}
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000L +
			(now.tv_nsec - start.tv_nsec) / 1000000L >=
		    wait_ms) {
			char who[200];

			holder(path, who, sizeof(who));
			mg_error_set(MG_ELOCKED,
			    "another migdir is working in this directory (%s)",
			    *who ? who : path);
			mg_error_hint("Wait for it to finish; the lock is "
				      "released when it exits.");
			return MG_ELOCKED;
		}
		if (!said++) {
			char who[200];

			holder(path, who, sizeof(who));
			rp_info("waiting for another migdir in this directory "
				"(%s)",
			    *who ? who : path);
		}
		{
			struct timespec ts = {0, 50000000L};

			nanosleep(&ts, NULL);
		}
	}
}

void
fs_unlock(struct fs_lock *lock)
{
	if (!lock)
		return;
	unlink(lock->path);
	close(lock->fd);
	free(lock->path);
	free(lock);
}

int
fs_replace(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.migdir-new", path);
	int error;

	unlink(tmp); /* left by a crash: ours, and incomplete */
	if ((error = fs_create(tmp, data, len)) == 0)
		fault_point(FAULT_file_after_temp_write);
	if (error == 0 && rename(tmp, path) < 0) {
		error = mg_error_os(MG_ERROR, "could not replace \"%s\"", path);
		unlink(tmp);
	}
	free(tmp);
	return error;
}
