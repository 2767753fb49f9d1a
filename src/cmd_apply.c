/*
 * cmd_apply.c - migdir apply: run pending migrations, move them, commit.
 *
 * The work is shared with rollback in cmd_run.c; this file holds the
 * command's contract.
 */
#include "cmd.h"
#include "cmd_run.h"
#include "banned.h"

const char cmd_apply_usage[] =
    "usage: migdir [-e ENV] apply [--to VERSION | --step N] [--out-of-order]\n"
    "                             [--dry-run]\n"
    "\n"
    "Apply pending migrations in order, each in one transaction with its\n"
    "schema_versions row (a file's own BEGIN/COMMIT is merged; a file that\n"
    "cannot run in a transaction runs statement by statement).  For the\n"
    "tracked environment, move each pair from pending/ to applied/ as it\n"
    "commits and make one git commit for the run; first finish any move an\n"
    "interrupted run left undone, without running its SQL again.  Any other\n"
    "environment gets whatever its database lacks, and no file moves.\n"
    "\n"
    "  --to VERSION     stop after VERSION\n"
    "  --step N         apply at most N migrations\n"
    "  --out-of-order   allow a migration older than the newest applied one\n"
    "  -n, --dry-run    print the plan (as migdir plan) and change nothing\n";

int
cmd_apply(struct ctx *ctx, int argc, char **argv)
{
	return cmd_run_main(ctx, "apply", argc, argv);
}
