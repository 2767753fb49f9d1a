/*
 * testutil.h - process and file helpers for migdir's test programs.
 *
 * Everything here is meant for tests: allocation failure aborts, errors are
 * reported on stderr, and nothing is thread-safe.  Strings returned are
 * malloc'd and owned by the caller unless stated otherwise.
 */
#ifndef MIGDIR_TESTUTIL_H
#define MIGDIR_TESTUTIL_H

#include <sys/types.h>

#include <stdarg.h>

/*
 * May a test that needs a PostgreSQL cluster skip when there is none?
 * Only when MIGDIR_TEST_ALLOW_SKIP=1; otherwise it must fail.
 */
int tu_skip_allowed(void);

/*
 * Run argv as tu_run() does and return its stdout without one trailing
 * newline; NULL if it could not start or exited non-zero (then `what`,
 * its status and its stderr are printed on stderr).
 */
char *tu_capture(const char *what, const char *cwd, const char *const *env,
    const char *const *argv);

/* Should a test keep its directories?  Only when MIGDIR_TEST_KEEP=1. */
int tu_keep_requested(void);

/* The outcome of tu_run(). */
struct tu_run {
	int status; /* exit code, or 128+signal */
	char *out;  /* everything written to stdout, NUL-terminated */
	char *err;  /* everything written to stderr, NUL-terminated */
};

/*
 * Run argv (NULL-terminated) to completion in directory cwd (NULL: the
 * current directory), with stdin from /dev/null and stdout and stderr
 * captured completely into out->out and out->err.
 *
 * env (NULL-terminated, may be NULL) edits the inherited environment:
 * "NAME=value" sets NAME (an empty value sets it empty) and "-NAME" unsets
 * it.  argv[0] without a '/' is looked up in the PATH of that edited
 * environment; with a '/' but relative, it is relative to cwd.
 *
 * Returns 0 if the process ran, whatever its exit status, and fills *out
 * (release with tu_run_free()).  Returns -1 if it could not be started
 * (command not found, cwd missing, ...): *out is then zeroed and nothing
 * needs to be freed.
 */
int tu_run(struct tu_run *out, const char *cwd, const char *const *env,
    const char *const *argv);

/* Free the strings of r (not r itself) and zero them; NULL is a no-op. */
void tu_run_free(struct tu_run *r);

/*
 * Start argv in the background, like tu_run() but without waiting.  stdout
 * and stderr are truncated and written to out_path and err_path (NULL: the
 * stream is inherited from the test); stdin is /dev/null.  Returns the
 * child's pid, to be collected with tu_wait(), or -1 if it could not be
 * started.
 */
pid_t tu_spawn(const char *cwd, const char *const *env, const char *const *argv,
    const char *out_path, const char *err_path);

/* Wait for pid; returns its exit code, 128+signal, or -1 on error. */
int tu_wait(pid_t pid);

/*
 * Run "sh -c CMD" in cwd (NULL: current directory), CMD formatted as by
 * printf.  Returns its stdout with one trailing newline removed (caller
 * frees), or NULL if it exited non-zero (its stderr is then copied to
 * ours).
 */
char *tu_sh(const char *cwd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Create a fresh directory $TMPDIR/PREFIX.XXXXXX (/tmp when TMPDIR is unset
 * or empty), mode 0700.  Returns its path (caller frees) or NULL.
 */
char *tu_mkdtemp(const char *prefix);

/*
 * Remove path recursively, without following symbolic links.  Returns 0 on
 * success or if path does not exist, -1 otherwise.
 */
int tu_rmrf(const char *path);

/*
 * Write content to path (created or truncated, mode 0644), creating its
 * parent directories.  Returns 0 or -1.
 */
int tu_write_file(const char *path, const char *content);

/*
 * Return the whole content of path, NUL-terminated (caller frees), or NULL
 * if it cannot be read.
 */
char *tu_read_file(const char *path);

/* Return 1 if path exists (a dangling symbolic link counts), else 0. */
int tu_exists(const char *path);

/*
 * Copy the directory tree from into to (created if missing): directories,
 * regular files (with their permission bits) and symbolic links.  Other
 * kinds of file make it fail.  Returns 0 or -1.
 */
int tu_copy_tree(const char *from, const char *to);

/* Return "a/b" (no doubled '/'), caller frees. */
char *tu_path(const char *a, const char *b);

/* Extras beyond the core API. */

/* printf into a new string (caller frees); aborts if out of memory. */
char *tu_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tu_asprintf() with a va_list (ap is consumed). */
char *tu_vasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/*
 * Quote s for the POSIX shell as one word ('...' with embedded quotes
 * escaped).  Returns a new string, caller frees.
 */
char *tu_shquote(const char *s);

/* mkdir -p path (mode 0755 for new directories).  Returns 0 or -1. */
int tu_mkdirs(const char *path);

#endif
