/*
 * scratch.h - throwaway databases for consolidate, baseline and rehearse.
 *
 * A scratch database is made on the tracked environment's server (or on
 * the server scratch_url names in migdir.ini) under a name no one else
 * uses, migdir_scratch_<pid>_<n>_<random>, from template0 with the
 * encoding and locale of the database the server connection opens; or as
 * a copy of another scratch database.  scratch_close drops every one still
 * there, also after Ctrl-C (the first Ctrl-C cancels what runs; the
 * databases are dropped before migdir exits).  What a killed migdir left
 * behind (no session uses it) is named in a warning by scratch_open.
 *
 * scratch_replay brings one to a state of the folders through migdir's
 * own executor (db_run): consolidated_schema.sql first when it exists, as
 * a baseline that records every archived version, then the chosen
 * migrations in order.  Nothing here writes a file or touches git.
 */
#ifndef MIGDIR_SCRATCH_H
#define MIGDIR_SCRATCH_H

#include <stddef.h>

#include "buf.h"
#include "db.h"
#include "plan.h"
#include "state.h"

/* How every scratch database's name starts. */
#define SCRATCH_PREFIX "migdir_scratch_"

struct scratch {
	struct db *admin;        /* where CREATE / DROP DATABASE run */
	char *conninfo;          /* the server's connection string */
	const char *source;      /* "scratch_url" or "the environment" */
	struct db_target target; /* for connections to scratch databases */
	char **names;            /* made and not dropped yet */
	size_t n, cap;
	unsigned seq;
};

/* Connect to the server for st's project; MG_ERROR when it cannot. */
int scratch_open(struct scratch *sc, const struct state *st);

/*
 * Make a scratch database, empty (template NULL) or a copy of template
 * (which must have no session).  *name is owned by sc.
 */
int scratch_create(struct scratch *sc, const char *template, const char **name);

/* Connect to scratch database name, its bookkeeping tables created. */
int scratch_connect(struct scratch *sc, const char *name, struct db **out);

/* Drop scratch database name now. */
int scratch_drop(struct scratch *sc, const char *name);

/* Drop every scratch database left, then disconnect; safe when zeroed. */
void scratch_close(struct scratch *sc);

/* The schema of scratch database name, without migdir's tables. */
int scratch_dump(struct scratch *sc, const char *name, struct buf *out);

/* Which entries a replay runs (after the baseline). */
typedef int (*scratch_want)(const struct entry *e, void *arg);

struct scratch_stats {
	int baseline;   /* consolidated_schema.sql was loaded */
	size_t records; /* archived versions it recorded */
	size_t files;   /* migration files run */
	long long usec; /* time of it all */
};

/*
 * Bring db (a scratch database) to a state of st's folders: the baseline
 * (consolidated_schema.sql recording every archived version; without that
 * file, the archived migrations themselves), then every other entry
 * want() accepts, in order.  A failure is the last error, at the file's
 * line and column.
 */
int scratch_replay(struct db *db, const struct state *st, scratch_want want,
    void *arg, struct scratch_stats *stats);

/* Replay wants: the tracked state (applied/), and everything. */
int scratch_want_applied(const struct entry *e, void *arg);

#endif
