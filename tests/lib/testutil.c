/*
 * testutil.c - process and file helpers for migdir's test programs.
 *
 * tu_run() runs a command with an edited environment and captures its
 * stdout and stderr through two pipes drained with poll(), so that a child
 * writing megabytes to both cannot deadlock against us; tu_spawn() and
 * tu_wait() do the same in the background with the output going to files.
 * A close-on-exec pipe tells the parent whether the exec itself failed, so
 * "could not start" (-1) is kept apart from "ran and failed" (status).
 * The rest are file-system helpers: temporary directories, recursive copy
 * and removal, whole-file reads and writes.  Failures are reported on
 * stderr; running out of memory aborts, which is fine in a test.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw() is an XSI interface of POSIX.1-2008 */
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "../../include/banned.h"

extern char **environ;

/* A growable NUL-terminated byte buffer. */
struct buf {
	char *p;
	size_t len;
	size_t cap;
};

static void
oom(void)
{
	fputs("testutil: out of memory\n", stderr);
	abort();
}

static void *
xrealloc_or_die(void *p, size_t n)
{
	void *q;

	q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom();
	return q;
}

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	size_t cap;

	if (n > SIZE_MAX / 2 - b->len)
		oom();
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc_or_die(b->p, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Hand over the buffer's string (never NULL). */
static char *
buf_finish(struct buf *b)
{
	char *s;

	if (b->p == NULL)
		buf_add(b, "", 0);
	s = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

char *
tu_vasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0) {
		fputs("testutil: bad format string\n", stderr);
		abort();
	}
	s = xrealloc_or_die(NULL, (size_t)n + 1);
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) != n)
		abort();
	return s;
}

char *
tu_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = tu_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *
tu_shquote(const char *s)
{
	struct buf b = {NULL, 0, 0};

	buf_add(&b, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_add(&b, "'\\''", 4);
		else
			buf_add(&b, s, 1);
	}
	buf_add(&b, "'", 1);
	return buf_finish(&b);
}

char *
tu_path(const char *a, const char *b)
{
	size_t alen;

	alen = strlen(a);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	if (alen == 1 && a[0] == '/')
		return tu_asprintf("/%s", b);
	return tu_asprintf("%.*s/%s", (int)alen, a, b);
}

/* Make fd close-on-exec and at least 3, so it never collides with 0-2. */
static int
fd_prepare(int fd)
{
	int nfd;

	if (fd < 0)
		return fd;
	if (fd < 3) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		return nfd;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
make_pipe(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	p[0] = fd_prepare(p[0]);
	p[1] = fd_prepare(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return -1;
	}
	return 0;
}

static size_t
env_name_len(const char *e)
{
	const char *eq;

	eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

/*
 * Parse an environment edit, "-NAME" or "NAME=value": set (*name, *len)
 * to the name it applies to.  Returns 1 for an unset, 0 for a set, -1 if
 * malformed.
 */
static int
parse_edit(const char *edit, const char **name, size_t *len)
{
	int unset;

	unset = edit[0] == '-';
	*name = edit + unset;
	*len = env_name_len(*name);
	if (*len == 0 || (*name)[*len] != (unset ? '\0' : '='))
		return -1;
	return unset;
}

/*
 * Build the child's environment: ours, edited by edits (a later edit of a
 * name wins).  The array is malloc'd but its strings are borrowed from
 * environ and edits.  Returns NULL (errno EINVAL) on a malformed edit.
 */
static char **
build_env(const char *const *edits)
{
	const char *name, *other;
	char **envp;
	size_t n, nedits, i, j, k, len, olen;
	int unset, drop;

	for (n = 0; environ[n] != NULL; n++)
		;
	for (nedits = 0; edits != NULL && edits[nedits] != NULL; nedits++)
		if (parse_edit(edits[nedits], &name, &len) < 0) {
			fprintf(stderr,
			    "testutil: bad environment entry "
			    "\"%s\"\n",
			    edits[nedits]);
			errno = EINVAL;
			return NULL;
		}
	envp = xrealloc_or_die(NULL, (n + nedits + 1) * sizeof(*envp));
	k = 0;
	for (i = 0; i < n; i++) {
		drop = 0;
		for (j = 0; j < nedits && !drop; j++) {
			parse_edit(edits[j], &name, &len);
			drop = strncmp(environ[i], name, len) == 0 &&
			    environ[i][len] == '=';
		}
		if (!drop)
			envp[k++] = environ[i];
	}
	for (j = 0; j < nedits; j++) {
		unset = parse_edit(edits[j], &name, &len);
		drop = unset;
		for (i = j + 1; i < nedits && !drop; i++) {
			parse_edit(edits[i], &other, &olen);
			drop = olen == len && strncmp(other, name, len) == 0;
		}
		if (!drop)
			envp[k++] = (char *)edits[j];
	}
	envp[k] = NULL;
	return envp;
}

/*
 * Find the program for argv0: itself if it has a '/', else the first
 * executable regular file along envp's PATH (made absolute, since the child
 * may chdir).  Returns a new string or NULL.
 */
static char *
find_exec(const char *argv0, char *const *envp)
{
	const char *path, *seg, *end;
	char cwd[PATH_MAX];
	char *cand, *abs;
	struct stat st;
	size_t i;

	if (strchr(argv0, '/') != NULL)
		return tu_asprintf("%s", argv0);
	path = NULL;
	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (seg = path;; seg = end + 1) {
		end = strchr(seg, ':');
		if (end == NULL)
			end = seg + strlen(seg);
		if (end == seg)
			cand = tu_asprintf("./%s", argv0);
		else
			cand = tu_asprintf("%.*s/%s", (int)(end - seg), seg,
			    argv0);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0) {
			if (cand[0] != '/' &&
			    getcwd(cwd, sizeof(cwd)) != NULL) {
				abs = tu_path(cwd, cand);
				free(cand);
				cand = abs;
			}
			return cand;
		}
		free(cand);
		if (*end == '\0')
			break;
	}
	errno = ENOENT;
	return NULL;
}

/*
 * fork and exec file with argv and envp in cwd, with fd_in/fd_out/fd_err
 * (-1: inherit) as stdin/stdout/stderr.  Returns the pid, or -1 with errno
 * set if fork, chdir or exec failed.
 */
static pid_t
start_child(const char *cwd, char *const *envp, const char *file,
    const char *const *argv, int fd_in, int fd_out, int fd_err)
{
	sigset_t all;
	ssize_t n;
	pid_t pid;
	int ep[2], e;

	if (make_pipe(ep) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		/* The fds are all >= 3 (fd_prepare), so dup2 clobbers none. */
		if ((fd_in >= 0 && dup2(fd_in, 0) < 0) ||
		    (fd_out >= 0 && dup2(fd_out, 1) < 0) ||
		    (fd_err >= 0 && dup2(fd_err, 2) < 0))
			goto fail;
		if (cwd != NULL && chdir(cwd) < 0)
			goto fail;
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execve(file, (char *const *)argv, envp);
	fail:
		e = errno;
		n = write(ep[1], &e, sizeof(e));
		(void)n;
		_exit(127);
	}
	close(ep[1]);
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		tu_wait(pid);
		errno = e;
		return -1;
	}
	return pid;
}

/* Resolve and start argv; shared by tu_run() and tu_spawn(). */
static pid_t
launch(const char *cwd, const char *const *env, const char *const *argv,
    int fd_in, int fd_out, int fd_err, const char *who)
{
	char **envp;
	char *file;
	pid_t pid;

	if (argv == NULL || argv[0] == NULL) {
		fprintf(stderr, "%s: empty argv\n", who);
		return -1;
	}
	envp = build_env(env);
	if (envp == NULL)
		return -1;
	file = find_exec(argv[0], envp);
	if (file == NULL) {
		fprintf(stderr, "%s: %s: command not found\n", who, argv[0]);
		free(envp);
		return -1;
	}
	pid = start_child(cwd, envp, file, argv, fd_in, fd_out, fd_err);
	if (pid < 0)
		fprintf(stderr, "%s: cannot run %s%s%s: %s\n", who, file,
		    cwd ? " in " : "", cwd ? cwd : "", strerror(errno));
	free(file);
	free(envp);
	return pid;
}

int
tu_run(struct tu_run *out, const char *cwd, const char *const *env,
    const char *const *argv)
{
	struct buf bufs[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
	struct pollfd pfd[2];
	char chunk[65536];
	int po[2], pe[2], devnull, nopen, i;
	ssize_t n;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	devnull = fd_prepare(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (devnull < 0) {
		perror("tu_run: /dev/null");
		return -1;
	}
	if (make_pipe(po) < 0) {
		perror("tu_run: pipe");
		close(devnull);
		return -1;
	}
	if (make_pipe(pe) < 0) {
		perror("tu_run: pipe");
		close(devnull);
		close(po[0]);
		close(po[1]);
		return -1;
	}
	pid = launch(cwd, env, argv, devnull, po[1], pe[1], "tu_run");
	close(devnull);
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return -1;
	}

	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	nopen = 2;
	while (nopen > 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tu_run: poll");
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_add(&bufs[i], chunk, (size_t)n);
			} else if (n == 0 ||
			    (errno != EINTR && errno != EAGAIN)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);

	out->status = tu_wait(pid);
	out->out = buf_finish(&bufs[0]);
	out->err = buf_finish(&bufs[1]);
	return 0;
}

void
tu_run_free(struct tu_run *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static int
open_output(const char *path)
{
	int fd;

	if (path == NULL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "tu_spawn: %s: %s\n", path, strerror(errno));
	return fd_prepare(fd);
}

pid_t
tu_spawn(const char *cwd, const char *const *env, const char *const *argv,
    const char *out_path, const char *err_path)
{
	int devnull, fo, fe;
	pid_t pid;

	devnull = fd_prepare(open("/dev/null", O_RDONLY | O_CLOEXEC));
	fo = open_output(out_path);
	fe = open_output(err_path);
	if (devnull < 0 || (out_path != NULL && fo < 0) ||
	    (err_path != NULL && fe < 0))
		pid = -1;
	else
		pid = launch(cwd, env, argv, devnull, fo, fe, "tu_spawn");
	if (devnull >= 0)
		close(devnull);
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	return pid;
}

int
tu_wait(pid_t pid)
{
	pid_t r;
	int st;

	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

char *
tu_capture(const char *what, const char *cwd, const char *const *env,
    const char *const *argv)
{
	struct tu_run r;
	size_t len;

	if (tu_run(&r, cwd, env, argv) < 0)
		return NULL;
	if (r.status != 0) {
		fprintf(stderr, "%s exited %d\n%s", what, r.status, r.err);
		tu_run_free(&r);
		return NULL;
	}
	free(r.err);
	len = strlen(r.out);
	if (len > 0 && r.out[len - 1] == '\n')
		r.out[len - 1] = '\0';
	return r.out;
}

char *
tu_sh(const char *cwd, const char *fmt, ...)
{
	const char *argv[4];
	va_list ap;
	char *cmd, *what, *s;

	va_start(ap, fmt);
	cmd = tu_vasprintf(fmt, ap);
	va_end(ap);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = cmd;
	argv[3] = NULL;
	what = tu_asprintf("tu_sh: `%s'", cmd);
	s = tu_capture(what, cwd, NULL, argv);
	free(what);
	free(cmd);
	return s;
}

char *
tu_mkdtemp(const char *prefix)
{
	const char *tmp;
	char *tmpl;

	tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	tmpl = tu_asprintf("%s/%s.XXXXXX", tmp, prefix);
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "tu_mkdtemp: %s: %s\n", tmpl, strerror(errno));
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT) {
		fprintf(stderr, "tu_rmrf: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
tu_rmrf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return rm_one(path, &st, FTW_F, NULL);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int
tu_mkdirs(const char *path)
{
	struct stat st;
	char *p, *s, c;
	int rc, e;

	if (*path == '\0')
		return -1;
	p = tu_asprintf("%s", path);
	rc = 0;
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			c = *s;
			*s = '\0';
			if (mkdir(p, 0755) < 0) {
				e = errno;
				if (e != EEXIST || stat(p, &st) < 0 ||
				    !S_ISDIR(st.st_mode)) {
					fprintf(stderr, "tu_mkdirs: %s: %s\n",
					    p,
					    e == EEXIST ? "not a directory"
							: strerror(e));
					rc = -1;
				}
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Write all of (p, n) to fd. */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
tu_write_file(const char *path, const char *content)
{
	const char *slash;
	char *parent;
	int fd, rc;

	slash = strrchr(path, '/');
	if (slash != NULL && slash != path) {
		parent = tu_asprintf("%.*s", (int)(slash - path), path);
		rc = tu_mkdirs(parent);
		free(parent);
		if (rc < 0)
			return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "tu_write_file: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	rc = write_all(fd, content, strlen(content));
	if (close(fd) < 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "tu_write_file: %s: %s\n", path,
		    strerror(errno));
	return rc;
}

char *
tu_read_file(const char *path)
{
	struct buf b = {NULL, 0, 0};
	char chunk[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (n < 0) {
		free(b.p);
		return NULL;
	}
	return buf_finish(&b);
}

int
tu_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
copy_file(const char *from, const char *to, mode_t mode)
{
	char chunk[65536];
	int in, out, rc;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	rc = 0;
	for (;;) {
		n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -1;
		if (n <= 0)
			break;
		if (write_all(out, chunk, (size_t)n) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && fchmod(out, mode & 07777) < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

static int
copy_link(const char *from, const char *to, const struct stat *st)
{
	char *target;
	size_t size;
	ssize_t n;
	int rc;

	size = (size_t)st->st_size + 1;
	if (size < 64)
		size = 64;
	for (;;) {
		target = xrealloc_or_die(NULL, size);
		n = readlink(from, target, size);
		if (n < 0) {
			free(target);
			return -1;
		}
		if ((size_t)n < size)
			break;
		free(target);
		size *= 2;
	}
	target[n] = '\0';
	rc = symlink(target, to);
	free(target);
	return rc;
}

static int
copy_any(const char *from, const char *to)
{
	struct dirent *de;
	struct stat st, tst;
	char *f, *t;
	DIR *d;
	int rc, created;

	if (lstat(from, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode))
		return copy_file(from, to, st.st_mode) < 0 ? -1 : 0;
	if (S_ISLNK(st.st_mode))
		return copy_link(from, to, &st) < 0 ? -1 : 0;
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr,
		    "tu_copy_tree: %s: not a file, directory or "
		    "link\n",
		    from);
		return -1;
	}
	created = 1;
	if (mkdir(to, 0700) < 0) {
		if (errno != EEXIST || stat(to, &tst) < 0 ||
		    !S_ISDIR(tst.st_mode))
			goto fail;
		created = 0;
	}
	d = opendir(from);
	if (d == NULL)
		goto fail;
	rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		f = tu_path(from, de->d_name);
		t = tu_path(to, de->d_name);
		rc = copy_any(f, t);
		if (rc == -1)
			fprintf(stderr, "tu_copy_tree: %s -> %s: %s\n", f, t,
			    strerror(errno));
		free(f);
		free(t);
	}
	closedir(d);
	if (rc < 0)
		return -2; /* already reported */
	if (created && chmod(to, st.st_mode & 07777) < 0)
		goto fail;
	return 0;
fail:
	return -1;
}

int
tu_copy_tree(const char *from, const char *to)
{
	int rc;

	rc = copy_any(from, to);
	if (rc == -1)
		fprintf(stderr, "tu_copy_tree: %s -> %s: %s\n", from, to,
		    strerror(errno));
	return rc < 0 ? -1 : 0;
}

int
tu_skip_allowed(void)
{
	const char *allow = getenv("MIGDIR_TEST_ALLOW_SKIP");

	return allow != NULL && strcmp(allow, "1") == 0;
}

int
tu_keep_requested(void)
{
	const char *keep = getenv("MIGDIR_TEST_KEEP");

	return keep != NULL && strcmp(keep, "1") == 0;
}
