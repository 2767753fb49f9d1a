/*
 * fuzz_sql.c - the SQL splitter and the transaction detection of
 * sql_parse_script (sql.h).
 *
 * Input: a migration file's bytes.  Invariants: the return code matches
 * the script handed back; statements lie inside the text, in order, apart;
 * sql_locate agrees with the line and column each one records; the
 * statements that run are a subsequence of all of them; a transactional
 * script runs no transaction control and nothing that needs to run
 * outside a transaction; every error has a locus.
 */
#include "error.h"
#include "fuzz.h"
#include "sql.h"

#define PATH "fuzz/20240101_fuzz.sql"

static void
check_locus(const char *text, size_t len, size_t off, int line, int col)
{
	int l, c;

	sql_locate(text, len, off, &l, &c, NULL);
	FUZZ_CHECK(l == line && c == col);
}

static void
check_script(const struct sql_script *s, const char *text, size_t len)
{
	size_t i;
	struct buf lt = BUF_INIT;

	FUZZ_CHECK(s->text == text && s->len == len);
	FUZZ_CHECK(s->nrun <= s->n);
	FUZZ_CHECK(sql_script_count(s) == s->nrun);
	for (i = 0; i < s->n; i++) {
		const struct sql_stmt *st = &s->stmts[i];
		int l, c;

		FUZZ_CHECK(st->off <= len && st->len <= len - st->off);
		if (i > 0)
			FUZZ_CHECK(s->stmts[i - 1].off + s->stmts[i - 1].len <=
			    st->off);
		check_locus(text, len, st->off, st->line, st->col);
		FUZZ_CHECK(sql_stmt_end_line(s, i) >= st->line);
		sql_locate(text, len, st->off, &l, &c, &lt);
		FUZZ_CHECK(lt.len <= len && (size_t)c - 1 <= lt.len + 1);
		FUZZ_CHECK(sql_char_to_byte(text + st->off, st->len,
			       1 + (int)(i % 7)) <= st->len);
	}
	for (i = 0; i < s->nrun; i++) {
		const struct sql_stmt *st = sql_script_stmt(s, i);

		FUZZ_CHECK(s->run[i] < s->n);
		if (i > 0)
			FUZZ_CHECK(s->run[i - 1] < s->run[i]);
		if (s->transactional)
			FUZZ_CHECK(!(st->flags &
			    (SQL_TX_BEGIN | SQL_TX_COMMIT | SQL_TX_ABORT |
				SQL_NO_TX)));
	}
	/* an unparsed file the scanner could not split is never run */
	if (s->transactional)
		FUZZ_CHECK(!s->marked);
	else if (s->parsed || s->n > 0)
		FUZZ_CHECK(s->reason != NULL);
	if (s->marked)
		FUZZ_CHECK(s->marker_line >= 1);
	if (s->wrapped == 0)
		FUZZ_CHECK(!s->whole);
	if (s->parsed) {
		FUZZ_CHECK(s->parse_error == NULL);
		for (i = 0; i < s->nacts; i++)
			FUZZ_CHECK(
			    memchr(s->acts[i].rel, 0, SQL_NAME_MAX) != NULL &&
			    memchr(s->acts[i].name, 0, SQL_NAME_MAX) != NULL &&
			    memchr(s->acts[i].schema, 0, SQL_NAME_MAX) != NULL);
	} else {
		FUZZ_CHECK(s->parse_error != NULL);
		FUZZ_CHECK(s->parse_off <= len);
		FUZZ_CHECK(s->parse_line >= 1 && s->parse_col >= 1);
		(void)sql_newer_syntax(s);
	}
	buf_release(&lt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct sql_script *s = NULL;
	int rc;

	mg_error_clear();
	rc = sql_parse_script(&s, PATH, text, size);
	FUZZ_CHECK(rc == 0 || rc == MG_ESQL || rc == MG_ERROR);
	if (rc == MG_ERROR) {
		const struct mg_error *e = mg_error_last();

		FUZZ_CHECK(s == NULL);
		FUZZ_CHECK(e->code == MG_ERROR && e->message != NULL);
		FUZZ_CHECK(e->file != NULL && e->line >= 1);
	} else {
		FUZZ_CHECK(s != NULL);
		FUZZ_CHECK((rc == 0) == (s->parsed != 0));
		/* a NUL byte can never run */
		FUZZ_CHECK(memchr(data, 0, size) == NULL);
		if (rc == MG_ESQL) {
			const struct mg_error *e = mg_error_last();

			FUZZ_CHECK(e->code == MG_ESQL && e->file != NULL);
			FUZZ_CHECK(e->line == s->parse_line);
		}
		check_script(s, text, size);
	}
	sql_script_free(s);
	mg_error_clear();
	free(text);
	return 0;
}
