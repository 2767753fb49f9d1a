/*
 * gitrepo.h - throwaway git repositories for migdir's tests.
 *
 * Everything goes through the git command line, with the user's and the
 * system's git configuration ignored (GIT_CONFIG_NOSYSTEM=1,
 * GIT_CONFIG_GLOBAL=/dev/null) and GIT_DIR, GIT_WORK_TREE and friends
 * unset, so that a test behaves the same on every machine and inside a git
 * hook.
 */
#ifndef MIGDIR_GITREPO_H
#define MIGDIR_GITREPO_H

/*
 * Create dir (and its parents) and make it a repository on branch "main"
 * with user.name "Test User", user.email "test@example.invalid",
 * commit.gpgsign false and core.autocrlf false in its local configuration.
 * Returns 0, or -1 (git's stderr is printed).
 */
int gitrepo_init(const char *dir);

/*
 * Run "git -C 'DIR' ARGS" through sh -c, ARGS formatted as by printf and
 * split by the shell (quote arguments with tu_shquote() when needed).
 * Returns git's stdout without its trailing newlines (caller frees), or
 * NULL if git exited non-zero (its stderr is then printed).
 */
char *gitrepo_git(const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * git add -A, then git commit -q -m msg.  Returns 0, or -1 if either failed
 * (including when there was nothing to commit).
 */
int gitrepo_commit_all(const char *dir, const char *msg);

#endif
