/*
 * proc.c - run a program with posix_spawnp and capture its output.
 *
 * Two pipes carry the child's standard output and standard error; both are
 * drained with poll(2) until they close, so that a program that writes a
 * lot on one of them cannot block on a full pipe while we wait on the
 * other.  Then waitpid gives its status.  No shell is involved, so
 * arguments (a connection string, a file name) are never interpreted.
 *
 * Threads may run programs at once (rehearse dumps several scratch
 * databases): the pipes are made and the child spawned under one mutex,
 * so that no child started by another thread inherits the write end of
 * a pipe before it is marked close-on-exec, which would keep the pipe
 * open, and its reader waiting, until that other child exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"
#include "xalloc.h"
#include "banned.h"

extern char **environ;

static pthread_mutex_t spawn_mutex = PTHREAD_MUTEX_INITIALIZER;

static int
cloexec_pipe(int fd[2])
{
	if (pipe(fd) < 0) {
		fd[0] = fd[1] = -1;
		return -1;
	}
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd[1], F_SETFD, FD_CLOEXEC) < 0) {
		close(fd[0]);
		close(fd[1]);
		fd[0] = fd[1] = -1;
		return -1;
	}
	return 0;
}

/* Read both pipes until each reaches end of file. */
static void
drain(int out_fd, int err_fd, struct buf *out, struct buf *err)
{
	struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	struct buf *dst[2] = {out, err};
	char chunk[8192];
	int open_fds = 2, i;

	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_put(dst[i], chunk, (size_t)n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			p[i].fd = -1; /* end of file, or an error */
			open_fds--;
		}
	}
}

/* environ, with the variables of add replacing those of the same name. */
static char **
child_environ(const char *const *add)
{
	size_t n = 0, k = 0, i, j;
	char **envp;

	while (environ[n])
		n++;
	for (j = 0; add[j]; j++)
		;
	envp = xcalloc(n + j + 1, sizeof(*envp));
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len =
		    eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		for (j = 0; add[j]; j++)
			if (!strncmp(add[j], environ[i], len) &&
			    add[j][len] == '=')
				break;
		if (!add[j])
			envp[k++] = environ[i];
	}
	for (j = 0; add[j]; j++)
		envp[k++] = (char *)add[j];
	return envp;
}

int
proc_run(struct proc_result *out, const char *const *argv)
{
	return proc_run_env(out, argv, NULL);
}

int
proc_run_env(struct proc_result *out, const char *const *argv,
    const char *const *env)
{
	char **envp;
	posix_spawn_file_actions_t fa;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status, rc;
	pid_t pid;

	out->status = -1;
	buf_init(&out->out);
	buf_init(&out->err);
	pthread_mutex_lock(&spawn_mutex);
	if (cloexec_pipe(po) < 0 || cloexec_pipe(pe) < 0) {
		rc = mg_error_os(MG_ERROR, "could not create a pipe for %s",
		    argv[0]);
		if (po[0] >= 0) {
			close(po[0]);
			close(po[1]);
		}
		pthread_mutex_unlock(&spawn_mutex);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	envp = env ? child_environ(env) : environ;
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (envp != environ)
		free(envp);
	close(po[1]);
	close(pe[1]);
	pthread_mutex_unlock(&spawn_mutex);
	if (rc != 0) {
		close(po[0]);
		close(pe[0]);
		errno = rc;
		if (rc == ENOENT)
			return mg_error_set(MG_ENOTFOUND,
			    "could not run \"%s\": no such program", argv[0]);
		return mg_error_os(MG_ERROR, "could not run \"%s\"", argv[0]);
	}
	drain(po[0], pe[0], &out->out, &out->err);
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return mg_error_os(MG_ERROR,
			    "could not wait for \"%s\"", argv[0]);
	if (WIFEXITED(status))
		out->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		out->status = 128 + WTERMSIG(status);
	return 0;
}

void
proc_result_release(struct proc_result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}
