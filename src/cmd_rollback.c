/*
 * cmd_rollback.c - migdir rollback: undo the most recently applied.
 *
 * The work is shared with apply in cmd_run.c; this file holds the
 * command's contract.
 */
#include "cmd.h"
#include "cmd_run.h"
#include "banned.h"

const char cmd_rollback_usage[] =
    "usage: migdir [-e ENV] rollback [--to VERSION | --step N | --all]\n"
    "                                [--allow-changed] [--dry-run] [--yes]\n"
    "                                [--force | --backup FILE]\n"
    "\n"
    "Roll back the most recently applied migration (by when it was applied,\n"
    "not by version) with its rollback file, in one transaction with its\n"
    "schema_versions row (is_active = false, rolled_back_at = now()).  For\n"
    "the tracked environment, move the pair back to pending/ and make one\n"
    "git commit.  Refuses a missing rollback file, one that changed since\n"
    "the migration was applied, and one whose risk class is destructive\n"
    "(it drops or empties a table, a column ...) unless --force is given,\n"
    "or --backup FILE: then pg_dump first writes the tables it loses to\n"
    "FILE, and nothing runs unless pg_restore can read it back.\n"
    "Archived migrations are never rolled back.  On a terminal, asks first\n"
    "unless --yes is given.\n"
    "\n"
    "  --step N          roll back the N most recently applied (default 1)\n"
    "  --to VERSION      roll back everything applied after VERSION\n"
    "  --all             roll back everything in applied/\n"
    "  --allow-changed   use a rollback file that changed since the apply\n"
    "  --force           run rollback files that lose data\n"
    "  --backup FILE     pg_dump what they lose into FILE (new), then run\n"
    "                    them; MIGDIR_PG_DUMP and MIGDIR_PG_RESTORE name\n"
    "                    the programs (default: from PATH)\n"
    "  -n, --dry-run     print the plan and change nothing\n";

int
cmd_rollback(struct ctx *ctx, int argc, char **argv)
{
	return cmd_run_main(ctx, "rollback", argc, argv);
}
