/*
 * cmd_status.c - migdir status: one line per migration, and its problems.
 *
 * Reads the folders, the files, HEAD and the database, changes nothing.
 * Each problem of DESIGN §4 gets one line saying what it means and what
 * will fix it; with --exit-code the status is 3 when anything is pending
 * or inconsistent, so that scripts and CI can ask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "plan.h"
#include "report.h"
#include "risk.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_status_usage[] =
    "usage: migdir [-e ENV] status [--exit-code] [--json]\n"
    "\n"
    "Show every migration: its folder, its risk class (safe, blocking,\n"
    "may-fail, destructive), its state in the environment's database, and\n"
    "every problem: checksum drift, a move left half done, an active row\n"
    "whose file is missing, a missing or orphan rollback, a pending\n"
    "migration older than the newest applied one, a move not yet committed\n"
    "to git.  Changes nothing.\n"
    "\n"
    "  --exit-code   exit with status 3 when anything is pending or\n"
    "                inconsistent (0 otherwise)\n";

enum { O_EXIT_CODE = 1 };

static const struct cmd_opt opts[] = {
    {"exit-code", 0, 0, O_EXIT_CODE},
    {NULL, 0, 0, 0},
};

static const char *
state_word(const struct entry *e)
{
	switch (e->state) {
	case ST_PENDING:
		return "pending";
	case ST_APPLIED:
		return "applied";
	case ST_ARCHIVED:
		return "archived";
	case ST_ROW_ONLY:
		return "applied";
	}
	return "?";
}

/*
 * What is wrong between consolidated_schema.sql and archive/ (caller
 * frees), or NULL.
 */
static char *
baseline_problem(const struct state *st)
{
	char *problem = NULL;

	if (state_check_baseline_file(st) < 0)
		problem = xasprintf("%s: %s", mg_error_last()->message,
		    "migdir consolidate finishes an interrupted one");
	mg_error_clear();
	return problem;
}

static json_t *
entry_json(const struct entry *e, int risk)
{
	json_t *o = json_object(), *pbs = json_array();
	char t[40], why[256];
	unsigned bit;
	const char *rname = risk_json_name(risk);

	json_object_set_new(o, "version", json_string(e->version));
	json_object_set_new(o, "folder",
	    e->folder >= 0 ? json_string(folder_name[e->folder]) : json_null());
	json_object_set_new(o, "state", json_string(state_word(e)));
	json_object_set_new(o, "risk",
	    rname ? json_string(rname) : json_null());
	json_object_set_new(o, "checksum",
	    *e->sum ? json_string(e->sum) : json_null());
	if (e->row) {
		json_object_set_new(o, "active", json_boolean(e->row->active));
		json_object_set_new(o, "applied_at",
		    e->row->applied_at
			? json_string(rp_time(t, e->row->applied_at, 1))
			: json_null());
		json_object_set_new(o, "applied_by",
		    e->row->applied_by ? json_string(e->row->applied_by)
				       : json_null());
		if (e->row->rolled_back_at)
			json_object_set_new(o, "rolled_back_at",
			    json_string(rp_time(t, e->row->rolled_back_at, 1)));
		json_object_set_new(o, "recorded_checksum",
		    e->row->checksum ? json_string(e->row->checksum)
				     : json_null());
	}
	for (bit = 1; bit <= PB_UNREADABLE; bit <<= 1)
		if (e->problems & bit)
			json_array_append_new(pbs,
			    json_pack("{s:s,s:s}", "problem",
				plan_problem_name((enum problem)bit), "message",
				plan_problem_text(e, (enum problem)bit, why,
				    sizeof(why))));
	json_object_set_new(o, "problems", pbs);
	if (e->failure)
		json_object_set_new(o, "last_failure",
		    json_pack("{s:s,s:s,s:s?,s:s?,s:s?}", "action",
			e->failure->action, "at", rp_time(t, e->failure->at, 1),
			"sqlstate", e->failure->sqlstate, "location",
			e->failure->location, "message", e->failure->message));
	return o;
}

static void
print_entry(const struct entry *e, int width, int risk)
{
	char t[40], why[256], cell[64];
	unsigned bit;
	const char *folder = e->folder >= 0 ? folder_name[e->folder] : "-";
	enum rp_color c = e->state == ST_PENDING ? RP_YELLOW : RP_GREEN;

	rp_out("  %-8s %-*s  %s  %s%s%s", folder, width, e->version,
	    risk_cell(cell, sizeof(cell), risk), rp_c(c), state_word(e),
	    rp_c(RP_RESET));
	if (e->row && e->row->active && e->row->applied_at)
		rp_out(" %s", rp_time(t, e->row->applied_at, 0));
	if (e->row && e->row->active && e->row->applied_by)
		rp_out(" by %s", e->row->applied_by);
	if (e->state == ST_PENDING && e->row && !e->row->active &&
	    e->row->rolled_back_at)
		rp_out(" (rolled back %s)",
		    rp_time(t, e->row->rolled_back_at, 0));
	rp_out("\n");
	if (e->failure)
		rp_out("  %*s %s!%s last %s failed %s at %s: %s%s%s%s\n", 8, "",
		    rp_c(RP_YELLOW), rp_c(RP_RESET), e->failure->action,
		    rp_time(t, e->failure->at, 0),
		    e->failure->location ? e->failure->location : "?",
		    e->failure->message ? e->failure->message : "",
		    e->failure->sqlstate ? " (SQLSTATE " : "",
		    e->failure->sqlstate ? e->failure->sqlstate : "",
		    e->failure->sqlstate ? ")" : "");
	if (e->in_build)
		rp_out("  %*s %s!%s not run here yet: building this database "
		       "stopped before it; apply runs it\n",
		    8, "", rp_c(RP_YELLOW), rp_c(RP_RESET));
	for (bit = 1; bit <= PB_UNREADABLE; bit <<= 1)
		if (e->problems & bit)
			rp_out("  %*s %s!%s %s\n", 8, "",
			    rp_c(bit & PB_WARNING ? RP_YELLOW : RP_RED),
			    rp_c(RP_RESET),
			    plan_problem_text(e, (enum problem)bit, why,
				sizeof(why)));
}

int
cmd_status(struct ctx *ctx, int argc, char **argv)
{
	struct state st;
	struct risk *risk;
	struct buf where = BUF_INIT;
	const char *arg;
	size_t i, counts[4] = {0}, problems = 0, fixable = 0, consolidating = 0;
	int next = 0, rc, exit_code = 0, width = 20, pending = 0;
	json_t *list, *strays;
	char *base_problem;

	while ((rc = cmd_options(ctx, cmd_lookup("status"), argc, argv, opts,
		    &arg, &next)) > 0)
		if (rc == O_EXIT_CODE)
			exit_code = 1;
	if (rc < 0)
		return rc;
	if (next < argc)
		return cmd_usage_error("status", "unexpected argument \"%s\"",
		    argv[next]);
	if ((rc = ctx_config(ctx)) < 0 ||
	    (rc = state_open(&st, ctx, NEED_DB | NEED_HISTORY)) < 0)
		return rc;
	state_db_display(&where, &st);
	/* the classes cost a parse of every file: only when they show */
	risk = xcalloc(st.n + 1, sizeof(*risk));
	if (ctx->json || ctx->verbosity >= 0)
		risk_state(risk, &st, NULL);
	else
		for (i = 0; i < st.n; i++)
			risk[i].fwd = risk[i].rb = RISK_NONE;
	for (i = 0; i < st.n; i++)
		if ((int)strlen(st.e[i].version) > width)
			width = (int)strlen(st.e[i].version);
	list = json_array();
	rp_out("%s%s%s  %s\n", rp_c(RP_BOLD), state_env_label(&st),
	    rp_c(RP_RESET), where.ptr);
	for (i = 0; i < st.n; i++) {
		const struct entry *e = &st.e[i];
		unsigned serious = e->problems & ~PB_NO_ROLLBACK;

		counts[e->state]++;
		if (e->state == ST_PENDING && e->m && e->m->fwd &&
		    !(e->row && e->row->active))
			pending++;
		if (serious)
			problems++;
		if (plan_consolidating(e))
			consolidating++;
		else if (e->problems & PB_FIXABLE)
			fixable++;
		print_entry(e, width, risk[i].fwd);
		if (ctx->json)
			json_array_append_new(list, entry_json(e, risk[i].fwd));
	}
	strays = json_array();
	for (i = 0; i < st.scan.nstrays; i++) {
		rp_out("  %-8s %s/%s  %s!%s not a migration name: %s\n", "?",
		    st.dir, st.scan.strays[i].path, rp_c(RP_RED),
		    rp_c(RP_RESET), st.scan.strays[i].reason);
		json_array_append_new(strays,
		    json_pack("{s:s,s:s}", "path", st.scan.strays[i].path,
			"reason", st.scan.strays[i].reason));
		problems++;
	}
	if (st.n == 0)
		rp_out("  (no migrations in %s/)\n", st.dir);
	if ((base_problem = baseline_problem(&st)) != NULL) {
		rp_out("  %-8s %s  %s!%s %s\n", "?", st.cfg->consolidated,
		    rp_c(RP_RED), rp_c(RP_RESET), base_problem);
		problems++;
	}
	rp_out("%zu archived, %zu applied, %d pending; ", counts[ST_ARCHIVED],
	    counts[ST_APPLIED] + counts[ST_ROW_ONLY], pending);
	if (problems)
		rp_out("%s%zu with problems%s%s%s\n", rp_c(RP_RED), problems,
		    rp_c(RP_RESET),
		    fixable ? " (migdir repair finishes interrupted moves)"
			    : "",
		    consolidating || base_problem
			? " (migdir consolidate finishes the interrupted "
			  "consolidate)"
			: "");
	else
		rp_out("no problems\n");
	if (st.pctx.fresh && st.pctx.baseline && st.n)
		rp_out("The database is empty: apply loads %s (the %zu "
		       "archived) first, then the %d others.\n",
		    st.cfg->consolidated, counts[ST_ARCHIVED], pending);
	if (ctx->json)
		rp_json(json_pack(
		    "{s:s,s:b,s:b,s:s,s:s?,s:o,s:o,s:{s:i,s:i,s:i,s:i}}",
		    "environment", st.env->name, "tracked", st.tracked,
		    "empty_database", st.pctx.fresh, "database", where.ptr,
		    "consolidated_problem", base_problem, "migrations", list,
		    "strays", strays, "summary", "archived",
		    (int)counts[ST_ARCHIVED], "applied",
		    (int)(counts[ST_APPLIED] + counts[ST_ROW_ONLY]), "pending",
		    pending, "problems", (int)problems));
	else {
		json_decref(list);
		json_decref(strays);
	}
	free(risk);
	free(base_problem);
	buf_release(&where);
	state_close(&st);
	if (exit_code && (pending || problems))
		return EXIT_PENDING;
	return EXIT_OK;
}
