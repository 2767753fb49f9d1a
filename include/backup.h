/*
 * backup.h - a pg_dump of what a destructive rollback would lose.
 *
 * The tables come from the findings that lose data (lint.h): drop-table,
 * drop-column, truncate, delete-without-where and update-without-where
 * name the table; any other finding that loses data (drop-schema,
 * drop-database ...) names none, and means the whole database.  backup_write runs pg_dump -Fc into a new file, then checks
 * the file is there, is not empty, and that pg_restore -l can list it.
 * The programs come from PATH, or from MIGDIR_PG_DUMP and
 * MIGDIR_PG_RESTORE when those are set (Debian's pg_wrapper may pick a
 * version that does not match the server).
 */
#ifndef MIGDIR_BACKUP_H
#define MIGDIR_BACKUP_H

#include <stddef.h>

#include "lint.h"

struct backup {
	char **tables;   /* "schema.table" or "table", each once: shown */
	char **patterns; /* the same as pg_dump --table patterns, quoted */
	size_t n, cap, pcap;
	int whole;       /* a finding names no table: the whole database */
	long long bytes; /* the size of the file written */
};

/* Add what the findings of r that lose data name. */
void backup_add(struct backup *b, const struct lint_result *r);

/* Is there anything to dump? */
int backup_needed(const struct backup *b);

/*
 * Dump b's tables (or the whole database) from the database conninfo
 * names ("" for libpq's defaults) into file, which must not exist, and
 * check the dump.  Returns 0 (b->bytes set), or
 * MG_ERROR with what went wrong, pg_dump's or pg_restore's own words in
 * the detail; then no file is left behind.  The connection string is
 * handed to pg_dump, never printed.
 */
int backup_write(struct backup *b, const char *conninfo, const char *file);

void backup_release(struct backup *b);

#endif
