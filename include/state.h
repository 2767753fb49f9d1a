/*
 * state.h - everything a command knows about the project, gathered once.
 *
 * state_open reads migdir.ini's choices, scans the folders, hashes every
 * file, asks git where HEAD keeps each file, connects to the environment's
 * database (taking the locks when the command writes), reads its rows and
 * runs plan_analyze.  Commands then print the entries or plan steps from
 * them.  The order is "check everything, then act": nothing here writes,
 * except the bookkeeping tables that a writing command needs.
 */
#ifndef MIGDIR_STATE_H
#define MIGDIR_STATE_H

#include <stddef.h>

#include "cmd.h"
#include "db.h"
#include "fsutil.h"
#include "plan.h"
#include "rows.h"
#include "scan.h"
#include "vcs.h"

/* The lock file writers hold, in the migrations directory (git ignores it). */
#define STATE_LOCK_FILE ".migdir.lock"

enum state_need {
	NEED_DB = 1 << 0,      /* connect and read the rows */
	NEED_LOCK = 1 << 1,    /* the lock file and the advisory lock */
	NEED_GIT = 1 << 2,     /* git ready to record moves (tracked only) */
	NEED_ENSURE = 1 << 3,  /* create or complete the bookkeeping tables */
	NEED_HISTORY = 1 << 4, /* the last failed run of each version */
	/* the connection string in st->conninfo, not connected: for
	   commands that only make scratch databases on its server */
	NEED_CONNINFO = 1 << 5,
	NEED_WRITE = NEED_LOCK | NEED_GIT, /* a command that moves files */
};

struct state {
	struct ctx *ctx;
	const struct config *cfg;
	const struct env *env; /* the selected environment */
	int tracked;           /* it is the tracked one */
	const char *dir;       /* migrations directory (project-relative) */
	struct scan scan;
	struct rows rows;
	struct failures failures; /* NEED_HISTORY */
	struct entry *e;          /* plan entries (scan order, then rows) */
	size_t n;
	struct plan_ctx pctx;
	struct vcs *vcs; /* NULL when git is off or absent */
	char *repo_prefix; /* migrations dir relative to the work tree, with '/' */
	char *conninfo;    /* connection string used */
	const char *conn_source; /* where it came from */
	struct db *db;           /* NULL unless connected */
	struct db_probe probe;
	struct buf ensured;   /* what db_ensure created */
	struct fs_lock *lock; /* lock file, for writers */
	char *who;            /* "user@host" */
	int lock_waited;      /* another session held the advisory lock first:
			    the rows may hold what another clone did */
};

/* Gather the state for a command; on failure everything is released. */
int state_open(struct state *st, struct ctx *ctx, unsigned need);

/* Release everything (locks included); safe on a zeroed struct. */
void state_close(struct state *st);

/*
 * The environment name (-e) selects in cfg, or the tracked one when name
 * is NULL; MG_EUSAGE, with the names there are, for an unknown name.
 */
int state_find_env(const struct env **out, const struct config *cfg,
    const char *name);

/*
 * Create the bookkeeping tables, or complete a hand-kept one (NEED_ENSURE
 * does it in state_open); what was done is appended to st->ensured.
 */
int state_ensure(struct state *st);

/*
 * Who made the last successful run of action ("apply", "rollback") of
 * version and when, from the run history (*by NULL when it has none;
 * caller frees).
 */
int state_last_run(const struct state *st, const char *version,
    const char *action, char **by, long long *at);

/* Disconnect (releasing the advisory lock) but keep the rest. */
void state_disconnect(struct state *st);

/*
 * Append the path of an entry's forward or rollback file in folder to out
 * (project-relative).
 */
void state_path(struct buf *out, const struct state *st, const char *version,
    int folder, enum name_kind kind);

/* Same, relative to the git work tree (for commits). */
void state_repo_path(struct buf *out, const struct state *st,
    const char *version, int folder, enum name_kind kind);

/*
 * What a consolidated schema holds: the archived versions, counted, the
 * last, and a digest of the list (the git blob id of the versions, one
 * per line).  consolidate writes it as the file's line
 * "-- migdir-archive: N versions, the last V, digest D".
 */
struct holds {
	int found; /* the file has the line (a file written by hand may not) */
	size_t n;
	char last[256];
	char digest[VCS_ID_HEX + 1];
};

/* The holds of the entries in the folders of mask (1 << FOLDER_x). */
void state_holds(const struct state *st, unsigned mask, struct holds *out);

/* Read the holds line of a consolidated schema (found = 0 without one). */
void state_read_holds(const char *text, size_t len, struct holds *out);

/* The line for h, with its newline, appended to out. */
void state_holds_line(struct buf *out, const struct holds *h);

/*
 * Does consolidated_schema.sql (its text) hold what archive/ holds?  0
 * when it does or cannot say (no holds line); MG_EDRIFT, saying both,
 * when an interrupted consolidate (or a hand edit) left them apart.
 */
int state_check_baseline(const struct state *st, const char *text, size_t len);

/* The same for the file on disk (0 when there is none). */
int state_check_baseline_file(const struct state *st);

/* "production (tracked)" style label of the environment (static buffer). */
const char *state_env_label(const struct state *st);

/* Where the database is: "user@host:port/db", never a password. */
void state_db_display(struct buf *out, const struct state *st);

#endif
