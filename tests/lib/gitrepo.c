/*
 * gitrepo.c - throwaway git repositories for migdir's tests.
 *
 * Thin wrappers over the git command line run with tu_run(): the
 * environment they get ignores the system and global git configuration and
 * drops the variables (GIT_DIR, GIT_WORK_TREE, ...) that would point git at
 * some other repository, e.g. when the tests run from a git hook.  The
 * identity and the settings a commit depends on go into each repository's
 * own configuration, so the migdir commands under test see them too.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitrepo.h"
#include "testutil.h"

#include "../../include/banned.h"

static const char *const git_env[] = {"GIT_CONFIG_NOSYSTEM=1",
    "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "-GIT_DIR",
    "-GIT_WORK_TREE", "-GIT_INDEX_FILE", "-GIT_OBJECT_DIRECTORY",
    "-GIT_ALTERNATE_OBJECT_DIRECTORIES", "-GIT_COMMON_DIR", "-GIT_NAMESPACE",
    "-GIT_PREFIX", "-GIT_CONFIG", "-GIT_CONFIG_PARAMETERS", "-GIT_CONFIG_COUNT",
    NULL};

/* Run git with argv (argv[0] == "git"); 0 if it exited 0, else -1. */
static int
git_argv(const char *const *argv)
{
	struct tu_run r;
	size_t i;

	if (tu_run(&r, NULL, git_env, argv) < 0)
		return -1;
	if (r.status != 0) {
		fputs("gitrepo:", stderr);
		for (i = 0; argv[i] != NULL; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, ": exited %d\n%s", r.status, r.err);
		tu_run_free(&r);
		return -1;
	}
	tu_run_free(&r);
	return 0;
}

int
gitrepo_init(const char *dir)
{
	static const char *const config[][2] = {
	    {"user.name", "Test User"},
	    {"user.email", "test@example.invalid"},
	    {"commit.gpgsign", "false"},
	    {"core.autocrlf", "false"},
	};
	const char *argv[8];
	size_t i;

	if (tu_mkdirs(dir) < 0)
		return -1;
	argv[0] = "git";
	argv[1] = "init";
	argv[2] = "-q";
	argv[3] = "-b";
	argv[4] = "main";
	argv[5] = dir;
	argv[6] = NULL;
	if (git_argv(argv) < 0)
		return -1;
	for (i = 0; i < sizeof(config) / sizeof(config[0]); i++) {
		argv[0] = "git";
		argv[1] = "-C";
		argv[2] = dir;
		argv[3] = "config";
		argv[4] = config[i][0];
		argv[5] = config[i][1];
		argv[6] = NULL;
		if (git_argv(argv) < 0)
			return -1;
	}
	return 0;
}

char *
gitrepo_git(const char *dir, const char *fmt, ...)
{
	const char *argv[4];
	char *args, *qdir, *cmd, *what, *out;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	args = tu_vasprintf(fmt, ap);
	va_end(ap);
	qdir = tu_shquote(dir);
	cmd = tu_asprintf("git -C %s %s", qdir, args);
	free(qdir);
	free(args);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = cmd;
	argv[3] = NULL;
	what = tu_asprintf("gitrepo: `%s'", cmd);
	out = tu_capture(what, NULL, git_env, argv);
	free(what);
	free(cmd);
	if (out == NULL)
		return NULL;
	len = strlen(out);
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	return out;
}

int
gitrepo_commit_all(const char *dir, const char *msg)
{
	const char *argv[8];

	argv[0] = "git";
	argv[1] = "-C";
	argv[2] = dir;
	argv[3] = "add";
	argv[4] = "-A";
	argv[5] = NULL;
	if (git_argv(argv) < 0)
		return -1;
	argv[3] = "commit";
	argv[4] = "-q";
	argv[5] = "-m";
	argv[6] = msg;
	argv[7] = NULL;
	return git_argv(argv);
}
