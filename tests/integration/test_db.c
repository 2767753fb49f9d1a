/*
 * test_db.c - db.h against a real PostgreSQL: connecting, the bookkeeping
 * tables, the migration lock and db_run's pipeline.
 *
 * The group setup starts one throwaway cluster; each test gets its own
 * database (created in the fixture's setup, dropped in its teardown, which
 * also checks that no migdir session is left behind) and calls db.h
 * directly.  What the server holds afterwards is read back through psql,
 * never through db.c itself, so a test cannot agree with the code it
 * checks by sharing its mistakes.  Nothing is mocked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

#include "buf.h"
#include "db.h"
#include "error.h"
#include "rows.h"
#include "banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SUM1          "1111111111111111111111111111111111111111"
#define SUM2          "2222222222222222222222222222222222222222"
#define SUM3          "3333333333333333333333333333333333333333"
#define RBSUM         "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

#define WHO           "tester@box"
#define ENVIRONMENT   "test"
#define APP_VERSION   "0.1.0-test"

/* One test's database and a connection to it. */
struct fx {
	char *name;         /* database name */
	char *url;          /* its URL */
	struct db *db;      /* connected; bookkeeping in public */
	struct db *more[4]; /* other connections a test opened */
};

/* What a db_run callback saw. */
struct seen {
	size_t idx[400]; /* indexes, in the order the callback got them */
	size_t n;
	long stop_at; /* return -1 for this index; -1 never */
};

static int
on_unit(void *payload, struct db_unit *u, size_t index)
{
	struct seen *s = payload;

	assert_int_equal(u->done, 1);
	assert_true(s->n < ARRAY_SIZE(s->idx));
	s->idx[s->n++] = index;
	return (long)index == s->stop_at ? -1 : 0;
}

/* ------------------------------------------------------------ fixture --- */

static struct db_target
target(const char *url, const char *schema, const char *table)
{
	struct db_target t;

	memset(&t, 0, sizeof(t));
	t.conninfo = url;
	t.schema = schema;
	t.table = table;
	t.environment = ENVIRONMENT;
	t.who = WHO;
	t.app_version = APP_VERSION;
	return t;
}

/* Connect to url with the bookkeeping in schema.table; fails the test. */
static struct db *
connect_to(const char *url, const char *schema, const char *table)
{
	struct db_target t = target(url, schema, table);
	struct db *db = NULL;

	if (db_connect(&db, &t) < 0)
		fail_msg("db_connect: %s", mg_error_last()->message);
	assert_non_null(db);
	return db;
}

/* Connect as t says; the teardown closes what the test leaves open. */
static struct db *
fx_connect(struct fx *f, const struct db_target *t)
{
	struct db *db = NULL;
	size_t i;

	if (db_connect(&db, t) < 0)
		fail_msg("db_connect: %s", mg_error_last()->message);
	assert_non_null(db);
	for (i = 0; i < ARRAY_SIZE(f->more) && f->more[i]; i++)
		;
	assert_true(i < ARRAY_SIZE(f->more));
	f->more[i] = db;
	return db;
}

/* Connect to the test's database with the bookkeeping in schema.table. */
static struct db *
fx_connect_to(struct fx *f, const char *schema, const char *table)
{
	struct db_target t = target(f->url, schema, table);

	return fx_connect(f, &t);
}

/* Close a connection fx_connect opened (or the fixture's own). */
static void
fx_close(struct fx *f, struct db *db)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f->more); i++)
		if (f->more[i] == db)
			f->more[i] = NULL;
	if (f->db == db)
		f->db = NULL;
	db_close(db);
}

static int
fx_setup(void **state)
{
	static int counter;
	struct fx *f;

	if (!sc_cluster) {
		*state = NULL;
		return 0; /* each test fails, or skips when allowed */
	}
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->name = tu_asprintf("tdb_%d_%d", (int)getpid(), counter++);
	f->url = pgcluster_createdb(sc_cluster, f->name);
	assert_non_null(f->url);
	f->db = connect_to(f->url, "public", "schema_versions");
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	size_t i;
	int left;

	if (!f)
		return 0;
	db_close(f->db);
	for (i = 0; i < ARRAY_SIZE(f->more); i++)
		db_close(f->more[i]);
	left = pgcluster_wait_sessions(sc_cluster, f->name, 0, 5000);
	pgcluster_dropdb(sc_cluster, f->name);
	free(f->name);
	free(f->url);
	free(f);
	if (left != 0) {
		fprintf(stderr, "test_db: %d migdir session(s) left\n", left);
		return -1;
	}
	return 0;
}

static struct fx *
fx(void **state)
{
	sc_need_cluster(); /* no cluster: fails, or skips when allowed */
	return *state;
}

/* Run SQL in the test's database through psql; its -At output. */
static char *psql(struct fx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
psql(struct fx *f, const char *fmt, ...)
{
	va_list ap;
	char *sql, *out;

	va_start(ap, fmt);
	sql = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = pgcluster_psql(sc_cluster, f->name, sql);
	if (!out)
		fail_msg("psql failed: %s", sql);
	free(sql);
	return out;
}

/* Run SQL whose output does not matter. */
static void exec_sql(struct fx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
exec_sql(struct fx *f, const char *fmt, ...)
{
	va_list ap;
	char *sql, *out;

	va_start(ap, fmt);
	sql = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = pgcluster_psql(sc_cluster, f->name, sql);
	if (!out)
		fail_msg("psql failed: %s", sql);
	free(out);
	free(sql);
}

/* Fail unless psql's -At output of the query is exactly want. */
static void expect_sql(struct fx *f, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
expect_sql(struct fx *f, const char *want, const char *fmt, ...)
{
	va_list ap;
	char *sql, *out;

	va_start(ap, fmt);
	sql = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = pgcluster_psql(sc_cluster, f->name, sql);
	if (!out)
		fail_msg("psql failed: %s", sql);
	if (strcmp(out, want))
		fail_msg("%s\n--- got:\n%s\n--- want:\n%s", sql, out, want);
	free(out);
	free(sql);
}

/* Probe, then ensure; fails the test on an error. */
static void
ensure(struct db *db, struct buf *report)
{
	struct db_probe p;

	assert_int_equal(db_probe(db, &p), 0);
	if (db_ensure(db, &p, report) < 0)
		fail_msg("db_ensure: %s", mg_error_last()->message);
}

static void
unit_init(struct db_unit *u, const char *version, const char *const *stmts,
    size_t n)
{
	memset(u, 0, sizeof(*u));
	u->version = version;
	u->action = DB_APPLY;
	u->transactional = 1;
	u->stmts = stmts;
	u->nstmts = n;
	u->checksum = SUM1;
}

static void
units_release(struct db_unit *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		db_failure_release(&u[i].fail);
}

static long long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000LL +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ------------------------------------------------------------ connect --- */

static void
test_db_connect_failure_never_shows_the_password(void **state)
{
	/*
	 * libpq quotes a malformed connection string (or a bad token of
	 * it) back in its message; a role that does not exist gets the
	 * server's own error.
	 */
	static const struct {
		const char *conninfo; /* %1$s socket dir, %2$d port, %3$s db */
		const char *message;  /* the primary message contains this */
	} cases[] = {
	    {"postgresql://u:s3cr3t@/%3$s?host=%1$s&port=%2$d",
		"role \"u\" does not exist"},
	    {"postgresql://u:s3cr3t@127.0.0.1:1/db", "Connection refused"},
	    {"postgresql://u:s3cr3t@[::1/db", "IPv6 host address"},
	    {"postgresql://u:s3cr3t@h%%/db", "invalid percent-encoded token"},
	    {"postgresql://u:s3%%zzcr3t@h/db", "invalid percent-encoded token"},
	    {"postgresql://u:s3cr3t@h/db?bogus=1",
		"invalid URI query parameter"},
	    {"host=%1$s port=%2$d dbname=%3$s user=u password=s3cr3t",
		"role \"u\" does not exist"},
	    {"host=h password='s3cr3t", "unterminated quoted string"},
	    {"host=h password = s3cr3t bogus", "missing \"=\""},
	    /* libpq splits a password with a blank: half of it is quoted */
	    {"host=h password=s3 cr3t dbname=x", "missing \"=\" after"},
	};
	struct fx *f = fx(state);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *conninfo = tu_asprintf(cases[i].conninfo,
		    sc_cluster->sockdir, sc_cluster->port, f->name);
		struct db_target t =
		    target(conninfo, "public", "schema_versions");
		const struct mg_error *e;
		struct buf desc = BUF_INIT;
		struct db *db = NULL;

		mg_error_clear();
		assert_int_equal(db_connect(&db, &t), MG_ERROR);
		assert_null(db);
		e = mg_error_last();
		assert_int_equal(e->code, MG_ERROR);
		assert_non_null(e->message);
		if (strncmp(e->message, "could not connect to ", 21) ||
		    !strstr(e->message, cases[i].message))
			fail_msg("case %zu: unexpected message: %s", i,
			    e->message);
		if (strstr(e->message, "cr3t") ||
		    (e->detail && strstr(e->detail, "cr3t")) ||
		    (e->hint && strstr(e->hint, "cr3t")))
			fail_msg("case %zu shows the password: %s / %s / %s", i,
			    e->message, e->detail ? e->detail : "",
			    e->hint ? e->hint : "");
		assert_non_null(e->hint);
		db_describe_conninfo(&desc, conninfo);
		if (strstr(desc.ptr, "s3cr3t"))
			fail_msg("case %zu: description shows the password: "
				 "%s",
			    i, desc.ptr);
		buf_release(&desc);
		free(conninfo);
	}
}

static void
test_db_describe_conninfo_fills_defaults_and_hides_the_password(void **state)
{
	static const struct {
		const char *conninfo;
		const char *want;
	} cases[] = {
	    {"postgresql://u:s3cr3t@db.example.com:6543/app",
		"u@db.example.com:6543/app"},
	    {"postgres://ann:s3cr3t@db.example.com/app?sslmode=disable",
		"ann@db.example.com:5432/app"},
	    {"host=h port=1 dbname=d user=x password=s3cr3t", "x@h:1/d"},
	    {"user=bob password='s3 cr3t' host=/run/pg dbname=crm",
		"bob@/run/pg:5432/crm"},
	    {"host=h password='s3cr3t", "(unparsable connection string)"},
	    {"postgresql://u:s3cr3t@[::1/db", "(unparsable connection string)"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf b = BUF_INIT;

		buf_puts(&b, "prefix ");
		db_describe_conninfo(&b, cases[i].conninfo);
		if (strcmp(b.ptr + 7, cases[i].want) ||
		    strncmp(b.ptr, "prefix ", 7))
			fail_msg("%s\n got \"%s\"\nwant \"prefix %s\"",
			    cases[i].conninfo, b.ptr, cases[i].want);
		buf_release(&b);
	}
}

static void
test_db_connect_reports_server_display_and_location(void **state)
{
	struct fx *f = fx(state);
	char *num = psql(f, "SHOW server_version_num");
	char *want;

	assert_int_equal(db_server_version(f->db), atoi(num));
	assert_true(db_server_version(f->db) >= 120000);
	want = tu_asprintf("postgres@%s:%d/%s", sc_cluster->sockdir,
	    sc_cluster->port, f->name);
	assert_string_equal(db_display(f->db), want);
	free(want);
	want = tu_asprintf("%s:%d/%s", sc_cluster->sockdir, sc_cluster->port,
	    f->name);
	assert_string_equal(db_location(f->db), want);
	free(want);
	free(num);
	expect_sql(f, "1",
	    "SELECT count(*) FROM pg_stat_activity "
	    "WHERE datname = current_database() "
	    "AND application_name = 'migdir'");
}

static void
test_db_connect_sets_the_session_defaults(void **state)
{
	static const char *const stmts[] = {
	    "CREATE TABLE settings AS SELECT "
	    "current_setting('lock_timeout') AS lt, "
	    "current_setting('statement_timeout') AS st, "
	    "current_setting('application_name') AS app, "
	    "current_setting('client_encoding') AS enc, "
	    "current_setting('work_mem') AS wm",
	};
	struct fx *f = fx(state);
	char *url = tu_asprintf("%s&options=-c%%20work_mem%%3D7MB", f->url);
	struct db_target t = target(url, "public", "schema_versions");
	struct db_unit u;
	struct db *db = NULL;

	t.lock_timeout = "1234ms";
	t.statement_timeout = "5min";
	db = fx_connect(f, &t);
	ensure(db, NULL);
	unit_init(&u, "20230101_settings", stmts, ARRAY_SIZE(stmts));
	assert_int_equal(db_run(db, &u, 1, NULL, NULL), 0);
	fx_close(f, db);
	/* the URL's own options are kept beside migdir's */
	expect_sql(f, "1234ms|5min|migdir|UTF8|7MB",
	    "SELECT lt, st, app, enc, wm FROM settings");
	free(url);
}

/* -------------------------------------------------------- bookkeeping --- */

static void
test_db_probe_finds_nothing_in_an_empty_database(void **state)
{
	struct fx *f = fx(state);
	struct db_probe p;
	struct db *other;
	struct rows rows;

	memset(&p, 0xff, sizeof(p));
	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(p.schema_exists, 1); /* public */
	assert_int_equal(p.table_exists, 0);
	assert_int_equal(p.history_exists, 0);
	assert_int_equal(p.has_unique, 0);
	assert_int_equal(p.columns, 0);
	assert_int_equal(db_read_rows(f->db, &p, &rows), 0);
	assert_int_equal(rows.n, 0);
	rows_release(&rows);

	other = fx_connect_to(f, "migdir", "schema_versions");
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(db_probe(other, &p), 0);
	assert_int_equal(p.schema_exists, 0);
	assert_int_equal(p.table_exists, 0);
	assert_int_equal(p.history_exists, 0);
	assert_int_equal(p.has_unique, 0);
	assert_int_equal(p.columns, 0);
	fx_close(f, other);
	/* probing wrote nothing */
	expect_sql(f, "0",
	    "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
	    "ON n.oid = c.relnamespace WHERE n.nspname = 'public'");
}

static void
test_db_ensure_creates_the_table_and_its_history(void **state)
{
	struct fx *f = fx(state);
	struct buf report = BUF_INIT;
	struct db_probe p;

	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(db_ensure(f->db, &p, &report), 0);
	assert_string_equal(report.ptr,
	    "created table \"public\".\"schema_versions\"\n"
	    "created table \"public\".\"schema_versions_history\" "
	    "(run history)\n");
	buf_release(&report);

	/* the seed's DDL, then migdir's columns */
	expect_sql(f,
	    "id|integer|NO|nextval('schema_versions_id_seq'::regclass)\n"
	    "version|text|NO|\n"
	    "applied_at|timestamp with time zone|YES|now()\n"
	    "description|text|YES|\n"
	    "is_active|boolean|YES|true\n"
	    "rolled_back_at|timestamp with time zone|YES|\n"
	    "checksum|text|YES|\n"
	    "rollback_checksum|text|YES|\n"
	    "applied_by|text|YES|\n"
	    "duration_ms|bigint|YES|\n"
	    "migdir_version|text|YES|",
	    "SELECT column_name, data_type, is_nullable, column_default "
	    "FROM information_schema.columns WHERE table_schema = 'public' "
	    "AND table_name = 'schema_versions' ORDER BY ordinal_position");
	expect_sql(f,
	    "CREATE UNIQUE INDEX schema_versions_pkey ON "
	    "public.schema_versions USING btree (id)\n"
	    "CREATE UNIQUE INDEX schema_versions_version_key ON "
	    "public.schema_versions USING btree (version)",
	    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' "
	    "AND tablename = 'schema_versions' ORDER BY indexname");
	expect_sql(f,
	    "id|bigint|NO\n"
	    "version|text|NO\n"
	    "action|text|NO\n"
	    "success|boolean|NO\n"
	    "at|timestamp with time zone|NO\n"
	    "by_user|text|YES\n"
	    "db_user|text|NO\n"
	    "environment|text|YES\n"
	    "checksum|text|YES\n"
	    "duration_ms|bigint|YES\n"
	    "sqlstate|text|YES\n"
	    "message|text|YES\n"
	    "statement|text|YES\n"
	    "location|text|YES\n"
	    "old_row|jsonb|YES\n"
	    "migdir_version|text|YES",
	    "SELECT column_name, data_type, is_nullable "
	    "FROM information_schema.columns WHERE table_schema = 'public' "
	    "AND table_name = 'schema_versions_history' "
	    "ORDER BY ordinal_position");
	expect_sql(f, "schema_versions_history_version_idx",
	    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
	    "AND tablename = 'schema_versions_history' "
	    "AND indexdef LIKE '%%(version, at)' ORDER BY indexname");

	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(p.schema_exists, 1);
	assert_int_equal(p.table_exists, 1);
	assert_int_equal(p.history_exists, 1);
	assert_int_equal(p.has_unique, 1);
	assert_int_equal(p.columns, DB_COL_ALL);
}

static void
test_db_ensure_is_idempotent(void **state)
{
	static const char *const dump =
	    "SELECT string_agg(table_name || '.' || column_name, ',' "
	    "ORDER BY table_name, ordinal_position) "
	    "FROM information_schema.columns WHERE table_schema = 'public'";
	struct fx *f = fx(state);
	struct buf report = BUF_INIT;
	struct db_probe stale, p;
	char *before, *after;

	assert_int_equal(db_probe(f->db, &stale), 0);
	assert_int_equal(db_ensure(f->db, &stale, NULL), 0);
	exec_sql(f,
	    "INSERT INTO schema_versions (version) VALUES ('20230101_a')");
	before = psql(f, "%s", dump);

	/* a fresh probe: nothing to do, nothing reported */
	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(db_ensure(f->db, &p, &report), 0);
	assert_string_equal(report.ptr, "");
	/* a stale one (another migdir got there first): still harmless */
	assert_int_equal(db_ensure(f->db, &stale, NULL), 0);

	after = psql(f, "%s", dump);
	assert_string_equal(after, before);
	expect_sql(f, "1|20230101_a|t",
	    "SELECT id, version, is_active FROM schema_versions");
	expect_sql(f, "2",
	    "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' "
	    "AND tablename = 'schema_versions'");
	buf_release(&report);
	free(before);
	free(after);
}

static void
test_db_ensure_adds_missing_columns_and_keeps_every_row(void **state)
{
	struct fx *f = fx(state);
	struct buf report = BUF_INIT;
	struct db_probe p;
	struct rows rows;

	exec_sql(f,
	    "CREATE TABLE schema_versions (\n"
	    "  id SERIAL PRIMARY KEY,\n"
	    "  version TEXT NOT NULL UNIQUE,\n"
	    "  applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n"
	    ");\n"
	    "INSERT INTO schema_versions (version, applied_at) VALUES\n"
	    " ('20230101_a', '2023-01-01 10:00:00+00'),\n"
	    " ('20230102_b', '2023-01-02 10:00:00+00'),\n"
	    " ('20230103_c', NULL);\n");
	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(p.table_exists, 1);
	assert_int_equal(p.history_exists, 0);
	assert_int_equal(p.has_unique, 1);
	assert_int_equal(p.columns, DB_COL_APPLIED_AT);

	assert_int_equal(db_ensure(f->db, &p, &report), 0);
	assert_string_equal(report.ptr,
	    "added columns description, is_active, rolled_back_at, "
	    "checksum, rollback_checksum, applied_by, duration_ms, "
	    "migdir_version to \"public\".\"schema_versions\"\n"
	    "created table \"public\".\"schema_versions_history\" "
	    "(run history)\n");
	buf_release(&report);

	expect_sql(f,
	    "1|20230101_a|1672567200|t||\n"
	    "2|20230102_b|1672653600|t||\n"
	    "3|20230103_c||t||",
	    "SELECT id, version, extract(epoch FROM applied_at)::bigint, "
	    "is_active, rolled_back_at, checksum FROM schema_versions "
	    "ORDER BY id");

	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(p.columns, DB_COL_ALL);
	assert_int_equal(p.history_exists, 1);
	assert_int_equal(db_read_rows(f->db, &p, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.v[0].version, "20230101_a");
	assert_int_equal(rows.v[0].active, 1);
	assert_true(rows.v[0].applied_at == 1672567200000000LL);
	assert_string_equal(rows.v[2].version, "20230103_c");
	assert_int_equal(rows.v[2].active, 1);
	assert_true(rows.v[2].applied_at == 0);
	assert_null(rows.v[2].checksum);
	rows_release(&rows);
}

static void
test_db_ensure_adds_a_unique_index_when_versions_are_distinct(void **state)
{
	/* Only a plain unique index on (version) lets the upsert work. */
	static const struct {
		const char *extra; /* index made by hand, or "" */
		int has_unique;    /* what db_probe must say of it */
	} cases[] = {
	    {"", 0},
	    {"CREATE UNIQUE INDEX pair ON schema_versions (version, id);", 0},
	    {"CREATE UNIQUE INDEX part ON schema_versions (version) "
	     "WHERE is_active;",
		0},
	    {"CREATE INDEX plain ON schema_versions (version);", 0},
	    {"CREATE UNIQUE INDEX uniq ON schema_versions (version);", 1},
	};
	static const char *const stmts[] = {"SELECT 1"};
	struct fx *f = fx(state);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf report = BUF_INIT;
		struct db_probe p;
		struct db_unit u;
		char *want;

		exec_sql(f,
		    "DROP TABLE IF EXISTS schema_versions_history;\n"
		    "DROP TABLE IF EXISTS schema_versions;\n"
		    "CREATE TABLE schema_versions (\n"
		    "  id SERIAL PRIMARY KEY,\n"
		    "  version TEXT NOT NULL,\n"
		    "  applied_at TIMESTAMP WITH TIME ZONE "
		    "DEFAULT NOW(),\n"
		    "  description TEXT,\n"
		    "  is_active BOOLEAN DEFAULT TRUE,\n"
		    "  rolled_back_at TIMESTAMP WITH TIME ZONE\n"
		    ");\n"
		    "%s\n"
		    "INSERT INTO schema_versions (version) VALUES\n"
		    " ('20230101_a'), ('20230102_b');\n",
		    cases[i].extra);
		assert_int_equal(db_probe(f->db, &p), 0);
		assert_int_equal(p.columns,
		    DB_COL_APPLIED_AT | DB_COL_DESCRIPTION | DB_COL_IS_ACTIVE |
			DB_COL_ROLLED_BACK_AT);
		if (p.has_unique != cases[i].has_unique)
			fail_msg("case %zu: has_unique %d", i, p.has_unique);
		assert_int_equal(db_ensure(f->db, &p, &report), 0);
		want = tu_asprintf("%s"
				   "added columns checksum, rollback_checksum, "
				   "applied_by, duration_ms, migdir_version to "
				   "\"public\".\"schema_versions\"\n"
				   "created table "
				   "\"public\".\"schema_versions_history\" "
				   "(run history)\n",
		    cases[i].has_unique ? ""
					: "added a unique index on "
					  "\"public\".\"schema_versions\" "
					  "(version)\n");
		assert_string_equal(report.ptr, want);
		free(want);
		buf_release(&report);
		assert_int_equal(db_probe(f->db, &p), 0);
		assert_int_equal(p.has_unique, 1);

		/* the upsert finds the row instead of adding a second */
		unit_init(&u, "20230101_a", stmts, 1);
		u.checksum = SUM2;
		assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), 0);
		expect_sql(f,
		    "20230101_a|2222222222222222222222222222222222222222\n"
		    "20230102_b|",
		    "SELECT version, checksum FROM schema_versions "
		    "ORDER BY id");
	}
}

static void
test_db_ensure_refuses_duplicate_versions_and_names_them(void **state)
{
	struct fx *f = fx(state);
	struct buf report = BUF_INIT;
	const struct mg_error *e;
	struct db_probe p;

	exec_sql(f,
	    "CREATE TABLE schema_versions (\n"
	    "  id SERIAL PRIMARY KEY,\n"
	    "  version TEXT NOT NULL,\n"
	    "  applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()\n"
	    ");\n"
	    "INSERT INTO schema_versions (version) VALUES\n"
	    " ('20230102_b'), ('20230101_a'), ('20230103_c'),\n"
	    " ('20230101_a'), ('20230102_b'), ('20230102_b');\n");
	/* the probe that every command makes refuses them first */
	mg_error_clear();
	assert_int_equal(db_probe(f->db, &p), MG_ERROR);
	e = mg_error_last();
	assert_string_equal(e->message,
	    "\"public\".\"schema_versions\" holds versions in more than "
	    "one row: 20230101_a (2 rows), 20230102_b (3 rows)");
	assert_non_null(e->hint);
	/* and db_ensure, given a probe of the table, still would */
	memset(&p, 0, sizeof(p));
	p.schema_exists = p.table_exists = 1;
	p.columns = DB_COL_APPLIED_AT;
	mg_error_clear();
	assert_int_equal(db_ensure(f->db, &p, &report), MG_ERROR);
	e = mg_error_last();
	assert_string_equal(e->message,
	    "\"public\".\"schema_versions\" holds some versions twice "
	    "(\"20230101_a\", \"20230102_b\"): it cannot get the unique "
	    "index migdir needs");
	assert_non_null(e->hint);
	assert_string_equal(report.ptr, "");
	buf_release(&report);
	/* nothing was changed */
	expect_sql(f, "id,version,applied_at",
	    "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
	    "FROM information_schema.columns "
	    "WHERE table_name = 'schema_versions'");
	expect_sql(f, "t|6|1",
	    "SELECT to_regclass('public.schema_versions_history') IS NULL, "
	    "(SELECT count(*) FROM schema_versions), "
	    "(SELECT count(*) FROM pg_indexes "
	    " WHERE tablename = 'schema_versions')");
}

static void
test_db_read_rows_returns_each_column(void **state)
{
	struct fx *f = fx(state);
	const struct row *r;
	struct db_probe p;
	struct rows rows;

	ensure(f->db, NULL);
	exec_sql(f,
	    "INSERT INTO schema_versions (version, applied_at, "
	    "description, is_active, rolled_back_at, checksum, "
	    "rollback_checksum, applied_by, duration_ms) VALUES\n"
	    " ('20230601_b', '2023-06-01 12:00:00+00', 'bee', true, "
	    "NULL, 'c1', 'r1', 'ann@h', 42),\n"
	    " ('202306011200_c', NULL, NULL, NULL, NULL, NULL, NULL, "
	    "NULL, 0),\n"
	    " ('20230501_a', '2023-05-01 00:00:00.25+00', NULL, false, "
	    "'2023-05-02 00:00:00+00', NULL, NULL, NULL, NULL);\n");
	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(db_read_rows(f->db, &p, &rows), 0);
	assert_int_equal(rows.n, 3);
	/* in run order, not in insertion order */
	assert_string_equal(rows.v[0].version, "20230501_a");
	assert_string_equal(rows.v[1].version, "20230601_b");
	assert_string_equal(rows.v[2].version, "202306011200_c");

	r = rows_find(&rows, "20230501_a");
	assert_ptr_equal(r, &rows.v[0]);
	assert_int_equal(r->active, 0);
	assert_null(r->checksum);
	assert_null(r->rollback_checksum);
	assert_true(r->applied_at == 1682899200250000LL);
	assert_true(r->rolled_back_at == 1682985600000000LL);
	assert_null(r->applied_by);
	assert_null(r->description);
	assert_true(r->duration_ms == -1);

	r = &rows.v[1];
	assert_int_equal(r->active, 1);
	assert_string_equal(r->checksum, "c1");
	assert_string_equal(r->rollback_checksum, "r1");
	assert_true(r->applied_at == 1685620800000000LL);
	assert_true(r->rolled_back_at == 0);
	assert_string_equal(r->applied_by, "ann@h");
	assert_string_equal(r->description, "bee");
	assert_true(r->duration_ms == 42);

	r = &rows.v[2];
	assert_int_equal(r->active, 1); /* NULL counts as the default */
	assert_true(r->applied_at == 0);
	assert_true(r->duration_ms == 0);
	assert_null(rows_find(&rows, "20230502_x"));
	rows_release(&rows);
}

static void
test_db_quotes_odd_schema_and_table_names(void **state)
{
	static const char *const stmts[] = {"CREATE TABLE odd_t ()"};
	struct fx *f = fx(state);
	struct buf report = BUF_INIT;
	struct db_probe p;
	struct db_unit u;
	struct rows rows;
	struct db *db;

	db = fx_connect_to(f, "mig \"dir\" x", "schema versions; --\"");
	assert_int_equal(db_probe(db, &p), 0);
	assert_int_equal(p.schema_exists, 0);
	assert_int_equal(db_ensure(db, &p, &report), 0);
	assert_string_equal(report.ptr,
	    "created schema \"mig \"\"dir\"\" x\"\n"
	    "created table \"mig \"\"dir\"\" x\".\"schema versions; --\"\"\"\n"
	    "created table "
	    "\"mig \"\"dir\"\" x\".\"schema versions; --\"\"_history\" "
	    "(run history)\n");
	buf_release(&report);
	assert_int_equal(db_probe(db, &p), 0);
	assert_int_equal(p.schema_exists, 1);
	assert_int_equal(p.table_exists, 1);
	assert_int_equal(p.history_exists, 1);
	assert_int_equal(p.has_unique, 1);
	assert_int_equal(p.columns, DB_COL_ALL);

	unit_init(&u, "20230101_odd", stmts, 1);
	assert_int_equal(db_run(db, &u, 1, NULL, NULL), 0);
	assert_int_equal(db_lock(db, 0), 0);
	assert_int_equal(db_read_rows(db, &p, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.v[0].version, "20230101_odd");
	rows_release(&rows);
	u.fail.sqlstate = tu_asprintf("XX000");
	u.fail.message = tu_asprintf("made up");
	assert_int_equal(db_record_failure(db, &u, "SELECT 1", "x.sql:1:1"), 0);
	db_failure_release(&u.fail);
	fx_close(f, db);

	expect_sql(f, "20230101_odd|t",
	    "SELECT version, is_active "
	    "FROM \"mig \"\"dir\"\" x\".\"schema versions; --\"\"\"");
	expect_sql(f, "apply|t\napply|f",
	    "SELECT action, success FROM "
	    "\"mig \"\"dir\"\" x\".\"schema versions; --\"\"_history\" "
	    "ORDER BY id");
	expect_sql(f,
	    "schema versions; --\"\n"
	    "schema versions; --\"_history",
	    "SELECT tablename FROM pg_tables "
	    "WHERE schemaname = 'mig \"dir\" x' ORDER BY tablename");
	expect_sql(f, "t",
	    "SELECT to_regclass('public.schema_versions') "
	    "IS NULL");
}

static void
test_db_clips_long_names_on_a_character_boundary(void **state)
{
	/*
	 * 61 bytes: the history table's name keeps 54 of them and its index
	 * 40 of those, either of which would end in half an "é".
	 */
	struct fx *f = fx(state);
	struct buf table = BUF_INIT, want = BUF_INIT;
	struct db_probe p;
	struct db *db;
	int i;

	buf_putc(&table, 'a');
	for (i = 0; i < 30; i++)
		buf_puts(&table, "é");
	db = fx_connect_to(f, "public", table.ptr);
	assert_int_equal(db_probe(db, &p), 0);
	assert_int_equal(db_ensure(db, &p, NULL), 0);
	assert_int_equal(db_probe(db, &p), 0);
	assert_int_equal(p.table_exists, 1);
	assert_int_equal(p.history_exists, 1);
	assert_int_equal(p.columns, DB_COL_ALL);

	buf_printf(&want, "%s\n%.53s_history", table.ptr, table.ptr);
	expect_sql(f, want.ptr,
	    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
	    "ORDER BY tablename LIKE '%%_history'");
	buf_reset(&want);
	buf_printf(&want, "%.39s_version_idx", table.ptr);
	expect_sql(f, want.ptr,
	    "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
	    "AND indexdef LIKE '%%(version, at)'");
	buf_release(&want);
	buf_release(&table);
}

/* --------------------------------------------------------------- lock --- */

static void
test_db_lock_excludes_a_second_session_until_the_first_leaves(void **state)
{
	struct fx *f = fx(state);
	struct db *second, *other_table;
	struct timespec t0;
	long long ms;
	char *want;

	assert_int_equal(db_lock(f->db, 0), 0);
	second = fx_connect_to(f, "public", "schema_versions");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	mg_error_clear();
	assert_int_equal(db_lock(second, 300), MG_ELOCKED);
	ms = elapsed_ms(&t0);
	if (ms < 300 || ms > 3000)
		fail_msg("db_lock(300) gave up after %lld ms", ms);
	want = tu_asprintf("could not get the migration lock on "
			   "postgres@%s:%d/%s within 300 ms",
	    sc_cluster->sockdir, sc_cluster->port, f->name);
	assert_int_equal(mg_error_last()->code, MG_ELOCKED);
	assert_string_equal(mg_error_last()->message, want);
	assert_non_null(mg_error_last()->hint);
	free(want);

	/* another bookkeeping table is another lock */
	other_table = fx_connect_to(f, "public", "other_versions");
	assert_int_equal(db_lock(other_table, 0), 0);
	expect_sql(f, "2",
	    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
	    "AND granted");

	/* the lock belongs to the session: it goes when the session does */
	fx_close(f, f->db);
	assert_int_equal(db_lock(second, 5000), 0);
	expect_sql(f, "2|1",
	    "SELECT count(*), count(DISTINCT pid) FILTER (WHERE pid IN "
	    " (SELECT pid FROM pg_stat_activity "
	    "  WHERE application_name = 'migdir' "
	    "  AND datname = current_database() "
	    "  ORDER BY backend_start LIMIT 1)) "
	    "FROM pg_locks WHERE locktype = 'advisory' AND granted");
	fx_close(f, second);
	fx_close(f, other_table);
	expect_sql(f, "0",
	    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
}

/* -------------------------------------------------------------- db_run --- */

static void
test_db_run_commits_a_pipeline_and_records_history(void **state)
{
	static const char *const s0[] = {
	    "CREATE TABLE a (id int PRIMARY KEY)",
	    "INSERT INTO a VALUES (1), (2)",
	};
	static const char *const s1[] = {
	    "CREATE TABLE b (a_id int REFERENCES a)",
	};
	static const char *const s2[] = {
	    "INSERT INTO b VALUES (1)",
	    "UPDATE a SET id = id",
	    "INSERT INTO b VALUES (2)",
	};
	struct fx *f = fx(state);
	struct seen seen = {.stop_at = -1};
	struct db_unit u[3];
	size_t i;

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_a", s0, ARRAY_SIZE(s0));
	u[0].description = "first";
	u[0].rb_checksum = RBSUM;
	unit_init(&u[1], "20230102_b", s1, ARRAY_SIZE(s1));
	u[1].checksum = SUM2;
	unit_init(&u[2], "20230103_c", s2, ARRAY_SIZE(s2));
	u[2].checksum = SUM3;
	assert_int_equal(db_run(f->db, u, 3, on_unit, &seen), 0);
	assert_int_equal(seen.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(seen.idx[i], i);
		assert_int_equal(u[i].done, 1);
		assert_int_equal(u[i].failed, 0);
		assert_int_equal(u[i].stmts_done, u[i].nstmts);
		assert_true(u[i].usec > 0);
		assert_null(u[i].fail.sqlstate);
	}
	expect_sql(f,
	    "20230101_a|first|t|t|" SUM1 "|" RBSUM "|" WHO "|t|" APP_VERSION
	    "\n"
	    "20230102_b||t|t|" SUM2 "||" WHO "|t|" APP_VERSION "\n"
	    "20230103_c||t|t|" SUM3 "||" WHO "|t|" APP_VERSION,
	    "SELECT version, description, is_active, rolled_back_at IS NULL, "
	    "checksum, rollback_checksum, applied_by, duration_ms >= 0, "
	    "migdir_version FROM schema_versions ORDER BY id");
	expect_sql(f,
	    "20230101_a|apply|t|" WHO "|" ENVIRONMENT "|" SUM1 "|t|" APP_VERSION
	    "|t|postgres\n"
	    "20230102_b|apply|t|" WHO "|" ENVIRONMENT "|" SUM2 "|t|" APP_VERSION
	    "|t|postgres\n"
	    "20230103_c|apply|t|" WHO "|" ENVIRONMENT "|" SUM3 "|t|" APP_VERSION
	    "|t|postgres",
	    "SELECT version, action, success, by_user, environment, "
	    "checksum, duration_ms >= 0, migdir_version, "
	    "sqlstate IS NULL AND old_row IS NULL, db_user "
	    "FROM schema_versions_history ORDER BY id");
	/* each unit is its own transaction, committed in order */
	expect_sql(f, "t",
	    "SELECT bool_and(a.applied_at < b.applied_at) FROM "
	    "schema_versions a JOIN schema_versions b ON b.id = a.id + 1");
	expect_sql(f, "1|2|2",
	    "SELECT (SELECT count(*) FROM b WHERE a_id = "
	    "1), (SELECT count(*) FROM b), "
	    "(SELECT count(*) FROM a)");
	units_release(u, 3);
}

static void
test_db_run_stops_at_first_failure(void **state)
{
	static const char *const s0[] = {"CREATE TABLE t0 ()"};
	static const char *const s1[] = {
	    "CREATE TABLE t1 (x text)",
	    /* 'héllo' is 7 characters and 8 bytes: position counts
		 * characters */
	    "INSERT INTO t1 SELECT 'héllo' || nosuchcol",
	    "CREATE TABLE t1b ()",
	};
	static const char *const s2[] = {"CREATE TABLE t2 ()"};
	static const char *const s3[] = {"CREATE TABLE t3 ()"};
	struct fx *f = fx(state);
	struct seen seen = {.stop_at = -1};
	struct db_unit u[4];
	size_t i;

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_t0", s0, ARRAY_SIZE(s0));
	unit_init(&u[1], "20230102_t1", s1, ARRAY_SIZE(s1));
	unit_init(&u[2], "20230103_t2", s2, ARRAY_SIZE(s2));
	unit_init(&u[3], "20230104_t3", s3, ARRAY_SIZE(s3));
	assert_int_equal(db_run(f->db, u, 4, on_unit, &seen), MG_ESQL);

	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.idx[0], 0);
	assert_int_equal(u[0].done, 1);
	assert_int_equal(u[0].failed, 0);
	assert_int_equal(u[1].done, 0);
	assert_int_equal(u[1].failed, 1);
	assert_int_equal(u[1].stmts_done, 0);
	assert_int_equal(u[1].fail.stmt, 1);
	assert_int_equal(u[1].fail.in_bookkeeping, 0);
	assert_string_equal(u[1].fail.sqlstate, "42703");
	assert_string_equal(u[1].fail.message,
	    "column \"nosuchcol\" does not exist");
	assert_int_equal(u[1].fail.position, 34);
	for (i = 2; i < 4; i++) {
		assert_int_equal(u[i].done, 0);
		assert_int_equal(u[i].failed, 0);
	}
	expect_sql(f, "t0",
	    "SELECT string_agg(tablename, ',') FROM pg_tables "
	    "WHERE tablename LIKE 't%%'");
	expect_sql(f, "20230101_t0",
	    "SELECT string_agg(version, ',') FROM schema_versions");
	expect_sql(f, "20230101_t0|apply",
	    "SELECT version, action FROM schema_versions_history");

	/* the session is usable again: the rest can run now */
	units_release(u, 4);
	unit_init(&u[2], "20230103_t2", s2, ARRAY_SIZE(s2));
	unit_init(&u[3], "20230104_t3", s3, ARRAY_SIZE(s3));
	assert_int_equal(db_run(f->db, &u[2], 2, NULL, NULL), 0);
	expect_sql(f, "t0,t2,t3",
	    "SELECT string_agg(tablename, ',' ORDER BY tablename) "
	    "FROM pg_tables WHERE tablename LIKE 't%%'");
	units_release(u, 4);
}

static void
test_db_run_flags_a_failure_in_bookkeeping(void **state)
{
	static const char *const s0[] = {"CREATE TABLE before_t ()"};
	static const char *const s1[] = {
	    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql "
	    "AS $$BEGIN RAISE EXCEPTION 'no bookkeeping today'; END$$",
	    "CREATE TRIGGER boom BEFORE INSERT ON public.schema_versions "
	    "FOR EACH ROW EXECUTE FUNCTION boom()",
	};
	static const char *const s2[] = {"CREATE TABLE after_t ()"};
	static const char *const s3[] = {"CREATE TABLE loose_t ()"};
	struct fx *f = fx(state);
	struct db_unit u[3];

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_before", s0, ARRAY_SIZE(s0));
	unit_init(&u[1], "20230102_boom", s1, ARRAY_SIZE(s1));
	unit_init(&u[2], "20230103_after", s2, ARRAY_SIZE(s2));
	assert_int_equal(db_run(f->db, u, 3, NULL, NULL), MG_ESQL);
	assert_int_equal(u[0].done, 1);
	assert_int_equal(u[1].failed, 1);
	assert_int_equal(u[1].fail.in_bookkeeping, 1);
	assert_string_equal(u[1].fail.sqlstate, "P0001");
	assert_string_equal(u[1].fail.message, "no bookkeeping today");
	assert_non_null(u[1].fail.context);
	assert_non_null(strstr(u[1].fail.context, "boom()"));
	assert_int_equal(u[2].done, 0);
	assert_int_equal(u[2].failed, 0);
	/* the file's own statements went with its failed bookkeeping */
	expect_sql(f, "t|t|20230101_before",
	    "SELECT to_regproc('boom') IS NULL, "
	    "to_regclass('after_t') IS NULL, "
	    "(SELECT string_agg(version, ',') FROM schema_versions)");

	/* the same outside a transaction: its statements stay done */
	units_release(u, 3);
	exec_sql(f,
	    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql "
	    "AS $$BEGIN RAISE EXCEPTION 'no bookkeeping today'; END$$;\n"
	    "CREATE TRIGGER boom BEFORE INSERT ON schema_versions "
	    "FOR EACH ROW EXECUTE FUNCTION boom();\n");
	unit_init(&u[0], "20230104_loose", s3, ARRAY_SIZE(s3));
	u[0].transactional = 0;
	assert_int_equal(db_run(f->db, u, 1, NULL, NULL), MG_ESQL);
	assert_int_equal(u[0].failed, 1);
	assert_int_equal(u[0].done, 0);
	assert_int_equal(u[0].fail.in_bookkeeping, 1);
	assert_int_equal(u[0].stmts_done, 1);
	assert_string_equal(u[0].fail.sqlstate, "P0001");
	expect_sql(f, "f|20230101_before",
	    "SELECT to_regclass('loose_t') IS NULL, "
	    "(SELECT string_agg(version, ',') FROM schema_versions)");
	units_release(u, 1);
}

static void
test_db_run_runs_a_non_transactional_unit_between_pipelines(void **state)
{
	static const char *const s0[] = {"CREATE TABLE t (x int)"};
	static const char *const s1[] = {
	    "CREATE INDEX CONCURRENTLY t_x ON t (x)",
	    "VACUUM t",
	};
	static const char *const s2[] = {"INSERT INTO t VALUES (1)"};
	struct fx *f = fx(state);
	struct seen seen = {.stop_at = -1};
	struct db_unit u[3];

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_t", s0, ARRAY_SIZE(s0));
	unit_init(&u[1], "20230102_t_x", s1, ARRAY_SIZE(s1));
	u[1].transactional = 0;
	u[1].checksum = SUM2;
	unit_init(&u[2], "20230103_row", s2, ARRAY_SIZE(s2));
	assert_int_equal(db_run(f->db, u, 3, on_unit, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.idx[0], 0);
	assert_int_equal(seen.idx[1], 1);
	assert_int_equal(seen.idx[2], 2);
	assert_int_equal(u[1].done, 1);
	assert_int_equal(u[1].stmts_done, 2);
	assert_true(u[1].usec > 0);
	expect_sql(f, "t|1",
	    "SELECT indisvalid, (SELECT count(*) FROM t) FROM pg_index "
	    "WHERE indexrelid = 't_x'::regclass");
	expect_sql(f,
	    "20230101_t|t|" SUM1 "\n"
	    "20230102_t_x|t|" SUM2 "\n"
	    "20230103_row|t|" SUM1,
	    "SELECT version, is_active, checksum FROM schema_versions "
	    "ORDER BY id");
	expect_sql(f, "apply,apply,apply",
	    "SELECT string_agg(action, ',' ORDER BY id) "
	    "FROM schema_versions_history WHERE success");
	units_release(u, 3);
}

static void
test_db_run_non_transactional_failure_says_what_ran(void **state)
{
	static const char *const s0[] = {
	    "CREATE TABLE t (x int)",
	    "CREATE INDEX CONCURRENTLY t_y ON t ((x + y))",
	    "CREATE TABLE after_t ()",
	};
	static const char *const s1[] = {"CREATE TABLE never_t ()"};
	struct fx *f = fx(state);
	struct db_unit u[2];

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_loose", s0, ARRAY_SIZE(s0));
	u[0].transactional = 0;
	unit_init(&u[1], "20230102_never", s1, ARRAY_SIZE(s1));
	assert_int_equal(db_run(f->db, u, 2, NULL, NULL), MG_ESQL);
	assert_int_equal(u[0].failed, 1);
	assert_int_equal(u[0].done, 0);
	assert_int_equal(u[0].stmts_done, 1);
	assert_int_equal(u[0].fail.stmt, 1);
	assert_int_equal(u[0].fail.in_bookkeeping, 0);
	assert_string_equal(u[0].fail.sqlstate, "42703");
	assert_string_equal(u[0].fail.message, "column \"y\" does not exist");
	assert_int_equal(u[0].fail.position, 42);
	assert_int_equal(u[1].done, 0);
	assert_int_equal(u[1].failed, 0);
	expect_sql(f, "f|t|t|0|0",
	    "SELECT to_regclass('t') IS NULL, "
	    "to_regclass('after_t') IS NULL, "
	    "to_regclass('never_t') IS NULL, "
	    "(SELECT count(*) FROM schema_versions), "
	    "(SELECT count(*) FROM schema_versions_history)");
	/* no transaction left open */
	units_release(u, 2);
	unit_init(&u[1], "20230102_never", s1, ARRAY_SIZE(s1));
	assert_int_equal(db_run(f->db, &u[1], 1, NULL, NULL), 0);
	expect_sql(f, "20230102_never",
	    "SELECT string_agg(version, ',') FROM schema_versions");
	units_release(u, 2);
}

static void
test_db_run_clear_row_lets_a_self_recording_file_apply_again(void **state)
{
	/* The seed's style: the file records itself with a plain INSERT. */
	static const char *const stmts[] = {
	    "CREATE TABLE self_t ()",
	    "INSERT INTO public.schema_versions (version, description) "
	    "VALUES ('20230101_self', 'hand written')",
	};
	static const int clear[] = {0, 1};
	struct fx *f = fx(state);
	struct db_unit u;
	size_t i;

	ensure(f->db, NULL);
	exec_sql(f,
	    "INSERT INTO schema_versions (version, applied_at, "
	    "description, is_active, rolled_back_at, checksum) VALUES "
	    "('20230101_self', '2023-01-01 00:00:00+00', 'hand written', "
	    "false, '2023-01-02 00:00:00+00', 'old')");
	for (i = 0; i < ARRAY_SIZE(clear); i++) {
		unit_init(&u, "20230101_self", stmts, ARRAY_SIZE(stmts));
		u.checksum = SUM2;
		u.clear_row = clear[i];
		if (!clear[i]) {
			/* without it, the file's INSERT meets the old row */
			assert_int_equal(db_run(f->db, &u, 1, NULL, NULL),
			    MG_ESQL);
			assert_string_equal(u.fail.sqlstate, "23505");
			assert_int_equal(u.fail.stmt, 1);
			assert_int_equal(u.fail.in_bookkeeping, 0);
			expect_sql(f, "t|f|old|0",
			    "SELECT to_regclass('self_t') IS NULL, "
			    "is_active, checksum, "
			    "(SELECT count(*) FROM schema_versions_history) "
			    "FROM schema_versions");
		} else {
			assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), 0);
			assert_int_equal(u.done, 1);
		}
		units_release(&u, 1);
	}
	expect_sql(f, "1|t|t|" SUM2 "|hand written|f",
	    "SELECT count(*) OVER (), is_active, rolled_back_at IS NULL, "
	    "checksum, description, to_regclass('self_t') IS NULL "
	    "FROM schema_versions");
	expect_sql(f,
	    "superseded|t|old|false|1672531200|" WHO "\n"
	    "apply|t|" SUM2 "|||" WHO,
	    "SELECT action, success, coalesce(old_row->>'checksum', checksum), "
	    "old_row->>'is_active', "
	    "extract(epoch FROM (old_row->>'applied_at')::timestamptz)"
	    "::bigint, by_user FROM schema_versions_history ORDER BY id");
}

static void
test_db_run_rollback_deactivates_the_row(void **state)
{
	static const char *const fwd[] = {"CREATE TABLE r_t (x int)"};
	static const char *const back[] = {"DROP TABLE r_t"};
	struct fx *f = fx(state);
	struct db_unit u;
	struct db_probe p;
	struct rows rows;

	ensure(f->db, NULL);
	unit_init(&u, "20230101_r", fwd, 1);
	u.rb_checksum = RBSUM;
	assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), 0);

	unit_init(&u, "20230101_r", back, 1);
	u.action = DB_ROLLBACK;
	u.checksum = RBSUM;
	assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), 0);
	assert_int_equal(u.done, 1);
	expect_sql(f, "f|t|t|" SUM1 "|" RBSUM "|t",
	    "SELECT is_active, rolled_back_at IS NOT NULL, "
	    "rolled_back_at >= applied_at, checksum, rollback_checksum, "
	    "to_regclass('r_t') IS NULL FROM schema_versions");
	expect_sql(f, "apply|" SUM1 "|t\nrollback|" RBSUM "|t",
	    "SELECT action, checksum, success FROM schema_versions_history "
	    "ORDER BY id");
	assert_int_equal(db_probe(f->db, &p), 0);
	assert_int_equal(db_read_rows(f->db, &p, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.v[0].active, 0);
	assert_true(rows.v[0].rolled_back_at >= rows.v[0].applied_at);
	assert_true(rows.v[0].rolled_back_at > 0);
	rows_release(&rows);

	/* applying again brings the same row back */
	unit_init(&u, "20230101_r", fwd, 1);
	u.checksum = SUM3;
	assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), 0);
	expect_sql(f, "1|t|t|" SUM3,
	    "SELECT id, is_active, rolled_back_at IS NULL, checksum "
	    "FROM schema_versions");
	expect_sql(f, "apply,rollback,apply",
	    "SELECT string_agg(action, ',' ORDER BY id) "
	    "FROM schema_versions_history");
}

static void
test_db_run_reset_after_keeps_settings_from_leaking(void **state)
{
	static const char *const set[] = {
	    "SET work_mem = '7MB'",
	    "SET lock_timeout = '5s'",
	};
	static const char *const look[] = {
	    "INSERT INTO seen SELECT current_setting('work_mem'), "
	    "current_setting('lock_timeout')",
	};
	static const struct {
		int transactional, reset_after;
		int leaks;
	} cases[] = {
	    {1, 1, 0},
	    {0, 1, 0},
	    {1, 0, 1},
	};
	struct fx *f = fx(state);
	char *def = psql(f, "SHOW work_mem");
	size_t i;

	ensure(f->db, NULL);
	assert_string_not_equal(def, "7MB");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct db_target t =
		    target(f->url, "public", "schema_versions");
		struct db_unit u[2];
		struct db *db = NULL;
		char *want;

		exec_sql(f,
		    "DROP TABLE IF EXISTS seen; "
		    "DELETE FROM schema_versions; "
		    "CREATE TABLE seen (wm text, lt text)");
		t.lock_timeout = "1234ms";
		db = fx_connect(f, &t);
		unit_init(&u[0], "20230101_set", set, ARRAY_SIZE(set));
		u[0].transactional = cases[i].transactional;
		u[0].reset_after = cases[i].reset_after;
		unit_init(&u[1], "20230102_look", look, ARRAY_SIZE(look));
		assert_int_equal(db_run(db, u, 2, NULL, NULL), 0);
		fx_close(f, db);
		want = cases[i].leaks ? tu_asprintf("7MB|5s")
				      : tu_asprintf("%s|1234ms", def);
		expect_sql(f, want, "SELECT wm, lt FROM seen");
		free(want);
		units_release(u, 2);
	}
	free(def);
}

static void
test_db_run_stores_hostile_version_names_as_data(void **state)
{
	static const char *const names[] = {
	    "20230101_it's",
	    "20230102_x'); DROP TABLE public.schema_versions; --",
	    "20230103_with space",
	    "20230104_\"quoted\"",
	    "20230105_$1 \\ back\\slash",
	    "20230106_ünïcode",
	};
	static const char *const stmts[] = {"SELECT 1"};
	struct fx *f = fx(state);
	struct db_unit u[ARRAY_SIZE(names)];
	struct buf want = BUF_INIT;
	size_t i;

	ensure(f->db, NULL);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		unit_init(&u[i], names[i], stmts, 1);
		u[i].description = names[i];
		u[i].checksum = names[i];
		buf_printf(&want, "%s%s|%s|%s", i ? "\n" : "", names[i],
		    names[i], names[i]);
	}
	/* the first three run through the pipeline, the rest one by one */
	for (i = 3; i < ARRAY_SIZE(names); i++)
		u[i].transactional = 0;
	assert_int_equal(db_run(f->db, u, ARRAY_SIZE(names), NULL, NULL), 0);
	expect_sql(f, want.ptr,
	    "SELECT version, description, checksum FROM schema_versions "
	    "ORDER BY id");
	buf_reset(&want);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		buf_printf(&want, "%s%s", i ? "\n" : "", names[i]);
	expect_sql(f, want.ptr,
	    "SELECT version FROM schema_versions_history ORDER BY id");
	expect_sql(f, "2",
	    "SELECT count(*) FROM pg_tables "
	    "WHERE tablename LIKE 'schema_versions%%'");
	/* and back again, as a rollback */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		unit_init(&u[i], names[i], stmts, 1);
		u[i].action = DB_ROLLBACK;
	}
	assert_int_equal(db_run(f->db, u, ARRAY_SIZE(names), NULL, NULL), 0);
	expect_sql(f, "6|0",
	    "SELECT count(*), count(*) FILTER (WHERE "
	    "is_active) FROM schema_versions");
	buf_release(&want);
	units_release(u, ARRAY_SIZE(names));
}

static void
test_db_record_failure_writes_a_failed_history_row(void **state)
{
	static const char *const stmts[] = {
	    "CREATE TABLE x_t ()",
	    "SELECT 1/0",
	};
	static const struct {
		enum db_action action;
		const char *name;
	} cases[] = {
	    {DB_APPLY, "apply"},
	    {DB_ROLLBACK, "rollback"},
	};
	struct fx *f = fx(state);
	size_t i;

	ensure(f->db, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct db_unit u;
		char *want;

		exec_sql(f, "DELETE FROM schema_versions_history");
		unit_init(&u, "20230101_x", stmts, ARRAY_SIZE(stmts));
		u.action = cases[i].action;
		u.checksum = SUM2;
		assert_int_equal(db_run(f->db, &u, 1, NULL, NULL), MG_ESQL);
		assert_string_equal(u.fail.sqlstate, "22012");
		assert_int_equal(u.fail.stmt, 1);
		assert_int_equal(u.fail.position, 0);
		assert_int_equal(db_record_failure(f->db, &u, "SELECT 1/0",
				     "migrations/pending/20230101_x.sql:2:8"),
		    0);
		want = tu_asprintf(
		    "20230101_x|%s|f|" WHO "|" ENVIRONMENT "|" SUM2
		    "|t|22012|division by zero|"
		    "SELECT 1/0|"
		    "migrations/pending/20230101_x.sql:2:8|" APP_VERSION
		    "|postgres",
		    cases[i].name);
		expect_sql(f, want,
		    "SELECT version, action, success, by_user, environment, "
		    "checksum, duration_ms >= 0, sqlstate, message, "
		    "statement, location, migdir_version, db_user "
		    "FROM schema_versions_history");
		free(want);
		units_release(&u, 1);
	}
	expect_sql(f, "0|t",
	    "SELECT count(*), to_regclass('x_t') IS NULL "
	    "FROM schema_versions");
}

static void
test_db_run_stops_sending_when_the_callback_refuses(void **state)
{
	static const char *const stmts[] = {"SELECT 1"};
	static const char *const names[] = {
	    "20230101_u0",
	    "20230102_u1",
	    "20230103_u2",
	    "20230104_u3",
	    "20230105_u4",
	    "20230106_u5",
	    "20230107_u6",
	    "20230108_u7",
	    "20230109_u8",
	    "20230110_u9",
	};
	static const struct {
		const char *kinds; /* 't' transactional, 'n' not */
		long stop_at;
		size_t min, max; /* units done */
	} cases[] = {
	    /* the units already in flight (the pipeline's window of
		 * four) still finish; none after them is sent */
	    {"tttttttttt", 0, 1, 4},
	    {"tttttttttt", 5, 6, 9},
	    {"nttt", 0, 1, 1},
	    {"ttnt", 1, 2, 2},
	};
	struct fx *f = fx(state);
	size_t c, i;

	ensure(f->db, NULL);
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		size_t n = strlen(cases[c].kinds), done = 0;
		struct seen seen = {.stop_at = cases[c].stop_at};
		struct db_unit u[10];
		char *count;

		exec_sql(f, "DELETE FROM schema_versions");
		for (i = 0; i < n; i++) {
			unit_init(&u[i], names[i], stmts, 1);
			u[i].transactional = cases[c].kinds[i] == 't';
		}
		assert_int_equal(db_run(f->db, u, n, on_unit, &seen), MG_ERROR);
		for (i = 0; i < n; i++) {
			if (u[i].done && i != done)
				fail_msg("case %zu: unit %zu done after a gap",
				    c, i);
			done += u[i].done;
			assert_int_equal(u[i].failed, 0);
		}
		if (done < cases[c].min || done > cases[c].max)
			fail_msg("case %zu: %zu units done", c, done);
		assert_int_equal(seen.n, done);
		for (i = 0; i < seen.n; i++)
			assert_int_equal(seen.idx[i], i);
		count = tu_asprintf("%zu", done);
		expect_sql(f, count, "SELECT count(*) FROM schema_versions");
		free(count);
		units_release(u, n);
	}
}

static void
test_db_run_accepts_statements_that_return_rows(void **state)
{
	static const char *const s0[] = {
	    "CREATE TABLE g AS SELECT x FROM generate_series(1, 3) x",
	    "SELECT * FROM g",
	    "SELECT 1 AS a, 'b' AS b",
	    "VALUES (1), (2)",
	    "WITH d AS (DELETE FROM g WHERE x = 3 RETURNING x) "
	    "SELECT * FROM d",
	    "SHOW work_mem",
	};
	static const char *const s1[] = {
	    "SELECT * FROM g",
	    "INSERT INTO g VALUES (10) RETURNING x",
	    "SELECT repeat('x', 1000) FROM generate_series(1, 5000)",
	};
	struct fx *f = fx(state);
	struct db_unit u[2];

	ensure(f->db, NULL);
	unit_init(&u[0], "20230101_rows", s0, ARRAY_SIZE(s0));
	unit_init(&u[1], "20230102_rows", s1, ARRAY_SIZE(s1));
	u[1].transactional = 0;
	assert_int_equal(db_run(f->db, u, 2, NULL, NULL), 0);
	assert_int_equal(u[0].done, 1);
	assert_int_equal(u[1].done, 1);
	assert_int_equal(u[1].stmts_done, 3);
	expect_sql(f, "1,2,10",
	    "SELECT string_agg(x::text, ',' ORDER BY x) "
	    "FROM g");
	expect_sql(f, "2", "SELECT count(*) FROM schema_versions");
	units_release(u, 2);
}

static void
test_db_run_records_how_long_each_unit_took(void **state)
{
	/*
	 * 200 ms of work in each kind of unit, forward and back, beside one
	 * that takes none: the recorded duration is the unit's, wherever
	 * the server's now() happens to start.
	 */
	static const char *const slow[] = {"SELECT pg_sleep(0.2)"};
	static const char *const quick[] = {"SELECT 1"};
	static const struct {
		const char *version;
		enum db_action action;
		int transactional, is_slow;
	} cases[] = {
	    {"20230101_tx", DB_APPLY, 1, 1},
	    {"20230102_loose", DB_APPLY, 0, 1},
	    {"20230104_quick", DB_APPLY, 1, 0},
	    {"20230101_tx", DB_ROLLBACK, 1, 1},
	    {"20230102_loose", DB_ROLLBACK, 0, 1},
	};
	struct fx *f = fx(state);
	struct db_unit u[ARRAY_SIZE(cases)];
	size_t i;

	ensure(f->db, NULL);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unit_init(&u[i], cases[i].version,
		    cases[i].is_slow ? slow : quick, 1);
		u[i].action = cases[i].action;
		u[i].transactional = cases[i].transactional;
	}
	assert_int_equal(db_run(f->db, u, ARRAY_SIZE(u), NULL, NULL), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (cases[i].is_slow && u[i].usec < 200000)
			fail_msg("%s: usec %lld", cases[i].version, u[i].usec);
	expect_sql(f,
	    "20230101_tx|apply|t\n"
	    "20230102_loose|apply|t\n"
	    "20230104_quick|apply|f\n"
	    "20230101_tx|rollback|t\n"
	    "20230102_loose|rollback|t",
	    "SELECT version, action, duration_ms BETWEEN 200 AND 10000 "
	    "FROM schema_versions_history ORDER BY id");
	expect_sql(f, "t\nt\nf",
	    "SELECT duration_ms BETWEEN 200 AND 10000 FROM schema_versions "
	    "ORDER BY id");
	units_release(u, ARRAY_SIZE(u));
}

static void
test_db_run_records_empty_units(void **state)
{
	/* an empty file still gets its row, in a transaction or not */
	struct fx *f = fx(state);
	struct db_unit u[2];

	ensure(f->db, NULL);
	unit_init(&u[0], "20230102_empty", NULL, 0);
	unit_init(&u[1], "20230105_empty", NULL, 0);
	u[1].transactional = 0;
	assert_int_equal(db_run(f->db, u, 2, NULL, NULL), 0);
	assert_int_equal(u[0].done, 1);
	assert_int_equal(u[1].done, 1);
	expect_sql(f, "20230102_empty|t\n20230105_empty|t",
	    "SELECT version, is_active FROM schema_versions ORDER BY id");
	units_release(u, 2);
}

static void
test_db_run_commits_300_units_in_order(void **state)
{
	enum { NUNITS = 300, BIG = 200 };
	struct fx *f = fx(state);
	struct seen seen = {.stop_at = -1};
	struct db_unit *u = calloc(NUNITS, sizeof(*u));
	char **names = calloc(NUNITS, sizeof(*names));
	char ***stmts = calloc(NUNITS, sizeof(*stmts));
	size_t i, j, total = 0;
	char *want;

	assert_non_null(u);
	assert_non_null(names);
	assert_non_null(stmts);
	ensure(f->db, NULL);
	exec_sql(f, "CREATE TABLE log (id serial PRIMARY KEY, u int, s int)");
	for (i = 0; i < NUNITS; i++) {
		size_t n = i % 50 == 7 ? BIG : 1 + i % 3;

		names[i] = tu_asprintf("20230101_u%03zu", i);
		stmts[i] = calloc(n, sizeof(**stmts));
		assert_non_null(stmts[i]);
		for (j = 0; j < n; j++)
			stmts[i][j] = tu_asprintf("INSERT INTO log (u, s) "
						  "VALUES (%zu, %zu)",
			    i, j);
		unit_init(&u[i], names[i], (const char *const *)stmts[i], n);
		total += n;
	}
	assert_int_equal(db_run(f->db, u, NUNITS, on_unit, &seen), 0);
	assert_int_equal(seen.n, NUNITS);
	for (i = 0; i < NUNITS; i++) {
		assert_int_equal(seen.idx[i], i);
		assert_int_equal(u[i].done, 1);
		assert_int_equal(u[i].stmts_done, u[i].nstmts);
	}
	want = tu_asprintf("%zu|0", total);
	expect_sql(f, want,
	    "SELECT count(*), count(*) FILTER (WHERE id <> rn) FROM "
	    "(SELECT id, row_number() OVER (ORDER BY u, s) AS rn FROM log) z");
	free(want);
	expect_sql(f, "300|0|300",
	    "SELECT count(*), count(*) FILTER (WHERE id <> rn), "
	    "(SELECT count(*) FROM schema_versions_history "
	    " WHERE action = 'apply' AND success) FROM "
	    "(SELECT id, row_number() OVER (ORDER BY version) AS rn "
	    " FROM schema_versions) z");
	for (i = 0; i < NUNITS; i++) {
		for (j = 0; j < u[i].nstmts; j++)
			free(stmts[i][j]);
		free(stmts[i]);
		free(names[i]);
	}
	units_release(u, NUNITS);
	free(stmts);
	free(names);
	free(u);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const char *filter = getenv("MIGDIR_TEST_FILTER");
	const struct CMUnitTest tests[] = {
	    T(test_db_connect_failure_never_shows_the_password),
	    T(test_db_describe_conninfo_fills_defaults_and_hides_the_password),
	    T(test_db_connect_reports_server_display_and_location),
	    T(test_db_connect_sets_the_session_defaults),
	    T(test_db_probe_finds_nothing_in_an_empty_database),
	    T(test_db_ensure_creates_the_table_and_its_history),
	    T(test_db_ensure_is_idempotent),
	    T(test_db_ensure_adds_missing_columns_and_keeps_every_row),
	    T(test_db_ensure_adds_a_unique_index_when_versions_are_distinct),
	    T(test_db_ensure_refuses_duplicate_versions_and_names_them),
	    T(test_db_read_rows_returns_each_column),
	    T(test_db_quotes_odd_schema_and_table_names),
	    T(test_db_clips_long_names_on_a_character_boundary),
	    T(test_db_lock_excludes_a_second_session_until_the_first_leaves),
	    T(test_db_run_commits_a_pipeline_and_records_history),
	    T(test_db_run_stops_at_first_failure),
	    T(test_db_run_flags_a_failure_in_bookkeeping),
	    T(test_db_run_runs_a_non_transactional_unit_between_pipelines),
	    T(test_db_run_non_transactional_failure_says_what_ran),
	    T(test_db_run_clear_row_lets_a_self_recording_file_apply_again),
	    T(test_db_run_rollback_deactivates_the_row),
	    T(test_db_run_reset_after_keeps_settings_from_leaking),
	    T(test_db_run_stores_hostile_version_names_as_data),
	    T(test_db_record_failure_writes_a_failed_history_row),
	    T(test_db_run_stops_sending_when_the_callback_refuses),
	    T(test_db_run_accepts_statements_that_return_rows),
	    T(test_db_run_records_how_long_each_unit_took),
	    T(test_db_run_records_empty_units),
	    T(test_db_run_commits_300_units_in_order),
	};

	if (filter && *filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
