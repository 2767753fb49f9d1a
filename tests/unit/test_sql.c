/*
 * test_sql.c - unit tests for splitting and classifying SQL (src/sql.c).
 *
 * Every case goes through libpg_query, as migdir does.  Covers: byte
 * offsets, lengths, lines and columns of statements behind leading line
 * and nested block comments, CRLF and UTF-8 text; dollar-quoted bodies
 * holding BEGIN/END and ';'; the transaction shape (a whole-file
 * BEGIN/COMMIT wrapper and inner blocks merged into migdir's transaction,
 * and each refusal with its file:line:col: BEGIN without COMMIT, COMMIT
 * without BEGIN, nested BEGIN, ROLLBACK, PREPARE/COMMIT PREPARED, BEGIN
 * with options, COPY FROM STDIN / TO STDOUT, a NUL byte); files that must
 * run without a transaction (CREATE/DROP INDEX CONCURRENTLY, REINDEX
 * CONCURRENTLY, VACUUM but not ANALYZE, CREATE DATABASE, ALTER SYSTEM,
 * DETACH PARTITION CONCURRENTLY, the "-- migdir:no-transaction" marker, an
 * enum value added and then used) and what they may not contain (LOCK
 * TABLE, SET LOCAL, unbalanced blocks, CIC inside the file's own block);
 * session SETs; syntax errors (MG_ESQL, a script with the parser's message
 * and locus); and the helpers sql_locate, sql_char_to_byte, sql_error_at.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "error.h"
#include "sql.h"
#include "banned.h"

#define PATH      "m/20230601_x.sql"
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* Parse text that must be accepted. */
static struct sql_script *
parse_ok(const char *text)
{
	struct sql_script *s = NULL;
	int rc;

	mg_error_clear();
	rc = sql_parse_script(&s, PATH, text, strlen(text));
	if (rc != 0)
		fail_msg("rejected (%d): %s\n%s", rc,
		    mg_error_last()->message ? mg_error_last()->message : "?",
		    text);
	assert_non_null(s);
	assert_int_equal(s->parsed, 1);
	assert_string_equal(s->path, PATH);
	assert_ptr_equal(s->text, text);
	assert_int_equal(s->len, strlen(text));
	return s;
}

/* The text of statement i of s (the whole script, not the run list). */
static void
assert_stmt_text(const struct sql_script *s, size_t i, const char *want)
{
	const struct sql_stmt *st = &s->stmts[i];

	if (st->len != strlen(want) || memcmp(s->text + st->off, want, st->len))
		fail_msg("statement %zu is \"%.*s\", want \"%s\"", i,
		    (int)st->len, s->text + st->off, want);
}

static void
test_sql_statements_keep_byte_offsets_lines_and_columns(void **state)
{
	static const struct {
		const char *text;
		size_t n;
		struct {
			size_t off, len;
			int line, col;
		} st[3];
	} cases[] = {
	    {"SELECT 1; SELECT 2", 2, {{0, 8, 1, 1}, {10, 8, 1, 11}}},
	    {"-- leading comment\n/* block */\nSELECT 1;\n\n  SELECT 2;\n", 2,
		{{31, 8, 3, 1}, {44, 8, 5, 3}}},
	    {"/* a /* nested */ still */ SELECT 1;", 1, {{27, 8, 1, 28}}},
	    {"SELECT 1; -- one\n-- two\n\tSELECT 2 ; /* x */ SELECT 3;\n", 3,
		{{0, 8, 1, 1}, {25, 8, 3, 2}, {44, 8, 3, 21}}},
	    {"SELECT 'h\xc3\xa9'; SELECT 2", 2,
		{{0, 12, 1, 1}, {14, 8, 1, 15}}},
	    {"SELECT 1;\r\nSELECT 2;\r\n", 2, {{0, 8, 1, 1}, {11, 8, 2, 1}}},
	    {";;SELECT 1;;\n", 1, {{2, 8, 1, 3}}},
	    {"SELECT 1;\n-- end of file\n", 1, {{0, 8, 1, 1}}},
	    {"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);"
	     "\nSELECT 3;",
		2, {{0, 60, 1, 1}, {62, 8, 2, 1}}},
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);

		if (s->n != cases[i].n)
			fail_msg("case %zu: %zu statements, want %zu", i, s->n,
			    cases[i].n);
		for (j = 0; j < s->n; j++) {
			const struct sql_stmt *st = &s->stmts[j];

			if (st->off != cases[i].st[j].off ||
			    st->len != cases[i].st[j].len ||
			    st->line != cases[i].st[j].line ||
			    st->col != cases[i].st[j].col)
				fail_msg("case %zu stmt %zu: off %zu len %zu "
					 "at %d:%d, want %zu %zu %d:%d",
				    i, j, st->off, st->len, st->line, st->col,
				    cases[i].st[j].off, cases[i].st[j].len,
				    cases[i].st[j].line, cases[i].st[j].col);
		}
		assert_int_equal(s->transactional, 1);
		assert_int_equal(sql_script_count(s), s->n);
		sql_script_free(s);
	}
}

static void
test_sql_dollar_quoted_bodies_are_single_statements(void **state)
{
	static const char text[] =
	    "CREATE FUNCTION touch() RETURNS trigger AS $body$\n"
	    "BEGIN\n"
	    "  NEW.updated_at := now();\n"
	    "  COMMIT;\n"
	    "  RETURN NEW;\n"
	    "END;\n"
	    "$body$ LANGUAGE plpgsql;\n"
	    "DO $$ BEGIN PERFORM 1; END $$;\n"
	    "SELECT ';' AS semi, $q$;BEGIN;$q$ AS q;\n";
	struct sql_script *s;

	(void)state;
	s = parse_ok(text);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->nrun, 3);
	assert_int_equal(s->stmts[0].off, 0);
	assert_int_equal(s->stmts[0].line, 1);
	assert_int_equal(s->stmts[0].flags, 0);
	assert_true(s->stmts[0].len > 100);
	assert_memory_equal(s->text + s->stmts[0].off + s->stmts[0].len - 16,
	    "LANGUAGE plpgsql", 16);
	assert_stmt_text(s, 1, "DO $$ BEGIN PERFORM 1; END $$");
	assert_int_equal(s->stmts[1].line, 8);
	assert_int_equal(s->stmts[1].flags, 0);
	assert_stmt_text(s, 2, "SELECT ';' AS semi, $q$;BEGIN;$q$ AS q");
	assert_int_equal(s->stmts[2].line, 9);
	assert_int_equal(s->stmts[2].flags, 0);
	assert_int_equal(s->wrapped, 0);
	assert_int_equal(s->transactional, 1);
	sql_script_free(s);
}

static void
test_sql_empty_file_has_no_statements_and_is_transactional(void **state)
{
	static const char *const texts[] = {
	    "",
	    "  \n\t\n",
	    "-- only a comment\n/* and a block */\n",
	    ";",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(texts); i++) {
		struct sql_script *s = parse_ok(texts[i]);

		assert_int_equal(s->n, 0);
		assert_int_equal(s->nrun, 0);
		assert_int_equal(sql_script_count(s), 0);
		assert_int_equal(s->transactional, 1);
		assert_int_equal(s->wrapped, 0);
		assert_int_equal(s->whole, 0);
		assert_null(s->reason);
		sql_script_free(s);
	}
}

static void
test_sql_whole_file_wrapper_is_merged_into_migdirs_transaction(void **state)
{
	static const struct {
		const char *text;
		const char *first, *last; /* first and last statements run */
		size_t n, nrun;
	} cases[] = {
	    {"-- Migration: add email templates\n"
	     "BEGIN;\n"
	     "\n"
	     "CREATE TABLE email_templates (id serial PRIMARY KEY);\n"
	     "INSERT INTO schema_versions (version) VALUES ('x');\n"
	     "\n"
	     "COMMIT;\n",
		"CREATE TABLE email_templates (id serial PRIMARY KEY)",
		"INSERT INTO schema_versions (version) VALUES ('x')", 4, 2},
	    {"START TRANSACTION;\nSELECT 1;\nEND;\n", "SELECT 1", "SELECT 1", 3,
		1},
	    {"BEGIN WORK;\nSELECT 1;\nSELECT 2;\nCOMMIT WORK;", "SELECT 1",
		"SELECT 2", 4, 2},
	    {"begin transaction; select 1; commit", "select 1", "select 1", 3,
		1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);
		const struct sql_stmt *first, *last;

		assert_int_equal(s->n, cases[i].n);
		assert_int_equal(sql_script_count(s), cases[i].nrun);
		assert_int_equal(s->wrapped, 1);
		assert_int_equal(s->whole, 1);
		assert_int_equal(s->transactional, 1);
		assert_int_equal(s->stmts[0].flags & SQL_TX_BEGIN,
		    SQL_TX_BEGIN);
		assert_string_equal(s->stmts[0].what, "BEGIN");
		assert_int_equal(s->stmts[s->n - 1].flags & SQL_TX_COMMIT,
		    SQL_TX_COMMIT);
		assert_string_equal(s->stmts[s->n - 1].what, "COMMIT");
		first = sql_script_stmt(s, 0);
		last = sql_script_stmt(s, cases[i].nrun - 1);
		assert_int_equal(first->len, strlen(cases[i].first));
		assert_memory_equal(s->text + first->off, cases[i].first,
		    first->len);
		assert_int_equal(last->len, strlen(cases[i].last));
		assert_memory_equal(s->text + last->off, cases[i].last,
		    last->len);
		sql_script_free(s);
	}
}

static void
test_sql_inner_blocks_are_merged_too(void **state)
{
	static const char text[] = "CREATE TABLE a (x int);\n"
				   "BEGIN;\n"
				   "INSERT INTO a VALUES (1);\n"
				   "COMMIT;\n"
				   "BEGIN;\n"
				   "INSERT INTO a VALUES (2);\n"
				   "SAVEPOINT s;\n"
				   "COMMIT;\n";
	struct sql_script *s;

	(void)state;
	s = parse_ok(text);
	assert_int_equal(s->n, 8);
	assert_int_equal(s->wrapped, 2);
	assert_int_equal(s->whole, 0);
	assert_int_equal(s->transactional, 1);
	assert_int_equal(s->nrun, 4);
	assert_int_equal(s->run[0], 0);
	assert_int_equal(s->run[1], 2);
	assert_int_equal(s->run[2], 5);
	assert_int_equal(s->run[3], 6);
	assert_ptr_equal(sql_script_stmt(s, 3), &s->stmts[6]);
	assert_int_equal(s->stmts[6].flags, SQL_NEEDS_TX);
	assert_int_equal(s->stmts[6].line, 7);
	sql_script_free(s);
}

/*
 * Files are parsed statement by statement (memory near the file's size);
 * a body the scanner splits wrongly (BEGIN ATOMIC ... END) and comments
 * between and after statements give the same statements as a whole-file
 * parse, and an ADD VALUE used later is still found.
 */
static void
test_sql_piecewise_parse_keeps_every_statement(void **state)
{
	static const char atomic[] =
	    "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
	    "BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
	    "-- between\n"
	    "SELECT f();\n"
	    "/* after */\n";
	static const char enums[] = "ALTER TYPE mood ADD VALUE 'meh';\n"
				    "-- x\n"
				    "SELECT 1;;\n"
				    "UPDATE t SET m = 'meh';\n";
	struct sql_script *s;

	(void)state;
	s = parse_ok(atomic);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->stmts[1].line, 4);
	assert_int_equal(s->stmts[1].len, strlen("SELECT f()"));
	sql_script_free(s);
	s = parse_ok(enums);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->enum_used, 1);
	assert_int_equal(s->enum_add, 0);
	assert_int_equal(s->enum_use, 2);
	assert_int_equal(s->stmts[2].line, 4);
	sql_script_free(s);
}

static void
test_sql_refuses_what_can_never_run_with_a_locus(void **state)
{
	static const struct {
		const char *text;
		int line, col;
		const char *src_line;
		const char *words;
	} cases[] = {
	    /* transactional files: the shape of the file's own blocks */
	    {"BEGIN;\nSELECT 1;\n", 1, 1, "BEGIN;",
		"BEGIN without a matching COMMIT"},
	    {"SELECT 1;\n  COMMIT;\n", 2, 3, "  COMMIT;",
		"COMMIT without a matching BEGIN"},
	    {"BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;\n", 2, 1, "BEGIN;",
		"BEGIN inside the transaction block that starts at line 1"},
	    {"BEGIN;\nSELECT 1;\nROLLBACK;\n", 3, 1, "ROLLBACK;",
		"ROLLBACK in a migration file cannot be honoured"},
	    {"SELECT 1; ABORT;", 1, 11, "SELECT 1; ABORT;",
		"ROLLBACK in a migration file cannot be honoured"},
	    {"PREPARE TRANSACTION 'x';", 1, 1, "PREPARE TRANSACTION 'x';",
		"PREPARE TRANSACTION in a migration file"},
	    {"COMMIT PREPARED 'x';", 1, 1, "COMMIT PREPARED 'x';",
		"COMMIT PREPARED in a migration file"},
	    {"BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;\n", 1, 1,
		"BEGIN ISOLATION LEVEL SERIALIZABLE;",
		"BEGIN with transaction options cannot be merged"},
	    {"-- x\nSTART TRANSACTION READ ONLY;\nSELECT 1;\nCOMMIT;\n", 2, 1,
		"START TRANSACTION READ ONLY;",
		"BEGIN with transaction options"},
	    /* psql's COPY data */
	    {"SELECT 1;\nCOPY t (a) FROM STDIN;\n", 2, 1,
		"COPY t (a) FROM STDIN;",
		"COPY FROM STDIN is psql syntax, not SQL"},
	    {"COPY t TO STDOUT;", 1, 1, "COPY t TO STDOUT;",
		"COPY TO STDOUT is psql syntax"},
	    /* ... with its data lines, which the parser cannot read */
	    {"CREATE TABLE t (a int, b text);\nCOPY t FROM stdin;\n1\tx\n"
	     "\\.\n",
		2, 1, "COPY t FROM stdin;",
		"COPY FROM STDIN is psql syntax, not SQL: migdir cannot send "
		"the data"},
	    /* files that run without a transaction */
	    {"CREATE INDEX CONCURRENTLY i ON t (a);\nLOCK TABLE t;\n", 2, 1,
		"LOCK TABLE t;",
		"LOCK TABLE needs a transaction, but this file runs "
		"without one because of CREATE INDEX CONCURRENTLY "
		"(line 1)"},
	    {"VACUUM t;\n\tSET LOCAL work_mem = '1MB';\n", 2, 2,
		"\tSET LOCAL work_mem = '1MB';",
		"SET LOCAL needs a transaction, but this file runs without "
		"one because of VACUUM (line 1)"},
	    {"-- migdir:no-transaction\nLOCK TABLE t;\n", 2, 1, "LOCK TABLE t;",
		"LOCK TABLE needs a transaction, but this file runs "
		"without one because of -- migdir:no-transaction"},
	    {"DECLARE c CURSOR FOR SELECT 1;\nVACUUM t;\n", 1, 1,
		"DECLARE c CURSOR FOR SELECT 1;",
		"DECLARE CURSOR needs a transaction"},
	    {"BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\n", 2, 1,
		"CREATE INDEX CONCURRENTLY i ON t (a);",
		"CREATE INDEX CONCURRENTLY cannot run inside the file's "
		"transaction block"},
	    {"BEGIN;\nVACUUM t;\nCOMMIT;\n", 2, 1, "VACUUM t;",
		"VACUUM cannot run inside the file's transaction block"},
	    {"VACUUM t;\nBEGIN;\nSELECT 1;\n", 2, 1, "BEGIN;",
		"BEGIN without a matching COMMIT"},
	    {"VACUUM t;\nBEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;\n", 3, 1, "BEGIN;",
		"BEGIN inside the transaction block"},
	    {"VACUUM t;\nROLLBACK;\n", 2, 1, "ROLLBACK;",
		"ROLLBACK in a migration file cannot be honoured"},
	    {"-- migdir:no-transaction\nSELECT 1;\nCOMMIT;\n", 3, 1, "COMMIT;",
		"COMMIT without a matching BEGIN"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = (struct sql_script *)&s;
		const struct mg_error *err;
		int rc;

		mg_error_clear();
		rc = sql_parse_script(&s, PATH, cases[i].text,
		    strlen(cases[i].text));
		if (rc != MG_ERROR)
			fail_msg("case %zu: rc %d for\n%s", i, rc,
			    cases[i].text);
		assert_null(s);
		err = mg_error_last();
		assert_int_equal(err->code, MG_ERROR);
		if (!strstr(err->message, cases[i].words))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
			    err->message, cases[i].words);
		assert_string_equal(err->file, PATH);
		if (err->line != cases[i].line || err->col != cases[i].col)
			fail_msg("case %zu: at %d:%d, want %d:%d", i, err->line,
			    err->col, cases[i].line, cases[i].col);
		assert_string_equal(err->src_line, cases[i].src_line);
	}
	mg_error_clear();
}

static void
test_sql_refuses_a_nul_byte_where_it_is(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		int line, col;
	} cases[] = {
	    {"SELECT 1;\0SELECT 2;", 19, 1, 10},
	    {"SELECT 1;\nSEL\0ECT 2;", 20, 2, 4},
	    {"\0", 1, 1, 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = NULL;

		mg_error_clear();
		assert_int_equal(sql_parse_script(&s, PATH, cases[i].text,
				     cases[i].len),
		    MG_ERROR);
		assert_null(s);
		assert_non_null(strstr(mg_error_last()->message, "NUL byte"));
		assert_string_equal(mg_error_last()->file, PATH);
		assert_int_equal(mg_error_last()->line, cases[i].line);
		assert_int_equal(mg_error_last()->col, cases[i].col);
	}
	mg_error_clear();
}

static void
test_sql_refuses_invalid_utf8_where_it_is(void **state)
{
	static const struct {
		const char *text;
		int line, col;
	} cases[] = {
	    /* found by fuzzing: the parse tree did not load, no locus */
	    {"ALTER TABLE \xff\xffx DROP COLUMN a;", 1, 13},
	    {"SELECT 1;\n-- caf\xe9\n", 2, 7},    /* LATIN1 */
	    {"SELECT '\xc3';", 1, 9},             /* cut short */
	    {"SELECT '\xc0\xaf';", 1, 9},         /* overlong */
	    {"SELECT '\xed\xa0\x80';", 1, 9},     /* surrogate */
	    {"SELECT '\xf4\x90\x80\x80';", 1, 9}, /* > U+10FFFF */
	    {"SELECT 'caf\xc3\xa9', '\xf0\x9f\x98'", 1, 18},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = NULL;

		mg_error_clear();
		assert_int_equal(sql_parse_script(&s, PATH, cases[i].text,
				     strlen(cases[i].text)),
		    MG_ERROR);
		assert_null(s);
		assert_non_null(
		    strstr(mg_error_last()->message, "invalid UTF-8"));
		assert_string_equal(mg_error_last()->file, PATH);
		assert_int_equal(mg_error_last()->line, cases[i].line);
		assert_int_equal(mg_error_last()->col, cases[i].col);
	}
	/* valid UTF-8 of every length goes through */
	mg_error_clear();
	{
		struct sql_script *s = NULL;
		const char *ok =
		    "SELECT 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80';";

		assert_int_equal(sql_parse_script(&s, PATH, ok, strlen(ok)), 0);
		sql_script_free(s);
	}
}

static void
test_sql_detects_statements_that_cannot_run_in_a_transaction(void **state)
{
	static const struct {
		const char *text;
		const char *what; /* reason, NULL: transactional */
		size_t reason_stmt;
	} cases[] = {
	    {"CREATE TABLE t (a int);\n"
	     "CREATE INDEX CONCURRENTLY i ON t (a);\n",
		"CREATE INDEX CONCURRENTLY", 1},
	    {"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);",
		"CREATE INDEX CONCURRENTLY", 0},
	    {"DROP INDEX CONCURRENTLY IF EXISTS i;", "DROP INDEX CONCURRENTLY",
		0},
	    {"REINDEX TABLE CONCURRENTLY t;", "REINDEX CONCURRENTLY", 0},
	    {"REINDEX (CONCURRENTLY) INDEX i;", "REINDEX CONCURRENTLY", 0},
	    {"REINDEX DATABASE app;", "REINDEX DATABASE", 0},
	    {"VACUUM t;", "VACUUM", 0},
	    {"VACUUM (ANALYZE, VERBOSE) t;", "VACUUM", 0},
	    {"SELECT 1;\nVACUUM FULL;", "VACUUM", 1},
	    {"CREATE DATABASE scratch;", "CREATE DATABASE", 0},
	    {"DROP DATABASE IF EXISTS scratch;", "DROP DATABASE", 0},
	    {"ALTER SYSTEM SET work_mem = '64MB';", "ALTER SYSTEM", 0},
	    {"ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;",
		"DETACH PARTITION CONCURRENTLY", 0},
	    {"CREATE TABLESPACE ts LOCATION '/x';", "CREATE TABLESPACE", 0},
	    {"CLUSTER;", "CLUSTER (all tables)", 0},
	    /* the same commands in their transactional forms */
	    {"CREATE INDEX i ON t (a);", NULL, 0},
	    {"DROP INDEX i;", NULL, 0},
	    {"REINDEX TABLE t;", NULL, 0},
	    {"ANALYZE t;", NULL, 0},
	    {"ANALYZE;", NULL, 0},
	    {"ALTER TABLE p DETACH PARTITION p1;", NULL, 0},
	    {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);", NULL, 0},
	    {"CLUSTER t USING i;", NULL, 0},
	    {"COPY t FROM '/tmp/data.csv';", NULL, 0},
	    {"SELECT 'CREATE INDEX CONCURRENTLY i ON t (a)';", NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);

		if (!cases[i].what) {
			if (!s->transactional)
				fail_msg("case %zu: not transactional (%s)", i,
				    s->reason);
			assert_null(s->reason);
			sql_script_free(s);
			continue;
		}
		if (s->transactional)
			fail_msg("case %zu: transactional", i);
		assert_string_equal(s->reason, cases[i].what);
		assert_int_equal(s->reason_stmt, cases[i].reason_stmt);
		assert_int_equal(s->stmts[s->reason_stmt].flags & SQL_NO_TX,
		    SQL_NO_TX);
		assert_string_equal(s->stmts[s->reason_stmt].what,
		    cases[i].what);
		/* every statement runs, in order, nothing merged */
		assert_int_equal(s->nrun, s->n);
		assert_int_equal(s->run[s->n - 1], s->n - 1);
		assert_int_equal(s->wrapped, 0);
		assert_int_equal(s->marked, 0);
		sql_script_free(s);
	}
}

static void
test_sql_no_transaction_marker_is_a_line_of_its_own(void **state)
{
	static const struct {
		const char *text;
		int marked;
	} cases[] = {
	    {"-- migdir:no-transaction\nCREATE TABLE t (a int);\n", 1},
	    {"CREATE TABLE t (a int);\n  --   migdir:no-transaction  \r\n", 1},
	    {"--migdir:no-transaction\nSELECT 1;", 1},
	    {"SELECT 1;\n\t-- migdir:no-transaction", 1},
	    {"-- migdir:no-transaction please\nSELECT 1;", 0},
	    {"SELECT 1; -- migdir:no-transaction\n", 0},
	    {"-- migdir:no-transactions\nSELECT 1;", 0},
	    {"/* migdir:no-transaction */\nSELECT 1;", 0},
	    {"-- MIGDIR:NO-TRANSACTION\nSELECT 1;", 0},
	    /* inside a statement it is the statement's text, not a marker */
	    {"CREATE FUNCTION f() RETURNS int AS $$\n"
	     "-- migdir:no-transaction\nSELECT 1\n$$ LANGUAGE sql;\n",
		0},
	    {"SELECT '\n-- migdir:no-transaction\n';\n", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);

		if (s->marked != cases[i].marked)
			fail_msg("case %zu: marked %d", i, s->marked);
		assert_int_equal(s->transactional, !cases[i].marked);
		if (cases[i].marked)
			assert_string_equal(s->reason,
			    "-- migdir:no-transaction");
		sql_script_free(s);
	}
}

static void
test_sql_marked_file_runs_its_own_blocks_verbatim(void **state)
{
	static const char text[] = "-- migdir:no-transaction\n"
				   "BEGIN ISOLATION LEVEL SERIALIZABLE;\n"
				   "UPDATE t SET a = 1;\n"
				   "COMMIT;\n"
				   "UPDATE t SET a = 2;\n";
	struct sql_script *s;

	(void)state;
	s = parse_ok(text);
	assert_int_equal(s->transactional, 0);
	assert_int_equal(s->n, 4);
	assert_int_equal(s->nrun, 4);
	assert_int_equal(s->wrapped, 0);
	assert_int_equal(s->whole, 0);
	assert_int_equal(s->stmts[0].flags, SQL_TX_BEGIN | SQL_TX_OPTIONS);
	assert_int_equal(s->stmts[0].line, 2);
	assert_ptr_equal(sql_script_stmt(s, 0), &s->stmts[0]);
	assert_ptr_equal(sql_script_stmt(s, 3), &s->stmts[3]);
	sql_script_free(s);
}

static void
test_sql_enum_value_used_later_forces_no_transaction(void **state)
{
	static const struct {
		const char *text;
		int transactional;
		size_t add_stmt; /* index of the ALTER TYPE */
	} cases[] = {
	    {"ALTER TYPE mood ADD VALUE 'meh';\n"
	     "INSERT INTO t (m) VALUES ('meh');\n",
		0, 0},
	    {"CREATE TABLE x (a int);\n"
	     "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'ok';\n"
	     "UPDATE t SET m = 'meh'::mood WHERE m = 'ok';\n",
		0, 1},
	    {"ALTER TYPE mood ADD VALUE 'meh';\n"
	     "ALTER TABLE t ALTER COLUMN m SET DEFAULT 'meh';\n",
		0, 0},
	    /* added, not used in this file: fine in a transaction */
	    {"ALTER TYPE mood ADD VALUE 'meh';\n"
	     "INSERT INTO t (m) VALUES ('ok');\n",
		1, 0},
	    /* used before it is added: not a use of the new value */
	    {"INSERT INTO t (m) VALUES ('meh');\n"
	     "ALTER TYPE mood ADD VALUE 'meh';\n",
		1, 1},
	    {"ALTER TYPE mood ADD VALUE 'meh';\n", 1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);

		assert_int_equal(s->stmts[cases[i].add_stmt].flags &
			SQL_ENUM_ADD,
		    SQL_ENUM_ADD);
		if (s->transactional != cases[i].transactional)
			fail_msg("case %zu: transactional %d", i,
			    s->transactional);
		if (!cases[i].transactional) {
			assert_string_equal(s->reason,
			    "ALTER TYPE ... ADD VALUE used later in the file");
			assert_int_equal(s->reason_stmt, cases[i].add_stmt);
			assert_int_equal(s->nrun, s->n);
		} else
			assert_null(s->reason);
		sql_script_free(s);
	}
}

static void
test_sql_enum_rename_is_not_an_added_value(void **state)
{
	struct sql_script *s;

	(void)state;
	s = parse_ok("ALTER TYPE mood RENAME VALUE 'a' TO 'b';\n"
		     "INSERT INTO t (m) VALUES ('b');\n");
	assert_int_equal(s->stmts[0].flags & SQL_ENUM_ADD, 0);
	assert_int_equal(s->transactional, 1);
	sql_script_free(s);
}

static void
test_sql_session_settings_are_flagged(void **state)
{
	static const struct {
		const char *text;
		unsigned flags; /* of the first statement */
		int session_set;
		const char *what;
	} cases[] = {
	    {"SET search_path = app, public;", SQL_SESSION_SET, 1, NULL},
	    {"SET TIME ZONE 'UTC';", SQL_SESSION_SET, 1, NULL},
	    {"RESET search_path;", SQL_SESSION_SET, 1, NULL},
	    {"RESET ALL;", SQL_SESSION_SET, 1, NULL},
	    {"SET SESSION statement_timeout = 0;", SQL_SESSION_SET, 1, NULL},
	    {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL "
	     "SERIALIZABLE;",
		SQL_SESSION_SET, 1, NULL},
	    {"SET LOCAL search_path = app;", SQL_NEEDS_TX, 0, "SET LOCAL"},
	    {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;", SQL_NEEDS_TX, 0,
		"SET TRANSACTION"},
	    {"LOCK TABLE t IN SHARE MODE;", SQL_NEEDS_TX, 0, "LOCK TABLE"},
	    {"SELECT 1;", 0, 0, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = parse_ok(cases[i].text);

		if (s->stmts[0].flags != cases[i].flags)
			fail_msg("case %zu: flags %#x, want %#x", i,
			    s->stmts[0].flags, cases[i].flags);
		assert_int_equal(s->session_set, cases[i].session_set);
		if (cases[i].what)
			assert_string_equal(s->stmts[0].what, cases[i].what);
		/* none of these changes how the file runs */
		assert_int_equal(s->transactional, 1);
		sql_script_free(s);
	}
}

static void
test_sql_syntax_error_returns_a_script_with_the_parsers_locus(void **state)
{
	/*
	 * What PostgreSQL 15's grammar rejects may be a newer server's
	 * syntax: the script still comes back, split by the scanner and
	 * shaped as usual, for the caller to run on such a server.
	 */
	static const struct {
		const char *text;
		int line, col;
		const char *message; /* the parser's message starts so */
		const char *src_line;
		size_t n, nrun;  /* statements split, and to run */
		size_t off, end; /* of the first one to run */
	} cases[] = {
	    /* the scanner cannot account for every byte: nothing to run */
	    {"SELEC 1;", 1, 1, "syntax error at or near \"SELEC\"", "SELEC 1;",
		0, 0, 0, 0},
	    {"-- c\nCREATE TABLE (a int);\n", 2, 14,
		"syntax error at or near \"(\"", "CREATE TABLE (a int);", 1, 1,
		5, 25},
	    /* the parser counts characters, the locus counts bytes */
	    {"SELECT 1;\nSELECT 'h\xc3\xa9\xc3\xa9' FROM;\n", 2, 20,
		"syntax error at or near \";\"",
		"SELECT 'h\xc3\xa9\xc3\xa9' FROM;", 2, 2, 0, 8},
	    {"SELECT 1 +", 1, 11, "syntax error at end of input", "SELECT 1 +",
		1, 1, 0, 10},
	    {"SELECT 1;\nSELECT 'open\n", 2, 8, "unterminated quoted string",
		"SELECT 'open", 0, 0, 0, 0},
	    {"\n\n  BEGIN; CREATE TABLE t (a int;\nCOMMIT;\n", 3, 31,
		"syntax error at or near \";\"",
		"  BEGIN; CREATE TABLE t (a int;", 0, 0, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = NULL;
		const struct sql_stmt *first;
		const struct mg_error *err;
		int rc;

		mg_error_clear();
		rc = sql_parse_script(&s, PATH, cases[i].text,
		    strlen(cases[i].text));
		assert_int_equal(rc, MG_ESQL);
		assert_non_null(s);
		assert_int_equal(s->parsed, 0);
		assert_non_null(s->parse_error);
		assert_int_equal(strncmp(s->parse_error, cases[i].message,
				     strlen(cases[i].message)),
		    0);
		if (s->parse_line != cases[i].line ||
		    s->parse_col != cases[i].col)
			fail_msg("case %zu: parse error at %d:%d, want %d:%d",
			    i, s->parse_line, s->parse_col, cases[i].line,
			    cases[i].col);
		if (s->n != cases[i].n || s->nrun != cases[i].nrun)
			fail_msg("case %zu: %zu statements, %zu to run", i,
			    s->n, s->nrun);
		if (s->nrun) {
			first = sql_script_stmt(s, 0);
			if (first->off != cases[i].off ||
			    first->off + first->len != cases[i].end)
				fail_msg("case %zu: first runs [%zu, %zu)", i,
				    first->off, first->off + first->len);
			assert_int_equal(s->transactional, 1);
		}
		err = mg_error_last();
		assert_int_equal(err->code, MG_ESQL);
		assert_string_equal(err->message, s->parse_error);
		assert_string_equal(err->file, PATH);
		assert_int_equal(err->line, cases[i].line);
		assert_int_equal(err->col, cases[i].col);
		assert_string_equal(err->src_line, cases[i].src_line);
		sql_script_free(s);
	}
	mg_error_clear();
}

static void
test_sql_unparsed_files_are_classified_by_their_statement_heads(void **state)
{
	/* each holds a syntax error (NEWER), so the scanner splits it */
	static const struct {
		const char *text;
		int rc;
		int transactional;
		const char *reason;
	} cases[] = {
	    {"CREATE TABLE t (a int) NEWER;\n"
	     "create index concurrently i on t (a);\n",
		MG_ESQL, 0, "CREATE INDEX CONCURRENTLY"},
	    {"VACUUM t NEWER;", MG_ESQL, 0, "VACUUM"},
	    /* the file's own BEGIN/END merged, as for parsed files */
	    {"BEGIN;\nCREATE TABLE t (a int) NEWER;\nEND;\n", MG_ESQL, 1, NULL},
	    {"BEGIN;\nCREATE TABLE t (a int) NEWER;\n", MG_ERROR, 0, NULL},
	    {"CREATE TABLE t (a int) NEWER;\nROLLBACK;\n", MG_ERROR, 0, NULL},
	    {"CREATE TABLE t (a int) NEWER;\nCOPY t FROM stdin;\n", MG_ERROR, 0,
		NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = NULL;
		int rc = sql_parse_script(&s, PATH, cases[i].text,
		    strlen(cases[i].text));

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, rc,
			    cases[i].rc);
		if (rc == MG_ESQL) {
			assert_int_equal(s->transactional,
			    cases[i].transactional);
			if (cases[i].reason)
				assert_string_equal(s->reason, cases[i].reason);
		} else
			assert_null(s);
		sql_script_free(s);
		mg_error_clear();
	}
}

static void
test_sql_char_to_byte_counts_utf8_characters(void **state)
{
	/* "h" "é" (2 bytes) "€" (3) "𝄞" (4) "!" */
	static const char text[] = "h\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e!";
	static const struct {
		int pos;
		size_t byte;
	} cases[] = {
	    {0, 0},
	    {1, 0},
	    {2, 1},
	    {3, 3},
	    {4, 6},
	    {5, 10},
	    {6, 11},
	    {7, 11},
	    {100, 11},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++)
		if (sql_char_to_byte(text, strlen(text), cases[i].pos) !=
		    cases[i].byte)
			fail_msg("position %d: byte %zu, want %zu",
			    cases[i].pos,
			    sql_char_to_byte(text, strlen(text), cases[i].pos),
			    cases[i].byte);
	/* ASCII: position n is byte n - 1 */
	assert_int_equal(sql_char_to_byte("SELECT 1", 8, 8), 7);
	/* never past the length given */
	assert_int_equal(sql_char_to_byte("SELECT 1", 3, 8), 3);
}

static void
test_sql_locate_gives_line_column_and_line_text(void **state)
{
	static const char text[] = "first\r\nsecond line\n\nlast";
	static const struct {
		size_t off;
		int line, col;
		const char *line_text;
	} cases[] = {
	    {0, 1, 1, "first"},
	    {4, 1, 5, "first"},
	    {5, 1, 6, "first"},
	    {7, 2, 1, "second line"},
	    {14, 2, 8, "second line"},
	    {19, 3, 1, ""},
	    {20, 4, 1, "last"},
	    {23, 4, 4, "last"},
	    {24, 4, 5, "last"},
	    {999, 4, 5, "last"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct buf b = BUF_INIT;
		int line = 0, col = 0;

		buf_puts(&b, "stale");
		sql_locate(text, strlen(text), cases[i].off, &line, &col, &b);
		if (line != cases[i].line || col != cases[i].col)
			fail_msg("offset %zu: %d:%d, want %d:%d", cases[i].off,
			    line, col, cases[i].line, cases[i].col);
		assert_string_equal(b.ptr, cases[i].line_text);
		buf_release(&b);
		/* the line text is optional */
		sql_locate(text, strlen(text), cases[i].off, &line, &col, NULL);
		assert_int_equal(line, cases[i].line);
	}
}

static void
test_sql_error_at_adds_the_locus_of_an_offset(void **state)
{
	static const char text[] = "SELECT 1;\n  UPDATE t SET a = 1;\n";
	struct sql_script *s;
	const struct mg_error *err;

	(void)state;
	s = parse_ok(text);
	mg_error_set(MG_ESQL, "column \"a\" does not exist");
	sql_error_at(s, s->stmts[1].off + 13);
	err = mg_error_last();
	assert_int_equal(err->code, MG_ESQL);
	assert_string_equal(err->message, "column \"a\" does not exist");
	assert_string_equal(err->file, PATH);
	assert_int_equal(err->line, 2);
	assert_int_equal(err->col, 16);
	assert_string_equal(err->src_line, "  UPDATE t SET a = 1;");
	sql_script_free(s);
	mg_error_clear();
}

/* Syntax of PostgreSQL 16-18 is told apart from plain syntax errors. */
static void
test_sql_newer_syntax_is_told_from_errors(void **state)
{
	static const struct {
		const char *text;
		int newer;
	} cases[] = {
	    {"SELECT * FROM (SELECT 1);", 1},
	    {"SELECT JSON_OBJECT('a': 1);", 1},
	    {"SELECT x IS JSON FROM t;", 1},
	    {"SELECT x IS NOT JSON FROM t;", 1},
	    {"ALTER TABLE t ADD CONSTRAINT c NOT NULL a;", 1},
	    {"MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE "
	     "RETURNING *;",
		1},
	    {"CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a) VIRTUAL);",
		1},
	    {"SELECT 1;\nCREATE TABLE t (a int;\nSELECT 2;", 0},
	    {"SELECT 'json_object' FROM (;", 0},
	    {"CREATE TABLE x (a int CONSTRAINT c NOT);", 0},
	    {"SELECT \"is\" json FROM t WHERE;", 0},
	    {"SELECT 1\nMERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN "
	     "DELETE;",
		0},
	    {"SELECT a FROM t WHERE x = = 1 AND j IS JSON;", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct sql_script *s = NULL;
		const char *t = cases[i].text;

		mg_error_clear();
		assert_int_equal(sql_parse_script(&s, PATH, t, strlen(t)),
		    MG_ESQL);
		if (sql_newer_syntax(s) != cases[i].newer)
			fail_msg("newer %d, want %d: %s", !cases[i].newer,
			    cases[i].newer, t);
		sql_script_free(s);
	}
	mg_error_clear();
}

static void
test_sql_parser_is_postgresql_15(void **state)
{
	(void)state;
	assert_in_range(sql_parser_version(), 150000, 159999);
	sql_script_free(NULL); /* a no-op */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_sql_statements_keep_byte_offsets_lines_and_columns),
	    cmocka_unit_test(
		test_sql_dollar_quoted_bodies_are_single_statements),
	    cmocka_unit_test(
		test_sql_empty_file_has_no_statements_and_is_transactional),
	    cmocka_unit_test(
		test_sql_whole_file_wrapper_is_merged_into_migdirs_transaction),
	    cmocka_unit_test(test_sql_inner_blocks_are_merged_too),
	    cmocka_unit_test(test_sql_piecewise_parse_keeps_every_statement),
	    cmocka_unit_test(test_sql_refuses_what_can_never_run_with_a_locus),
	    cmocka_unit_test(test_sql_refuses_a_nul_byte_where_it_is),
	    cmocka_unit_test(test_sql_refuses_invalid_utf8_where_it_is),
	    cmocka_unit_test(
		test_sql_detects_statements_that_cannot_run_in_a_transaction),
	    cmocka_unit_test(
		test_sql_no_transaction_marker_is_a_line_of_its_own),
	    cmocka_unit_test(test_sql_marked_file_runs_its_own_blocks_verbatim),
	    cmocka_unit_test(
		test_sql_enum_value_used_later_forces_no_transaction),
	    cmocka_unit_test(test_sql_enum_rename_is_not_an_added_value),
	    cmocka_unit_test(test_sql_session_settings_are_flagged),
	    cmocka_unit_test(
		test_sql_syntax_error_returns_a_script_with_the_parsers_locus),
	    cmocka_unit_test(
		test_sql_unparsed_files_are_classified_by_their_statement_heads),
	    cmocka_unit_test(test_sql_char_to_byte_counts_utf8_characters),
	    cmocka_unit_test(test_sql_locate_gives_line_column_and_line_text),
	    cmocka_unit_test(test_sql_error_at_adds_the_locus_of_an_offset),
	    cmocka_unit_test(test_sql_newer_syntax_is_told_from_errors),
	    cmocka_unit_test(test_sql_parser_is_postgresql_15),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
