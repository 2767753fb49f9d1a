/*
 * cmd_plan.c - migdir plan: what apply (or rollback) would do, in order.
 *
 * Reads everything, parses every file that would run, and prints the
 * steps; takes no lock and writes nothing (apply --dry-run is the same).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "cmd_run.h"
#include "error.h"
#include "name.h"
#include "report.h"
#include "banned.h"

const char cmd_plan_usage[] =
    "usage: migdir [-e ENV] plan [--rollback] [--to VERSION | --step N | "
    "--all]\n"
    "                           [--out-of-order] [--allow-changed]\n"
    "\n"
    "Show what apply (or, with --rollback, rollback) would do, in order:\n"
    "each migration, its number of statements, and whether it runs in one\n"
    "transaction; then the moves.  Touches nothing.  The options are those\n"
    "of apply and rollback.\n";

int
cmd_plan(struct ctx *ctx, int argc, char **argv)
{
	struct run_args a;
	struct state st = {0};
	struct steps steps = {0};
	struct run r = {0};
	int rc;

	if ((rc = cmd_run_options(ctx, "plan", argc, argv, &a)) < 0 ||
	    (rc = ctx_config(ctx)) < 0)
		return rc;
	if ((rc = cmd_prepare_run(ctx, &a, NEED_DB, &st, &steps, &r)) == 0)
		cmd_plan_show(&st, &r, a.rollback ? RUN_ROLLBACK : RUN_APPLY);
	cmd_release_run(&st, &steps, &r);
	return rc;
}
