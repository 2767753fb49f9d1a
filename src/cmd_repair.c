/*
 * cmd_repair.c - migdir repair: finish what an interrupted run left undone.
 *
 * Moves files whose database rows say they are applied (or rolled back)
 * into the folder the row calls for, reunites pairs split between two
 * folders, and commits moves that reached the working tree but not git.
 * Never runs migration SQL: the database is the record of what happened.
 */
#include "cmd.h"
#include "cmd_run.h"
#include "error.h"
#include "report.h"
#include "banned.h"

const char cmd_repair_usage[] =
    "usage: migdir repair\n"
    "\n"
    "Finish the moves an interrupted apply or rollback left undone: a file\n"
    "in pending/ whose row is active goes to applied/, a file in applied/\n"
    "whose row was rolled back goes to pending/, a rollback file left in\n"
    "the other folder joins its migration, and moves not yet committed are\n"
    "committed.  Runs no migration SQL.  Works on the tracked environment.\n";

int
cmd_repair(struct ctx *ctx, int argc, char **argv)
{
	struct state st;
	struct steps steps = {0};
	struct run r = {0};
	size_t i;
	int rc;

	if ((rc = cmd_no_args(ctx, "repair", argc, argv)) < 0 ||
	    (rc = ctx_config(ctx)) < 0 ||
	    (rc = state_open(&st, ctx, NEED_DB | NEED_WRITE)) < 0)
		return rc;
	if (!st.tracked) {
		rc = mg_error_set(MG_EUSAGE,
		    "repair works on the tracked environment (%s), not %s",
		    st.cfg->tracked, st.env->name);
		goto out;
	}
	if ((rc = plan_repair(&steps, st.e, st.n, &st.pctx)) < 0 ||
	    (rc = run_prepare(&r, &st, &steps, RUN_REPAIR)) < 0)
		goto out;
	for (i = 0; i < st.n; i++)
		if (plan_consolidating(&st.e[i]))
			break;
	if (i == st.n && state_check_baseline_file(&st) < 0)
		i = st.n + 1; /* the file is written, nothing moved yet */
	mg_error_clear();
	if (i != st.n)
		rp_warning("a consolidate was interrupted: repair leaves it to "
			   "migdir consolidate, which finishes the moves and "
			   "commits them with %s",
		    st.cfg->consolidated);
	if (r.n == 0 && i != st.n) {
		rp_out("Nothing else to repair.\n");
	} else if (r.n == 0) {
		rp_out("Nothing to repair: the folders, the database and git "
		       "agree.\n");
	} else {
		rc = run_execute(&r);
		if (r.commit[0])
			rp_out("Repaired %zu migration%s; committed %.12s.\n",
			    r.n, rp_plural(r.n), r.commit);
		else
			rp_out("Repaired %zu migration%s.\n", r.n,
			    rp_plural(r.n));
	}
	if (ctx->json)
		rp_json(cmd_run_json(&st, &r, RUN_REPAIR));
out:
	cmd_release_run(&st, &steps, &r);
	return rc;
}
