/*
 * run.h - carry out plan steps: SQL through db.c, moves, one git commit.
 *
 * run_prepare reads and parses every file a run needs before anything
 * happens, so that a syntax error in the fifth migration stops the run
 * before the first one starts.  run_execute then finishes the moves an
 * earlier crash left undone, runs the migrations (each commit followed at
 * once by its renames), fsyncs the folders, and makes one git commit with
 * trailers for the whole run, even when it stopped at a failure.
 */
#ifndef MIGDIR_RUN_H
#define MIGDIR_RUN_H

#include <stddef.h>

#include "db.h"
#include "plan.h"
#include "risk.h"
#include "sql.h"
#include "state.h"

enum run_kind {
	RUN_APPLY,
	RUN_ROLLBACK,
	RUN_REPAIR,
	RUN_BASELINE, /* moves only: versions baseline recorded, to applied/ */
};

/* A migration file read, hashed and split, ready for db_run. */
struct run_file {
	struct buf text;           /* the file */
	struct sql_script *script; /* its statements */
	char **stmts;              /* statement copies handed to db_run */
	char sum[VCS_ID_HEX + 1];  /* checksum of text */
	char *description;         /* for a new row */
};

/*
 * Read, hash and split the file at path and point u at it, to run as
 * action for version.  A parse error is fatal unless the server (its
 * version number, 0 when unknown) is newer than PostgreSQL 15's grammar:
 * then the server judges each statement.  Returns 0, or an error with the
 * file's line and column.
 */
int run_file_load(struct run_file *f, struct db_unit *u, const char *path,
    const char *version, enum db_action action, int server_version);

/*
 * Make u's failure the last error: the server's message at the file's
 * line and column, SQLSTATE, detail and hint.  location receives
 * "file:line:col" and statement the failing statement (each may be NULL).
 */
void run_file_error(const struct run_file *file, const struct db_unit *u,
    struct buf *location, struct buf *statement);

/* The same for text already in f->text, called path in messages. */
int run_file_parse(struct run_file *f, struct db_unit *u, const char *path,
    const char *version, enum db_action action, int server_version);

/* Free what run_file_load made; safe on a zeroed struct. */
void run_file_release(struct run_file *f);

/* What happened to one step (also what `plan` shows). */
struct run_item {
	const struct step *step;
	const struct entry *e;
	struct run_file file; /* the file that runs (script NULL: moves only) */
	int moved;            /* its files were moved */
	long long usec;
	struct db_unit *unit; /* NULL for moves only */
};

struct run {
	struct state *st;
	enum run_kind kind;
	int refused;            /* stopped before anything ran or moved */
	struct run_item *items; /* one per step */
	size_t n;
	struct db_unit *units;  /* one per step that runs SQL */
	size_t *owner;          /* the item (index) of each unit */
	size_t nrun, ndone;     /* steps that run SQL; of those, done */
	struct vcs_move *moves; /* for the commit (strings owned) */
	size_t nmoves, moves_cap;
	int width;                   /* version column width */
	char *location;              /* host:port/dbname, kept for the commit */
	char commit[VCS_ID_HEX + 1]; /* the commit made, "" if none */
	int staged;                  /* moves staged (git = stage) */
	int failed_item;             /* index of the failed step, -1 */
	struct risk *risk; /* classes per entry (risk.h), for the progress
			      lines: set by the caller, freed here; or NULL */
	/* a fresh database: consolidated_schema.sql, loaded first */
	int has_base;
	struct run_file base;
	struct db_unit base_unit; /* DB_BASELINE, records the archive */
	struct db_record *base_records;
	size_t nbase;
	const char *note; /* a paragraph for the commit message (borrowed),
			      or NULL */
};

/*
 * Read, hash and parse the files of every step (and consolidated_schema.sql
 * when steps->baseline).  Returns 0, or an error with its file:line:col
 * (nothing has run).
 */
int run_prepare(struct run *r, struct state *st, const struct steps *steps,
    enum run_kind kind);

/*
 * Do it.  Returns 0; MG_ESQL when a migration failed (already reported
 * with file:line:col, recorded in the history; everything before it is
 * committed, moved and in git); MG_ECANCEL; or MG_ERROR.
 */
int run_execute(struct run *r);

/* Free everything; safe on a zeroed struct. */
void run_release(struct run *r);

/* Did the item's SQL commit? */
int run_item_done(const struct run_item *it);

/* "apply", "rollback", "repair" or "baseline". */
const char *run_verb(enum run_kind k);

/* Steps that only moved files (finishing an interrupted run). */
size_t run_moved_only(const struct run *r);

/* Fill a record of e (what a DB_BASELINE unit records; description allocated). */
void run_record(struct db_record *out, const struct entry *e);

/*
 * The records of the migrations whose forward file is in a folder of mask
 * (1 << FOLDER_x), in order; *n their count.  Free with run_records_free.
 */
struct db_record *run_records(const struct state *st, unsigned mask, size_t *n);

void run_records_free(struct db_record *r, size_t n);

/* "Add email templates" from "20230601_add_email_templates" (caller frees). */
char *run_description(const char *version);

/* "statement 1" or "statements 1-n", for what a non-atomic file left done. */
void statement_range(char *out, size_t size, size_t n);

#endif
