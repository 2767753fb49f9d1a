/*
 * schema.c - pg_dump a database's schema, normalise it, compare two.
 *
 * The comparisons are those the corpora's verification uses (and a DBA
 * would make by eye): identical text; the same once the lines of every
 * CREATE TABLE are sorted (a column dropped and added back comes back
 * last); the same once timestamp literals frozen into view bodies by
 * 'now'::timestamp are blanked; else different.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pgtool.h"
#include "schema.h"
#include "vcs.h"
#include "xalloc.h"
#include "banned.h"

/* A pg_dump pattern that names exactly one object: "schema"."name". */
static char *
pattern(const char *schema, const char *name)
{
	struct buf b = BUF_INIT;
	const char *parts[2] = {schema, name};
	const char *p;
	int i;

	for (i = 0; i < 2; i++) {
		if (i)
			buf_putc(&b, '.');
		buf_putc(&b, '"');
		for (p = parts[i]; *p; p++) {
			if (*p == '"')
				buf_putc(&b, '"');
			buf_putc(&b, *p);
		}
		buf_putc(&b, '"');
	}
	return buf_detach(&b);
}

/* Run pg_dump with t's arguments; its output, normalised, onto out. */
static int
run_dump(struct pgtool *t, struct buf *out, const char *conninfo,
    const char *dbname)
{
	struct proc_result pr = {0};
	int error;

	if ((error = pgtool_connect(t, conninfo, dbname)) < 0 ||
	    (error = pgtool_run(t, &pr, "Nothing was changed.")) < 0)
		goto out;
	schema_normalize(&pr.out);
	buf_put(out, pr.out.ptr, pr.out.len);
out:
	proc_result_release(&pr);
	return error;
}

int
schema_dump(struct buf *out, const char *conninfo, const char *dbname,
    const struct schema_book *book)
{
	struct pgtool t;
	char *excl[4] = {NULL, NULL, NULL, NULL};
	int i, error;

	pgtool_init(&t, "MIGDIR_PG_DUMP", "pg_dump");
	pgtool_arg(&t, "--schema-only");
	pgtool_arg(&t, "--no-owner");
	if (book) {
		/* the two tables and the sequences of their id columns */
		char *names[4];

		names[0] = xstrdup(book->table);
		names[1] = xasprintf("%s_history", book->table);
		names[2] = xasprintf("%s_id_seq", book->table);
		names[3] = xasprintf("%s_history_id_seq", book->table);
		for (i = 0; i < 4; i++) {
			excl[i] = pattern(book->schema, names[i]);
			free(names[i]);
			pgtool_arg(&t, "--exclude-table");
			pgtool_arg(&t, excl[i]);
		}
	}
	error = run_dump(&t, out, conninfo, dbname);
	for (i = 0; i < 4; i++)
		free(excl[i]);
	pgtool_release(&t);
	return error;
}

int
schema_dump_rows(struct buf *out, const char *conninfo, const char *dbname,
    const struct db_table *tables, size_t n)
{
	struct pgtool t;
	char **pats;
	size_t i;
	int error;

	if (n == 0)
		return 0;
	pats = xcalloc(n, sizeof(*pats));
	pgtool_init(&t, "MIGDIR_PG_DUMP", "pg_dump");
	pgtool_arg(&t, "--data-only");
	pgtool_arg(&t, "--column-inserts");
	pgtool_arg(&t, "--no-owner");
	for (i = 0; i < n; i++) {
		pats[i] = pattern(tables[i].schema, tables[i].name);
		pgtool_arg(&t, "--table");
		pgtool_arg(&t, pats[i]);
	}
	error = run_dump(&t, out, conninfo, dbname);
	for (i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
	pgtool_release(&t);
	return error;
}

static int
starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(line, prefix, n);
}

void
schema_normalize(struct buf *text)
{
	struct buf out = BUF_INIT;
	const char *p = text->ptr, *end = text->ptr + text->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!starts(p, len, "-- Dumped from database version") &&
		    !starts(p, len, "-- Dumped by pg_dump version") &&
		    !starts(p, len, "\\restrict ") &&
		    !starts(p, len, "\\unrestrict "))
			buf_put(&out, p, len + (nl ? 1 : 0));
		p += len + (nl ? 1 : 0);
	}
	buf_release(text);
	*text = out;
}

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of every CREATE TABLE's column list sorted, commas dropped. */
static char *
columns_sorted(const char *text)
{
	struct buf out = BUF_INIT;
	const char *p = text;
	char **cols = NULL;
	size_t n = 0, cap = 0, i;
	int in_table = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (in_table && len > 0 && p[0] == ')') {
			if (n > 0) /* CREATE TABLE t () has no column */
				qsort(cols, n, sizeof(*cols), cmp_lines);
			for (i = 0; i < n; i++) {
				buf_printf(&out, "%s\n", cols[i]);
				free(cols[i]);
			}
			n = 0;
			in_table = 0;
		}
		if (in_table) {
			size_t l = len;

			if (l > 0 && p[l - 1] == ',')
				l--;
			XGROW(cols, cap, n + 1);
			cols[n++] = xstrndup(p, l);
		} else {
			buf_put(&out, p, len);
			buf_putc(&out, '\n');
		}
		if (starts(p, len, "CREATE TABLE ") && len > 0 &&
		    p[len - 1] == '(')
			in_table = 1;
		p += len + (nl ? 1 : 0);
	}
	for (i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
	return buf_detach(&out);
}

static int
stamp_char(char c)
{
	return (c >= '0' && c <= '9') || c == ' ' || c == ':' || c == '.' ||
	    c == '-' || c == '+';
}

/* Timestamp literals ('2026-11-23 16:51:12.1'::timestamp...) blanked. */
static char *
stamps_blanked(const char *text)
{
	struct buf out = BUF_INIT;
	const char *p = text;

	while (*p) {
		if (*p == '\'') {
			const char *q = p + 1;

			while (*q && stamp_char(*q))
				q++;
			if (*q == '\'' && q - p - 1 >= 19 &&
			    !strncmp(q + 1, "::timestamp", 11)) {
				buf_puts(&out, "'<now>'");
				p = q + 1;
				continue;
			}
		}
		buf_putc(&out, *p++);
	}
	return buf_detach(&out);
}

enum schema_verdict
schema_compare(const char *a, const char *b)
{
	enum schema_verdict v = SCHEMA_DIFFERS;
	char *ca, *cb, *sa, *sb, *csa, *csb;

	if (!strcmp(a, b))
		return SCHEMA_IDENTICAL;
	ca = columns_sorted(a);
	cb = columns_sorted(b);
	sa = stamps_blanked(a);
	sb = stamps_blanked(b);
	csa = stamps_blanked(ca);
	csb = stamps_blanked(cb);
	/* column order first, then frozen timestamps, then both */
	if (strcmp(ca, cb) && !strcmp(sa, sb))
		v = SCHEMA_FROZEN_NOW;
	else if (!strcmp(ca, cb) || !strcmp(csa, csb))
		v = SCHEMA_COLUMN_ORDER;
	free(ca);
	free(cb);
	free(sa);
	free(sb);
	free(csa);
	free(csb);
	return v;
}

const char *
schema_verdict_name(enum schema_verdict v)
{
	switch (v) {
	case SCHEMA_IDENTICAL:
		return "identical";
	case SCHEMA_COLUMN_ORDER:
		return "same-modulo-column-order";
	case SCHEMA_FROZEN_NOW:
		return "same-modulo-frozen-now-timestamps";
	case SCHEMA_DIFFERS:
		break;
	}
	return "differs";
}

int
schema_diff(struct buf *out, const char *a, const char *label_a, const char *b,
    const char *label_b)
{
	return vcs_diff_text(out, a, strlen(a), b, strlen(b), label_a, label_b);
}
