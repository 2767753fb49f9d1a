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
    "each migration, the risk class of its file and of its rollback file,\n"
    "its number of statements, and whether it runs in one transaction;\n"
    "then the moves.  Touches nothing.  The options are those of apply and\n"
    "rollback.\n";

int
cmd_plan(struct ctx *ctx, int argc, char **argv)
{
	return cmd_run_main(ctx, "plan", argc, argv);
}
