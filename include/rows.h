/*
 * rows.h - the schema_versions rows migdir reads.  Pure data.
 *
 * Filled by db.c from the tracked or selected database, read by plan.c.
 * Times are microseconds since the epoch (0 when NULL); strings may be NULL
 * when the column is NULL or, on a table kept by hand, missing.
 */
#ifndef MIGDIR_ROWS_H
#define MIGDIR_ROWS_H

#include <stddef.h>

struct row {
	char *version;
	int active; /* is_active (NULL counts as true, as the seed's DEFAULT) */
	char *checksum; /* git blob id of the forward file at apply time */
	char *rollback_checksum;  /* same for the rollback file */
	long long applied_at;     /* usec since epoch, 0 if NULL */
	long long rolled_back_at; /* usec since epoch, 0 if NULL */
	char *applied_by;
	char *description;
	long long duration_ms; /* -1 if NULL */
};

struct rows {
	struct row *v; /* sorted by version (name_cmp) after rows_sort */
	size_t n, cap;
};

/* The last run of a version, when it failed (from the run history). */
struct failure {
	char *version;
	char *action; /* "apply" or "rollback" */
	long long at; /* usec since epoch */
	char *sqlstate;
	char *location; /* file:line:col of the failing statement */
	char *message;
};

struct failures {
	struct failure *v; /* sorted by version (name_cmp) */
	size_t n, cap;
};

/* Append an empty failure and return it. */
struct failure *failures_add(struct failures *f);

/* Sort, find (NULL if none), release: as for rows. */
void failures_sort(struct failures *f);
const struct failure *failures_find(const struct failures *f,
    const char *version);
void failures_release(struct failures *f);

/* Append an empty row (zeroed, duration_ms = -1) and return it. */
struct row *rows_add(struct rows *r);

/* Sort by version in run order, for rows_find. */
void rows_sort(struct rows *r);

/* The row for version, or NULL (binary search; needs rows_sort). */
const struct row *rows_find(const struct rows *r, const char *version);

/* Free all rows; safe on a zeroed struct. */
void rows_release(struct rows *r);

#endif
