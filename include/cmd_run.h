/*
 * cmd_run.h - what plan, apply, rollback and repair share (cmd_run.c).
 */
#ifndef MIGDIR_CMD_RUN_H
#define MIGDIR_CMD_RUN_H

#include "cmd.h"
#include "plan.h"
#include "run.h"
#include "state.h"

/* JSON of a finished run (a json_t *). */
void *cmd_run_json(const struct state *st, const struct run *r,
    enum run_kind kind);

/* Free what a run made: the run, its steps, the state. */
void cmd_release_run(struct state *st, struct steps *steps, struct run *r);

/*
 * The shared body of plan, apply and rollback: plan, prepare, confirm
 * (rollback on a terminal), execute, print the closing line or JSON; plan
 * (like --dry-run) stops after printing the plan.
 */
int cmd_run_main(struct ctx *ctx, const char *name, int argc, char **argv);

#endif
