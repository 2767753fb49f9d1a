/*
 * cmd_plan.c - migdir plan: what apply (or rollback) would do, in order.
 *
 * Reads everything, parses every file that would run, and prints the
 * steps; takes no lock and writes nothing (apply --dry-run is the same).
 */
#include "cmd.h"
#include "cmd_run.h"
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
	return cmd_run_main(ctx, "plan", argc, argv);
}
