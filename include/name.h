/*
 * name.h - migration file names.  Pure: no I/O.
 *
 * A forward file is VERSION.sql with VERSION = PREFIX_description, PREFIX
 * being YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS (a real calendar date and a
 * real clock time) and description matching [a-z0-9_]+ without a leading
 * "rollback_".  Its rollback is PREFIX_rollback_description.sql.  The
 * version stored in the database is the forward name without ".sql".
 *
 * Order: by the prefix normalised to 14 digits, then by the whole version
 * bytewise, so same-day migrations run in name order.
 */
#ifndef MIGDIR_NAME_H
#define MIGDIR_NAME_H

#include <stddef.h>

#include "buf.h"

#define NAME_STAMP_LEN   14
#define NAME_MAX_VERSION 200

enum name_kind {
	NAME_FORWARD,
	NAME_ROLLBACK,
};

struct name {
	enum name_kind kind;
	char stamp[NAME_STAMP_LEN + 1];     /* prefix padded with zeros */
	size_t prefix_len;                  /* 8, 12 or 14 */
	char version[NAME_MAX_VERSION + 1]; /* forward version, no ".sql" */
	const char *desc;                   /* description, inside version */
};

/*
 * Parse a file name (no directory part) into out.
 *
 * Returns 0 for a forward or rollback file; MG_ENOTFOUND for a name that is
 * not meant as a migration at all (no .sql suffix in any case, or a hidden
 * file), which callers ignore silently; MG_ERROR, with a message saying what
 * is wrong, for a *.sql (or *.SQL) name that is not a valid migration name.
 */
int name_parse(struct name *out, const char *filename);

/* Compare two versions in run order (prefix as 14 digits, then bytewise). */
int name_cmp(const char *a, const char *b);

/*
 * The normalised 14-digit stamp of a version, or all zeros if the version
 * has no valid prefix.
 */
void name_stamp(char out[NAME_STAMP_LEN + 1], const char *version);

/*
 * Append the rollback file name of a version ("PREFIX_rollback_DESC.sql")
 * or its forward file name ("VERSION.sql") to out.
 */
void name_rollback_file(struct buf *out, const char *version);
void name_forward_file(struct buf *out, const char *version);

/* One or the other, by kind. */
void name_file(struct buf *out, const char *version, enum name_kind kind);

/*
 * Turn a description typed by a user into a valid one: ASCII letters are
 * lowercased and spaces and hyphens become underscores.  Returns 0 and the
 * result in out, or MG_ERROR naming the first character that cannot be used
 * (quotes, semicolons, non-ASCII ...), an empty result, or a leading
 * "rollback_".
 */
int name_normalize_description(struct buf *out, const char *typed);

/*
 * Binary search n elements of `size` bytes, sorted in run order by the
 * version string each holds at byte offset `off` (a char *), for version.
 * Returns the element or NULL.
 */
const void *name_bsearch(const void *base, size_t n, size_t size, size_t off,
    const char *version);

/* Is version a syntactically valid forward version?  (1 or 0) */
int name_is_version(const char *version);

#endif
