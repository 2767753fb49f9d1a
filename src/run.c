/*
 * run.c - carry out the steps of apply, rollback and repair.
 *
 * The order of one migration is DESIGN §4's: the database commit (with
 * its bookkeeping row, in the same transaction) is the point of no return;
 * the renames follow at once; the directories are fsynced and the git
 * commit made once, after the last migration.  A crash between any two of
 * these leaves a state that plan.c recognises and apply or repair finish
 * without running SQL again.  Fault points mark each gap for the tests.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fault.h"
#include "fsutil.h"
#include "name.h"
#include "report.h"
#include "run.h"
#include "xalloc.h"
#include "banned.h"

#define STATEMENT_NOTE_MAX 2000

char *
run_description(const char *version)
{
	const char *d = strchr(version, '_');
	char *s = xstrdup(d ? d + 1 : version), *p;

	for (p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

const char *
run_verb(enum run_kind k)
{
	return k == RUN_APPLY   ? "apply"
	    : k == RUN_ROLLBACK ? "rollback"
	    : k == RUN_BASELINE ? "baseline"
				: "repair";
}

/* --------------------------------------------------------- prepare --- */

int
run_file_load(struct run_file *f, struct db_unit *u, const char *path,
    const char *version, enum db_action action, int server_version)
{
	int error;

	if (!f->text.ptr)
		buf_init(&f->text); /* a zeroed run_file: never a NULL text */
	if ((error = fs_read(&f->text, path)) < 0)
		return error;
	return run_file_parse(f, u, path, version, action, server_version);
}

int
run_file_parse(struct run_file *f, struct db_unit *u, const char *path,
    const char *version, enum db_action action, int server_version)
{
	size_t i, k;
	int error;

	if (!f->text.ptr)
		buf_init(&f->text);
	if ((error = vcs_blob_id(f->sum, f->text.ptr, f->text.len)) < 0)
		return error;
	error = sql_parse_script(&f->script, path, f->text.ptr, f->text.len);
	if (error == MG_ESQL && f->script->n > 0 && server_version >= 160000) {
		/*
		 * PostgreSQL 15's grammar may lag the server's: the scanner
		 * split the file, the server judges each statement.
		 */
		rp_warning("%s:%d: %s (PostgreSQL 15's grammar); running it "
			   "on PostgreSQL %d, which decides",
		    path, f->script->parse_line, f->script->parse_error,
		    server_version / 10000);
		mg_error_clear();
	} else if (error < 0) {
		if (error == MG_ESQL)
			mg_error_hint("Fix the syntax; nothing has run yet.");
		return error;
	}
	u->version = version;
	u->action = action;
	u->transactional = f->script->transactional;
	u->reset_after = f->script->session_set;
	u->checksum = f->sum;
	f->description = run_description(version);
	u->description = f->description;
	k = sql_script_count(f->script);
	f->stmts = xcalloc(k + 1, sizeof(*f->stmts));
	for (i = 0; i < k; i++) {
		const struct sql_stmt *s = sql_script_stmt(f->script, i);

		f->stmts[i] = xstrndup(f->text.ptr + s->off, s->len);
	}
	u->stmts = (const char *const *)f->stmts;
	u->nstmts = k;
	return 0;
}

void
run_file_release(struct run_file *f)
{
	size_t j;

	buf_release(&f->text);
	sql_script_free(f->script);
	if (f->stmts)
		for (j = 0; f->stmts[j]; j++)
			free(f->stmts[j]);
	free(f->stmts);
	free(f->description);
	memset(f, 0, sizeof(*f));
}

static int
prepare_item(struct run *r, struct run_item *it)
{
	struct state *st = r->st;
	const struct entry *e = it->e;
	enum name_kind kind =
	    r->kind == RUN_ROLLBACK ? NAME_ROLLBACK : NAME_FORWARD;
	int folder = kind == NAME_ROLLBACK ? e->rb_folder : e->folder;
	struct buf path = BUF_INIT;
	int error;

	state_path(&path, st, e->version, folder, kind);
	error = run_file_load(&it->file, it->unit, path.ptr, e->version,
	    r->kind == RUN_ROLLBACK ? DB_ROLLBACK : DB_APPLY,
	    st->db ? db_server_version(st->db) : 0);
	buf_release(&path);
	if (error < 0)
		return error;
	it->unit->rb_checksum = *e->rb_sum ? e->rb_sum : NULL;
	it->unit->clear_row = r->kind == RUN_APPLY && e->row && !e->row->active;
	return 0;
}

void
run_record(struct db_record *out, const struct entry *e)
{
	out->version = e->version;
	out->description = run_description(e->version);
	out->checksum = e->sum;
	out->rb_checksum = *e->rb_sum ? e->rb_sum : NULL;
}

struct db_record *
run_records(const struct state *st, unsigned mask, size_t *n)
{
	struct db_record *r = xcalloc(st->n + 1, sizeof(*r));
	size_t i;

	*n = 0;
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (e->m && e->m->fwd && e->folder >= 0 &&
		    (mask & (1u << e->folder)))
			run_record(&r[(*n)++], e);
	}
	return r;
}

void
run_records_free(struct db_record *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)r[i].description);
	free(r);
}

/* consolidated_schema.sql, recording every archived version. */
static int
prepare_base(struct run *r)
{
	struct state *st = r->st;
	int error;

	r->has_base = 1;
	/* what it holds: archive/ (the entries in_baseline) */
	r->base_records = run_records(st, 1u << FOLDER_ARCHIVE, &r->nbase);
	if ((error = run_file_load(&r->base, &r->base_unit,
		 st->cfg->consolidated, st->cfg->consolidated, DB_BASELINE,
		 st->db ? db_server_version(st->db) : 0)) < 0 ||
	    (error = state_check_baseline(st, r->base.text.ptr,
		 r->base.text.len)) < 0)
		return error;
	r->base_unit.records = r->base_records;
	r->base_unit.nrecords = r->nbase;
	if ((int)strlen(st->cfg->consolidated) > r->width)
		r->width = (int)strlen(st->cfg->consolidated);
	return 0;
}

int
run_prepare(struct run *r, struct state *st, const struct steps *steps,
    enum run_kind kind)
{
	size_t i;
	int error = 0;

	memset(r, 0, sizeof(*r));
	r->st = st;
	r->kind = kind;
	r->failed_item = -1;
	r->n = steps->n;
	r->items = xcalloc(r->n + 1, sizeof(*r->items));
	r->units = xcalloc(r->n + 1, sizeof(*r->units));
	r->owner = xcalloc(r->n + 1, sizeof(*r->owner));
	for (i = 0; i < r->n; i++) {
		struct run_item *it = &r->items[i];
		int w;

		it->step = &steps->v[i];
		it->e = &st->e[steps->v[i].entry];
		buf_init(&it->file.text);
		if (!it->step->run)
			continue;
		it->unit = &r->units[r->nrun];
		r->owner[r->nrun++] = i;
		w = (int)strlen(it->e->version);
		if (w > r->width)
			r->width = w;
		if ((error = prepare_item(r, it)) < 0)
			return error;
	}
	if (steps->baseline && kind == RUN_APPLY)
		return prepare_base(r);
	return 0;
}

/* ----------------------------------------------------------- moves --- */

static void
add_move(struct run *r, const char *version, int from, int to,
    enum name_kind kind, const char *blob)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	XGROW(r->moves, r->moves_cap, r->nmoves + 1);
	if (from >= 0) {
		state_repo_path(&a, r->st, version, from, kind);
		r->moves[r->nmoves].from = buf_detach(&a);
	} else
		r->moves[r->nmoves].from = NULL;
	state_repo_path(&b, r->st, version, to, kind);
	r->moves[r->nmoves].to = buf_detach(&b);
	r->moves[r->nmoves].blob = blob && *blob ? blob : NULL;
	r->nmoves++;
}

/* Move one file of version from folder `from` to `to`, if it is there. */
static int
move_file(struct run *r, const char *version, int from, int to,
    enum name_kind kind)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int error = 0;

	state_path(&a, r->st, version, from, kind);
	state_path(&b, r->st, version, to, kind);
	if (fs_exists(a.ptr))
		error = fs_move(a.ptr, b.ptr);
	buf_release(&a);
	buf_release(&b);
	return error;
}

/*
 * Record for git where one of an entry's files is now, when HEAD (the
 * index, for git=stage) has it elsewhere or not at all: one rule for every
 * case, whether the file moved in this run, twice in it, in an interrupted
 * one, or was never committed.  `at` is the folder the last step put it in.
 */
static void
record_file(struct run *r, const struct entry *e, int at, enum name_kind kind)
{
	unsigned mask = kind == NAME_ROLLBACK ? e->head_rb : e->head;
	int was = kind == NAME_ROLLBACK ? e->rb_folder : e->folder;
	int f, now = -1, from;
	struct buf path = BUF_INIT;

	for (f = -1; f < FOLDER_COUNT && now < 0; f++) {
		int folder = f < 0 ? at : f;

		buf_reset(&path);
		state_path(&path, r->st, e->version, folder, kind);
		if (fs_exists(path.ptr))
			now = folder;
	}
	buf_release(&path);
	if (now < 0)
		return;
	from = mask & (1u << now) ? -1 : folder_lowest(mask);
	/*
	 * Where the run found it, if elsewhere: the index may hold it
	 * there (staged by hand, or by a run killed before its commit).
	 */
	if (from < 0 && was >= 0 && was != now)
		from = was;
	if ((mask & (1u << now)) && from < 0)
		return; /* git has it where it is */
	add_move(r, e->version, from, now, kind,
	    kind == NAME_ROLLBACK ? e->rb_sum : e->sum);
}

/* Record every entry a step moved, once, where its last step left it. */
static void
record_moves(struct run *r)
{
	size_t *last, i;

	if (!r->st->vcs)
		return;
	last = xcalloc(r->st->n + 1, sizeof(*last));
	for (i = 0; i < r->n; i++)
		if (r->items[i].moved)
			last[r->items[i].step->entry] = i;
	for (i = 0; i < r->n; i++) {
		const struct run_item *it = &r->items[i];

		if (!it->moved || last[it->step->entry] != i)
			continue; /* a later step moved it again */
		record_file(r, it->e, it->step->to, NAME_FORWARD);
		record_file(r, it->e, it->step->to, NAME_ROLLBACK);
	}
	free(last);
}

/* Where each kind of run can be killed (include/fault.h). */
static const enum fault between_renames[] = {
    [RUN_APPLY] = FAULT_apply_between_renames,
    [RUN_ROLLBACK] = FAULT_rollback_between_renames,
    [RUN_REPAIR] = FAULT_repair_between_renames,
    [RUN_BASELINE] = FAULT_baseline_between_renames,
};
static const enum fault after_renames[] = {
    [RUN_APPLY] = FAULT_apply_after_renames,
    [RUN_ROLLBACK] = FAULT_rollback_after_renames,
    [RUN_REPAIR] = FAULT_repair_after_renames,
    [RUN_BASELINE] = FAULT_baseline_after_renames,
};

/* The moves of a step: forward first, then the rollback file. */
static int
move_step(struct run *r, struct run_item *it)
{
	const struct step *s = it->step;
	const char *v = it->e->version;
	int error;

	if (s->from < 0 || s->to < 0)
		return 0;
	if (s->from != s->to) {
		if ((error = move_file(r, v, s->from, s->to, NAME_FORWARD)) < 0)
			return error;
		fault_point(between_renames[r->kind]);
		if ((error = move_file(r, v, s->from, s->to, NAME_ROLLBACK)) <
		    0)
			return error;
	}
	it->moved = 1;
	return 0;
}

static const char *
mode_note(const struct run_item *it, char *buf, size_t size)
{
	const struct sql_script *s = it->file.script;

	buf[0] = '\0';
	if (!s->transactional)
		snprintf(buf, size, "not atomic: %s (line %d)", s->reason,
		    s->reason_line);
	return buf;
}

/* ------------------------------------------------------- callbacks --- */

static int
unit_done(void *payload, struct db_unit *u, size_t index)
{
	struct run *r = payload;
	struct run_item *it = &r->items[r->owner[index]];
	char dur[32], note[200], cell[64];
	int error = 0;

	it->usec = u->usec;
	r->ndone++;
	fault_point(r->kind == RUN_ROLLBACK ? FAULT_rollback_after_commit
					    : FAULT_apply_after_commit);
	if (r->st->tracked) {
		error = move_step(r, it);
		if (error < 0) {
			rp_print_error(mg_error_last());
			rp_hint("The database has the change: run migdir "
				"repair to finish the move.");
			mg_error_clear();
		}
	}
	cell[0] = '\0';
	if (r->risk) {
		const struct risk *k = &r->risk[it->step->entry];

		risk_cell(cell, sizeof(cell),
		    r->kind == RUN_ROLLBACK ? k->rb : k->fwd);
	}
	rp_out("  [%*zu/%zu] %-*s  %s%s%8s%s%s\n", r->nrun >= 10 ? 2 : 1,
	    r->ndone, r->nrun, r->width, u->version, cell, *cell ? "  " : "",
	    rp_duration(dur, u->usec),
	    *mode_note(it, note, sizeof(note)) ? "  " : "", note);
	return error;
}

int
run_item_done(const struct run_item *it)
{
	return it->unit && it->unit->done;
}

size_t
run_moved_only(const struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		if (!r->items[i].step->run && r->items[i].moved)
			n++;
	return n;
}

/* ---------------------------------------------------------- errors --- */

/* "statement 1" or "statements 1-n" */
void
statement_range(char *out, size_t size, size_t n)
{
	if (n == 1)
		snprintf(out, size, "statement 1");
	else
		snprintf(out, size, "statements 1-%zu", n);
}

/*
 * A file run without a transaction stopped part way: which statements
 * stay done (after the server's detail, if any), and that a new run starts
 * again at statement 1.
 */
static void
detail_stays_done(const struct db_unit *u, const char *subject,
    const char *before)
{
	char range[48];

	statement_range(range, sizeof(range), u->stmts_done);
	mg_error_detail("%s%s%s runs without a transaction: %s of %zu ran and "
			"stay%s done.",
	    before ? before : "", before ? " " : "", subject, range, u->nstmts,
	    u->stmts_done == 1 ? "s" : "");
}

static void
hint_starts_again(enum run_kind kind, const char *it, const char *when)
{
	mg_error_hint("A new run starts %sagain at statement 1: make the "
		      "statements that ran safe to repeat (IF NOT EXISTS) or "
		      "undo them, then run migdir %s again%s.",
	    it, run_verb(kind), when);
}

/* Turn the failure of it's unit into the last error, with its locus. */
void
run_file_error(const struct run_file *file, const struct db_unit *u,
    struct buf *location, struct buf *statement)
{
	const struct db_failure *f = &u->fail;
	const struct sql_script *s = file->script;

	if ((!f->sqlstate || !strcmp(f->sqlstate, "57014")) && db_interrupted())
		mg_error_set(MG_ECANCEL, "%s canceled by Ctrl-C", u->version);
	else if (f->in_bookkeeping)
		mg_error_set(MG_ESQL, "migdir's bookkeeping for %s failed: %s",
		    u->version, f->message ? f->message : "unknown error");
	else if (f->at_commit)
		mg_error_set(MG_ESQL, "%s (at COMMIT)",
		    f->message ? f->message : "unknown error");
	else
		mg_error_set(MG_ESQL, "%s",
		    f->message ? f->message : "unknown error");
	if (!f->in_bookkeeping && !f->at_commit) {
		const struct sql_stmt *st = sql_script_stmt(s, f->stmt);
		size_t off = st->off;
		int line, col;

		if (f->position > 0)
			off += sql_char_to_byte(s->text + st->off, st->len,
			    f->position);
		sql_error_at(s, off);
		line = mg_error_last()->line;
		col = mg_error_last()->col;
		if (location)
			buf_printf(location, "%s:%d:%d", s->path, line, col);
		if (statement)
			buf_put(statement, s->text + st->off,
			    st->len > STATEMENT_NOTE_MAX ? STATEMENT_NOTE_MAX
							 : st->len);
	} else {
		mg_error_locus(s->path, 0, 0, NULL);
		if (location)
			buf_puts(location, s->path);
	}
	mg_error_server(f->sqlstate, f->context);
	if (f->detail)
		mg_error_detail("%s", f->detail);
	if (!u->transactional && u->stmts_done > 0)
		detail_stays_done(u, "This file", f->detail);
	if (f->hint)
		mg_error_hint("%s", f->hint);
}

/*
 * A failure for want of a privilege: the hint names it and the GRANT
 * that gives it, and says that nothing of a transactional file stays.
 */
static int
privilege_hint(struct run *r, const struct db_unit *u,
    const struct run_file *file, const char *name, const char *done)
{
	const struct db_failure *f = &u->fail;
	struct buf hint = BUF_INIT;
	const char *stmt = NULL;

	if (!f->in_bookkeeping && !f->at_commit && file->script->parsed)
		stmt = file->script->text +
		    sql_script_stmt(file->script, f->stmt)->off;
	if (!db_privilege_hint(&hint, r->st->db, f->sqlstate, f->message,
		f->in_bookkeeping ? NULL
		    : stmt        ? stmt
				  : "")) {
		buf_release(&hint);
		return 0;
	}
	if (u->transactional)
		buf_printf(&hint, " Nothing of %s was %s.", name, done);
	mg_error_hint("%s", hint.ptr);
	buf_release(&hint);
	return 1;
}

/* Turn the failure of it's unit into the last error, with its locus. */
static void
report_failure(struct run *r, struct run_item *it, struct buf *location,
    struct buf *statement)
{
	const struct db_failure *f = &it->unit->fail;

	run_file_error(&it->file, it->unit, location, statement);
	if (f->sqlstate && !strcmp(f->sqlstate, "40P01") &&
	    (it->unit->transactional || it->unit->stmts_done == 0)) {
		/* the server's hint only points to its log */
		mg_error_hint("PostgreSQL broke a deadlock between %s and "
			      "another session (the detail names both) by "
			      "canceling %s: run again when that session is "
			      "done. Nothing of %s was %s.",
		    it->e->version, it->e->version, it->e->version,
		    r->kind == RUN_ROLLBACK ? "rolled back" : "applied");
		return;
	}
	if (f->hint)
		return; /* the server's, set by run_file_error */
	if (privilege_hint(r, it->unit, &it->file, it->e->version,
		r->kind == RUN_ROLLBACK ? "rolled back" : "applied"))
		return;
	if (f->sqlstate && !strcmp(f->sqlstate, "55P03")) {
		const char *w = db_last_wait(r->st->db, it->e->version);

		if (w)
			mg_error_detail("It waited for %s.", w);
		mg_error_hint("Another session holds a lock %s needs (see the "
			      "waiting lines above): run again when it is "
			      "done, or raise lock_timeout in migdir.ini.",
		    it->e->version);
	} else if (f->sqlstate && !strcmp(f->sqlstate, "57014") &&
	    !db_interrupted())
		mg_error_hint(
		    "The statement ran longer than statement_timeout: "
		    "raise it in migdir.ini for this environment, "
		    "or make the migration cheaper.");
	else if (f->sqlstate &&
	    (!strncmp(f->sqlstate, "57P", 3) || !strncmp(f->sqlstate, "08", 2)))
		mg_error_hint("The session was ended from outside (a server "
			      "shutdown or restart, pg_terminate_backend, the "
			      "network), not by the file: %s When the server "
			      "is back, run migdir %s again.",
		    it->unit->transactional
			? "its transaction was rolled back."
			: "the statements that ran stay done; make them safe "
			  "to repeat (IF NOT EXISTS) or undo them.",
		    run_verb(r->kind));
	else if (!it->unit->transactional && it->unit->stmts_done > 0)
		hint_starts_again(r->kind, "", "");
	else if (it->unit->transactional)
		mg_error_hint("Nothing of %s was %s; it stays in %s/. Fix the "
			      "file and run migdir %s again.",
		    it->e->version,
		    r->kind == RUN_ROLLBACK ? "rolled back" : "applied",
		    folder_name[it->e->folder >= 0 ? it->e->folder
						   : FOLDER_PENDING],
		    run_verb(r->kind));
}

/* ------------------------------------------------------------- git --- */

/* The trailers: what the run did, to which versions, where. */
static void
commit_trailers(const struct run *r, struct buf *msg)
{
	size_t i;

	buf_printf(msg, "\nMigdir-Action: %s\n", run_verb(r->kind));
	for (i = 0; i < r->n; i++)
		if (run_item_done(&r->items[i]) ||
		    (!r->items[i].step->run && r->items[i].moved))
			buf_printf(msg, "Migdir-Version: %s\n",
			    r->items[i].e->version);
	buf_printf(msg, "Migdir-Environment: %s\n", r->st->env->name);
	if (r->location)
		buf_printf(msg, "Migdir-Database: %s\n", r->location);
}

/*
 * A baseline's commit: the versions it recorded as applied without
 * running them, whose files it moved from pending/ to applied/.
 */
static void
baseline_message(const struct run *r, struct buf *msg)
{
	const struct state *st = r->st;
	size_t i, moved = run_moved_only(r);
	const char *only = NULL;

	for (i = 0; i < r->n; i++)
		if (r->items[i].moved)
			only = only ? "" : r->items[i].e->version;
	if (only && *only)
		buf_printf(msg, "baseline %s\n\n", only);
	else
		buf_printf(msg, "baseline %zu migrations\n\n", moved);
	buf_printf(msg,
	    "Recorded as applied on %s (%s) by %s,\n"
	    "without running them, and moved from pending/ to applied/:\n",
	    st->env->name, r->location ? r->location : "?", st->who);
	for (i = 0; i < r->n; i++)
		if (r->items[i].moved)
			buf_printf(msg, "  %s\n", r->items[i].e->version);
	if (r->note)
		buf_printf(msg, "\n%s\n", r->note);
	commit_trailers(r, msg);
}

static void
commit_message(struct run *r, struct buf *msg)
{
	struct state *st = r->st;
	size_t i, moved_only = run_moved_only(r);
	const char *only = NULL;
	char dur[32];

	if (r->kind == RUN_BASELINE) {
		baseline_message(r, msg);
		return;
	}
	for (i = 0; i < r->n; i++)
		if (run_item_done(&r->items[i]))
			only = only ? "" : r->items[i].e->version;
	if (r->kind == RUN_REPAIR || r->ndone == 0)
		buf_printf(msg, "repair: record the moves of %zu migration%s\n",
		    moved_only, rp_plural(moved_only));
	else if (only && *only)
		buf_printf(msg, "%s %s\n", run_verb(r->kind), only);
	else
		buf_printf(msg, "%s %zu migrations\n", run_verb(r->kind),
		    r->ndone);
	buf_putc(msg, '\n');
	if (r->ndone) {
		buf_printf(msg, "%s on %s (%s) by %s:\n",
		    r->kind == RUN_ROLLBACK ? "Rolled back" : "Applied",
		    st->env->name, r->location ? r->location : "?", st->who);
		if (r->base_unit.done)
			buf_printf(msg,
			    "  %-*s  %zu archived versions, loaded "
			    "first into the empty database\n",
			    r->width, st->cfg->consolidated, r->nbase);
		for (i = 0; i < r->n; i++)
			if (run_item_done(&r->items[i]))
				buf_printf(msg, "  %-*s  %s\n", r->width,
				    r->items[i].e->version,
				    rp_duration(dur, r->items[i].usec));
	}
	if (moved_only) {
		buf_puts(msg, r->ndone ? "\nFinished moves:\n" : "Moves:\n");
		for (i = 0; i < r->n; i++)
			if (!r->items[i].step->run && r->items[i].moved) {
				const struct step *s = r->items[i].step;

				if (s->from == s->to)
					buf_printf(msg,
					    "  %s  in %s/ (uncommitted)\n",
					    r->items[i].e->version,
					    folder_name[s->to]);
				else
					buf_printf(msg, "  %s  %s/ -> %s/\n",
					    r->items[i].e->version,
					    folder_name[s->from],
					    folder_name[s->to]);
			}
	}
	if (r->failed_item >= 0)
		buf_printf(msg, "\nStopped: %s failed and stays in %s/.\n",
		    r->items[r->failed_item].e->version,
		    r->kind == RUN_ROLLBACK ? "applied" : "pending");
	commit_trailers(r, msg);
}

static int
record_in_git(struct run *r)
{
	struct state *st = r->st;
	struct buf msg = BUF_INIT;
	int commit = st->cfg->git == CFG_GIT_COMMIT, error;

	if (!st->vcs || r->nmoves == 0)
		return 0;
	commit_message(r, &msg);
	error = vcs_record_moves(st->vcs, r->moves, r->nmoves, msg.ptr, commit,
	    r->commit);
	buf_release(&msg);
	if (error < 0) {
		mg_error_hint("The files are moved and the database is "
			      "right; run migdir repair to commit the moves.");
		return error;
	}
	r->staged = !commit;
	return 0;
}

/* --------------------------------------------------------- execute --- */

static int
sync_folders(struct run *r)
{
	struct buf d = BUF_INIT;
	int f, error = 0;

	for (f = 0; f < FOLDER_COUNT && !error; f++) {
		buf_reset(&d);
		buf_printf(&d, "%s/%s", r->st->dir, folder_name[f]);
		if (fs_exists(d.ptr))
			error = fs_sync_dir(d.ptr);
	}
	buf_release(&d);
	return error;
}

/* Load consolidated_schema.sql into the fresh database, first. */
static int
run_base(struct run *r)
{
	struct state *st = r->st;
	struct buf location = BUF_INIT, statement = BUF_INIT;
	char dur[32];
	int error = db_run(st->db, &r->base_unit, 1, NULL, NULL);

	if (error == 0) {
		/* under the "[k/n] " of the lines that follow */
		int pre = snprintf(NULL, 0, "[%*zu/%zu] ",
		    r->nrun >= 10 ? 2 : 1, r->nrun, r->nrun);

		rp_out("  %*s%-*s  %-*s%8s  %zu archived version%s\n", pre, "",
		    r->width, st->cfg->consolidated, RISK_WIDTH, "baseline",
		    rp_duration(dur, r->base_unit.usec), r->nbase,
		    rp_plural(r->nbase));
		return 0;
	}
	if (!r->base_unit.failed)
		return error;
	run_file_error(&r->base, &r->base_unit, &location, &statement);
	error = mg_error_last()->code;
	if (error == MG_ESQL &&
	    !privilege_hint(r, &r->base_unit, &r->base, st->cfg->consolidated,
		"applied"))
		mg_error_hint("%s It is meant for an empty database; fix it, "
			      "or adopt a database built by hand with migdir "
			      "baseline.",
		    r->base_unit.transactional
			? "Nothing was applied: it loads in one transaction."
			: "It runs without a transaction: what ran stays.");
	rp_print_error(mg_error_last());
	if (db_record_failure(st->db, &r->base_unit, statement.ptr,
		location.ptr) < 0)
		rp_warning("%s", mg_error_last()->message);
	mg_error_clear();
	mg_error_set(error, "%s failed at %s", st->cfg->consolidated,
	    location.ptr);
	buf_release(&location);
	buf_release(&statement);
	return error;
}

/*
 * A CREATE INDEX in a file to run names an index the database has but
 * marks invalid: an earlier CREATE INDEX CONCURRENTLY was cut (a lost
 * connection, a restart, a cancel).  IF NOT EXISTS would skip it and keep
 * the broken index for good; without it the statement fails.  Refuse
 * before anything runs, naming the statement and the fix.
 */
static int
refuse_invalid_indexes(struct run *r)
{
	char **dropped = NULL, *found = NULL;
	size_t ndropped = 0, cap = 0, i, k, d;
	int error = 0, builds = 0;

	for (i = 0; i < r->nrun && !builds; i++) {
		const struct sql_script *s = r->items[r->owner[i]].file.script;

		for (k = 0; s && k < s->nacts; k++)
			builds |= s->acts[k].kind == SA_CREATE_INDEX;
	}
	/* no index built, or (one round trip) none invalid: the usual */
	if (!builds || (error = db_has_invalid_indexes(r->st->db)) <= 0)
		return error;
	error = 0;
	for (i = 0; i < r->nrun && !error; i++) {
		const struct run_item *it = &r->items[r->owner[i]];
		const struct sql_script *s = it->file.script;

		for (k = 0; s && k < s->nacts && !error; k++) {
			const struct sql_action *a = &s->acts[k];
			const struct sql_stmt *st;

			if (a->kind == SA_DROP_INDEX) {
				/* dropped first, by this file or an earlier
				   one: the usual way to repair it */
				XGROW(dropped, cap, ndropped + 1);
				dropped[ndropped++] = xstrdup(a->rel);
				continue;
			}
			if (a->kind != SA_CREATE_INDEX || !a->name[0])
				continue;
			for (d = 0; d < ndropped; d++)
				if (!strcmp(dropped[d], a->name))
					break;
			if (d < ndropped)
				continue;
			if ((error = db_invalid_index(r->st->db, a->schema,
				 a->rel, a->name, &found)) < 0 ||
			    !found)
				continue;
			st = sql_script_stmt(s, a->stmt);
			error = mg_error_set(MG_ERROR,
			    "index %s.%s exists but is INVALID: a CREATE INDEX "
			    "CONCURRENTLY that was cut left it; this statement "
			    "would keep it (IF NOT EXISTS) or fail",
			    found, a->name);
			mg_error_locus(s->path, st->line, st->col, NULL);
			mg_error_hint("Drop it first (DROP INDEX CONCURRENTLY "
				      "%s.%s), then run migdir %s again. "
				      "Nothing was run.",
			    found, a->name, run_verb(r->kind));
			free(found);
		}
	}
	for (d = 0; d < ndropped; d++)
		free(dropped[d]);
	free(dropped);
	return error;
}

/*
 * The connection went away while a file that runs without a transaction
 * was between statements: what ran of it stays, and a new run starts it
 * again at statement 1.  Say so instead of the generic words.
 */
static void
lost_mid_file(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nrun; i++) {
		const struct db_unit *u = &r->units[i];

		if (u->done || u->transactional || u->stmts_done == 0)
			continue;
		detail_stays_done(u, u->version, NULL);
		hint_starts_again(r->kind, "it ", " when the server is back");
		return;
	}
}

int
run_execute(struct run *r)
{
	struct state *st = r->st;
	struct buf location = BUF_INIT, statement = BUF_INIT;
	size_t i;
	int error = 0, gerr;

	if (st->db)
		r->location = xstrdup(db_location(st->db));
	if (st->db && (error = refuse_invalid_indexes(r)) < 0) {
		r->refused = 1;
		return error;
	}
	for (i = 0; i < r->n; i++) {
		struct run_item *it = &r->items[i];

		if (it->step->run)
			continue;
		if ((error = move_step(r, it)) < 0)
			goto finish;
		if (it->step->from != it->step->to)
			rp_out("  moved %s: %s/ -> %s/\n", it->e->version,
			    folder_name[it->step->from],
			    folder_name[it->step->to]);
	}
	if (r->has_base && (error = run_base(r)) < 0)
		goto finish;
	if (r->nrun > 0) {
		error = db_run(st->db, r->units, r->nrun, unit_done, r);
		if (error == MG_ESQL || error == MG_ECANCEL) {
			for (i = 0; i < r->nrun; i++)
				if (r->units[i].failed)
					break;
			if (i < r->nrun) {
				struct run_item *it = &r->items[r->owner[i]];

				it->usec = it->unit->usec;
				r->failed_item = (int)r->owner[i];
				report_failure(r, it, &location, &statement);
				error = mg_error_last()->code;
				rp_print_error(mg_error_last());
				if (db_record_failure(st->db, it->unit,
					statement.ptr, location.ptr) < 0)
					rp_warning("%s",
					    mg_error_last()->message);
				mg_error_clear();
				mg_error_set(error, "%s failed at %s%s%s%s",
				    it->e->version, location.ptr,
				    it->unit->fail.sqlstate ? " (SQLSTATE "
							    : "",
				    it->unit->fail.sqlstate
					? it->unit->fail.sqlstate
					: "",
				    it->unit->fail.sqlstate ? ")" : "");
			}
		} else if (error == MG_ERROR)
			lost_mid_file(r);
	}
finish:
	state_disconnect(st); /* releases the advisory lock */
	record_moves(r);
	if (r->nmoves > 0 || r->ndone > 0) {
		struct mg_error failure = {0};

		if ((gerr = sync_folders(r)) < 0 && !error)
			error = gerr;
		fault_point(after_renames[r->kind]);
		/* the failure stays the run's error; git's is printed */
		if (error)
			mg_error_take(&failure);
		if ((gerr = record_in_git(r)) < 0 && error)
			rp_print_error(mg_error_last());
		if (error)
			mg_error_put(&failure);
		else
			error = gerr;
	}
	buf_release(&location);
	buf_release(&statement);
	return error;
}

void
run_release(struct run *r)
{
	size_t i;

	run_file_release(&r->base);
	db_failure_release(&r->base_unit.fail);
	run_records_free(r->base_records, r->nbase);

	for (i = 0; i < r->n; i++) {
		struct run_item *it = &r->items[i];

		run_file_release(&it->file);
		if (it->unit)
			db_failure_release(&it->unit->fail);
	}
	for (i = 0; i < r->nmoves; i++) {
		free((char *)r->moves[i].from);
		free((char *)r->moves[i].to);
	}
	free(r->moves);
	free(r->location);
	free(r->items);
	free(r->units);
	free(r->owner);
	free(r->risk);
	memset(r, 0, sizeof(*r));
}
