/*
 * cmd_rehearse.c - migdir rehearse: the seeds' testing checklist, run on
 * scratch databases.
 *
 * A scratch database is brought to the tracked state of the folders
 * (consolidated_schema.sql, or archive/ without it, then applied/).  Then
 * for each pending migration, in order:
 *
 *	S0 = dump               (S3 of the migration before: not dumped twice)
 *	apply                   S1 = dump
 *	roll back               S2 = dump, compared with S0
 *	apply again             S3 = dump, compared with S1
 *
 * The verdict is the worse of the two comparisons (schema.h), `fails` when
 * a step fails, `no-rollback` without a rollback file.  Each migration is
 * rehearsed on the schema the forward files before it make, as it will
 * meet it: the chain goes on from S3 only when S3 is S1; a rollback that
 * failed in its transaction (or before its first statement) left S1
 * itself; after anything else (the second apply failed or gave another
 * schema, a file run outside a transaction stopped half-way) the job gets
 * a new copy of the tracked state and applies the forward files up to
 * there.  So one job and N jobs give the same verdicts.  A forward file
 * that does not apply ends the rehearsal, as it would end an apply: the
 * migrations after it are `skipped`.
 *
 * With --jobs N the tracked state is built once and copied (CREATE
 * DATABASE ... TEMPLATE) for each job; job k applies the forward files
 * before its chunk, then rehearses its chunk on a thread of its own, with
 * its own connection (pg_dump runs as a child process).  Scratch
 * databases are made and dropped by the main thread only: a job that
 * needs a new copy ends, and the main thread starts it again on one.
 * Lines are printed in migration order as soon as they are known.
 *
 * Nothing in the folders, git or the tracked database changes: the
 * server is only asked to make and drop scratch databases, and
 * scratch_close drops them on every path, Ctrl-C included.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "report.h"
#include "run.h"
#include "schema.h"
#include "scratch.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_rehearse_usage[] =
    "usage: migdir [-e ENV] rehearse [--jobs N] [--strict] [--json]\n"
    "                                [VERSION...]\n"
    "\n"
    "Rehearse the pending migrations on scratch databases that first reach\n"
    "the tracked state of the folders (consolidated_schema.sql, archive/,\n"
    "applied/): for each one in order, dump the schema, apply it, dump, run\n"
    "its rollback, check that the schema is what it was before, apply it\n"
    "again and check that the schema is what the first apply made.  Each\n"
    "migration is identical, same-modulo-column-order, same-modulo-frozen-\n"
    "now-timestamps (these round-trip), differs, fails, or has no-rollback;\n"
    "after a forward file that does not apply, the rest are skipped.\n"
    "Exits 3 when one did not round-trip.  Nothing in the folders, git or\n"
    "the tracked database changes; scratch databases are made on the\n"
    "environment's server (or scratch_url) and always dropped.\n"
    "\n"
    "  VERSION...    rehearse only these pending migrations (the pending\n"
    "                ones before them are applied, not rehearsed)\n"
    "  -j, --jobs N  rehearse on N scratch databases at once (default 1)\n"
    "  --strict      only identical round-trips\n";

enum { O_JOBS = 1, O_STRICT };

static const struct cmd_opt opts[] = {
    {"jobs", 'j', 1, O_JOBS},
    {"strict", 0, 0, O_STRICT},
    {NULL, 0, 0, 0},
};

/* The most jobs: each holds a connection (and db.c cancels 64 at most). */
#define MAX_JOBS 32

/* Diff lines shown per comparison in the human output (JSON has all). */
#define DIFF_LINES 100

/* Verdicts, from best to worst. */
enum verdict {
	V_IDENTICAL,
	V_FROZEN_NOW,
	V_COLUMN_ORDER,
	V_DIFFERS,
	V_NO_ROLLBACK,
	V_FAILS,
	V_SKIPPED,
	V_COUNT,
};

static const char *const verdict_name[V_COUNT] = {
    "identical",
    "same-modulo-frozen-now-timestamps",
    "same-modulo-column-order",
    "differs",
    "no-rollback",
    "fails",
    "skipped",
};

/* The three steps of a rehearsal. */
enum rstep { S_APPLY, S_ROLLBACK, S_AGAIN, S_COUNT };

static const char *const step_json[S_COUNT] = {"apply", "rollback", "reapply"};
static const char *const step_text[S_COUNT] = {"apply", "rollback",
    "apply again"};

/* The two comparisons. */
enum { C_ROLLBACK, C_AGAIN, C_COUNT };

/* One pending migration. */
struct item {
	const struct entry *e;
	int selected; /* rehearsed (else only applied on the way) */
	size_t ord;   /* 1-based among the selected */
	struct run_file fwd, rb;
	struct db_unit ufwd, urb;    /* templates, copied for each run */
	int has_rb;                  /* it has a rollback file */
	int bad[2];                  /* forward, rollback file does not parse */
	struct mg_error load_err[2]; /* why */
	char *rb_path;               /* for the no-rollback line */
	/* results: written by one job, read once done (under the mutex) */
	enum verdict verdict;
	int cmp[C_COUNT]; /* enum schema_verdict, or -1: not compared */
	struct buf diff[C_COUNT];
	long long us[S_COUNT];  /* time of each step, -1: did not run */
	int failed;             /* the step that failed, or -1 */
	struct mg_error err;    /* its error */
	const char *skipped_by; /* the version that did not apply first */
	long long total_us;     /* steps and dumps */
	int done;
};

/* A job: a chunk of the items, rehearsed on one scratch database. */
struct job {
	struct rehearse *r;
	size_t from, to;    /* items [from, to) are its chunk */
	size_t next;        /* the first item it has not finished */
	const char *dbname; /* its scratch database (owned by r->sc) */
	pthread_t thread;
	int running;         /* a thread was started and not joined */
	int ended;           /* the thread has ended (under r->mu) */
	int rebuild;         /* it ended to go on at next on a new copy */
	int error;           /* what stopped it, or 0 */
	struct mg_error err; /* with its error */
	size_t rebuilds;     /* new copies it needed */
};

struct rehearse {
	struct ctx *ctx;
	struct state st;
	struct scratch sc;
	int strict;
	long jobs;
	const char *base;  /* the scratch database with the tracked state */
	struct buf server; /* "host:port" of the scratch server */
	const char *server_source; /* "scratch_url" or "the environment" */
	struct scratch_stats base_stats;
	size_t napplied;    /* migrations of applied/ in the tracked state */
	struct item *items; /* every pending migration, in order */
	size_t n, nsel;
	int width; /* version column */
	struct job *job;
	size_t njobs;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t first_fail; /* the first item whose forward file failed in a
			      chain (n: none): every item after it is skipped */
	int stop;          /* a job failed: the others stop */
	size_t printed;    /* items printed (or passed over) so far */
	long long t0, total_us;
};

static int
passes(const struct rehearse *r, enum verdict v)
{
	return v == V_IDENTICAL ||
	    (!r->strict && (v == V_COLUMN_ORDER || v == V_FROZEN_NOW));
}

static enum verdict
from_schema(int v)
{
	switch (v) {
	case SCHEMA_IDENTICAL:
		return V_IDENTICAL;
	case SCHEMA_COLUMN_ORDER:
		return V_COLUMN_ORDER;
	case SCHEMA_FROZEN_NOW:
		return V_FROZEN_NOW;
	default:
		return V_DIFFERS;
	}
}

/* --------------------------------------------------------- folders --- */

/* The folders must define one tracked state: refuse what does not. */
static int
check_folders(struct rehearse *r)
{
	const struct state *st = &r->st;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		unsigned p = e->problems & (PB_DUPLICATE | PB_UNREADABLE);
		char why[256];

		if (!p)
			continue;
		mg_error_set(MG_ERROR, "%s %s", e->version,
		    plan_problem_text(e, (enum problem)(p & (~p + 1)), why,
			sizeof(why)));
		mg_error_hint("rehearse needs the folders to define one "
			      "state: see migdir status. Nothing was changed.");
		return MG_ERROR;
	}
	for (i = 0; i < st->scan.nstrays; i++)
		rp_warning("%s/%s is not a migration name (%s): not rehearsed",
		    st->dir, st->scan.strays[i].path,
		    st->scan.strays[i].reason);
	return 0;
}

/* The pending migrations; those the operands name are selected. */
static int
choose(struct rehearse *r, int argc, char **argv)
{
	const struct state *st = &r->st;
	size_t i, k;
	int a;

	r->items = xcalloc(st->n + 1, sizeof(*r->items));
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (e->m && e->m->fwd && e->folder == FOLDER_PENDING)
			r->items[r->n++].e = e;
		else if (e->m && e->m->fwd && e->folder == FOLDER_APPLIED)
			r->napplied++;
	}
	for (a = 0; a < argc; a++) {
		const char *v = argv[a];
		size_t len = strlen(v);

		if (len > 4 && !strcmp(v + len - 4, ".sql"))
			len -= 4; /* a file name (or path) will do too */
		if (strrchr(v, '/') && strrchr(v, '/') < v + len)
			v = strrchr(v, '/') + 1;
		len -= (size_t)(v - argv[a]);
		for (k = 0; k < r->n; k++)
			if (strlen(r->items[k].e->version) == len &&
			    !strncmp(r->items[k].e->version, v, len))
				break;
		if (k == r->n) {
			const struct entry *e = NULL;

			for (i = 0; i < st->n && !e; i++)
				if (strlen(st->e[i].version) == len &&
				    !strncmp(st->e[i].version, v, len))
					e = &st->e[i];
			if (e && e->folder >= 0)
				mg_error_set(MG_EUSAGE,
				    "%s is in %s/, not pending: rehearse works "
				    "on pending migrations",
				    e->version, folder_name[e->folder]);
			else
				mg_error_set(MG_EUSAGE,
				    "no pending migration \"%.*s\"", (int)len,
				    v);
			mg_error_hint("migdir status lists the pending "
				      "migrations.");
			return MG_EUSAGE;
		}
		r->items[k].selected = 1;
	}
	for (k = 0; k < r->n; k++) {
		struct item *it = &r->items[k];
		int w = (int)strlen(it->e->version);

		if (argc == 0)
			it->selected = 1;
		if (!it->selected)
			continue;
		it->ord = ++r->nsel;
		if (w > r->width)
			r->width = w;
	}
	return 0;
}

/*
 * Read and parse every file before anything runs.  A file that does not
 * parse is that step's failure; one that cannot be read stops everything.
 */
static int
load_files(struct rehearse *r)
{
	struct buf path = BUF_INIT;
	int sv = db_server_version(r->sc.admin), error = 0, kind;
	size_t i;

	for (i = 0; i < r->n && !error; i++) {
		struct item *it = &r->items[i];
		const struct entry *e = it->e;

		it->failed = -1;
		it->cmp[C_ROLLBACK] = it->cmp[C_AGAIN] = -1;
		it->us[S_APPLY] = it->us[S_ROLLBACK] = it->us[S_AGAIN] = -1;
		buf_init(&it->diff[C_ROLLBACK]);
		buf_init(&it->diff[C_AGAIN]);
		it->has_rb = e->m->rb != 0 && e->rb_folder >= 0;
		for (kind = 0; kind < 2 && !error; kind++) {
			struct run_file *f = kind ? &it->rb : &it->fwd;
			struct db_unit *u = kind ? &it->urb : &it->ufwd;

			if (kind && !it->has_rb) {
				buf_reset(&path);
				state_path(&path, &r->st, e->version,
				    FOLDER_PENDING, NAME_ROLLBACK);
				it->rb_path = buf_detach(&path);
				break;
			}
			buf_reset(&path);
			state_path(&path, &r->st, e->version,
			    kind ? e->rb_folder : e->folder,
			    kind ? NAME_ROLLBACK : NAME_FORWARD);
			error = run_file_load(f, u, path.ptr, e->version,
			    kind ? DB_ROLLBACK : DB_APPLY, sv);
			if (error == MG_ESQL) {
				/* the step fails; the run goes on */
				it->bad[kind] = 1;
				mg_error_take(&it->load_err[kind]);
				error = 0;
			}
		}
		it->ufwd.rb_checksum = *e->rb_sum ? e->rb_sum : NULL;
	}
	buf_release(&path);
	return error;
}

/* ---------------------------------------------------------- output --- */

static const char *
step_cell(char out[32], const struct item *it, enum rstep s)
{
	if (it->failed == (int)s)
		return "failed";
	if (it->us[s] < 0)
		return "-";
	return rp_duration(out, it->us[s]);
}

/* "file:line:col" of an error, or its file, or "". */
static void
error_location(struct buf *out, const struct mg_error *e)
{
	if (!e->file)
		return;
	if (e->line > 0)
		buf_printf(out, "%s:%d:%d", e->file, e->line, e->col);
	else
		buf_puts(out, e->file);
}

/* A line for rp_result (always, even with -q) or rp_out. */
static void say(int always, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(int always, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (always)
		rp_result("%s", b.ptr);
	else
		rp_out("%s", b.ptr);
	buf_release(&b);
}

/* Print text indented, at most DIFF_LINES lines. */
static void
print_indented(int always, const char *text)
{
	const char *p = text;
	size_t n = 0, more = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = (int)(nl ? (size_t)(nl - p) : strlen(p));

		if (n++ < DIFF_LINES)
			say(always, "        %.*s\n", len, p);
		else
			more++;
		p += len + (nl ? 1 : 0);
	}
	if (more)
		say(always,
		    "        ... %zu more line%s (--json shows the whole "
		    "diff)\n",
		    more, rp_plural(more));
}

static void
print_item(const struct rehearse *r, const struct item *it)
{
	int bad = !passes(r, it->verdict);
	char d1[32], d2[32];
	int w = r->nsel >= 100 ? 3 : r->nsel >= 10 ? 2 : 1;

	say(bad, "  [%*zu/%zu] %-*s  apply %8s  rollback %8s  %s\n", w, it->ord,
	    r->nsel, r->width, it->e->version, step_cell(d1, it, S_APPLY),
	    step_cell(d2, it, S_ROLLBACK), verdict_name[it->verdict]);
	if (it->verdict == V_SKIPPED) {
		say(bad, "      not rehearsed: %s before it does not apply\n",
		    it->skipped_by);
	} else if (it->verdict == V_NO_ROLLBACK) {
		say(bad, "      no rollback file: write %s to rehearse it\n",
		    it->rb_path);
	} else if (it->failed >= 0) {
		struct buf loc = BUF_INIT;

		error_location(&loc, &it->err);
		say(bad, "      %s failed: %s%s%s%s%s%s\n",
		    step_text[it->failed], loc.ptr, loc.len ? ": " : "",
		    it->err.message ? it->err.message : "unknown error",
		    it->err.sqlstate ? " (SQLSTATE " : "",
		    it->err.sqlstate ? it->err.sqlstate : "",
		    it->err.sqlstate ? ")" : "");
		if (it->err.detail)
			say(bad, "      detail: %s\n", it->err.detail);
		if (it->err.hint)
			say(bad, "      hint: %s\n", it->err.hint);
		buf_release(&loc);
	}
	if (!bad)
		return;
	if (it->diff[C_ROLLBACK].len) {
		say(bad,
		    "      after the rollback the schema is not what it was "
		    "before (%s):\n",
		    schema_verdict_name(it->cmp[C_ROLLBACK]));
		print_indented(bad, it->diff[C_ROLLBACK].ptr);
	}
	if (it->diff[C_AGAIN].len) {
		say(bad,
		    "      applied again, the schema is not what the first "
		    "apply made (%s):\n",
		    schema_verdict_name(it->cmp[C_AGAIN]));
		print_indented(bad, it->diff[C_AGAIN].ptr);
	}
}

/* Forget what a job found for an item: it is skipped after all. */
static void
skipped(struct rehearse *r, struct item *it, size_t by)
{
	int k;

	it->verdict = V_SKIPPED;
	it->skipped_by = r->items[by].e->version;
	it->failed = -1;
	mg_error_clear_taken(&it->err);
	for (k = 0; k < C_COUNT; k++) {
		it->cmp[k] = -1;
		buf_reset(&it->diff[k]);
	}
	for (k = 0; k < S_COUNT; k++)
		it->us[k] = -1;
}

/*
 * Print the items that are known, in order, from where the last call
 * stopped.  Items after the first forward file that failed are skipped,
 * whatever a later job found for them (as one job would): those a job
 * finished, at once; the others once every job has ended (final), as a
 * job may be at work on one.  Call with r->mu held, or when no job runs.
 */
static void
print_ready(struct rehearse *r, int final)
{
	int printed = 0;

	while (r->printed < r->n) {
		struct item *it = &r->items[r->printed];

		if (!it->selected) {
			r->printed++;
			continue;
		}
		if (!it->done && !final)
			break;
		if (r->printed > r->first_fail) {
			skipped(r, it, r->first_fail);
			it->done = 1;
		} else if (!it->done)
			break;
		if (!r->ctx->json)
			print_item(r, it);
		printed = 1;
		r->printed++;
	}
	if (printed)
		fflush(stdout);
}

/* ------------------------------------------------------------- run --- */

enum outcome {
	R_NEXT,    /* rehearsed: go on from S3 (or S1) */
	R_STOP,    /* the forward file failed: the chain ends */
	R_REBUILD, /* the database is not in the state the forward files
		      make (a second apply that failed or gave another
		      schema, a file that stopped half-way): a new copy */
};

/* Is the job to stop before item i? */
static int
stopping(struct rehearse *r, size_t i)
{
	int stop;

	pthread_mutex_lock(&r->mu);
	stop = r->stop || r->first_fail < i;
	pthread_mutex_unlock(&r->mu);
	return stop || db_interrupted();
}

/* The item is finished: print what can be printed. */
static void
finish(struct rehearse *r, struct item *it, size_t index, int forward_failed)
{
	pthread_mutex_lock(&r->mu);
	it->done = 1;
	if (forward_failed && index < r->first_fail)
		r->first_fail = index;
	print_ready(r, 0);
	pthread_mutex_unlock(&r->mu);
}

/*
 * A new session on the job's database, as the separate migdir run that
 * rolls back (or applies again) would have: a temporary table, a setting
 * or a prepared statement the file before left in its session is gone.
 */
static int
new_session(struct job *j, struct db **db)
{
	struct db_target t = j->r->sc.target;

	db_close(*db);
	t.dbname = j->dbname;
	return db_connect(db, &t);
}

/*
 * Run one file (a copy of its unit template); a rollback and a second
 * apply in a session of their own.  A failure of its SQL is
 * the item's (MG_ESQL, with partial set when statements of a file run
 * outside a transaction stay done); anything else, Ctrl-C included, is
 * the job's error.
 */
static int
run_step(struct job *j, struct db **db, struct item *it, enum rstep s,
    int *partial)
{
	const struct run_file *f = s == S_ROLLBACK ? &it->rb : &it->fwd;
	struct db_unit u = s == S_ROLLBACK ? it->urb : it->ufwd;
	int error;

	if (it->bad[s == S_ROLLBACK]) {
		struct mg_error copy = it->load_err[s == S_ROLLBACK];

		/* the parse error, as the step's failure */
		it->failed = (int)s;
		it->err = copy;
		memset(&it->load_err[s == S_ROLLBACK], 0, sizeof(copy));
		*partial = 0;
		return MG_ESQL;
	}
	u.clear_row = s == S_AGAIN; /* as apply does over an inactive row */
	if (s != S_APPLY && (error = new_session(j, db)) < 0)
		return error;
	error = db_run(*db, &u, 1, NULL, NULL);
	it->us[s] = u.usec;
	if (error == MG_ESQL && u.failed && !db_interrupted()) {
		run_file_error(f, &u, NULL, NULL);
		it->failed = (int)s;
		mg_error_take(&it->err);
		*partial = !u.transactional && u.stmts_done > 0;
	} else if (error == MG_ESQL) {
		error = mg_error_set(MG_ECANCEL, "interrupted by Ctrl-C");
	} else if (error == MG_ECANCEL && u.failed)
		run_file_error(f, &u, NULL, NULL);
	db_failure_release(&u.fail);
	return error;
}

static int
dump(struct job *j, struct item *it, struct buf *out)
{
	long long t0 = rp_now_us();
	int error;

	buf_reset(out);
	error = scratch_dump(&j->r->sc, j->dbname, out);
	if (it)
		it->total_us += rp_now_us() - t0;
	if (error < 0 && db_interrupted()) {
		mg_error_clear();
		error = mg_error_set(MG_ECANCEL, "interrupted by Ctrl-C");
	}
	return error;
}

static void
compare(struct item *it, int c, const char *a, const char *la, const char *b,
    const char *lb)
{
	it->cmp[c] = (int)schema_compare(a, b);
	if (it->cmp[c] != SCHEMA_IDENTICAL &&
	    schema_diff(&it->diff[c], a, la, b, lb) < 0) {
		buf_printf(&it->diff[c], "(no diff: %s)\n",
		    mg_error_last()->message);
		mg_error_clear();
	}
}

static void
swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

/*
 * Rehearse item it on db, whose schema is s0; on R_NEXT, s0 becomes the
 * schema the item leaves.  A negative return is the job's error.
 */
static int
rehearse_one(struct job *j, struct db **db, struct item *it, struct buf *s0)
{
	struct buf s1 = BUF_INIT, s2 = BUF_INIT, s3 = BUF_INIT;
	long long t0 = rp_now_us();
	int rc = R_NEXT, partial = 0, error;

	if ((error = run_step(j, db, it, S_APPLY, &partial)) == MG_ESQL) {
		rc = R_STOP;
		goto done;
	}
	if (error < 0 || (error = dump(j, NULL, &s1)) < 0)
		goto fail;
	if (!it->has_rb) {
		it->verdict = V_NO_ROLLBACK;
		swap(s0, &s1);
		goto done;
	}
	if ((error = run_step(j, db, it, S_ROLLBACK, &partial)) == MG_ESQL) {
		if (partial)
			rc = R_REBUILD;
		else
			swap(s0, &s1); /* nothing of it stayed */
		goto done;
	}
	if (error < 0 || (error = dump(j, NULL, &s2)) < 0)
		goto fail;
	compare(it, C_ROLLBACK, s0->ptr, "before", s2.ptr, "after rollback");
	if ((error = run_step(j, db, it, S_AGAIN, &partial)) == MG_ESQL) {
		rc = R_REBUILD;
		goto done;
	}
	if (error < 0 || (error = dump(j, NULL, &s3)) < 0)
		goto fail;
	compare(it, C_AGAIN, s1.ptr, "after apply", s3.ptr,
	    "after apply again");
	if (it->cmp[C_AGAIN] != SCHEMA_IDENTICAL)
		rc = R_REBUILD; /* not the state the forward file makes */
	else
		swap(s0, &s3);
done:
	if (it->failed >= 0)
		it->verdict = V_FAILS;
	else if (it->verdict != V_NO_ROLLBACK) {
		enum verdict a = from_schema(it->cmp[C_ROLLBACK]);
		enum verdict b = from_schema(it->cmp[C_AGAIN]);

		it->verdict = a > b ? a : b;
	}
	it->total_us += rp_now_us() - t0;
	error = rc;
fail:
	buf_release(&s1);
	buf_release(&s2);
	buf_release(&s3);
	return error;
}

/*
 * Apply the forward files of items [from, to) without rehearsing them.
 * Returns 0, or the index of the item whose file failed + 1 in *failed
 * (0: none); a negative return is the job's error.
 */
static int
apply_forward(struct rehearse *r, struct db *db, size_t from, size_t to,
    size_t *failed)
{
	struct db_unit *u;
	size_t i, n = 0;
	int error = 0;

	*failed = 0;
	for (i = from; i < to; i++)
		if (r->items[i].bad[0]) {
			*failed = i + 1; /* does not parse: stop before it */
			to = i;
			break;
		}
	if (to <= from)
		return 0;
	u = xcalloc(to - from, sizeof(*u));
	for (i = from; i < to; i++)
		u[n++] = r->items[i].ufwd;
	error = db_run(db, u, n, NULL, NULL);
	if (error == MG_ESQL && !db_interrupted()) {
		for (i = 0; i < n; i++)
			if (u[i].failed)
				*failed = from + i + 1;
		error = 0;
	} else if (error == MG_ESQL)
		error = mg_error_set(MG_ECANCEL, "interrupted by Ctrl-C");
	for (i = 0; i < n; i++)
		db_failure_release(&u[i].fail);
	free(u);
	return error;
}

/* Mark the job's items from `from` on skipped, for item `by`. */
static void
skip_rest(struct job *j, size_t from, size_t by)
{
	struct rehearse *r = j->r;
	size_t i;

	for (i = from; i < j->to; i++) {
		struct item *it = &r->items[i];

		if (!it->selected)
			continue;
		skipped(r, it, by);
		finish(r, it, i, 0);
	}
	j->next = j->to;
}

static int
job_run(struct job *j)
{
	struct rehearse *r = j->r;
	struct db *db = NULL;
	struct buf s0 = BUF_INIT;
	size_t i, k, failed;
	int error, stale = 1;

	if ((error = scratch_connect(&r->sc, j->dbname, &db)) < 0 ||
	    (error = apply_forward(r, db, 0, j->next, &failed)) < 0)
		goto out;
	if (failed) {
		skip_rest(j, j->next, failed - 1);
		goto out;
	}
	for (i = j->next; i < j->to; i = j->next) {
		struct item *it = &r->items[i];
		int rc;

		if (stopping(r, i))
			break;
		if (!it->selected) {
			for (k = i; k < j->to && !r->items[k].selected; k++)
				;
			if ((error = apply_forward(r, db, i, k, &failed)) < 0)
				goto out;
			if (failed) {
				skip_rest(j, k, failed - 1);
				break;
			}
			j->next = k;
			stale = 1;
			continue;
		}
		if (stale && (error = dump(j, it, &s0)) < 0)
			goto out;
		stale = 0;
		if ((rc = rehearse_one(j, &db, it, &s0)) < 0) {
			error = rc;
			goto out;
		}
		j->next = i + 1;
		finish(r, it, i, rc == R_STOP);
		if (rc == R_STOP)
			break;
		if (rc == R_REBUILD) {
			rp_verbose(
			    "%s left its scratch database in another "
			    "state than its forward file makes: going on "
			    "from a new copy of the tracked state",
			    it->e->version);
			j->rebuild = j->next < j->to;
			break;
		}
	}
out:
	db_close(db);
	buf_release(&s0);
	return error;
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct rehearse *r = j->r;
	int error = job_run(j);

	if (error < 0)
		mg_error_take(&j->err);
	pthread_mutex_lock(&r->mu);
	j->error = error;
	if (error < 0)
		r->stop = 1;
	j->ended = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* A new copy of the tracked state for job j, and its thread. */
static int
start_job(struct rehearse *r, struct job *j)
{
	int error;

	if ((error = scratch_create(&r->sc, r->base, &j->dbname)) < 0)
		return error;
	j->ended = 0;
	j->rebuild = 0;
	j->error = 0;
	if (pthread_create(&j->thread, NULL, job_main, j) != 0)
		return mg_error_os(MG_ERROR, "could not start a thread");
	j->running = 1;
	return 0;
}

/* Wait for every job; start again those that need a new copy. */
static int
run_jobs(struct rehearse *r)
{
	size_t k, left = 0, nsel = 0, c = 0;
	int error = 0;

	r->job = xcalloc(r->njobs, sizeof(*r->job));
	/* contiguous chunks of the selected items */
	for (k = 0; k < r->n; k++) {
		if (!r->items[k].selected)
			continue;
		while (nsel >= (c + 1) * r->nsel / r->njobs)
			c++;
		if (r->job[c].to == 0)
			r->job[c].from = r->job[c].next = k;
		r->job[c].to = k + 1;
		nsel++;
	}
	for (k = 0; k < r->njobs && !error; k++) {
		r->job[k].r = r;
		if ((error = start_job(r, &r->job[k])) == 0)
			left++;
	}
	while (left > 0) {
		struct job *j = NULL;

		pthread_mutex_lock(&r->mu);
		for (;;) {
			for (k = 0; k < r->njobs && !j; k++)
				if (r->job[k].running && r->job[k].ended)
					j = &r->job[k];
			if (j)
				break;
			pthread_cond_wait(&r->cv, &r->mu);
		}
		if (error < 0)
			r->stop = 1;
		pthread_mutex_unlock(&r->mu);
		pthread_join(j->thread, NULL);
		j->running = 0;
		left--;
		if (scratch_drop(&r->sc, j->dbname) < 0 && !error)
			error = MG_ERROR;
		else if (j->error < 0 && !error) {
			mg_error_put(&j->err);
			error = j->error;
		} else if (j->rebuild && !error && !r->stop &&
		    !db_interrupted()) {
			j->rebuilds++;
			if ((error = start_job(r, j)) == 0)
				left++;
		}
		mg_error_clear_taken(&j->err);
	}
	if (db_interrupted()) {
		size_t done = 0;

		for (k = 0; k < r->n; k++)
			done += r->items[k].selected && r->items[k].done;
		mg_error_clear();
		error = mg_error_set(MG_ECANCEL,
		    "interrupted by Ctrl-C after %zu of %zu migration%s", done,
		    r->nsel, rp_plural(r->nsel));
		mg_error_hint("Nothing was changed; the scratch databases "
			      "are dropped.");
	}
	return error;
}

/* The tracked state, on the scratch database every job copies. */
static int
build_base(struct rehearse *r)
{
	struct db *db = NULL;
	int error;

	if ((error = scratch_create(&r->sc, NULL, &r->base)) < 0 ||
	    (error = scratch_connect(&r->sc, r->base, &db)) < 0)
		goto out;
	error = scratch_replay(db, &r->st, scratch_want_applied, NULL,
	    &r->base_stats);
	if (error == MG_ECANCEL)
		mg_error_hint("Nothing was changed; the scratch databases "
			      "are dropped.");
	else if (error < 0)
		mg_error_hint("The tracked state does not replay on an empty "
			      "database: fix the file, or restore what was "
			      "applied. Nothing was changed.");
out:
	db_close(db);
	return error;
}

/* ---------------------------------------------------------- report --- */

/* Where the scratch databases are: "host:port", and who said so. */
static void
name_server(struct rehearse *r)
{
	const char *loc = db_location(r->sc.admin);
	const char *slash = strrchr(loc, '/');

	buf_put(&r->server, loc, slash ? (size_t)(slash - loc) : strlen(loc));
	r->server_source = r->sc.source;
}

static void
header(const struct rehearse *r)
{
	rp_out("Rehearsing %zu pending migration%s on scratch databases on "
	       "%s (%s)",
	    r->nsel, rp_plural(r->nsel), r->server.ptr, r->sc.source);
	if (r->njobs > 1)
		rp_out(", %zu jobs", r->njobs);
	rp_out("\n");
	fflush(stdout);
}

/* What the tracked state is made of. */
static void
tracked_line(const struct rehearse *r)
{
	const struct scratch_stats *s = &r->base_stats;
	struct buf what = BUF_INIT;
	char d[32];

	if (s->baseline)
		buf_printf(&what, "%s", r->st.cfg->consolidated);
	else if (s->files > r->napplied)
		buf_printf(&what, "%zu migration%s of archive/",
		    s->files - r->napplied, rp_plural(s->files - r->napplied));
	if (r->napplied)
		buf_printf(&what, "%s%zu migration%s of applied/",
		    what.len ? " and " : "", r->napplied,
		    rp_plural(r->napplied));
	rp_out("  tracked state: %s  %s\n", what.len ? what.ptr : "empty",
	    rp_duration(d, s->usec));
	buf_release(&what);
}

static void
summary(const struct rehearse *r)
{
	size_t count[V_COUNT] = {0}, ok = 0, i;
	struct buf list = BUF_INIT;
	char d[32];
	int v;

	for (i = 0; i < r->n; i++)
		if (r->items[i].selected) {
			count[r->items[i].verdict]++;
			ok += passes(r, r->items[i].verdict);
		}
	for (v = 0; v < V_COUNT; v++)
		if (count[v])
			buf_printf(&list, "%s%zu %s", list.len ? ", " : "",
			    count[v], verdict_name[v]);
	rp_result("Rehearsed %zu migration%s in %s: %s; ", r->nsel,
	    rp_plural(r->nsel), rp_duration(d, r->total_us), list.ptr);
	if (ok == r->nsel)
		rp_result("all round-trip%s.\n",
		    r->strict ? " identically" : "");
	else
		rp_result("%zu did not round-trip%s.\n", r->nsel - ok,
		    r->strict ? " identically" : "");
	buf_release(&list);
}

static json_t *
item_json(const struct rehearse *r, const struct item *it)
{
	json_t *o = json_object(), *steps = json_array(), *cmp, *diff;
	int s, c;

	json_object_set_new(o, "version", json_string(it->e->version));
	json_object_set_new(o, "verdict",
	    json_string(verdict_name[it->verdict]));
	json_object_set_new(o, "round_trip",
	    json_boolean(passes(r, it->verdict)));
	for (s = 0; s < S_COUNT; s++)
		if (it->us[s] >= 0 || it->failed == s)
			json_array_append_new(steps,
			    json_pack("{s:s,s:I,s:b}", "step", step_json[s],
				"ms",
				(json_int_t)(it->us[s] < 0 ? 0
							   : it->us[s] / 1000),
				"ok", it->failed != s));
	json_object_set_new(o, "steps", steps);
	json_object_set_new(o, "ms", json_integer(it->total_us / 1000));
	cmp = json_object();
	diff = json_object();
	for (c = 0; c < C_COUNT; c++) {
		const char *key = c == C_ROLLBACK ? "rollback" : "reapply";

		json_object_set_new(cmp, key,
		    it->cmp[c] < 0
			? json_null()
			: json_string(schema_verdict_name(it->cmp[c])));
		json_object_set_new(diff, key,
		    it->diff[c].len ? json_string(it->diff[c].ptr)
				    : json_null());
	}
	json_object_set_new(o, "compared", cmp);
	json_object_set_new(o, "diff", diff);
	if (it->failed >= 0) {
		json_t *e = rp_error_json(&it->err);
		json_t *inner = json_incref(json_object_get(e, "error"));
		struct buf loc = BUF_INIT;

		json_decref(e);
		error_location(&loc, &it->err);
		json_object_set_new(inner, "step",
		    json_string(step_json[it->failed]));
		json_object_set_new(inner, "location",
		    loc.len ? json_string(loc.ptr) : json_null());
		json_object_set_new(o, "error", inner);
		buf_release(&loc);
	} else
		json_object_set_new(o, "error", json_null());
	json_object_set_new(o, "rollback_file",
	    it->has_rb ? json_true() : json_false());
	json_object_set_new(o, "skipped_because",
	    it->skipped_by ? json_string(it->skipped_by) : json_null());
	return o;
}

static void
report_json(const struct rehearse *r)
{
	json_t *o = json_object(), *a = json_array(), *t = json_object();
	json_t *base;
	size_t count[V_COUNT] = {0}, ok = 0, i;
	int v;

	for (i = 0; i < r->n; i++) {
		const struct item *it = &r->items[i];

		if (!it->selected)
			continue;
		json_array_append_new(a, item_json(r, it));
		count[it->verdict]++;
		ok += passes(r, it->verdict);
	}
	json_object_set_new(o, "environment", json_string(r->st.env->name));
	json_object_set_new(o, "server",
	    r->server.len ? json_string(r->server.ptr) : json_null());
	json_object_set_new(o, "server_source",
	    r->server.len ? json_string(r->server_source) : json_null());
	json_object_set_new(o, "strict", json_boolean(r->strict));
	json_object_set_new(o, "jobs", json_integer((json_int_t)r->njobs));
	base = json_pack("{s:o,s:I,s:I,s:I}", "baseline",
	    r->base_stats.baseline ? json_string(r->st.cfg->consolidated)
				   : json_null(),
	    "archived",
	    (json_int_t)(r->base_stats.baseline
		    ? r->base_stats.records
		    : r->base_stats.files - r->napplied),
	    "applied", (json_int_t)r->napplied, "ms",
	    (json_int_t)(r->base_stats.usec / 1000));
	json_object_set_new(o, "tracked_state", base);
	json_object_set_new(o, "migrations", a);
	json_object_set_new(t, "migrations", json_integer((json_int_t)r->nsel));
	json_object_set_new(t, "round_trip", json_integer((json_int_t)ok));
	json_object_set_new(t, "not_round_trip",
	    json_integer((json_int_t)(r->nsel - ok)));
	for (v = 0; v < V_COUNT; v++)
		json_object_set_new(t, verdict_name[v],
		    json_integer((json_int_t)count[v]));
	json_object_set_new(t, "ms", json_integer(r->total_us / 1000));
	json_object_set_new(o, "totals", t);
	rp_json(o);
}

/* ------------------------------------------------------------ main --- */

static void
rehearse_release(struct rehearse *r)
{
	size_t i;
	int k;

	scratch_close(&r->sc);
	for (i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];

		run_file_release(&it->fwd);
		run_file_release(&it->rb);
		for (k = 0; k < 2; k++)
			mg_error_clear_taken(&it->load_err[k]);
		mg_error_clear_taken(&it->err);
		buf_release(&it->diff[C_ROLLBACK]);
		buf_release(&it->diff[C_AGAIN]);
		free(it->rb_path);
	}
	free(r->items);
	free(r->job);
	buf_release(&r->server);
	state_close(&r->st);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

int
cmd_rehearse(struct ctx *ctx, int argc, char **argv)
{
	struct rehearse r;
	const char *arg;
	size_t i;
	int id, next = 0, rc;

	memset(&r, 0, sizeof(r));
	buf_init(&r.server);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.ctx = ctx;
	r.jobs = 1;
	while ((id = cmd_options(ctx, cmd_lookup("rehearse"), argc, argv, opts,
		    &arg, &next)) > 0) {
		if (id == O_STRICT)
			r.strict = 1;
		else if ((rc = cmd_parse_count(&r.jobs, "rehearse", "--jobs",
			      arg)) < 0)
			goto out;
		else if (r.jobs > MAX_JOBS) {
			rc = cmd_usage_error("rehearse",
			    "--jobs is at most %d, not %ld", MAX_JOBS, r.jobs);
			goto out;
		}
	}
	if ((rc = id) < 0 || (rc = ctx_config(ctx)) < 0 ||
	    (rc = state_open(&r.st, ctx,
		 ctx->cfg.scratch_url ? 0 : NEED_CONNINFO)) < 0 ||
	    (rc = check_folders(&r)) < 0 ||
	    (rc = choose(&r, argc - next, argv + next)) < 0)
		goto out;
	r.first_fail = r.n;
	if (r.nsel == 0) {
		if (ctx->json)
			report_json(&r);
		else
			rp_out("Nothing to rehearse: pending/ is empty.\n");
		goto out;
	}
	r.njobs = (size_t)r.jobs < r.nsel ? (size_t)r.jobs : r.nsel;
	r.t0 = rp_now_us();
	if ((rc = scratch_open(&r.sc, &r.st)) < 0 || (rc = load_files(&r)) < 0)
		goto out;
	name_server(&r);
	if (!ctx->json)
		header(&r);
	if ((rc = build_base(&r)) < 0)
		goto out;
	if (!ctx->json)
		tracked_line(&r);
	if ((rc = run_jobs(&r)) < 0)
		goto out;
	print_ready(&r, 1);
	r.total_us = rp_now_us() - r.t0;
	scratch_close(&r.sc);
	if (ctx->json)
		report_json(&r);
	else
		summary(&r);
	rc = EXIT_OK;
	for (i = 0; i < r.n; i++)
		if (r.items[i].selected && !passes(&r, r.items[i].verdict))
			rc = EXIT_PENDING;
out:
	rehearse_release(&r);
	return rc;
}
