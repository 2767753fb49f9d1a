/*
 * cmd_run.h - what plan, apply, rollback and repair share (cmd_plan.c).
 */
#ifndef MIGDIR_CMD_RUN_H
#define MIGDIR_CMD_RUN_H

#include "cmd.h"
#include "plan.h"
#include "run.h"
#include "state.h"

struct run_args {
	struct plan_opts o;
	int rollback; /* plan --rollback, or the rollback command */
	int dry_run;  /* --dry-run */
};

/* Parse the options of plan, apply or rollback (name) into a. */
int cmd_run_options(struct ctx *ctx, const char *name, int argc, char **argv,
    struct run_args *a);

/*
 * plan_apply or plan_rollback; when problems block the run, print each
 * (with the commit that changed a drifted file) and return MG_EDRIFT.
 */
int cmd_plan_steps(struct state *st, const struct run_args *a,
    struct steps *out);

/*
 * Refuse *.sql files whose names are not migration names (apply would
 * skip them silently): prints each, returns MG_ERROR, or 0 if none.
 */
int cmd_refuse_strays(const struct state *st);

/* Print every blocking problem; MG_EDRIFT if there is one, else 0. */
int cmd_explain_blockers(struct state *st, const char *action);

/* Print a prepared run as a plan (human or JSON). */
void cmd_plan_show(struct state *st, const struct run *r, enum run_kind kind);

/* JSON of a finished run (a json_t *). */
void *cmd_run_json(const struct state *st, const struct run *r,
    enum run_kind kind);

/* Print each line of text with rp_info. */
void cmd_print_lines(const char *text);

/*
 * Open the state (need: NEED_* of state.h), refuse strays (apply), plan
 * and prepare the run: everything but running it.  cmd_release_run frees
 * what it made, whatever it returned.
 */
int cmd_prepare_run(struct ctx *ctx, const struct run_args *a, unsigned need,
    struct state *st, struct steps *steps, struct run *r);
void cmd_release_run(struct state *st, struct steps *steps, struct run *r);

/*
 * The shared body of apply and rollback: plan, prepare, confirm (rollback
 * on a terminal), execute, print the closing line or JSON.
 */
int cmd_run_main(struct ctx *ctx, const char *name, int argc, char **argv);

#endif
