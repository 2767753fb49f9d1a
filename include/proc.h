/*
 * proc.h - run another program (pg_dump, pg_restore), never through a shell.
 *
 * The one module that starts processes: an argv array goes to
 * posix_spawnp, standard input is /dev/null, and what the program writes
 * on standard output and standard error is captured for the caller, who
 * decides what to show.  Nothing here knows which program it runs.
 */
#ifndef MIGDIR_PROC_H
#define MIGDIR_PROC_H

#include "buf.h"

struct proc_result {
	int status;     /* exit code, or 128 + the signal that ended it */
	struct buf out; /* everything it wrote on standard output */
	struct buf err; /* everything it wrote on standard error */
};

/*
 * Run argv (NULL-terminated; argv[0] is looked up in PATH unless it holds
 * a '/') to completion, with migdir's environment.  Returns 0 when it ran,
 * whatever its exit status (out->status says); MG_ENOTFOUND when there is
 * no such program; MG_ERROR when it could not be started.  out is
 * initialised in every case and must be released.
 */
int proc_run(struct proc_result *out, const char *const *argv);

/*
 * proc_run with variables added to the child's environment: env holds
 * "NAME=VALUE" strings and ends with NULL; each replaces a variable of the
 * same name.  Keeps secrets (PGPASSWORD) out of the command line, which
 * every user of the machine can read.
 */
int proc_run_env(struct proc_result *out, const char *const *argv,
    const char *const *env);

/* Free what proc_run captured; safe on a zeroed struct. */
void proc_result_release(struct proc_result *r);

#endif
