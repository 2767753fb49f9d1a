/*
 * schema.c - pg_dump a database's schema, normalise it, compare two.
 *
 * The comparisons are those the corpora's verification uses (and a DBA
 * would make by eye): identical text; the same once the lines of every
 * CREATE TABLE are sorted (a column dropped and added back comes back
 * last), and so are the output columns of every view made of one SELECT
 * (a view of SELECT * lists the table's columns in their new order); the
 * same once timestamp literals frozen into view bodies by 'now'::timestamp
 * are blanked; else different.
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

	buf_put_ident(&b, schema);
	buf_putc(&b, '.');
	buf_put_ident(&b, name);
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

/* Cut the first occurrence of cut (len n) out of b; 1 if it was there. */
static int
cut_text(struct buf *b, const char *cut, size_t n)
{
	const char *at = n ? strstr(b->ptr, cut) : NULL;
	size_t off;

	if (!at)
		return 0;
	off = (size_t)(at - b->ptr);
	memmove(b->ptr + off, b->ptr + off + n, b->len - off - n + 1);
	b->len -= n;
	return 1;
}

/*
 * Leave out the CREATE SCHEMA of migdir's own schema (and its comment):
 * whether it exists says only whether migdir ran there, and the schema
 * is created by whoever creates the bookkeeping tables.
 */
static void
drop_schema(struct buf *text, const char *schema)
{
	struct buf id = BUF_INIT, block = BUF_INIT;
	int quoted;

	for (quoted = 0; quoted < 2; quoted++) {
		buf_reset(&id);
		if (quoted)
			buf_put_ident(&id, schema);
		else
			buf_puts(&id, schema);
		buf_reset(&block);
		buf_printf(&block,
		    "--\n-- Name: %s; Type: SCHEMA; Schema: -; Owner: "
		    "-\n--\n\n",
		    id.ptr);
		cut_text(text, block.ptr, block.len);
		buf_reset(&block);
		buf_printf(&block, "CREATE SCHEMA %s;\n", id.ptr);
		if (cut_text(text, block.ptr, block.len))
			break;
	}
	buf_release(&id);
	buf_release(&block);
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
	if (!error && book && strcmp(book->schema, "public"))
		drop_schema(out, book->schema);
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

/* Parentheses opened (or closed, negative) by a line, outside quotes. */
static int
paren_depth(const char *p, size_t len)
{
	int depth = 0;
	char quote = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (quote) {
			if (p[i] == quote)
				quote = 0; /* '' and "" reopen at once */
		} else if (p[i] == '\'' || p[i] == '"')
			quote = p[i];
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')')
			depth--;
	}
	return depth;
}

struct lines {
	const char **p; /* start of each line */
	size_t *len;    /* its length, without the newline */
	size_t n, cap, lcap;
};

static void
lines_add(struct lines *l, const char *p, size_t len)
{
	XGROW(l->p, l->cap, l->n + 1);
	XGROW(l->len, l->lcap, l->n + 1);
	l->p[l->n] = p;
	l->len[l->n++] = len;
}

static int
is_select(const char *p, size_t len)
{
	return starts(p, len, " SELECT ");
}

/* Spaces a line starts with. */
static size_t
indent(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == ' ')
		i++;
	return i;
}

/* An output column of a view, without its comma, into the list. */
static void
add_item(char ***items, size_t *n, size_t *cap, struct buf *item)
{
	if (item->len > 0 && item->ptr[item->len - 1] == ',')
		buf_setlen(item, item->len - 1);
	XGROW(*items, *cap, *n + 1);
	(*items)[(*n)++] = buf_detach(item);
}

/*
 * A view's statement (its lines) onto out, the output columns of its
 * SELECT sorted when it is one SELECT: with UNION and the like, the
 * columns of the branches pair up by position, and sorting each would
 * hide a change of which pairs with which.  In pg_dump's layout the
 * columns follow " SELECT ", indented by four spaces or more, one after
 * the other with a comma at the end of the last line of each (a CASE or
 * a subquery spans lines); the FROM, WHERE ... of the view are indented
 * less, and a view without FROM ends its last column with ';'.
 */
static void
view_sorted(struct buf *out, const struct lines *v)
{
	size_t i, k, first = 0, selects = 0, n = 0, cap = 0;
	char **items = NULL;
	struct buf item = BUF_INIT;
	int depth = 0, semi = 0;

	for (i = 0; i < v->n; i++)
		if (is_select(v->p[i], v->len[i])) {
			selects++;
			first = i;
		}
	if (selects != 1)
		first = v->n; /* as it is */
	for (i = 0; i < first; i++) {
		buf_put(out, v->p[i], v->len[i]);
		buf_putc(out, '\n');
	}
	for (i = first; i < v->n; i++) {
		const char *p = v->p[i];
		size_t len = v->len[i];

		if (i > first && depth <= 0 && indent(p, len) < 4)
			break; /* FROM ... */
		if (i == first) {
			p += 8;
			len -= 8;
		}
		if (!item.len) {
			size_t sp = indent(p, len);

			p += sp;
			len -= sp;
		} else
			buf_putc(&item, '\n');
		depth += paren_depth(p, len);
		buf_put(&item, p, len);
		if (depth <= 0 && len > 0 && p[len - 1] == ';') {
			buf_setlen(&item, item.len - 1);
			semi = 1;
			i++;
			break;
		}
		if (depth <= 0 && len > 0 && p[len - 1] == ',')
			add_item(&items, &n, &cap, &item);
	}
	if (item.len)
		add_item(&items, &n, &cap, &item);
	if (first < v->n) {
		if (n > 1)
			qsort(items, n, sizeof(*items), cmp_lines);
		buf_puts(out, " SELECT\n");
	}
	for (k = 0; k < n; k++) {
		buf_printf(out, "    %s\n", items[k]);
		free(items[k]);
	}
	if (semi)
		buf_puts(out, ";\n");
	for (; i < v->n; i++) {
		buf_put(out, v->p[i], v->len[i]);
		buf_putc(out, '\n');
	}
	free(items);
	buf_release(&item);
}

static int
is_view(const char *p, size_t len)
{
	return (starts(p, len, "CREATE VIEW ") ||
		   starts(p, len, "CREATE OR REPLACE VIEW ") ||
		   starts(p, len, "CREATE MATERIALIZED VIEW ")) &&
	    len > 3 && !memcmp(p + len - 3, " AS", 3);
}

/*
 * The lines of every CREATE TABLE's column list sorted, commas dropped;
 * the output columns of every view of one SELECT too.
 */
static char *
columns_sorted(const char *text)
{
	struct buf out = BUF_INIT;
	struct lines view = {0};
	const char *p = text;
	char **cols = NULL;
	size_t n = 0, cap = 0, i;
	int in_table = 0, in_view = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (in_view) {
			lines_add(&view, p, len);
			if (len > 0 && p[len - 1] == ';') {
				view_sorted(&out, &view);
				view.n = 0;
				in_view = 0;
			}
			p += len + (nl ? 1 : 0);
			continue;
		}
		if (in_table && len > 0 && p[0] == ')') {
			if (n > 1)
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
		else if (is_view(p, len))
			in_view = 1;
		p += len + (nl ? 1 : 0);
	}
	if (in_view)
		view_sorted(&out, &view);
	for (i = 0; i < n; i++)
		free(cols[i]);
	free(cols);
	free(view.p);
	free(view.len);
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
	/* both differences at once count as column order */
	if (!strcmp(ca, cb) || (strcmp(sa, sb) && !strcmp(csa, csb)))
		v = SCHEMA_COLUMN_ORDER;
	else if (!strcmp(sa, sb))
		v = SCHEMA_FROZEN_NOW;
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
