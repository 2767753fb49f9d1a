/*
 * plan.c - states, problems and steps from folders + rows.  Pure: no I/O.
 *
 * plan_analyze applies the table of DESIGN §4 to every migration; the
 * crash rules follow from it: a row that is active with the same checksum
 * while the file is still in pending/ means "finish the move", never "run
 * it again", and an inactive row for a file in applied/ means the rollback
 * committed but its move back did not happen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "name.h"
#include "plan.h"
#include "xalloc.h"
#include "banned.h"

void
plan_entries(struct entry **out, size_t *n, const struct scan *scan,
    const struct rows *rows)
{
	size_t i, k = 0, extra = 0;
	struct entry *e;

	for (i = 0; i < rows->n; i++)
		if (rows->v[i].active && !scan_find(scan, rows->v[i].version))
			extra++;
	e = xcalloc(scan->n + extra + 1, sizeof(*e));
	for (i = 0; i < scan->n; i++, k++) {
		const struct migration *m = &scan->v[i];

		e[k].version = m->version;
		e[k].m = m;
		e[k].row = rows_find(rows, m->version);
		e[k].folder = folder_lowest(m->fwd);
		e[k].rb_folder = folder_lowest(m->rb);
	}
	for (i = 0; i < rows->n; i++) {
		const struct row *r = &rows->v[i];

		if (!r->active || scan_find(scan, r->version))
			continue;
		e[k].version = r->version;
		e[k].row = r;
		e[k].folder = e[k].rb_folder = -1;
		k++;
	}
	*out = e;
	*n = k;
}

static int
same_sum(const char *file, const char *recorded)
{
	return !recorded || !*recorded || !strcmp(file, recorded);
}

/* The state the tracked environment gives a file in folder. */
static enum mig_state
folder_state(int folder)
{
	return folder == FOLDER_PENDING ? ST_PENDING
	    : folder == FOLDER_APPLIED  ? ST_APPLIED
					: ST_ARCHIVED;
}

/*
 * The problems of a migration that has files, for the tracked database;
 * drift: its row is active and records another checksum than the file's.
 */
static unsigned
tracked_problems(const struct entry *e, int drift)
{
	const struct row *r = e->row;
	int active = r && r->active;

	if (drift)
		return PB_DRIFT;
	if (e->folder == FOLDER_PENDING)
		/*
		 * An unreadable file (PB_UNREADABLE) is neither drift nor
		 * proof of the same file: its move is not finished either.
		 */
		return active && *e->sum ? PB_FINISH_APPLY : 0;
	if (!active)
		return r && e->folder == FOLDER_APPLIED ? PB_FINISH_ROLLBACK
							: PB_NO_ROW;
	return 0;
}

/* Was the file moved (or added) in the working tree but not committed? */
static int
uncommitted(unsigned head, int folder)
{
	if (folder < 0)
		return 0;
	if (head & (1u << folder))
		return 0;
	/* new pending files are simply not committed yet: not a move */
	return head != 0 || folder != FOLDER_PENDING;
}

void
plan_analyze(struct entry *es, size_t n, const struct plan_ctx *ctx)
{
	const char *newest = NULL;
	int archive_active = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (es[i].row && es[i].row->active && es[i].m &&
		    (!newest || name_cmp(es[i].version, newest) > 0))
			newest = es[i].version;
		if (es[i].m && es[i].folder == FOLDER_ARCHIVE &&
		    !(es[i].row && es[i].row->active))
			archive_active = 0;
	}
	for (i = 0; i < n; i++) {
		struct entry *e = &es[i];
		const struct migration *m = e->m;
		int active = e->row && e->row->active, drift;
		unsigned p = 0;

		if (!m) {
			e->state = ST_ROW_ONLY;
			e->problems = PB_ORPHAN_ROW;
			continue;
		}
		if (!m->fwd) {
			e->state = ST_PENDING;
			e->problems = PB_ORPHAN_ROLLBACK;
			continue;
		}
		if (folder_count(m->fwd) > 1 || folder_count(m->rb) > 1)
			p |= PB_DUPLICATE;
		if (!m->rb)
			p |= PB_NO_ROLLBACK;
		else if (e->rb_folder != e->folder)
			p |= PB_SPLIT_PAIR;
		if (!*e->sum)
			p |= PB_UNREADABLE;
		drift =
		    active && *e->sum && !same_sum(e->sum, e->row->checksum);
		e->in_baseline =
		    ctx->fresh && ctx->baseline && e->folder == FOLDER_ARCHIVE;
		e->in_build = 0;
		if (ctx->fresh) {
			/* nothing ran here yet: every migration is to come */
			e->state = e->in_baseline ? ST_ARCHIVED : ST_PENDING;
		} else if (ctx->tracked && ctx->have_db &&
		    e->folder == FOLDER_APPLIED && !e->row && archive_active &&
		    newest && name_cmp(e->version, newest) > 0) {
			/*
			 * A new database whose build stopped inside applied/
			 * (a failure, --step, a crash): the rest of applied/
			 * is still to run there, and apply runs it.
			 */
			e->state = ST_PENDING;
			e->in_build = 1;
		} else if (ctx->tracked) {
			e->state = folder_state(e->folder);
			if (ctx->have_db)
				p |= tracked_problems(e, drift);
		} else {
			e->state = active
			    ? (e->folder == FOLDER_ARCHIVE ? ST_ARCHIVED
							   : ST_APPLIED)
			    : ST_PENDING;
			if (drift)
				p |= PB_DRIFT;
		}
		if (active && m->rb && e->row->rollback_checksum &&
		    *e->rb_sum && strcmp(e->rb_sum, e->row->rollback_checksum))
			p |= PB_RB_CHANGED;
		if ((e->state == ST_PENDING || (p & PB_FINISH_ROLLBACK)) &&
		    !active && newest && name_cmp(e->version, newest) < 0 &&
		    ctx->have_db) {
			p |= PB_OUT_OF_ORDER;
			e->newest_applied = newest;
		}
		if (ctx->tracked && ctx->have_git &&
		    (uncommitted(e->head, e->folder) ||
			(m->rb && uncommitted(e->head_rb, e->rb_folder))))
			p |= PB_UNCOMMITTED;
		e->problems = p;
	}
}

const char *
plan_problem_name(enum problem p)
{
	switch (p) {
	case PB_DRIFT:
		return "drift";
	case PB_FINISH_APPLY:
		return "finish-apply";
	case PB_FINISH_ROLLBACK:
		return "finish-rollback";
	case PB_SPLIT_PAIR:
		return "split-pair";
	case PB_DUPLICATE:
		return "duplicate";
	case PB_NO_ROW:
		return "no-row";
	case PB_ORPHAN_ROW:
		return "orphan-row";
	case PB_NO_ROLLBACK:
		return "no-rollback";
	case PB_ORPHAN_ROLLBACK:
		return "orphan-rollback";
	case PB_OUT_OF_ORDER:
		return "out-of-order";
	case PB_UNCOMMITTED:
		return "uncommitted";
	case PB_RB_CHANGED:
		return "rollback-changed";
	case PB_UNREADABLE:
		return "unreadable";
	}
	return "unknown";
}

static const char *
fname(int folder)
{
	return folder >= 0 ? folder_name[folder] : "?";
}

const char *
plan_problem_text(const struct entry *e, enum problem p, char *out, size_t size)
{
	const struct row *r = e->row;

	switch (p) {
	case PB_DRIFT:
		snprintf(out, size,
		    "changed since it was applied (database has %.12s, the "
		    "file is %.12s)",
		    r && r->checksum ? r->checksum : "?", e->sum);
		break;
	case PB_FINISH_APPLY:
		snprintf(out, size,
		    "applied in the database, but not moved to applied/: "
		    "apply or repair finishes the move");
		break;
	case PB_FINISH_ROLLBACK:
		snprintf(out, size,
		    "rolled back in the database, but not moved to pending/: "
		    "repair finishes the move (apply also applies it again)");
		break;
	case PB_SPLIT_PAIR:
		if (plan_consolidating(e)) {
			snprintf(out, size,
			    "rollback file is in applied/, the migration in "
			    "archive/: an interrupted consolidate; migdir "
			    "consolidate finishes it");
			break;
		}
		snprintf(out, size,
		    "rollback file is in %s/, the migration in %s/: repair "
		    "finishes the move",
		    fname(e->rb_folder), fname(e->folder));
		break;
	case PB_DUPLICATE:
		snprintf(out, size,
		    "present in more than one folder: keep one copy");
		break;
	case PB_NO_ROW:
		snprintf(out, size,
		    "in %s/, but the database has no active row for it",
		    fname(e->folder));
		break;
	case PB_ORPHAN_ROW:
		snprintf(out, size,
		    "applied in the database, but no file has this version");
		break;
	case PB_NO_ROLLBACK:
		snprintf(out, size, "has no rollback file");
		break;
	case PB_ORPHAN_ROLLBACK:
		snprintf(out, size, "rollback file without its migration");
		break;
	case PB_OUT_OF_ORDER:
		snprintf(out, size,
		    "older than %s, which is applied: apply needs "
		    "--out-of-order",
		    e->newest_applied ? e->newest_applied : "an applied one");
		break;
	case PB_UNCOMMITTED:
		if (plan_consolidating(e)) {
			snprintf(out, size,
			    "moved to archive/ but not committed: an "
			    "interrupted consolidate; migdir consolidate "
			    "finishes it");
			break;
		}
		snprintf(out, size,
		    "moved to %s/ but not committed: repair commits the move",
		    fname(e->folder >= 0 && (e->head & (1u << e->folder)) &&
				e->rb_folder >= 0
			    ? e->rb_folder
			    : e->folder));
		break;
	case PB_RB_CHANGED:
		snprintf(out, size,
		    "rollback file changed since the migration was applied");
		break;
	case PB_UNREADABLE:
		snprintf(out, size, "cannot be read");
		break;
	default:
		out[0] = '\0';
	}
	return out;
}

static void
add_step(struct steps *s, size_t entry, int run, int from, int to)
{
	XGROW(s->v, s->cap, s->n + 1);
	s->v[s->n].entry = entry;
	s->v[s->n].run = run;
	s->v[s->n].from = from;
	s->v[s->n].to = to;
	s->n++;
}

void
steps_release(struct steps *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

size_t
plan_blockers(const struct entry *e, size_t n, size_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (e[i].problems & PB_BLOCKING)
			out[k++] = i;
	return k;
}

/* Moves a crash left undone (tracked environment only). */
static void
finishing_moves(struct steps *s, const struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned p = e[i].problems;

		if (p & PB_FINISH_APPLY)
			add_step(s, i, 0, FOLDER_PENDING, FOLDER_APPLIED);
		else if (p & PB_FINISH_ROLLBACK)
			add_step(s, i, 0, FOLDER_APPLIED, FOLDER_PENDING);
		else if (plan_consolidating(&e[i]))
			continue; /* consolidate's to finish, with its file */
		else if (p & PB_SPLIT_PAIR)
			add_step(s, i, 0, e[i].rb_folder, e[i].folder);
		else if (p & PB_UNCOMMITTED)
			add_step(s, i, 0, e[i].folder, e[i].folder);
	}
}

int
plan_consolidating(const struct entry *e)
{
	if (e->folder != FOLDER_ARCHIVE)
		return 0;
	/* its rollback file not moved yet */
	if ((e->problems & PB_SPLIT_PAIR) && e->rb_folder == FOLDER_APPLIED)
		return 1;
	return (e->problems & PB_UNCOMMITTED) &&
	    (e->head & (1u << FOLDER_APPLIED)) &&
	    !(e->head & (1u << FOLDER_ARCHIVE));
}

int
plan_repair(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx)
{
	memset(out, 0, sizeof(*out));
	if (ctx->tracked)
		finishing_moves(out, e, n);
	return 0;
}

static int
find_version(const struct entry *e, size_t n, const char *version)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(e[i].version, version))
			return (int)i;
	return -1;
}

/*
 * A fresh database: consolidated_schema.sql (when there is one), then
 * everything it does not hold, in order.  Only pending files move (for
 * the tracked environment); applied/ and archive/ already say "applied".
 */
static int
fresh_apply(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx, const struct plan_opts *o, int target)
{
	const char *newest_archived = NULL;
	long count = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].in_baseline)
			newest_archived = e[i].version;
	if (target >= 0 && newest_archived &&
	    name_cmp(o->to, newest_archived) < 0) {
		mg_error_set(MG_ERROR,
		    "--to %s is older than %s, which the consolidated schema "
		    "already holds",
		    o->to, newest_archived);
		mg_error_hint("A new database starts from the consolidated "
			      "schema: ask for %s or a later version.",
		    newest_archived);
		return MG_ERROR;
	}
	out->baseline = ctx->baseline;
	for (i = 0; i < n; i++) {
		const struct entry *x = &e[i];
		int move = ctx->tracked && x->folder == FOLDER_PENDING;

		if (!x->m || !x->m->fwd || x->in_baseline)
			continue;
		if (target >= 0 && name_cmp(x->version, o->to) > 0)
			break;
		if (o->step > 0 && count >= o->step)
			break;
		add_step(out, i, 1, move ? FOLDER_PENDING : -1,
		    move ? FOLDER_APPLIED : -1);
		count++;
	}
	return 0;
}

int
plan_apply(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx, const struct plan_opts *o)
{
	size_t i;
	long count = 0;
	int target = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if (e[i].problems & PB_BLOCKING) {
			unsigned b = e[i].problems & PB_BLOCKING;
			char why[256];

			mg_error_set(MG_EDRIFT, "%s %s", e[i].version,
			    plan_problem_text(&e[i],
				(enum problem)(b & (~b + 1)), why,
				sizeof(why)));
			return MG_EDRIFT;
		}
	if (o->to) {
		if ((target = find_version(e, n, o->to)) < 0 || !e[target].m)
			return mg_error_set(MG_ERROR,
			    "no migration \"%s\" in the folders", o->to);
	}
	if (ctx->fresh)
		return fresh_apply(out, e, n, ctx, o, target);
	if (ctx->tracked)
		finishing_moves(out, e, n);
	for (i = 0; i < n; i++) {
		const struct entry *x = &e[i];

		if (!x->m || !x->m->fwd || (x->row && x->row->active))
			continue;
		/*
		 * Finished, an interrupted rollback leaves it pending: the
		 * run goes on as if the rollback had completed.
		 */
		if (ctx->tracked && x->folder != FOLDER_PENDING &&
		    !(x->problems & PB_FINISH_ROLLBACK) && !x->in_build)
			continue;
		if (target >= 0 && name_cmp(x->version, o->to) > 0)
			break;
		if (o->step > 0 && count >= o->step)
			break;
		if ((x->problems & PB_OUT_OF_ORDER) && !o->out_of_order) {
			mg_error_set(MG_ERROR,
			    "%s is older than %s, which is already applied",
			    x->version, x->newest_applied);
			mg_error_hint("Applying it now changes the order in "
				      "which this database got its "
				      "migrations. If that is safe, run "
				      "apply --out-of-order.");
			steps_release(out);
			return MG_ERROR;
		}
		if (x->in_build)
			add_step(out, i, 1, -1, -1); /* applied/ already */
		else
			add_step(out, i, 1, ctx->tracked ? FOLDER_PENDING : -1,
			    ctx->tracked ? FOLDER_APPLIED : -1);
		count++;
	}
	return 0;
}

/* Order for rollback: most recently applied first. */
static int
cmp_applied(const void *a, const void *b, const struct entry *e)
{
	const struct entry *x = &e[*(const size_t *)a];
	const struct entry *y = &e[*(const size_t *)b];

	if (x->row->applied_at != y->row->applied_at)
		return x->row->applied_at > y->row->applied_at ? -1 : 1;
	return -name_cmp(x->version, y->version);
}

/* Insertion sort with context (qsort has none in C11). */
static void
sort_by_applied(size_t *idx, size_t k, const struct entry *e)
{
	size_t i, j;

	for (i = 1; i < k; i++) {
		size_t v = idx[i];

		for (j = i; j > 0 && cmp_applied(&idx[j - 1], &v, e) > 0; j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}
}

int
plan_rollback(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx, const struct plan_opts *o)
{
	size_t *idx = xcalloc(n + 1, sizeof(*idx));
	size_t i, k = 0;
	long want;
	int error = 0, target = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (ctx->tracked &&
		    (e[i].problems &
			(PB_FINISH_APPLY | PB_FINISH_ROLLBACK |
			    PB_SPLIT_PAIR))) {
			error = mg_error_set(MG_ERROR,
			    "%s: a move is unfinished", e[i].version);
			mg_error_hint(
			    "Run migdir repair first, then roll back.");
			goto out;
		}
		if (e[i].row && e[i].row->active && e[i].m)
			idx[k++] = i;
	}
	sort_by_applied(idx, k, e);
	if (o->to) {
		for (i = 0; i < k; i++)
			if (!strcmp(e[idx[i]].version, o->to))
				target = (int)i;
		if (target < 0) {
			error = mg_error_set(MG_ERROR,
			    "\"%s\" is not an applied migration", o->to);
			goto out;
		}
		want = target;
	} else if (o->all)
		want = (long)k;
	else
		want = o->step > 0 ? o->step : 1;
	for (i = 0; i < k && (long)out->n < want; i++) {
		const struct entry *x = &e[idx[i]];

		if (o->all && ctx->tracked && x->folder == FOLDER_ARCHIVE)
			break; /* --all stops at the archive */
		if (ctx->tracked && x->folder == FOLDER_ARCHIVE) {
			error = mg_error_set(MG_ERROR,
			    "%s is archived: it is part of the consolidated "
			    "schema and is not rolled back",
			    x->version);
			goto out;
		}
		if (!x->m->rb) {
			error = mg_error_set(MG_ERROR,
			    "%s has no rollback file", x->version);
			mg_error_hint("Write %s's rollback file, or undo the "
				      "change by hand.",
			    x->version);
			goto out;
		}
		if (x->problems & (PB_DRIFT | PB_DUPLICATE | PB_UNREADABLE)) {
			unsigned pb = x->problems & PB_DRIFT ? PB_DRIFT
			    : x->problems & PB_DUPLICATE     ? PB_DUPLICATE
							     : PB_UNREADABLE;
			char why[256];

			error =
			    mg_error_set(pb == PB_DRIFT ? MG_EDRIFT : MG_ERROR,
				"%s %s", x->version,
				plan_problem_text(x, pb, why, sizeof(why)));
			if (pb != PB_DRIFT)
				mg_error_hint("Fix it first (migdir status "
					      "shows it), then roll back.");
			goto out;
		}
		if ((x->problems & PB_RB_CHANGED) && !o->allow_changed) {
			error = mg_error_set(MG_EDRIFT,
			    "the rollback file of %s changed since the "
			    "migration was applied (recorded %.12s, now "
			    "%.12s)",
			    x->version,
			    x->row->rollback_checksum
				? x->row->rollback_checksum
				: "?",
			    x->rb_sum);
			mg_error_hint("Check the change (git log -p on the "
				      "file); if it is right, run rollback "
				      "--allow-changed.");
			goto out;
		}
		add_step(out, idx[i], 1, ctx->tracked ? x->folder : -1,
		    ctx->tracked ? FOLDER_PENDING : -1);
	}
	if (out->n == 0 && (o->all || want > 0)) {
		error = mg_error_set(MG_ENOTFOUND, "nothing to roll back");
		goto out;
	}
	if (!o->all && !o->to && (long)out->n < want) {
		error = mg_error_set(MG_ERROR,
		    "only %zu migration%s can be rolled back (asked for %ld)",
		    out->n, out->n == 1 ? "" : "s", want);
		goto out;
	}
out:
	if (error)
		steps_release(out);
	free(idx);
	return error;
}
