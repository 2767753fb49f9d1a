/*
 * cmd_run.c - what plan, apply, rollback and repair share: their options,
 * the plan table (apply --dry-run is plan), the explanation of problems
 * that block a run (which file changed, since when, in which commit), the
 * body of apply and rollback, and the JSON of a run.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "backup.h"
#include "cmd.h"
#include "cmd_run.h"
#include "error.h"
#include "name.h"
#include "report.h"
#include "risk.h"
#include "xalloc.h"
#include "banned.h"

struct run_args {
	struct plan_opts o;
	int rollback; /* plan --rollback, or the rollback command */
	int dry_run;  /* --dry-run, or plan */
	int force;    /* rollback --force: run a destructive rollback file */
	char *backup; /* rollback --backup FILE, made absolute (owned) */
};

static const char *
mode_text(const struct run_item *it, char *buf, size_t size)
{
	const struct sql_script *s = it->file.script;

	if (!s->transactional)
		snprintf(buf, size, "no transaction: %s (line %d)%s", s->reason,
		    s->reason_line, s->parsed ? "" : ", split by the scanner");
	else if (!s->parsed)
		snprintf(buf, size,
		    "one transaction, split by the scanner "
		    "(newer syntax than the parser's)");
	else if (s->whole)
		snprintf(buf, size,
		    "one transaction (its own BEGIN/COMMIT "
		    "merged)");
	else if (s->wrapped)
		snprintf(buf, size,
		    "one transaction (%d BEGIN/COMMIT block%s "
		    "merged)",
		    s->wrapped, rp_plural(s->wrapped));
	else
		snprintf(buf, size, "one transaction");
	return buf;
}

/* A JSON string, or null for NULL. */
static json_t *
json_name(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* consolidated_schema.sql and the versions it records, or null. */
static json_t *
baseline_json(const struct state *st, const struct run *r)
{
	json_t *v;
	size_t i;

	if (!r->has_base)
		return json_null();
	v = json_array();
	for (i = 0; i < r->nbase; i++)
		json_array_append_new(v,
		    json_string(r->base_records[i].version));
	return json_pack("{s:s,s:o,s:b}", "file", st->cfg->consolidated,
	    "versions", v, "loaded", r->base_unit.done);
}

static void
cmd_plan_show(struct state *st, const struct run *r, enum run_kind kind)
{
	struct buf where = BUF_INIT;
	json_t *steps = json_array();
	char mode[200];
	size_t i, k = 0;
	int w = r->width > 20 ? r->width : 20;

	state_db_display(&where, st);
	if (r->n == 0 && !r->has_base)
		rp_out("Nothing to %s: %s is up to date.\n",
		    kind == RUN_ROLLBACK ? "roll back" : "apply",
		    state_env_label(st));
	else
		rp_out("Plan: %s %s%zu migration%s %s %s at %s\n",
		    kind == RUN_ROLLBACK ? "roll back" : "apply",
		    r->has_base ? "the consolidated schema and " : "", r->nrun,
		    rp_plural(r->nrun), kind == RUN_ROLLBACK ? "from" : "to",
		    state_env_label(st), where.ptr);
	if (r->has_base) {
		size_t n = sql_script_count(r->base.script);

		rp_out("    -  %-*s  %zu archived version%s, %zu statement%s "
		       "(empty database)\n",
		    w, st->cfg->consolidated, r->nbase, rp_plural(r->nbase), n,
		    rp_plural(n));
	}
	for (i = 0; i < r->n; i++) {
		const struct run_item *it = &r->items[i];
		const struct step *s = it->step;
		json_t *o = json_pack("{s:s,s:b}", "version", it->e->version,
		    "run", s->run);

		if (s->from >= 0) {
			json_object_set_new(o, "from",
			    json_string(folder_name[s->from]));
			json_object_set_new(o, "to",
			    json_string(folder_name[s->to]));
		}
		if (s->run) {
			size_t n = sql_script_count(it->file.script);
			const struct risk *rk = &r->risk[s->entry];
			char fwd[64], rb[64];

			rp_out("  %3zu  %-*s  %s  rollback %s  %3zu "
			       "statement%s  %s\n",
			    ++k, w, it->e->version,
			    risk_cell(fwd, sizeof(fwd), rk->fwd),
			    risk_cell(rb, sizeof(rb), rk->rb), n,
			    n == 1 ? " " : "s",
			    mode_text(it, mode, sizeof(mode)));
			json_object_set_new(o, "risk",
			    json_name(risk_json_name(rk->fwd)));
			json_object_set_new(o, "rollback_risk",
			    json_name(risk_json_name(rk->rb)));
			json_object_set_new(o, "statements",
			    json_integer((json_int_t)n));
			json_object_set_new(o, "transactional",
			    json_boolean(it->file.script->transactional));
			json_object_set_new(o, "wrapped",
			    json_boolean(it->file.script->wrapped));
			json_object_set_new(o, "reason",
			    it->file.script->reason
				? json_string(it->file.script->reason)
				: json_null());
		} else if (s->from == s->to) {
			rp_out("    -  %-*s  commit the move to %s/\n", w,
			    it->e->version, folder_name[s->to]);
		} else {
			rp_out("    -  %-*s  move %s/ -> %s/ (no SQL: the "
			       "database already has it)\n",
			    w, it->e->version, folder_name[s->from],
			    folder_name[s->to]);
		}
		json_array_append_new(steps, o);
	}
	for (i = 0; i < r->n; i++)
		if (r->items[i].step->from >= 0)
			break;
	if (r->n && st->tracked && i == r->n)
		rp_out("Then: no file moves (their folders already say "
		       "applied).\n");
	else if (r->n && st->tracked)
		rp_out("Then: move the files %s, fsync, and %s.\n",
		    kind == RUN_ROLLBACK ? "back to pending/" : "to applied/",
		    st->cfg->git == CFG_GIT_COMMIT ? "make one git commit"
			: st->cfg->git == CFG_GIT_STAGE
			? "stage the moves in git"
			: "leave git alone (git = off)");
	else if (r->n)
		rp_out("Then: nothing moves (%s is not the tracked "
		       "environment).\n",
		    st->env->name);
	if (st->ctx->json)
		rp_json(json_pack("{s:s,s:s,s:b,s:s,s:o,s:o}", "action",
		    kind == RUN_ROLLBACK ? "rollback" : "apply", "environment",
		    st->env->name, "tracked", st->tracked, "database",
		    where.ptr, "baseline", baseline_json(st, r), "steps",
		    steps));
	else
		json_decref(steps);
	buf_release(&where);
}

/* Say which commit changed a drifted file, and since when it differs. */
static void
explain_drift(struct state *st, const struct entry *e)
{
	struct buf paths[FOLDER_COUNT];
	const char *p[FOLDER_COUNT];
	struct vcs_change c;
	char t[40];
	int f;

	if (e->row && e->row->applied_at)
		rp_detail("%s was applied %s%s%s with checksum %.12s; the file "
			  "is now %.12s.",
		    e->version, rp_time(t, e->row->applied_at, 0),
		    e->row->applied_by ? " by " : "",
		    e->row->applied_by ? e->row->applied_by : "",
		    e->row->checksum ? e->row->checksum : "?", e->sum);
	if (!st->vcs || !e->row || !e->row->checksum)
		return;
	for (f = 0; f < FOLDER_COUNT; f++) {
		buf_init(&paths[f]);
		state_repo_path(&paths[f], st, e->version, f, NAME_FORWARD);
		p[f] = paths[f].ptr;
	}
	if (vcs_find_change(st->vcs, p, FOLDER_COUNT, e->row->checksum, &c) ==
		0 &&
	    c.id[0])
		rp_detail("It was changed in commit %.12s by %s on %s: \"%s\".",
		    c.id, c.author, rp_time(t, c.when * 1000000LL, 0),
		    c.summary);
	else
		rp_detail("No commit changed it: the change is in the working "
			  "tree (git diff shows it).");
	vcs_change_release(&c);
	for (f = 0; f < FOLDER_COUNT; f++)
		buf_release(&paths[f]);
}

#define MAX_LISTED 10

static int
cmd_explain_blockers(struct state *st)
{
	size_t *idx = xcalloc(st->n + 1, sizeof(*idx)), k, i, no_row = 0,
	       recorded = 0;
	char why[256];

	k = plan_blockers(st->e, st->n, idx);
	for (i = 0; i < k; i++) {
		const struct entry *e = &st->e[idx[i]];
		unsigned bit;

		if (e->problems & PB_NO_ROW)
			no_row++;
		if (i >= MAX_LISTED)
			continue;
		for (bit = 1; bit <= PB_UNREADABLE; bit <<= 1)
			if (e->problems & bit & PB_BLOCKING)
				rp_error("%s %s", e->version,
				    plan_problem_text(e, (enum problem)bit, why,
					sizeof(why)));
		if (e->problems & PB_DRIFT)
			explain_drift(st, e);
	}
	if (k > MAX_LISTED)
		rp_error("... and %zu more (migdir status lists them all)",
		    k - MAX_LISTED);
	for (i = 0; i < st->n; i++)
		if (st->e[i].row && st->e[i].row->active)
			recorded++;
	free(idx);
	if (k == 0)
		return 0;
	mg_error_set(MG_EDRIFT,
	    "cannot apply: %zu migration%s need%s attention", k, rp_plural(k),
	    k == 1 ? "s" : "");
	if (no_row == k && recorded == 0 && st->probe.objects > 0)
		mg_error_hint("This database records none of the migrations in "
			      "applied/ and archive/, yet holds objects (%s): "
			      "if it was migrated by hand, adopt it with "
			      "migdir baseline; else check that it is the "
			      "tracked environment's (--database-url, "
			      "migdir.ini).",
		    st->probe.example);
	else if (no_row == k && recorded == 0)
		mg_error_hint("This database records none of the migrations in "
			      "applied/ and archive/: check that it is the "
			      "tracked environment's (--database-url, "
			      "migdir.ini).");
	else
		mg_error_hint("Nothing has run. migdir status lists every "
			      "problem; a file changed after it was applied "
			      "must be restored (git checkout) or its change "
			      "made a new migration.");
	return MG_EDRIFT;
}

void *
cmd_run_json(const struct state *st, const struct run *r, enum run_kind kind)
{
	json_t *ran = json_array(), *moved = json_array(), *o;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct run_item *it = &r->items[i];

		if (run_item_done(it)) {
			json_t *one = json_pack("{s:s,s:I,s:I,s:b}", "version",
			    it->e->version, "duration_ms",
			    (json_int_t)(it->usec / 1000), "statements",
			    (json_int_t)sql_script_count(it->file.script),
			    "transactional", it->file.script->transactional);

			if (r->risk && kind == RUN_ROLLBACK)
				json_object_set_new(one, "rollback_risk",
				    json_name(risk_json_name(
					r->risk[it->step->entry].rb)));
			else if (r->risk)
				json_object_set_new(one, "risk",
				    json_name(risk_json_name(
					r->risk[it->step->entry].fwd)));
			json_array_append_new(ran, one);
		}
		if (it->moved && it->step->from >= 0)
			json_array_append_new(moved,
			    json_pack("{s:s,s:s,s:s}", "version",
				it->e->version, "from",
				folder_name[it->step->from], "to",
				folder_name[it->step->to]));
	}
	o = json_pack("{s:s,s:s,s:b,s:o,s:o}", "action", run_verb(kind),
	    "environment", st->env->name, "tracked", st->tracked,
	    kind == RUN_ROLLBACK ? "rolled_back" : "applied", ran, "moved",
	    moved);
	json_object_set_new(o, "commit",
	    r->commit[0] ? json_string(r->commit) : json_null());
	json_object_set_new(o, "staged", json_boolean(r->staged));
	if (kind == RUN_APPLY)
		json_object_set_new(o, "baseline", baseline_json(st, r));
	if (r->failed_item >= 0) {
		const struct run_item *it = &r->items[r->failed_item];
		const struct db_failure *f = &it->unit->fail;

		json_object_set_new(o, "failed",
		    json_pack("{s:s,s:s?,s:s?,s:I,s:I,s:b}", "version",
			it->e->version, "sqlstate", f->sqlstate, "message",
			f->message, "statements_done",
			(json_int_t)it->unit->stmts_done, "statements",
			(json_int_t)it->unit->nstmts, "transactional",
			it->unit->transactional));
	} else
		json_object_set_new(o, "failed", json_null());
	if (mg_error_last()->message) {
		json_t *e = rp_error_json(mg_error_last());

		json_object_update(o, e);
		json_decref(e);
	}
	return o;
}

/* Options shared by plan, apply and rollback. */
enum {
	O_TO = 1,
	O_STEP,
	O_ALL,
	O_OUT_OF_ORDER,
	O_ALLOW_CHANGED,
	O_DRY_RUN,
	O_ROLLBACK,
	O_FORCE,
	O_BACKUP,
};

static const struct cmd_opt plan_opts[] = {
    {"to", 0, 1, O_TO},
    {"step", 0, 1, O_STEP},
    {"all", 0, 0, O_ALL},
    {"out-of-order", 0, 0, O_OUT_OF_ORDER},
    {"allow-changed", 0, 0, O_ALLOW_CHANGED},
    {"dry-run", 'n', 0, O_DRY_RUN},
    {"rollback", 0, 0, O_ROLLBACK},
    {"force", 0, 0, O_FORCE},
    {"backup", 0, 1, O_BACKUP},
    {NULL, 0, 0, 0},
};

/*
 * FILE as the user meant it: relative to the directory migdir was started
 * in (after -C), which is not the project's once the config is loaded.
 */
static char *
absolute_path(const char *file)
{
	char cwd[PATH_MAX];

	if (!*file || *file == '/' || !getcwd(cwd, sizeof(cwd)))
		return xstrdup(file);
	return xasprintf("%s/%s", cwd, file);
}

static int
cmd_run_options(struct ctx *ctx, const char *name, int argc, char **argv,
    struct run_args *a)
{
	const struct cmd *self = cmd_lookup(name);
	const char *arg;
	int next = 0, rc, limits = 0;

	memset(a, 0, sizeof(*a));
	a->rollback = !strcmp(name, "rollback");
	a->dry_run = !strcmp(name, "plan"); /* plan is apply --dry-run */
	while ((rc = cmd_options(ctx, self, argc, argv, plan_opts, &arg,
		    &next)) > 0) {
		int allowed = 1;

		switch (rc) {
		case O_TO:
			a->o.to = arg;
			limits++;
			break;
		case O_STEP:
			if ((rc = cmd_parse_count(&a->o.step, name, "--step",
				 arg)) < 0)
				return rc;
			limits++;
			break;
		case O_ALL:
			allowed = strcmp(name, "apply") != 0;
			a->o.all = 1;
			limits++;
			break;
		case O_OUT_OF_ORDER:
			allowed = strcmp(name, "rollback") != 0;
			a->o.out_of_order = 1;
			break;
		case O_ALLOW_CHANGED:
			allowed = strcmp(name, "apply") != 0;
			a->o.allow_changed = 1;
			break;
		case O_DRY_RUN:
			allowed = strcmp(name, "plan") != 0;
			a->dry_run = 1;
			break;
		case O_ROLLBACK:
			allowed = !strcmp(name, "plan");
			a->rollback = 1;
			break;
		case O_FORCE:
			allowed = !strcmp(name, "rollback");
			a->force = 1;
			break;
		case O_BACKUP:
			allowed = !strcmp(name, "rollback");
			free(a->backup);
			a->backup = absolute_path(arg);
			break;
		}
		if (!allowed) {
			const struct cmd_opt *o;

			for (o = plan_opts; o->name && o->id != rc; o++)
				;
			return cmd_usage_error(name, "unknown option \"--%s\"",
			    o->name);
		}
	}
	if (rc < 0)
		return rc;
	if (next < argc)
		return cmd_usage_error(name, "unexpected argument \"%s\"",
		    argv[next]);
	if (limits > 1)
		return cmd_usage_error(name,
		    "use one of --to, --step and --all");
	if (a->o.all && !a->rollback)
		return cmd_usage_error(name, "--all is for rollback");
	if (a->o.to && !name_is_version(a->o.to))
		return cmd_usage_error(name,
		    "\"%s\" is not a migration version", a->o.to);
	if (a->backup && !*a->backup)
		return cmd_usage_error(name, "--backup needs a file name");
	if (a->backup && a->dry_run)
		return cmd_usage_error(name,
		    "--backup and --dry-run exclude each other");
	return 0;
}

/* Plan the steps of an apply or a rollback from the state. */
static int
cmd_plan_steps(struct state *st, const struct run_args *a, struct steps *out)
{
	int rc = a->rollback
	    ? plan_rollback(out, st->e, st->n, &st->pctx, &a->o)
	    : plan_apply(out, st->e, st->n, &st->pctx, &a->o);

	if (rc == MG_EDRIFT && !a->rollback) {
		int b = cmd_explain_blockers(st);

		if (b < 0)
			return b;
	}
	return rc;
}

static void
cmd_print_lines(const char *text)
{
	const char *p;

	while (*text && (p = strchr(text, '\n'))) {
		rp_info("%.*s", (int)(p - text), text);
		text = p + 1;
	}
}

/* Ask on the terminal; 1 for yes. */
static int
confirm(const char *question)
{
	char line[32];

	fflush(stdout);
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

static void
closing_line(const struct state *st, const struct run *r, enum run_kind kind)
{
	char dur[32];
	const char *done = kind == RUN_ROLLBACK ? "Rolled back" : "Applied";
	long long usec = 0;
	size_t i, moved = run_moved_only(r);

	for (i = 0; i < r->n; i++)
		usec += r->items[i].usec;
	/* when the first migration failed and nothing else happened, its
	   own line says it all */
	if (!r->refused &&
	    !(r->nrun && !r->ndone && r->failed_item >= 0 && !moved)) {
		usec += r->base_unit.usec;
		if (r->has_base && r->base_unit.done)
			rp_out("%s %s and %zu migration%s in %s", done,
			    st->cfg->consolidated, r->ndone,
			    rp_plural(r->ndone), rp_duration(dur, usec));
		else if (r->nrun == 0 || (!r->ndone && moved))
			rp_out("Finished %zu interrupted move%s", moved,
			    rp_plural(moved));
		else
			rp_out("%s %zu migration%s in %s", done, r->ndone,
			    rp_plural(r->ndone), rp_duration(dur, usec));
		if (r->commit[0])
			rp_out("; committed %.12s", r->commit);
		else if (r->staged)
			rp_out("; moves staged in git");
		else if (!st->tracked && (r->ndone || r->base_unit.done))
			rp_out("; no file moved (%s is not the tracked "
			       "environment)",
			    st->env->name);
		rp_out(".\n");
	}
	if (r->failed_item >= 0) {
		const struct run_item *it = &r->items[r->failed_item];
		const struct db_unit *u = it->unit;

		if (!u->transactional && u->fail.in_bookkeeping &&
		    u->stmts_done == u->nstmts)
			rp_out("%s: its %zu statement%s ran without a "
			       "transaction and stay done, but migdir could "
			       "not record it.\n",
			    it->e->version, u->nstmts, rp_plural(u->nstmts));
		else if (!u->transactional && u->stmts_done > 0) {
			char range[48];

			statement_range(range, sizeof(range), u->stmts_done);
			rp_out("%s stopped at statement %zu of %zu: %s ran "
			       "without a transaction and stay%s done.\n",
			    it->e->version, u->fail.stmt + 1, u->nstmts, range,
			    u->stmts_done == 1 ? "s" : "");
		} else
			rp_out("%s failed: nothing of it was %s.\n",
			    it->e->version,
			    kind == RUN_ROLLBACK ? "rolled back" : "applied");
	}
}

/*
 * A *.sql file whose name is not a migration name would be skipped
 * silently by apply; a DBA who put it there meant it to run.
 */
static int
cmd_refuse_strays(const struct state *st)
{
	size_t i;

	for (i = 0; i < st->scan.nstrays; i++)
		rp_error("%s/%s is not a migration name: %s", st->dir,
		    st->scan.strays[i].path, st->scan.strays[i].reason);
	if (!st->scan.nstrays)
		return 0;
	mg_error_set(MG_ERROR, "cannot apply: %zu file%s with an invalid name",
	    st->scan.nstrays, rp_plural(st->scan.nstrays));
	mg_error_hint("Name migrations YYYYMMDD_description.sql (description: "
		      "lowercase letters, digits and _), or move the file out "
		      "of the migrations folders.");
	return MG_ERROR;
}

/*
 * The classes a run shows: of the file each step runs, and in a plan
 * (plan, --dry-run, rollback's question) of its other file too: the
 * rollback of a migration to apply, or the reverse.  The files that run
 * are parsed already.
 */
static void
judge_run(struct state *st, struct run *r, int rollback, int plan)
{
	struct risk_ask *ask = xcalloc(st->n + 1, sizeof(*ask));
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct run_item *it = &r->items[i];
		struct risk_ask *k = &ask[it->step->entry];

		if (!it->step->run)
			continue;
		if (rollback) {
			k->rb = it->file.script;
			k->want = RISK_RB | (plan ? RISK_FWD : 0);
		} else {
			k->fwd = it->file.script;
			k->want = RISK_FWD | (plan ? RISK_RB : 0);
		}
	}
	r->risk = xcalloc(st->n + 1, sizeof(*r->risk));
	risk_state(r->risk, st, ask);
	free(ask);
}

/*
 * Is the file that item runs in a rollback destructive, or beyond
 * judging (PostgreSQL 15's parser rejects it, a newer server may run it)?
 */
static int
loses_data(const struct run *r, const struct run_item *it)
{
	return it->step->run && r->kind == RUN_ROLLBACK &&
	    (r->risk[it->step->entry].rb == RISK_DESTRUCTIVE ||
		r->risk[it->step->entry].rb == RISK_UNKNOWN);
}

/*
 * A rollback file that loses data runs only with --force or --backup:
 * refuse, at the first statement that makes the first such file
 * destructive, before anything changes (not even the bookkeeping tables).
 */
static int
refuse_destructive(const struct state *st, const struct run *r,
    const struct run_args *a)
{
	const struct run_item *first = NULL;
	const struct lint_finding *f = NULL;
	struct lint_result res;
	struct buf more = BUF_INIT;
	size_t i, others = 0;

	if (a->dry_run || a->force || a->backup)
		return 0;
	for (i = 0; i < r->n; i++) {
		if (!loses_data(r, &r->items[i]))
			continue;
		if (first)
			buf_printf(&more, "%s%s", others++ ? ", " : "",
			    r->items[i].e->version);
		else
			first = &r->items[i];
	}
	if (!first)
		return 0;
	risk_alone(&res, first->file.script, st);
	for (i = 0; i < res.n && !f; i++)
		if (res.f[i].rule->effects & EF_LOSS)
			f = &res.f[i];
	if (!first->file.script->parsed) {
		mg_error_set(MG_ERROR,
		    "rollback cannot be judged: PostgreSQL 15's parser rejects "
		    "it (%s); run with --force, or --backup FILE (the whole "
		    "database) first",
		    first->file.script->parse_error);
		sql_error_at(first->file.script, first->file.script->parse_off);
	} else {
		mg_error_set(MG_ERROR,
		    "rollback is destructive (%s: %s); run with --force, or "
		    "--backup FILE first",
		    f ? f->rule->name : "?",
		    f ? f->rule->reason : "data is lost");
		if (f)
			sql_error_at(first->file.script,
			    first->file.script->stmts[f->stmt].off);
	}
	if (others)
		mg_error_detail("The rollback%s of %s lose%s data too.",
		    others == 1 ? "" : "s", more.ptr, others == 1 ? "s" : "");
	mg_error_hint("--backup FILE dumps the tables it loses with pg_dump "
		      "before anything runs; --force runs it without a backup. "
		      "Nothing was rolled back.");
	lint_result_release(&res);
	buf_release(&more);
	return MG_ERROR;
}

/*
 * What another migdir did while this run waited for the migration lock:
 * the migrations whose rows it changed in one direction (problem
 * PB_FINISH_APPLY: applied; PB_FINISH_ROLLBACK: rolled back) but whose
 * files this clone has not moved, as "V (by WHO at WHEN), ..." in out.
 */
static int
raced_list(const struct state *st, unsigned problem, struct buf *out)
{
	int rolled = problem == PB_FINISH_ROLLBACK, n = 0, rc;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		long long at = 0;
		char *by = NULL, t[40];

		if (!(e->problems & problem))
			continue;
		if ((rc = state_last_run(st, e->version,
			 rolled ? "rollback" : "apply", &by, &at)) < 0)
			return rc;
		if (!at && e->row)
			at = rolled ? e->row->rolled_back_at
				    : e->row->applied_at;
		if (!by && !rolled && e->row && e->row->applied_by)
			by = xstrdup(e->row->applied_by);
		buf_printf(out, "%s%s (by %s at %s)", n++ ? ", " : "",
		    e->version, by ? by : "an unknown user",
		    at ? rp_time(t, at, 0) : "an unknown time");
		free(by);
	}
	return n;
}

/*
 * A run that had to wait for the migration lock plans with what the
 * holder did meanwhile, in another clone whose commit this one has not
 * pulled.  An apply would take a rollback found so for an interrupted one
 * of its own, move the files back to pending/ and apply them again,
 * silently undoing the other DBA's rollback; a rollback would roll back
 * around migrations this clone has never seen.  Both refuse, before
 * anything runs, saying what the other migdir did, who and when.  A run
 * that did not wait finishes an interrupted run of its own as before.
 */
static int
refuse_raced(const struct state *st, int rollback)
{
	struct buf applied = BUF_INIT, rolled = BUF_INIT;
	int na = 0, nr, rc = 0;

	if (!st->lock_waited || !st->tracked)
		return 0;
	if ((nr = raced_list(st, PB_FINISH_ROLLBACK, &rolled)) < 0 ||
	    (rollback && (na = raced_list(st, PB_FINISH_APPLY, &applied)) < 0))
		rc = nr < 0 ? nr : na;
	else if (na || nr) {
		rc = mg_error_set(MG_ERROR,
		    "another migdir %s%s%s%s%s while this %s waited for the "
		    "migration lock; this clone's folders do not show that yet",
		    na ? "applied " : "", na ? applied.ptr : "",
		    na && nr ? " and " : "", nr ? "rolled back " : "",
		    nr ? rolled.ptr : "", rollback ? "rollback" : "apply");
		if (!rollback)
			mg_error_detail("Applying now would move %s back to "
					"pending/ and apply %s again, undoing "
					"that rollback.",
			    nr == 1 ? "it" : "them", nr == 1 ? "it" : "them");
		mg_error_hint("git pull the other clone's commit, or run "
			      "migdir repair to accept what the database "
			      "says; then look (migdir status) and run %s "
			      "again. Nothing was %s.",
		    rollback ? "rollback" : "apply",
		    rollback ? "rolled back" : "applied");
	}
	buf_release(&applied);
	buf_release(&rolled);
	return rc;
}

static int
cmd_prepare_run(struct ctx *ctx, const struct run_args *a, unsigned need,
    struct state *st, struct steps *steps, struct run *r)
{
	enum run_kind kind = a->rollback ? RUN_ROLLBACK : RUN_APPLY;
	int rc;

	if ((rc = state_open(st, ctx, need)) < 0 ||
	    (rc = refuse_raced(st, a->rollback)) < 0)
		return rc;
	if (!a->rollback && (rc = cmd_refuse_strays(st)) < 0)
		return rc;
	rc = cmd_plan_steps(st, a, steps);
	if (rc == MG_ENOTFOUND && a->rollback) {
		mg_error_clear();
		rc = 0;
	}
	if (rc < 0 || (rc = run_prepare(r, st, steps, kind)) < 0)
		return rc;
	/* a run that takes no lock only shows its plan */
	judge_run(st, r, a->rollback, !(need & NEED_WRITE));
	return refuse_destructive(st, r, a);
}

void
cmd_release_run(struct state *st, struct steps *steps, struct run *r)
{
	run_release(r);
	steps_release(steps);
	state_close(st);
}

/* The versions a prepared run will run, one per line (caller frees). */
static char *
run_versions(const struct run *r)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < r->n; i++)
		buf_printf(&b, "%s %d\n", r->items[i].e->version,
		    r->items[i].step->run);
	return buf_detach(&b);
}

/*
 * On a terminal, a rollback asks first.  The question is asked before any
 * lock is taken (a prompt left open must not hold up other migdirs); the
 * run then plans again under the locks and refuses if the answer no longer
 * matches what will happen.
 */
static int
ask_rollback(struct ctx *ctx, const struct run_args *a, char **asked)
{
	struct state st;
	struct steps steps = {0};
	struct run r = {0};
	struct buf q = BUF_INIT, where = BUF_INIT;
	int rc;

	*asked = NULL;
	if ((rc = cmd_prepare_run(ctx, a, NEED_DB, &st, &steps, &r)) < 0)
		goto out;
	/* with --json the run prints the one document; the plan only when
	   there is no run */
	if (!ctx->json || r.n == 0)
		cmd_plan_show(&st, &r, RUN_ROLLBACK);
	if (r.n == 0)
		goto out;
	state_db_display(&where, &st);
	buf_printf(&q, "Roll back %zu migration%s from %s at %s?", r.nrun,
	    rp_plural(r.nrun), state_env_label(&st), where.ptr);
	if (!confirm(q.ptr))
		rc = mg_error_set(MG_ERROR,
		    "rollback canceled: nothing changed");
	else
		*asked = run_versions(&r);
out:
	buf_release(&q);
	buf_release(&where);
	cmd_release_run(&st, &steps, &r);
	return rc;
}

/* What a backup holds, for people: "tables s.a, b", "the whole database". */
static void
backup_what(struct buf *out, const struct backup *b)
{
	size_t i;

	if (b->whole) {
		buf_puts(out, "the whole database");
		return;
	}
	buf_printf(out, "table%s ", rp_plural(b->n));
	for (i = 0; i < b->n; i++)
		buf_printf(out, "%s%s", i ? ", " : "", b->tables[i]);
}

/*
 * rollback --backup: pg_dump what the destructive rollback files lose,
 * before anything runs; a dump that fails, or that pg_restore cannot
 * list, stops the run.
 */
static int
take_backup(const struct state *st, const struct run *r, const char *file,
    struct backup *b)
{
	struct lint_result res;
	struct buf what = BUF_INIT;
	char size[32];
	size_t i;
	int rc;

	for (i = 0; i < r->n; i++) {
		if (!loses_data(r, &r->items[i]))
			continue;
		risk_alone(&res, r->items[i].file.script, st);
		backup_add(b, &res);
		if (!r->items[i].file.script->parsed)
			b->whole = 1; /* nothing says what it drops */
		lint_result_release(&res);
	}
	if (!backup_needed(b)) {
		rp_info("no backup written: no rollback file of this run is "
			"destructive");
		return 0;
	}
	if ((rc = backup_write(b, st->conninfo, file)) < 0) {
		struct buf hint = BUF_INIT;

		/* pg_dump runs as the same role: it may not read a table */
		if (db_privilege_hint(&hint, st->db, NULL,
			mg_error_last()->message, "SELECT"))
			mg_error_hint("%s The backup reads every table it "
				      "saves. Nothing was rolled back.",
			    hint.ptr);
		buf_release(&hint);
		return rc;
	}
	backup_what(&what, b);
	rp_out("Backed up %s to %s (%s, checked with pg_restore --list).\n",
	    what.ptr, file, rp_size(size, b->bytes));
	buf_release(&what);
	return 0;
}

static json_t *
backup_json(const struct backup *b, const char *file)
{
	json_t *tables;
	size_t i;

	if (!file || !backup_needed(b) || !b->bytes)
		return json_null();
	tables = b->whole ? json_null() : json_array();
	for (i = 0; !b->whole && i < b->n; i++)
		json_array_append_new(tables, json_string(b->tables[i]));
	return json_pack("{s:s,s:I,s:o,s:b}", "file", file, "bytes",
	    (json_int_t)b->bytes, "tables", tables, "whole_database", b->whole);
}

int
cmd_run_main(struct ctx *ctx, const char *name, int argc, char **argv)
{
	struct run_args a;
	struct state st = {0};
	struct steps steps = {0};
	struct run r = {0};
	struct backup bk = {0};
	struct buf where = BUF_INIT;
	enum run_kind kind;
	char *asked = NULL, *now = NULL;
	int rc;

	if ((rc = cmd_run_options(ctx, name, argc, argv, &a)) < 0)
		goto out;
	kind = a.rollback ? RUN_ROLLBACK : RUN_APPLY;
	if ((rc = ctx_config(ctx)) < 0)
		goto out;
	if (kind == RUN_ROLLBACK && !a.dry_run && !ctx->yes &&
	    isatty(STDIN_FILENO) && isatty(STDERR_FILENO) &&
	    ((rc = ask_rollback(ctx, &a, &asked)) < 0 || !asked))
		goto out;
	if ((rc = cmd_prepare_run(ctx, &a,
		 a.dry_run ? NEED_DB : NEED_DB | NEED_WRITE, &st, &steps, &r)) <
	    0)
		goto out;
	if (a.dry_run || (r.n == 0 && !r.has_base)) {
		cmd_plan_show(&st, &r, kind);
		goto out;
	}
	if (asked && strcmp(asked, (now = run_versions(&r)))) {
		rc = mg_error_set(MG_ERROR,
		    "what rollback would do changed "
		    "while you answered: nothing was "
		    "rolled back");
		mg_error_hint("Run it again to see the new plan.");
		goto out;
	}
	if (a.backup && (rc = take_backup(&st, &r, a.backup, &bk)) < 0)
		goto out;
	/* everything checked: now the bookkeeping tables may be created */
	if ((rc = state_ensure(&st)) < 0)
		goto out;
	cmd_print_lines(st.ensured.ptr);
	state_db_display(&where, &st);
	if (r.nrun || r.has_base)
		rp_out("%s %s%zu migration%s %s %s at %s\n",
		    kind == RUN_ROLLBACK ? "Rolling back" : "Applying",
		    r.has_base ? "the consolidated schema and " : "", r.nrun,
		    rp_plural(r.nrun), kind == RUN_ROLLBACK ? "from" : "to",
		    state_env_label(&st), where.ptr);
	rc = run_execute(&r);
	closing_line(&st, &r, kind);
	if (ctx->json) {
		json_t *o = cmd_run_json(&st, &r, kind);

		if (kind == RUN_ROLLBACK)
			json_object_set_new(o, "backup",
			    backup_json(&bk, a.backup));
		rp_json(o);
	}
out:
	free(asked);
	free(now);
	free(a.backup);
	backup_release(&bk);
	buf_release(&where);
	cmd_release_run(&st, &steps, &r);
	return rc;
}
