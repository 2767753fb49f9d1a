/*
 * cmd_baseline.c - migdir baseline: adopt a database migrated by hand.
 *
 * Records the chosen versions as applied without running them, once a
 * scratch replay of those versions has shown that the database holds
 * exactly their schema.  Check everything, then act:
 *  1. the choice: --to VERSION is every migration up to and including
 *     VERSION in run order (the order status lists), else everything in
 *     archive/ and applied/; it must hold every archived version (the
 *     consolidated schema records them all) and, on the tracked
 *     environment, every version in applied/ (the folder means applied);
 *  2. the database is not empty, the folders are reliable (no stray, no
 *     duplicate, no unreadable or changed file, no move half done), every
 *     chosen version has its forward file, and the database records no
 *     active version beyond the chosen ones;
 *  3. a scratch database replays consolidated_schema.sql and the chosen
 *     migrations that are not archived; pg_dump --schema-only of it and of
 *     the database (migdir's tables left out) must be identical, or only
 *     differ in timestamps that 'now' froze into views; anything else is
 *     shown as a unified diff and refused unless --force;
 *  4. one transaction records the chosen versions that have no active row
 *     (DB_BASELINE: no statement runs); those already active stay as they
 *     are.  On the tracked environment, chosen versions still in pending/
 *     then move to applied/, and one git commit records the moves (run.c,
 *     RUN_BASELINE).  The locks are apply's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "fault.h"
#include "name.h"
#include "report.h"
#include "run.h"
#include "schema.h"
#include "scratch.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_baseline_usage[] =
    "usage: migdir [-e ENV] baseline [--to VERSION] [--force] [--dry-run] "
    "[--json]\n"
    "\n"
    "Adopt a database migrated by hand: record the chosen versions as\n"
    "applied without running them.  The chosen versions are everything in\n"
    "archive/ and applied/, or with --to every migration up to and\n"
    "including VERSION; they include every archived version.  First a\n"
    "scratch database replays consolidated_schema.sql and the chosen\n"
    "migrations, and its schema (pg_dump --schema-only, migdir's tables\n"
    "left out) must be the database's: else the differences are shown as a\n"
    "diff and nothing is recorded.  Versions the database already records\n"
    "as applied stay as they are.  On the tracked environment, chosen\n"
    "migrations in pending/ move to applied/ in one git commit.  Refuses an\n"
    "empty database, folders with problems, and a database that records a\n"
    "version beyond the chosen ones.\n"
    "\n"
    "  --to VERSION  choose every migration up to and including VERSION\n"
    "  --force       record even when the schemas differ\n"
    "  --dry-run     compare and say what would be recorded; change nothing\n";

enum { O_TO = 1, O_FORCE, O_DRY_RUN };

static const struct cmd_opt opts[] = {
    {"to", 0, 1, O_TO},
    {"force", 0, 0, O_FORCE},
    {"dry-run", 'n', 0, O_DRY_RUN},
    {NULL, 0, 0, 0},
};

/* What a chosen version needs. */
enum todo {
	TODO_NONE,   /* not chosen */
	TODO_RECORD, /* chosen, no active row: record it */
	TODO_KEEP,   /* chosen, already recorded as applied: leave it */
};

struct baseline {
	struct state st;
	struct scratch sc;
	const char *to; /* --to VERSION, or NULL */
	int force, dry_run;
	enum todo *todo;           /* per entry */
	size_t nchosen;            /* entries chosen */
	size_t last;               /* the newest chosen entry */
	size_t nrecord;            /* TODO_RECORD entries */
	size_t nkeep;              /* TODO_KEEP entries */
	struct steps moves;        /* chosen entries in pending/ (tracked) */
	struct run run;            /* carries out the moves */
	struct db_record *records; /* what the DB_BASELINE unit records */
	int compared;              /* the schemas were compared */
	enum schema_verdict verdict;
	struct buf diff;  /* replay (a) against the database (b) */
	struct buf where; /* the database, for people */
	struct scratch_stats replay;
	long long t0, replay_us, compare_us, record_us;
	int recorded; /* the versions are recorded */
	char *note;   /* for the commit message */
};

/* ----------------------------------------------------------- choose --- */

/* The newest entry with its forward file in folder, or -1. */
static int
newest_in(const struct state *st, int folder)
{
	int i, found = -1;

	for (i = 0; i < (int)st->n; i++)
		if (st->e[i].m && st->e[i].folder == folder)
			found = i;
	return found;
}

/* The same, among those the database has no active row for. */
static int
newest_unrecorded(const struct state *st, int folder)
{
	int i, found = -1;

	for (i = 0; i < (int)st->n; i++)
		if (st->e[i].m && st->e[i].folder == folder &&
		    !(st->e[i].row && st->e[i].row->active))
			found = i;
	return found;
}

/* In archive/ or applied/, by its forward file or else its rollback. */
static int
in_archive_or_applied(const struct entry *e)
{
	int f = e->folder >= 0 ? e->folder : e->rb_folder;

	return f == FOLDER_ARCHIVE || f == FOLDER_APPLIED;
}

/*
 * --to: it names a migration with a file, at or after the newest archived
 * one, and on the tracked environment at or after the newest in applied/.
 */
static int
check_to(struct baseline *b)
{
	const struct state *st = &b->st;
	size_t i;
	int k;

	for (i = 0; i < st->n; i++)
		if (st->e[i].m && !strcmp(st->e[i].version, b->to))
			break;
	if (i == st->n) {
		mg_error_set(MG_EUSAGE, "no migration \"%s\" in the folders",
		    b->to);
		mg_error_hint("--to takes the version of a migration file (its "
			      "name without .sql); migdir status lists them.");
		return MG_EUSAGE;
	}
	if ((k = newest_in(st, FOLDER_ARCHIVE)) >= 0 &&
	    name_cmp(st->e[k].version, b->to) > 0) {
		mg_error_set(MG_EUSAGE,
		    "--to %s is older than %s, the newest archived migration",
		    b->to, st->e[k].version);
		mg_error_hint(
		    "%s holds every archived migration, so a baseline "
		    "records them all: use --to %s or a later "
		    "version.",
		    st->cfg->consolidated, st->e[k].version);
		return MG_EUSAGE;
	}
	if (st->tracked && (k = newest_unrecorded(st, FOLDER_APPLIED)) >= 0 &&
	    name_cmp(st->e[k].version, b->to) > 0) {
		mg_error_set(MG_EUSAGE,
		    "--to %s leaves %s in applied/ without a row in the "
		    "tracked database",
		    b->to, st->e[k].version);
		mg_error_hint("On the tracked environment applied/ means "
			      "applied: use --to %s or a later version, or "
			      "move what the database lacks back to pending/ "
			      "(git mv, git commit) first.",
		    st->e[k].version);
		return MG_EUSAGE;
	}
	return 0;
}

/* Mark the chosen entries. */
static void
choose(struct baseline *b)
{
	const struct state *st = &b->st;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		int chosen = e->m &&
		    (b->to ? name_cmp(e->version, b->to) <= 0
			   : in_archive_or_applied(e));

		if (!chosen)
			continue;
		b->todo[i] = e->row && e->row->active ? TODO_KEEP : TODO_RECORD;
		b->nchosen++;
		b->last = i;
	}
}

/* ----------------------------------------------------------- checks --- */

static int
check_not_empty(struct baseline *b)
{
	const struct state *st = &b->st;

	if (st->probe.objects > 0)
		return 0;
	mg_error_set(MG_ERROR,
	    "database \"%s\" is empty: there is nothing to baseline",
	    db_name(st->db));
	mg_error_detail("%s holds no table, view, sequence, function, type, "
			"schema or extension but migdir's own.",
	    b->where.ptr);
	mg_error_hint("baseline adopts a database that already has the "
		      "migrations' objects. An empty database needs none: "
		      "migdir apply builds it from %s and the migrations.",
	    st->cfg->consolidated);
	return MG_ERROR;
}

/*
 * Refuse with the n lines of list (NUL-separated): one line is the error;
 * several are printed in order, and the error counts them.
 */
static int
refuse_lines(const struct buf *list, size_t n, const char *what)
{
	const char *p = list->ptr;
	size_t i;

	if (n == 1)
		return mg_error_set(MG_ERROR, "%s", p);
	for (i = 0; i < n; i++, p += strlen(p) + 1)
		rp_error("%s", p);
	return mg_error_set(MG_ERROR, "cannot baseline: %zu %s", n, what);
}

/* A *.sql file that is no migration: the folders are not what they say. */
static int
check_strays(const struct state *st)
{
	struct buf list = BUF_INIT;
	size_t i;

	if (st->scan.nstrays == 0)
		return 0;
	for (i = 0; i < st->scan.nstrays; i++) {
		buf_printf(&list, "%s/%s is not a migration name: %s", st->dir,
		    st->scan.strays[i].path, st->scan.strays[i].reason);
		buf_putc(&list, '\0');
	}
	refuse_lines(&list, st->scan.nstrays, "files with an invalid name");
	mg_error_hint("Name migrations YYYYMMDD_description.sql, or move the "
		      "file out of the migrations folders; then baseline. "
		      "Nothing was changed.");
	buf_release(&list);
	return MG_ERROR;
}

/*
 * Problems that make the folders unreliable: a file in two folders, one
 * that cannot be read, one changed since it was applied; on the tracked
 * environment also a move left half done or not committed.  A file in
 * applied/ or archive/ without a row is what baseline is for.
 */
static int
check_problems(const struct state *st)
{
	unsigned refuse = PB_DUPLICATE | PB_UNREADABLE | PB_DRIFT;
	struct buf list = BUF_INIT;
	size_t i, k = 0;
	char why[256];

	if (st->tracked)
		refuse |= PB_FINISH_ROLLBACK | PB_SPLIT_PAIR | PB_UNCOMMITTED;
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		unsigned bit;

		for (bit = 1; bit <= PB_UNREADABLE; bit <<= 1) {
			if (!(e->problems & bit & refuse))
				continue;
			buf_printf(&list, "%s %s", e->version,
			    plan_problem_text(e, (enum problem)bit, why,
				sizeof(why)));
			buf_putc(&list, '\0');
			k++;
		}
	}
	if (k == 0)
		return 0;
	refuse_lines(&list, k, "problems in the folders");
	mg_error_hint("A baseline trusts the folders: fix this first (migdir "
		      "status explains it, migdir repair finishes moves). "
		      "Nothing was changed.");
	buf_release(&list);
	return MG_ERROR;
}

/* Every chosen version has its forward file. */
static int
check_forward(const struct baseline *b)
{
	const struct state *st = &b->st;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (b->todo[i] == TODO_NONE || e->m->fwd)
			continue;
		mg_error_set(MG_ERROR,
		    "%s has no forward file: only its rollback file is in "
		    "%s/",
		    e->version, folder_name[e->rb_folder]);
		mg_error_hint("A baseline records what forward files did: put "
			      "%s.sql back, or remove the rollback file. "
			      "Nothing was changed.",
		    e->version);
		return MG_ERROR;
	}
	return 0;
}

/*
 * The database records nothing beyond the choice: an active version that
 * is not chosen is refused when it is newer than the chosen ones (the
 * database is further along) or has a file (it would stay behind, in
 * pending/); an older row without any file is only reported.
 */
static int
check_rows(const struct baseline *b)
{
	const struct state *st = &b->st;
	const char *last = st->e[b->last].version, *newest = NULL;
	const struct entry *first = NULL;
	struct buf more = BUF_INIT;
	size_t i;
	int error;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (b->todo[i] != TODO_NONE || !e->row || !e->row->active)
			continue;
		if (!e->m && name_cmp(e->version, last) < 0) {
			rp_warning("%s is recorded as applied, but no file has "
				   "this version: left as it is",
			    e->version);
			continue;
		}
		if (e->m && (!newest || name_cmp(e->version, newest) > 0))
			newest = e->version;
		if (!first)
			first = e;
		else
			buf_printf(&more, "%s%s", more.len ? ", " : "",
			    e->version);
	}
	if (!first)
		return 0;
	if (name_cmp(first->version, last) > 0)
		error = mg_error_set(MG_ERROR,
		    "the database already records %s as applied, which is "
		    "newer than the chosen versions (up to %s)",
		    first->version, last);
	else
		error = mg_error_set(MG_ERROR,
		    "the database records %s as applied, but it is not among "
		    "the chosen versions (it is in %s/)",
		    first->version,
		    folder_name[first->folder >= 0 ? first->folder
						   : first->rb_folder]);
	if (more.len)
		mg_error_detail("It also records %s as applied.", more.ptr);
	if (!first->m)
		mg_error_hint("No file has this version: restore its file, or "
			      "check that this is the right database. Nothing "
			      "was changed.");
	else
		mg_error_hint("Choose what it records: migdir baseline --to %s "
			      "(or a later version). Nothing was changed.",
		    name_cmp(newest, last) > 0 ? newest : last);
	buf_release(&more);
	return error;
}

/* ------------------------------------------------------------ plan --- */

/* The records to write and the moves to make. */
static void
plan(struct baseline *b)
{
	const struct state *st = &b->st;
	size_t i;

	b->records = xcalloc(st->n + 1, sizeof(*b->records));
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (b->todo[i] == TODO_KEEP)
			b->nkeep++;
		if (b->todo[i] == TODO_RECORD) {
			run_record(&b->records[b->nrecord++], e);
		}
		if (b->todo[i] != TODO_NONE && st->tracked &&
		    e->folder == FOLDER_PENDING) {
			XGROW(b->moves.v, b->moves.cap, b->moves.n + 1);
			b->moves.v[b->moves.n].entry = i;
			b->moves.v[b->moves.n].run = 0;
			b->moves.v[b->moves.n].from = FOLDER_PENDING;
			b->moves.v[b->moves.n].to = FOLDER_APPLIED;
			b->moves.n++;
		}
	}
}

/* ---------------------------------------------------------- compare --- */

static int
want_chosen(const struct entry *e, void *arg)
{
	const struct baseline *b = arg;

	return b->todo[e - b->st.e] != TODO_NONE;
}

/*
 * Replay the chosen state on a scratch database, dump it and the database,
 * and compare the two.  Sets verdict and diff; an error only when a step
 * fails (not when the schemas differ).
 */
static int
compare(struct baseline *b)
{
	struct state *st = &b->st;
	struct schema_book book = {st->cfg->schema, st->cfg->table};
	struct buf want = BUF_INIT, have = BUF_INIT;
	struct db *db = NULL;
	const char *name;
	long long t;
	int error;

	t = rp_now_us();
	if ((error = scratch_open(&b->sc, st)) < 0 ||
	    (error = scratch_create(&b->sc, NULL, &name)) < 0 ||
	    (error = scratch_connect(&b->sc, name, &db)) < 0)
		goto out;
	if ((error = scratch_replay(db, st, want_chosen, b, &b->replay)) < 0) {
		mg_error_hint("The chosen migrations do not replay on an empty "
			      "database, so nothing can be compared: fix the "
			      "file. Nothing was changed.");
		goto out;
	}
	db_close(db);
	db = NULL;
	if ((error = scratch_dump(&b->sc, name, &want)) < 0)
		goto out;
	b->replay_us = rp_now_us() - t;
	t = rp_now_us();
	if ((error = schema_dump(&have, st->conninfo, NULL, &book)) < 0) {
		mg_error_prefix("could not dump the schema of %s",
		    b->where.ptr);
		goto out;
	}
	b->verdict = schema_compare(want.ptr, have.ptr);
	if (b->verdict != SCHEMA_IDENTICAL &&
	    (error = schema_diff(&b->diff, want.ptr, "replay of the folders",
		 have.ptr, "the database")) < 0)
		goto out;
	b->compare_us = rp_now_us() - t;
	b->compared = 1;
out:
	db_close(db);
	scratch_close(&b->sc);
	buf_release(&want);
	buf_release(&have);
	return error;
}

/* Is the verdict good enough to record without --force? */
static int
verdict_ok(enum schema_verdict v)
{
	/* 'now' frozen into a view is the time it was made: never equal */
	return v == SCHEMA_IDENTICAL || v == SCHEMA_FROZEN_NOW;
}

/* What the verdict means, for people. */
static const char *
verdict_text(enum schema_verdict v)
{
	switch (v) {
	case SCHEMA_IDENTICAL:
		return "identical";
	case SCHEMA_FROZEN_NOW:
		return "the same, but for timestamps 'now' froze into views";
	case SCHEMA_COLUMN_ORDER:
		return "the same columns, some in another order";
	case SCHEMA_DIFFERS:
		break;
	}
	return "different";
}

/* Refuse a difference, or say that --force records it anyway. */
static int
judge(struct baseline *b)
{
	const char *upto = b->st.e[b->last].version;

	if (verdict_ok(b->verdict))
		return 0;
	if (b->verdict == SCHEMA_COLUMN_ORDER)
		mg_error_set(MG_ERROR,
		    "the database's schema differs from a replay of the "
		    "folders up to %s, only in the order of columns",
		    upto);
	else
		mg_error_set(MG_ERROR,
		    "the database's schema differs from a replay of the "
		    "folders up to %s",
		    upto);
	mg_error_detail("The diff shows it: lines with - are only in the "
			"replay, lines with + only in the database.");
	if (b->force) {
		rp_warning("%s: recording anyway (--force)",
		    mg_error_last()->message);
		mg_error_clear();
		return 0;
	}
	if (b->verdict == SCHEMA_COLUMN_ORDER)
		mg_error_hint("Nothing was recorded. Column order matters to "
			      "SELECT * and to COPY or INSERT without a column "
			      "list; if nothing relies on it, record anyway "
			      "with --force.");
	else
		mg_error_hint("Nothing was recorded. Bring the database to the "
			      "folders' state (or choose another --to), or "
			      "record anyway with --force if the differences "
			      "are meant to stay.");
	return MG_ERROR;
}

/* ------------------------------------------------------------- act --- */

/* One transaction records every version without an active row. */
static int
record(struct baseline *b)
{
	static const char *const none[1] = {NULL};
	struct state *st = &b->st;
	struct db_unit u;
	const char *p, *q;
	long long t = rp_now_us();
	int error;

	if ((error = state_ensure(st)) < 0)
		return error;
	for (p = st->ensured.ptr; (q = strchr(p, '\n')); p = q + 1)
		rp_info("%.*s", (int)(q - p), p);
	if (b->nrecord == 0)
		return 0;
	memset(&u, 0, sizeof(u));
	u.version = "baseline";
	u.action = DB_BASELINE;
	u.transactional = 1;
	u.stmts = none;
	u.description = "baseline";
	u.records = b->records;
	u.nrecords = b->nrecord;
	error = db_run(st->db, &u, 1, NULL, NULL);
	if (error == MG_ESQL) {
		error =
		    mg_error_set(MG_ESQL, "could not record the versions: %s",
			u.fail.message ? u.fail.message : "unknown error");
		mg_error_server(u.fail.sqlstate, u.fail.context);
		mg_error_hint("Nothing was recorded: it is one transaction.");
	}
	db_failure_release(&u.fail);
	if (error < 0)
		return error;
	b->recorded = 1;
	b->record_us = rp_now_us() - t;
	return 0;
}

/* The note the commit message carries: what the comparison found. */
static void
make_note(struct baseline *b)
{
	if (verdict_ok(b->verdict))
		b->note = xasprintf("The database's schema was compared with a "
				    "replay of the folders up to\n%s: %s.",
		    b->st.e[b->last].version, verdict_text(b->verdict));
	else
		b->note = xasprintf("The database's schema differs from a "
				    "replay of the folders up to\n%s (%s); "
				    "recorded anyway with --force.",
		    b->st.e[b->last].version, schema_verdict_name(b->verdict));
}

static int
move_and_commit(struct baseline *b)
{
	int error;

	if (b->moves.n == 0)
		return 0;
	make_note(b);
	if ((error = run_prepare(&b->run, &b->st, &b->moves, RUN_BASELINE)) < 0)
		return error;
	b->run.note = b->note;
	return run_execute(&b->run);
}

/* ---------------------------------------------------------- report --- */

static void
show_plan(const struct baseline *b)
{
	const struct state *st = &b->st;
	size_t i;
	int w = 0;

	for (i = 0; i < st->n; i++)
		if (b->todo[i] != TODO_NONE &&
		    (int)strlen(st->e[i].version) > w)
			w = (int)strlen(st->e[i].version);
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		int move = st->tracked && e->folder == FOLDER_PENDING;

		if (b->todo[i] == TODO_NONE)
			continue;
		rp_out("  %-6s  %-*s  %s/%s%s\n",
		    b->todo[i] == TODO_KEEP ? "keep" : "record", w, e->version,
		    folder_name[e->folder], move ? " -> applied/" : "",
		    b->todo[i] == TODO_KEEP ? "  (already recorded as applied)"
					    : "");
	}
}

static void
show_compared(const struct baseline *b)
{
	const struct state *st = &b->st;
	char d1[32], d2[32];
	size_t others = b->replay.files;

	if (b->replay.baseline && others == 0)
		rp_out("  replayed %s (%zu archived) on a scratch database  "
		       "%s\n",
		    st->cfg->consolidated, b->replay.records,
		    rp_duration(d1, b->replay_us));
	else if (b->replay.baseline)
		rp_out("  replayed %s (%zu archived) and %zu migration%s on a "
		       "scratch database  %s\n",
		    st->cfg->consolidated, b->replay.records, others,
		    rp_plural(others), rp_duration(d1, b->replay_us));
	else
		rp_out("  replayed %zu migration%s on a scratch database  %s\n",
		    others, rp_plural(others), rp_duration(d1, b->replay_us));
	rp_out("  compared with the database's schema (migdir's tables left "
	       "out): %s  %s\n",
	    verdict_text(b->verdict), rp_duration(d2, b->compare_us));
	if (b->diff.len)
		rp_out("%s", b->diff.ptr);
}

static json_t *
versions_json(const struct baseline *b, enum todo which)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < b->st.n; i++)
		if (b->todo[i] == which)
			json_array_append_new(a,
			    json_string(b->st.e[i].version));
	return a;
}

static void
report_json(const struct baseline *b, int rc)
{
	const struct state *st = &b->st;
	int done = b->recorded || (b->dry_run && rc == 0);
	json_t *o, *moved = json_array();
	size_t i;

	for (i = 0; i < b->moves.n; i++) {
		const struct run_item *it =
		    i < b->run.n ? &b->run.items[i] : NULL;

		if (b->dry_run ? rc == 0 : it && it->moved)
			json_array_append_new(moved,
			    json_pack("{s:s,s:s,s:s}", "version",
				st->e[b->moves.v[i].entry].version, "from",
				"pending", "to", "applied"));
	}
	o = json_pack("{s:s,s:s,s:b,s:s,s:b,s:s?,s:s}", "action", "baseline",
	    "environment", st->env->name, "tracked", st->tracked, "database",
	    b->where.ptr, "dry_run", b->dry_run, "to", b->to, "up_to",
	    st->e[b->last].version);
	json_object_set_new(o, "replay",
	    b->compared ? json_pack("{s:b,s:I,s:I,s:I}", "consolidated",
			      b->replay.baseline, "archived",
			      (json_int_t)b->replay.records, "files",
			      (json_int_t)b->replay.files, "duration_ms",
			      (json_int_t)(b->replay_us / 1000))
			: json_null());
	json_object_set_new(o, "verdict",
	    b->compared ? json_string(schema_verdict_name(b->verdict))
			: json_null());
	json_object_set_new(o, "diff",
	    b->diff.len ? json_string(b->diff.ptr) : json_null());
	json_object_set_new(o, "forced",
	    json_boolean(b->compared && !verdict_ok(b->verdict) && b->force));
	json_object_set_new(o, "recorded",
	    done ? versions_json(b, TODO_RECORD) : json_array());
	json_object_set_new(o, "already_recorded", versions_json(b, TODO_KEEP));
	json_object_set_new(o, "moved", moved);
	json_object_set_new(o, "commit",
	    b->run.commit[0] ? json_string(b->run.commit) : json_null());
	json_object_set_new(o, "staged", json_boolean(b->run.staged));
	json_object_set_new(o, "duration_ms",
	    json_integer((json_int_t)((rp_now_us() - b->t0) / 1000)));
	if (rc < 0 && mg_error_last()->message) {
		json_t *e = rp_error_json(mg_error_last());

		json_object_update(o, e);
		json_decref(e);
	}
	rp_json(o);
}

static void
closing_line(const struct baseline *b)
{
	const struct state *st = &b->st;
	size_t moved = run_moved_only(&b->run);
	char dur[32];

	if (b->dry_run) {
		rp_out("Dry run: would record %zu migration%s as applied",
		    b->nrecord, rp_plural(b->nrecord));
		if (!verdict_ok(b->verdict))
			rp_out(" despite the differences (--force)");
		if (b->moves.n)
			rp_out(" and move %zu from pending/ to applied/",
			    b->moves.n);
		rp_out("; nothing was changed.\n");
		return;
	}
	rp_out("Recorded %zu migration%s as applied without running them",
	    b->nrecord, rp_plural(b->nrecord));
	if (b->nkeep)
		rp_out(" (%zu already recorded)", b->nkeep);
	rp_out(" in %s", rp_duration(dur, rp_now_us() - b->t0));
	if (!verdict_ok(b->verdict))
		rp_out(", despite the differences (--force)");
	if (moved)
		rp_out("; moved %zu to applied/", moved);
	if (b->run.commit[0])
		rp_out("; committed %.12s", b->run.commit);
	else if (b->run.staged)
		rp_out("; moves staged in git");
	else if (!st->tracked)
		rp_out("; no file moved (%s is not the tracked environment)",
		    st->env->name);
	rp_out(".\n");
}

/* ------------------------------------------------------------ main --- */

static int
parse_options(struct baseline *b, struct ctx *ctx, int argc, char **argv)
{
	const char *arg;
	int id, next = 0;

	while ((id = cmd_options(ctx, cmd_lookup("baseline"), argc, argv, opts,
		    &arg, &next)) > 0) {
		if (id == O_TO)
			b->to = arg;
		else if (id == O_FORCE)
			b->force = 1;
		else
			b->dry_run = 1;
	}
	if (id < 0)
		return id;
	if (next < argc)
		return cmd_usage_error("baseline", "unexpected argument \"%s\"",
		    argv[next]);
	if (b->to && !name_is_version(b->to))
		return cmd_usage_error("baseline",
		    "\"%s\" is not a migration version", b->to);
	return 0;
}

/* Everything that is checked before the scratch database. */
static int
preflight(struct baseline *b)
{
	struct state *st = &b->st;
	int rc;

	b->todo = xcalloc(st->n + 1, sizeof(*b->todo));
	if (b->to && (rc = check_to(b)) < 0)
		return rc;
	if ((rc = check_not_empty(b)) < 0 || (rc = check_strays(st)) < 0 ||
	    (rc = check_problems(st)) < 0)
		return rc;
	choose(b);
	if (b->nchosen == 0) {
		mg_error_set(MG_ERROR,
		    "nothing to baseline: archive/ and applied/ hold no "
		    "migration");
		mg_error_hint("Name the newest migration this database has: "
			      "migdir baseline --to VERSION.");
		return MG_ERROR;
	}
	if ((rc = check_forward(b)) < 0 || (rc = check_rows(b)) < 0)
		return rc;
	plan(b);
	return 0;
}

static void
baseline_release(struct baseline *b)
{
	scratch_close(&b->sc);
	run_release(&b->run);
	state_close(&b->st);
	run_records_free(b->records, b->nrecord);
	free(b->todo);
	free(b->note);
	steps_release(&b->moves);
	buf_release(&b->diff);
	buf_release(&b->where);
}

int
cmd_baseline(struct ctx *ctx, int argc, char **argv)
{
	struct baseline b;
	int rc, report = 0;

	memset(&b, 0, sizeof(b));
	buf_init(&b.diff);
	buf_init(&b.where);
	b.t0 = rp_now_us();
	if ((rc = parse_options(&b, ctx, argc, argv)) < 0 ||
	    (rc = ctx_config(ctx)) < 0 ||
	    (rc = state_open(&b.st, ctx,
		 b.dry_run ? NEED_DB : NEED_DB | NEED_WRITE)) < 0)
		goto out;
	state_db_display(&b.where, &b.st);
	if ((rc = preflight(&b)) < 0)
		goto out;
	if (b.nrecord == 0 && b.moves.n == 0) {
		if (ctx->json)
			report = 1;
		else
			rp_out("Nothing to baseline: %s already records the "
			       "%zu chosen version%s as applied.\n",
			    state_env_label(&b.st), b.nkeep,
			    rp_plural(b.nkeep));
		goto out;
	}
	rp_out("Baseline %s at %s: %zu migration%s, up to %s\n",
	    state_env_label(&b.st), b.where.ptr, b.nchosen,
	    rp_plural(b.nchosen), b.st.e[b.last].version);
	if ((rc = compare(&b)) < 0)
		goto out;
	report = 1;
	show_compared(&b);
	if ((rc = judge(&b)) < 0)
		goto out;
	show_plan(&b);
	if (b.dry_run)
		goto out;
	if ((rc = record(&b)) < 0)
		goto out;
	if (b.recorded)
		rp_out("  recorded %zu version%s as applied in one "
		       "transaction\n",
		    b.nrecord, rp_plural(b.nrecord));
	/* the point of no return: repair finishes the moves from the rows */
	fault_point(FAULT_baseline_after_commit);
	rc = move_and_commit(&b);
out:
	if (rc >= 0 && report && !ctx->json)
		closing_line(&b);
	if (report && ctx->json)
		report_json(&b, rc);
	baseline_release(&b);
	return rc;
}
