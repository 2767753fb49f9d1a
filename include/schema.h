/*
 * schema.h - a database's schema as text, and how two of them differ.
 *
 * The text is what pg_dump --schema-only --no-owner writes, made
 * deterministic: without the two lines that name pg_dump's and the
 * server's versions, and without the \restrict / \unrestrict lines that
 * pg_dump 15.14 and newer write with a random key (psql meta-commands,
 * which libpq cannot run).  migdir's own bookkeeping tables are left out,
 * so that two databases compare by the user's schema alone.
 */
#ifndef MIGDIR_SCHEMA_H
#define MIGDIR_SCHEMA_H

#include <stddef.h>

#include "buf.h"
#include "db.h"

/* Where the bookkeeping tables are, to leave them out of a dump. */
struct schema_book {
	const char *schema, *table; /* unquoted */
};

/*
 * Append the schema of database dbname on the server of conninfo (NULL:
 * conninfo's own database) to out.  MG_ERROR with pg_dump's words when it
 * fails.
 */
int schema_dump(struct buf *out, const char *conninfo, const char *dbname,
    const struct schema_book *book);

/*
 * Append the rows of tables (INSERT statements with column names, and
 * the values of their sequences) to out; nothing when n is 0.
 */
int schema_dump_rows(struct buf *out, const char *conninfo, const char *dbname,
    const struct db_table *tables, size_t n);

/* Drop what makes a pg_dump text differ between runs and versions. */
void schema_normalize(struct buf *text);

enum schema_verdict {
	SCHEMA_IDENTICAL,
	SCHEMA_COLUMN_ORDER, /* the same columns, some in another order */
	SCHEMA_FROZEN_NOW,   /* only 'now'::timestamp literals frozen in
				views differ */
	SCHEMA_DIFFERS,
};

/* How schema b differs from schema a. */
enum schema_verdict schema_compare(const char *a, const char *b);

/* "identical", "same-modulo-column-order" ... */
const char *schema_verdict_name(enum schema_verdict v);

/* Append a unified diff of a (label_a) against b (label_b) to out. */
int schema_diff(struct buf *out, const char *a, const char *label_a,
    const char *b, const char *label_b);

#endif
