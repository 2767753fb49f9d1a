/*
 * plan.h - decide what status reports and what apply/rollback must do.
 *
 * Pure: the folders (scan), the database rows, the files' checksums and
 * what HEAD holds go in; per-migration states and problems, and ordered
 * steps, come out.  No I/O here, so every rule of DESIGN §4 is a unit test.
 *
 * For the tracked environment the folders describe the database:
 *
 *	folder    schema_versions row
 *	pending   none, or is_active = false
 *	applied   is_active = true
 *	archive   is_active = true
 *
 * Anything else is a problem, and some problems are moves that a crash
 * left undone, which apply and repair finish without running SQL.  For any
 * other environment the folders say nothing about the database: a
 * migration is applied there when its row is active.
 */
#ifndef MIGDIR_PLAN_H
#define MIGDIR_PLAN_H

#include <stddef.h>

#include "rows.h"
#include "scan.h"
#include "vcs.h"

enum problem {
	PB_DRIFT = 1 << 0,        /* active row, forward file changed since */
	PB_FINISH_APPLY = 1 << 1, /* in pending/, row active: move not done */
	PB_FINISH_ROLLBACK = 1
	    << 2, /* in applied/, row inactive: move back not done */
	PB_SPLIT_PAIR = 1 << 3, /* forward and rollback in different folders */
	PB_DUPLICATE = 1 << 4,  /* forward file in more than one folder */
	PB_NO_ROW = 1 << 5, /* in applied/ or archive/ without an active row */
	PB_ORPHAN_ROW = 1 << 6,      /* active row, no file */
	PB_NO_ROLLBACK = 1 << 7,     /* no rollback file */
	PB_ORPHAN_ROLLBACK = 1 << 8, /* rollback file without forward */
	PB_OUT_OF_ORDER = 1 << 9, /* pending, older than the newest applied */
	PB_UNCOMMITTED = 1 << 10, /* moved in the working tree, not in HEAD */
	PB_RB_CHANGED = 1 << 11,  /* rollback file changed since apply */
	PB_UNREADABLE = 1 << 12,  /* a file could not be read */
};

/* Problems that stop apply (and rollback) until a human looks. */
#define PB_BLOCKING (PB_DRIFT | PB_DUPLICATE | PB_NO_ROW | PB_UNREADABLE)
/* Problems apply and repair fix by moving files and committing. */
#define PB_FIXABLE                                                             \
	(PB_FINISH_APPLY | PB_FINISH_ROLLBACK | PB_SPLIT_PAIR | PB_UNCOMMITTED)
/* Problems that are only reported. */
#define PB_WARNING                                                             \
	(PB_NO_ROLLBACK | PB_ORPHAN_ROLLBACK | PB_ORPHAN_ROW | PB_RB_CHANGED)

enum mig_state {
	ST_PENDING,  /* not applied to this database */
	ST_APPLIED,  /* applied (active row), file in applied/ */
	ST_ARCHIVED, /* applied, file in archive/ */
	ST_ROW_ONLY, /* an active row without a file */
};

struct entry {
	const char *version;       /* borrowed from the scan or the row */
	const struct migration *m; /* NULL for a row without a file */
	const struct row *row;     /* NULL when the database has none */
	int folder;                /* folder of the forward file, or -1 */
	int rb_folder;             /* folder of the rollback file, or -1 */
	char sum[VCS_ID_HEX + 1]; /* checksum of the forward file, "" if none */
	char rb_sum[VCS_ID_HEX +
	    1];           /* checksum of the rollback file, "" if none */
	unsigned head;    /* folders where HEAD holds the forward file */
	unsigned head_rb; /* same for the rollback file */
	enum mig_state state;
	unsigned problems; /* enum problem */
	const char *
	    newest_applied; /* for PB_OUT_OF_ORDER: the newer applied version */
	const struct failure
	    *failure;    /* its last run failed (status only), or NULL */
	int in_baseline; /* fresh database: consolidated_schema.sql brings
			    it (archived), so it never runs as a file */
	int in_build;    /* in applied/, newer than every applied row, on a
			 database built from the start: still to run */
};

struct plan_ctx {
	int tracked;  /* the environment the folders describe */
	int have_db;  /* rows were read (else: folders only) */
	int have_git; /* head/head_rb are meaningful */
	int fresh;    /* an empty database: no active row, none of the
			 user's objects; apply builds it from the start */
	int baseline; /* consolidated_schema.sql exists: a fresh database
			 starts from it instead of the archived files */
};

/*
 * Build the entries: one per migration of the scan (in run order), then one
 * per active row that has no file.  Checksums and HEAD masks start empty;
 * the caller fills them, then calls plan_analyze.  *out is caller-owned
 * (free()).
 */
void plan_entries(struct entry **out, size_t *n, const struct scan *scan,
    const struct rows *rows);

/* Set state and problems of every entry. */
void plan_analyze(struct entry *e, size_t n, const struct plan_ctx *ctx);

/* One line saying what problem p of e means and what to do ("" if none). */
const char *plan_problem_text(const struct entry *e, enum problem p, char *out,
    size_t size);

/* Short name of a problem for JSON ("drift", "finish-apply" ...). */
const char *plan_problem_name(enum problem p);

/* What apply or rollback is asked to do. */
struct plan_opts {
	const char *to;    /* --to VERSION, or NULL */
	long step;         /* --step N, 0 = no limit (apply) / 1 (rollback) */
	int all;           /* rollback --all */
	int out_of_order;  /* apply: allow PB_OUT_OF_ORDER */
	int allow_changed; /* rollback: allow PB_RB_CHANGED */
};

/* A step: run entry `entry`, or only move its files. */
struct step {
	size_t entry; /* index into the entries */
	int run;      /* 1: run SQL; 0: finish a move only */
	int from, to; /* folders (tracked runs), -1 when nothing moves */
};

struct steps {
	struct step *v;
	size_t n, cap;
	int baseline; /* load consolidated_schema.sql first (fresh database) */
};

/*
 * The steps of an apply, in order: first the moves a crash left undone,
 * then the migrations to run.  On a fresh database: consolidated_schema.sql
 * when there is one (out->baseline), then every migration it does not
 * hold, in any folder; for the tracked environment only the pending ones
 * move.  Returns 0, or MG_ERROR when a problem
 * blocks the run or the options name something impossible (the message
 * says which migration and why; plan_blockers lists every blocker).
 */
int plan_apply(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx, const struct plan_opts *o);

/*
 * The steps of a rollback, most recently applied first (by applied_at,
 * then version).  Refuses archived migrations, missing or changed rollback
 * files (the latter unless allowed) and unfinished moves.
 */
int plan_rollback(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx, const struct plan_opts *o);

/*
 * The steps of a repair: only the moves that a crash left undone and the
 * moves not committed to git, never SQL.  Returns 0.
 */
int plan_repair(struct steps *out, const struct entry *e, size_t n,
    const struct plan_ctx *ctx);

/*
 * Is e a file an interrupted consolidate moved from applied/ to archive/
 * without its commit?  Only consolidate finishes that (its commit holds
 * consolidated_schema.sql too): apply and repair leave it alone.
 */
int plan_consolidating(const struct entry *e);

/* Entries whose problems block apply: count, and indexes into out. */
size_t plan_blockers(const struct entry *e, size_t n, size_t *out);

void steps_release(struct steps *s);

#endif
