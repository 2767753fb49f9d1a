/*
 * cmd_consolidate.c - migdir consolidate: fold applied/ into
 * consolidated_schema.sql and move it to archive/.
 *
 * Check everything, then act:
 *  1. the tracked database and the folders agree (no drift, no move left
 *     half done, no file changed since the commit that applied it);
 *  2. a scratch database replays the old consolidated schema and applied/
 *     through migdir's own executor; pg_dump --schema-only gives the new
 *     file, followed by the rows the migrations inserted (lookup values)
 *     and the schema_versions rows of every archived version;
 *  3. a second scratch database loads the new file the way apply loads it,
 *     and must dump to exactly the same text: else the diff is shown and
 *     nothing changes;
 *  4. the file is replaced at once (written beside it, then renamed), the
 *     pairs move to archive/, and one commit records both (with a tag when
 *     asked).
 * The tracked database is only read: its rows stay active, which is what
 * archive/ means.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "fault.h"
#include "fsutil.h"
#include "report.h"
#include "run.h"
#include "schema.h"
#include "scratch.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_consolidate_usage[] =
    "usage: migdir consolidate [--tag NAME] [--dry-run] [--json]\n"
    "\n"
    "Fold the migrations of applied/ into the consolidated schema and move\n"
    "them to archive/.  A scratch database replays the old consolidated\n"
    "schema and applied/; pg_dump --schema-only of it, the rows the\n"
    "migrations inserted, and the schema_versions rows of every archived\n"
    "version make the new file.  A second scratch database loads the new\n"
    "file and must give exactly the same schema, else the difference is\n"
    "shown and nothing changes.  Then the file is replaced, the pairs move\n"
    "to archive/, and one commit records both.  Refuses when the tracked\n"
    "database shows drift, a move left half done, or an applied file that\n"
    "changed since it was applied.  Scratch databases are made on the\n"
    "tracked server (or scratch_url) and always dropped.\n"
    "\n"
    "  --tag NAME   also make an annotated git tag NAME on the commit\n"
    "  --dry-run    build and prove the new file, change nothing\n";

enum { O_TAG = 1, O_DRY_RUN };

static const struct cmd_opt opts[] = {
    {"tag", 0, 1, O_TAG},
    {"dry-run", 'n', 0, O_DRY_RUN},
    {NULL, 0, 0, 0},
};

struct consolidate {
	struct state st;
	struct scratch sc;
	const char *tag;
	int dry_run;
	size_t *fold; /* entries moving from applied/ to archive/ */
	size_t nfold;
	struct db_table *tables; /* tables with rows after the replay, kept */
	size_t ntables, nleft;   /* kept; not kept (warned about) */
	struct buf head, body, tail; /* the new file: header, dump, records */
	struct scratch_stats replay;
	struct holds holds;  /* what the new file holds */
	int finishing;       /* an interrupted consolidate: only move, commit */
	int file_exists;     /* consolidated_schema.sql is there */
	int file_in_head;    /* HEAD has it (some version) */
	int file_as_in_head; /* ... with these very bytes */
	int file_holds_all;  /* it holds archive/ and applied/ as they are */
	long long replay_us, proof_us;
	char commit[VCS_ID_HEX + 1];
};

/* ------------------------------------------------------------ checks --- */

/*
 * A file on its way from applied/ to archive/: still in applied/, or in
 * archive/ while git still has it in applied/, or its rollback behind.
 */
static int
left_by_consolidate(const struct entry *e)
{
	return e->m && e->m->fwd &&
	    (e->folder == FOLDER_APPLIED || plan_consolidating(e) ||
		(e->folder == FOLDER_ARCHIVE &&
		    e->rb_folder == FOLDER_APPLIED));
}

/*
 * Look once at consolidated_schema.sql: its text, its path in git, whether
 * HEAD has it (and these very bytes), and whether it says it holds what
 * archive/ and applied/ hold now.
 */
static void
look_at_file(struct consolidate *c, struct buf *text, struct buf *repo_path)
{
	struct state *st = &c->st;
	struct holds file, now;
	char head[VCS_ID_HEX + 1], sum[VCS_ID_HEX + 1];
	int git = st->vcs && st->cfg->git != CFG_GIT_OFF;

	if (git && vcs_relpath(st->vcs, repo_path, st->cfg->consolidated) < 0)
		git = 0;
	if (fs_read(text, st->cfg->consolidated) == 0) {
		c->file_exists = 1;
		state_read_holds(text->ptr, text->len, &file);
		state_holds(st, 1u << FOLDER_ARCHIVE | 1u << FOLDER_APPLIED,
		    &now);
		c->file_holds_all = file.found && file.n == now.n &&
		    !strcmp(file.digest, now.digest);
		if (git && vcs_head_blob(st->vcs, repo_path->ptr, head) == 0) {
			c->file_in_head = 1;
			c->file_as_in_head =
			    vcs_blob_id(sum, text->ptr, text->len) == 0 &&
			    !strcmp(head, sum);
		}
	}
	mg_error_clear();
}

/* The folders and the tracked database agree, and git too. */
static int
check_consistent(struct consolidate *c)
{
	const struct state *st = &c->st;
	const unsigned refuse = PB_BLOCKING | PB_FIXABLE | PB_ORPHAN_ROW;
	size_t i;

	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		unsigned b = e->problems & refuse;
		char why[256];

		/* what an interrupted consolidate left, which this run ends */
		if (c->finishing && left_by_consolidate(e))
			b &= ~(PB_UNCOMMITTED | PB_SPLIT_PAIR);
		if (!b)
			continue;
		mg_error_set(MG_EDRIFT, "%s %s", e->version,
		    plan_problem_text(e, (enum problem)(b & (~b + 1)), why,
			sizeof(why)));
		mg_error_hint("consolidate needs the folders and the tracked "
			      "database to agree: see migdir status (migdir "
			      "repair finishes moves). Nothing was changed.");
		return MG_EDRIFT;
	}
	return 0;
}

/* An applied file that differs from what the commit that applied it had. */
static int
check_unchanged(struct consolidate *c)
{
	struct state *st = &c->st;
	struct vcs_arrival *arr = NULL;
	struct buf dir = BUF_INIT, name = BUF_INIT;
	size_t narr = 0, i, k;
	int error = 0, kind;

	if (!st->vcs)
		return 0;
	buf_printf(&dir, "%s%s", st->repo_prefix ? st->repo_prefix : "",
	    folder_name[FOLDER_APPLIED]);
	if ((error = vcs_arrivals(st->vcs, dir.ptr, NULL, &arr, &narr)) < 0)
		goto out;
	for (i = 0; i < c->nfold && !error; i++) {
		const struct entry *e = &st->e[c->fold[i]];

		for (kind = 0; kind < 2 && !error; kind++) {
			const char *sum = kind ? e->rb_sum : e->sum;

			if (!*sum)
				continue;
			buf_reset(&name);
			name_file(&name, e->version,
			    kind ? NAME_ROLLBACK : NAME_FORWARD);
			for (k = 0; k < narr; k++) {
				if (strcmp(arr[k].name, name.ptr) ||
				    !strcmp(arr[k].blob, sum))
					continue;
				error = mg_error_set(MG_EDRIFT,
				    "applied/%s changed since commit %.12s "
				    "applied it",
				    name.ptr, arr[k].commit);
				mg_error_hint(
				    "An archived file must be what ran. Put "
				    "back what was applied (git show "
				    "%.12s:%s/%s), or add a new migration for "
				    "the change. Nothing was changed.",
				    arr[k].commit, dir.ptr, name.ptr);
				break;
			}
		}
	}
out:
	vcs_arrivals_release(arr, narr);
	buf_release(&dir);
	buf_release(&name);
	return error;
}

/* The consolidated file has no edits git does not have. */
static int
check_file_committed(struct consolidate *c)
{
	struct state *st = &c->st;
	int error = 0;

	if (!st->vcs || st->cfg->git == CFG_GIT_OFF || !c->file_exists ||
	    c->file_as_in_head)
		return 0;
	if (!c->file_in_head)
		error = mg_error_set(MG_ERROR,
		    "%s is not committed to git: consolidate would replace "
		    "it",
		    st->cfg->consolidated);
	else
		error = mg_error_set(MG_ERROR,
		    "%s has changes git does not have: consolidate would "
		    "replace them",
		    st->cfg->consolidated);
	mg_error_hint("Commit or undo them first. Nothing was changed.");
	return error;
}

/* ------------------------------------------------------------- build --- */

static void
write_head(struct consolidate *c)
{
	const struct state *st = &c->st;
	size_t i, n = 0;
	const char *last = NULL;

	for (i = 0; i < st->n; i++)
		if (st->e[i].m &&
		    (st->e[i].folder == FOLDER_ARCHIVE ||
			st->e[i].folder == FOLDER_APPLIED)) {
			n++;
			last = st->e[i].version;
		}
	buf_printf(&c->head,
	    "--\n"
	    "-- %s: the schema after every migration in archive/\n"
	    "-- (%zu, the last %s), written by migdir consolidate.\n"
	    "-- Load it into an empty database only: migdir apply does so "
	    "before\n"
	    "-- the migrations that are not archived; psql -f works too.\n",
	    st->cfg->consolidated, n, last ? last : "none");
	/* what it holds, for every later load to check against archive/ */
	state_holds(st, 1u << FOLDER_ARCHIVE | 1u << FOLDER_APPLIED, &c->holds);
	state_holds_line(&c->head, &c->holds);
	buf_puts(&c->head, "--\n\n");
	/* migdir's schema, which pg_dump's text leaves out, first */
	if (strcmp(st->cfg->schema, "public")) {
		buf_puts(&c->head, "CREATE SCHEMA IF NOT EXISTS ");
		buf_put_ident(&c->head, st->cfg->schema);
		buf_puts(&c->head, ";\n\n");
	}
}

/* The schema_versions rows of every archived version, for any loader. */
static void
write_tail(struct consolidate *c)
{
	const struct state *st = &c->st;
	const char *schema = st->cfg->schema, *table = st->cfg->table;
	size_t i, n = 0;

	buf_puts(&c->tail,
	    "--\n"
	    "-- The archived versions, recorded as applied when this file is "
	    "loaded.\n"
	    "--\n\n");
	buf_puts(&c->tail, "CREATE TABLE IF NOT EXISTS ");
	buf_put_ident(&c->tail, schema);
	buf_putc(&c->tail, '.');
	buf_put_ident(&c->tail, table);
	buf_puts(&c->tail,
	    " (\n"
	    "    id SERIAL PRIMARY KEY,\n"
	    "    version TEXT NOT NULL UNIQUE,\n"
	    "    applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),\n"
	    "    description TEXT,\n"
	    "    is_active BOOLEAN DEFAULT TRUE,\n"
	    "    rolled_back_at TIMESTAMP WITH TIME ZONE\n"
	    ");\n\n"
	    "INSERT INTO ");
	buf_put_ident(&c->tail, schema);
	buf_putc(&c->tail, '.');
	buf_put_ident(&c->tail, table);
	buf_puts(&c->tail, " (version, description) VALUES\n");
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		char *d;

		if (!e->m ||
		    (e->folder != FOLDER_ARCHIVE &&
			e->folder != FOLDER_APPLIED))
			continue;
		/* names are [a-z0-9_]: nothing to quote */
		d = run_description(e->version);
		buf_printf(&c->tail, "%s    ('%s', '%s')", n++ ? ",\n" : "",
		    e->version, d);
		free(d);
	}
	buf_puts(&c->tail, "\nON CONFLICT (version) DO NOTHING;\n");
}

/* The schema and rows of scratch database name. */
static int
dump_body(struct consolidate *c, const char *name, struct buf *out)
{
	int error;

	if ((error = scratch_dump(&c->sc, name, out)) < 0)
		return error;
	if (c->ntables)
		buf_puts(out, "\n");
	return schema_dump_rows(out, c->sc.conninfo, name, c->tables,
	    c->ntables);
}

/* Is table t named in keep_rows ("schema.table", or "table" in public)? */
static int
kept(const char *list, const struct db_table *t)
{
	char *copy = xstrdup(list ? list : ""), *tok, *save = NULL;
	int found = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok && !found;
	     tok = strtok_r(NULL, ", \t", &save)) {
		const char *dot = strchr(tok, '.');

		if (dot)
			found = (size_t)(dot - tok) == strlen(t->schema) &&
			    !strncmp(tok, t->schema, (size_t)(dot - tok)) &&
			    !strcmp(dot + 1, t->name);
		else
			found = !strcmp(t->schema, "public") &&
			    !strcmp(tok, t->name);
	}
	free(copy);
	return found;
}

/*
 * Keep the rows of the tables keep_rows names; say which tables hold rows
 * that the new file will not have (a new environment starts without them).
 */
static void
keep_rows(struct consolidate *c)
{
	struct buf left = BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < c->ntables; i++) {
		if (kept(c->st.cfg->keep_rows, &c->tables[i])) {
			c->tables[n++] = c->tables[i];
			continue;
		}
		buf_printf(&left, "%s%s.%s", left.len ? ", " : "",
		    c->tables[i].schema, c->tables[i].name);
		free(c->tables[i].schema);
		free(c->tables[i].name);
	}
	if (left.len) {
		rp_warning("the migrations insert rows in %s: %s keeps the "
			   "schema only, so a new environment starts without "
			   "them",
		    left.ptr, c->st.cfg->consolidated);
		rp_hint("Name the tables in keep_rows in migdir.ini to keep "
			"their rows (lookup values), or load them in a "
			"migration that is not archived.");
		c->nleft = c->ntables - n;
	}
	c->ntables = n;
	buf_release(&left);
}

/* Replay the old baseline and applied/ on a scratch database; dump it. */
static int
build(struct consolidate *c)
{
	const char *name;
	struct db *db = NULL;
	long long t0 = rp_now_us();
	int error;

	if ((error = scratch_create(&c->sc, NULL, &name)) < 0 ||
	    (error = scratch_connect(&c->sc, name, &db)) < 0)
		goto out;
	if ((error = scratch_replay(db, &c->st, scratch_want_applied, NULL,
		 &c->replay)) < 0) {
		if (error == MG_ESQL)
			mg_error_hint("The tracked state does not replay on an "
				      "empty database: fix the file, or "
				      "restore what was applied. Nothing was "
				      "changed.");
		else if (error == MG_ECANCEL)
			mg_error_hint("Nothing was changed.");
		goto out;
	}
	if ((error = db_tables_with_rows(db, &c->tables, &c->ntables)) < 0)
		goto out;
	keep_rows(c);
	db_close(db);
	db = NULL;
	error = dump_body(c, name, &c->body);
	c->replay_us = rp_now_us() - t0;
out:
	db_close(db);
	return error;
}

/* Load the new file into another scratch database: the same text back? */
static int
prove(struct consolidate *c, const char *text, size_t len)
{
	struct run_file f = {0};
	struct db_unit u = {0};
	struct db_record *rec;
	struct buf again = BUF_INIT, diff = BUF_INIT;
	const char *name;
	struct db *db = NULL;
	long long t0 = rp_now_us();
	size_t nrec;
	int error;

	rec = run_records(&c->st, 1u << FOLDER_ARCHIVE | 1u << FOLDER_APPLIED,
	    &nrec);
	buf_put(&f.text, text, len);
	if ((error = run_file_parse(&f, &u, c->st.cfg->consolidated,
		 c->st.cfg->consolidated, DB_BASELINE, 0)) < 0)
		goto out;
	u.records = rec;
	u.nrecords = nrec;
	if ((error = scratch_create(&c->sc, NULL, &name)) < 0 ||
	    (error = scratch_connect(&c->sc, name, &db)) < 0)
		goto out;
	if ((error = db_run(db, &u, 1, NULL, NULL)) < 0) {
		if (u.failed)
			run_file_error(&f, &u, NULL, NULL);
		mg_error_prefix("the new %s does not load",
		    c->st.cfg->consolidated);
		mg_error_hint("Nothing was changed: pg_dump wrote something "
			      "that does not load back as it is (the error "
			      "says what); please report it.");
		goto out;
	}
	db_close(db);
	db = NULL;
	if ((error = dump_body(c, name, &again)) < 0)
		goto out;
	c->proof_us = rp_now_us() - t0;
	if (again.len != c->body.len ||
	    memcmp(again.ptr, c->body.ptr, again.len)) {
		schema_diff(&diff, c->body.ptr, "replay", again.ptr, "loaded");
		error = mg_error_set(MG_ERROR,
		    "the new %s does not give the schema of the replay",
		    c->st.cfg->consolidated);
		mg_error_detail("%s", diff.ptr);
		mg_error_hint("Nothing was changed. pg_dump could not write "
			      "something the replay made in a form that "
			      "loads back the same (the diff says what).");
	}
out:
	db_close(db);
	run_file_release(&f);
	db_failure_release(&u.fail);
	run_records_free(rec, nrec);
	buf_release(&again);
	buf_release(&diff);
	return error;
}

/* -------------------------------------------------------------- act --- */

static int
move_and_commit(struct consolidate *c, const char *text, size_t len,
    const char *file_repo_path)
{
	struct state *st = &c->st;
	struct vcs_move *moves = xcalloc(2 * c->nfold + 1, sizeof(*moves));
	char **paths = xcalloc(4 * c->nfold + 1, sizeof(*paths));
	struct buf from = BUF_INIT, to = BUF_INIT, msg = BUF_INIT;
	size_t i, nm = 0, np = 0;
	int error = 0, kind;

	if (!c->finishing &&
	    (error = fs_replace(st->cfg->consolidated, text, len)) < 0)
		goto out;
	fault_point(FAULT_consolidate_after_write);
	for (i = 0; i < c->nfold; i++) {
		const struct entry *e = &st->e[c->fold[i]];

		for (kind = 0; kind < 2; kind++) {
			enum name_kind k = kind ? NAME_ROLLBACK : NAME_FORWARD;
			int at = kind ? e->rb_folder : e->folder;
			unsigned head = kind ? e->head_rb : e->head;

			if (at != FOLDER_APPLIED && at != FOLDER_ARCHIVE)
				continue;
			buf_reset(&from);
			buf_reset(&to);
			state_path(&from, st, e->version, FOLDER_APPLIED, k);
			state_path(&to, st, e->version, FOLDER_ARCHIVE, k);
			if (at == FOLDER_APPLIED &&
			    (error = fs_move(from.ptr, to.ptr)) < 0) {
				mg_error_hint("%s is written and some files "
					      "moved: run migdir consolidate "
					      "again to finish.",
				    st->cfg->consolidated);
				goto out;
			}
			fault_point(FAULT_consolidate_between_moves);
			/* git: only what it still has in applied/ moves */
			if (head & (1u << FOLDER_ARCHIVE))
				continue;
			buf_reset(&from);
			buf_reset(&to);
			state_repo_path(&from, st, e->version, FOLDER_APPLIED,
			    k);
			state_repo_path(&to, st, e->version, FOLDER_ARCHIVE, k);
			paths[np] = buf_detach(&from);
			paths[np + 1] = buf_detach(&to);
			moves[nm].from =
			    head & (1u << FOLDER_APPLIED) ? paths[np] : NULL;
			moves[nm].to = paths[np + 1];
			moves[nm].blob = kind ? e->rb_sum : e->sum;
			np += 2;
			nm++;
		}
	}
	{
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/%s", st->dir,
		    folder_name[FOLDER_ARCHIVE]);
		fs_sync_dir(dir);
		snprintf(dir, sizeof(dir), "%s/%s", st->dir,
		    folder_name[FOLDER_APPLIED]);
		fs_sync_dir(dir);
	}
	if (!st->vcs || st->cfg->git == CFG_GIT_OFF)
		goto out;
	moves[nm].from = NULL;
	moves[nm].to = file_repo_path;
	moves[nm].blob = NULL;
	nm++;
	buf_printf(&msg, "consolidate %zu migration%s into %s\n\n", c->nfold,
	    rp_plural(c->nfold), st->cfg->consolidated);
	buf_printf(&msg,
	    "Folded into %s and moved to archive/ by %s; loading the\n"
	    "new file was proved to give the schema of their replay%s:\n",
	    st->cfg->consolidated, st->who,
	    c->finishing ? " (a run\nthat was interrupted, finished)" : "");
	for (i = 0; i < c->nfold; i++)
		buf_printf(&msg, "  %s\n", st->e[c->fold[i]].version);
	buf_puts(&msg, "\nMigdir-Action: consolidate\n");
	for (i = 0; i < c->nfold; i++)
		buf_printf(&msg, "Migdir-Version: %s\n",
		    st->e[c->fold[i]].version);
	buf_printf(&msg, "Migdir-Environment: %s\n", st->env->name);
	if (st->db)
		buf_printf(&msg, "Migdir-Database: %s\n", db_location(st->db));
	if ((error = vcs_record_moves(st->vcs, moves, nm, msg.ptr,
		 st->cfg->git == CFG_GIT_COMMIT, c->commit)) < 0) {
		mg_error_hint("The files are written and moved; commit them "
			      "with migdir repair or git commit.");
		goto out;
	}
	if (c->tag && c->commit[0]) {
		fault_point(FAULT_consolidate_before_tag);
		buf_reset(&msg);
		buf_printf(&msg, "consolidated_schema after %s\n",
		    st->e[c->fold[c->nfold - 1]].version);
		error = vcs_tag(st->vcs, c->tag, c->commit, msg.ptr);
	}
out:
	for (i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	free(moves);
	buf_release(&from);
	buf_release(&to);
	buf_release(&msg);
	return error;
}

static size_t
count_lines(const char *s, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static void
report(struct consolidate *c, const char *text, size_t len, struct ctx *ctx)
{
	const struct state *st = &c->st;
	char d1[32], d2[32];
	size_t i;

	if (ctx->json) {
		json_t *o = json_object(), *a = json_array(), *t = json_array();

		for (i = 0; i < c->nfold; i++)
			json_array_append_new(a,
			    json_string(st->e[c->fold[i]].version));
		for (i = 0; i < c->ntables; i++)
			json_array_append_new(t,
			    json_sprintf("%s.%s", c->tables[i].schema,
				c->tables[i].name));
		json_object_set_new(o, "file",
		    json_string(st->cfg->consolidated));
		json_object_set_new(o, "dry_run", json_boolean(c->dry_run));
		json_object_set_new(o, "archived", a);
		json_object_set_new(o, "tables_with_rows", t);
		json_object_set_new(o, "bytes", json_integer((json_int_t)len));
		json_object_set_new(o, "lines",
		    json_integer((json_int_t)count_lines(text, len)));
		json_object_set_new(o, "replay_ms",
		    json_integer(c->replay_us / 1000));
		json_object_set_new(o, "proof_ms",
		    json_integer(c->proof_us / 1000));
		json_object_set_new(o, "commit",
		    c->commit[0] ? json_string(c->commit) : json_null());
		json_object_set_new(o, "tag",
		    c->tag && c->commit[0] ? json_string(c->tag) : json_null());
		rp_json(o);
		return;
	}
	rp_out("  replayed %s%s%zu migration%s of applied/ on a scratch "
	       "database  %s\n",
	    c->replay.baseline ? st->cfg->consolidated : "",
	    c->replay.baseline ? " and " : "", c->nfold, rp_plural(c->nfold),
	    rp_duration(d1, c->replay_us));
	rp_out("  proved: %s loads into an empty database with the same "
	       "schema  %s\n",
	    c->dry_run ? "the new file" : st->cfg->consolidated,
	    rp_duration(d2, c->proof_us));
	if (c->ntables) {
		struct buf names = BUF_INIT;

		for (i = 0; i < c->ntables; i++)
			buf_printf(&names, "%s%s.%s", i ? ", " : "",
			    c->tables[i].schema, c->tables[i].name);
		rp_out("  kept the rows the migrations inserted in %s\n",
		    names.ptr);
		buf_release(&names);
	}
	if (c->dry_run) {
		rp_out("Dry run: %s would be %zu lines; nothing was changed.\n",
		    st->cfg->consolidated, count_lines(text, len));
		return;
	}
	rp_out("Consolidated %zu migration%s into %s (%zu lines) and moved "
	       "them to archive/",
	    c->nfold, rp_plural(c->nfold), st->cfg->consolidated,
	    count_lines(text, len));
	if (c->commit[0])
		rp_out("; committed %.12s%s%s", c->commit,
		    c->tag ? ", tagged " : "", c->tag ? c->tag : "");
	rp_out(".\n");
}

static void
consolidate_release(struct consolidate *c)
{
	scratch_close(&c->sc);
	state_close(&c->st);
	free(c->fold);
	db_tables_release(c->tables, c->ntables);
	buf_release(&c->head);
	buf_release(&c->body);
	buf_release(&c->tail);
}

/*
 * consolidate --tag with nothing left to fold: a run killed between its
 * commit and its tag is finished by tagging that commit while it is still
 * HEAD.  Anything else is refused, so that a release tag never lands on a
 * commit that is not a consolidate.
 */
static int
tag_last(struct consolidate *c, int json)
{
	struct vcs_change head;
	struct buf msg = BUF_INIT;
	const char *last = NULL;
	size_t i, tags = 0;
	int rc;

	if ((rc = vcs_head_commit(c->st.vcs, &head)) < 0)
		return rc;
	for (i = 0; i < c->st.n; i++)
		if (c->st.e[i].folder == FOLDER_ARCHIVE)
			last = c->st.e[i].version;
	if (head.id[0] && (rc = vcs_tags_on(c->st.vcs, head.id, &tags)) < 0)
		goto out;
	if (tags) {
		rc = mg_error_set(MG_ERROR,
		    "nothing to consolidate, and HEAD (%.12s) is tagged "
		    "already",
		    head.id);
		mg_error_hint("A release has one tag; to name it again, tag it "
			      "by hand: git tag -a %s %.12s.",
		    c->tag, head.id);
		goto out;
	}
	if (!head.id[0] || !last || strncmp(head.summary, "consolidate ", 12)) {
		rc = mg_error_set(MG_ERROR,
		    "nothing to consolidate, and HEAD is not a consolidate "
		    "commit to tag as %s",
		    c->tag);
		mg_error_hint("applied/ is empty. To tag an earlier release, "
			      "tag its consolidate commit by hand: git tag -a "
			      "%s COMMIT.",
		    c->tag);
		goto out;
	}
	buf_printf(&msg, "consolidated_schema after %s\n", last);
	if ((rc = vcs_tag(c->st.vcs, c->tag, head.id, msg.ptr)) < 0)
		goto out;
	if (json)
		rp_json(json_pack("{s:s, s:[], s:s, s:s}", "file",
		    c->st.cfg->consolidated, "archived", "tag", c->tag,
		    "commit", head.id));
	else
		rp_out("Nothing to consolidate; tagged %s on %.12s (%s), the "
		       "last consolidate, which was not tagged yet.\n",
		    c->tag, head.id, head.summary);
out:
	vcs_change_release(&head);
	buf_release(&msg);
	return rc;
}

int
cmd_consolidate(struct ctx *ctx, int argc, char **argv)
{
	struct consolidate c;
	struct buf text = BUF_INIT, repo_path = BUF_INIT;
	const char *arg;
	size_t i;
	int id, next = 0, rc;

	memset(&c, 0, sizeof(c));
	while ((id = cmd_options(ctx, cmd_lookup("consolidate"), argc, argv,
		    opts, &arg, &next)) > 0) {
		if (id == O_TAG)
			c.tag = arg;
		else
			c.dry_run = 1;
	}
	if (id < 0)
		return id;
	if (next < argc)
		return cmd_usage_error("consolidate", "unexpected argument %s",
		    argv[next]);
	if ((rc = ctx_config(ctx)) < 0 ||
	    (rc = state_open(&c.st, ctx,
		 c.dry_run ? NEED_DB : NEED_DB | NEED_WRITE)) < 0)
		goto out;
	if (!c.st.tracked) {
		rc = mg_error_set(MG_EUSAGE,
		    "consolidate works on the tracked environment (%s), not "
		    "%s",
		    c.st.cfg->tracked, c.st.env->name);
		goto out;
	}
	look_at_file(&c, &text, &repo_path);
	/*
	 * A consolidate interrupted after it wrote the file (proved before
	 * it was written): git does not have it yet, and it holds archive/
	 * and applied/ as they are now.  This run only finishes the moves
	 * and the commit.
	 */
	c.finishing = !c.dry_run && c.file_exists && c.file_holds_all &&
	    !c.file_as_in_head;
	c.fold = xcalloc(c.st.n + 1, sizeof(*c.fold));
	for (i = 0; i < c.st.n; i++)
		if (c.finishing
			? left_by_consolidate(&c.st.e[i])
			: c.st.e[i].m && c.st.e[i].folder == FOLDER_APPLIED)
			c.fold[c.nfold++] = i;
	if (c.finishing && c.nfold == 0) {
		/* written and moved, nothing left in between (git = off) */
		c.finishing = 0;
	}
	if (c.st.pctx.fresh) {
		/* nothing says applied/ ran here: nothing to fold */
		rc = mg_error_set(MG_EDRIFT,
		    "the tracked database %s is empty: applied/ says what it "
		    "ran, and it ran nothing",
		    db_display(c.st.db));
		mg_error_hint("Check that this is the tracked database "
			      "(--database-url, migdir.ini); a new one is "
			      "built with migdir apply. Nothing was changed.");
		goto out;
	}
	if ((rc = check_consistent(&c)) < 0 || (rc = check_unchanged(&c)) < 0)
		goto out;
	if (c.finishing) {
		state_read_holds(text.ptr, text.len, &c.holds);
		rp_out("Finishing an interrupted consolidate: %s holds %zu "
		       "archived versions, the last %s\n",
		    c.st.cfg->consolidated, c.holds.n, c.holds.last);
		if ((rc = move_and_commit(&c, text.ptr, text.len,
			 repo_path.ptr)) < 0)
			goto out;
		rp_out("Moved %zu migration%s to archive/; committed %.12s.\n",
		    c.nfold, rp_plural(c.nfold),
		    c.commit[0] ? c.commit : "nothing");
		goto out;
	}
	buf_reset(&text);
	if ((rc = check_file_committed(&c)) < 0)
		goto out;
	if (c.tag && !c.dry_run) {
		if (!c.st.vcs || c.st.cfg->git != CFG_GIT_COMMIT) {
			rc = mg_error_set(MG_EUSAGE,
			    "--tag needs git = commit in migdir.ini");
			goto out;
		}
		if ((rc = vcs_tag_check(c.st.vcs, c.tag)) < 0)
			goto out;
	}
	if (c.nfold == 0 && c.tag && !c.dry_run) {
		rc = tag_last(&c, ctx->json);
		goto out;
	}
	if (c.nfold == 0) {
		if (ctx->json)
			rp_json(json_pack("{s:s, s:[]}", "file",
			    c.st.cfg->consolidated, "archived"));
		else
			rp_out("Nothing to consolidate: applied/ is empty.\n");
		goto out;
	}
	if (!ctx->json)
		rp_out("Consolidating %zu migration%s of applied/ into %s\n",
		    c.nfold, rp_plural(c.nfold), c.st.cfg->consolidated);
	if ((rc = scratch_open(&c.sc, &c.st)) < 0 || (rc = build(&c)) < 0)
		goto out;
	write_head(&c);
	write_tail(&c);
	buf_put(&text, c.head.ptr, c.head.len);
	buf_put(&text, c.body.ptr, c.body.len);
	buf_puts(&text, "\n");
	buf_put(&text, c.tail.ptr, c.tail.len);
	if ((rc = prove(&c, text.ptr, text.len)) < 0)
		goto out;
	scratch_close(&c.sc);
	if (!c.dry_run &&
	    (rc = move_and_commit(&c, text.ptr, text.len, repo_path.ptr)) < 0)
		goto out;
	report(&c, text.ptr, text.len, ctx);
out:
	consolidate_release(&c);
	buf_release(&text);
	buf_release(&repo_path);
	return rc;
}
