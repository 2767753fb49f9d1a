/*
 * test_rollback.c - migdir rollback end to end.
 *
 * Rollback undoes the most recently applied migration (by applied_at, not
 * by version), refuses a missing rollback file and one that changed since
 * the apply (unless --allow-changed), refuses a rollback file that loses
 * data (unless --force) and then changes nothing, backs up what it loses
 * with pg_dump (--backup FILE) or refuses when it cannot, never touches
 * archive/, honours --step, --to and --all, and records everything in the
 * history and in one git commit per run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenario.h"
#include "../../include/banned.h"

static void
run_ok(struct proj *p, const char *cmd, const char *arg, const char *arg2)
{
	struct tu_run *r = sc_migdir(p, NULL, cmd, arg, arg2, NULL);

	sc_expect_status(r, 0, cmd);
	sc_run_free(r);
}

/* A rollback whose files drop tables: it needs --force. */
static void
rollback_ok(struct proj *p, const char *arg, const char *arg2)
{
	struct tu_run *r =
	    sc_migdir(p, NULL, "rollback", "--force", arg, arg2, NULL);

	sc_expect_status(r, 0, "rollback --force");
	sc_run_free(r);
}

/* A project with one migration, applied. */
static struct proj *
one_applied(const char *name, const char *version, const char *forward,
    const char *rollback)
{
	struct proj *p = sc_project(name, NULL);

	sc_pair(p, "pending", version, forward, rollback);
	sc_commit(p, version);
	run_ok(p, "apply", NULL, NULL);
	return p;
}

/* Three migrations m1..m3 creating tables t1..t3, all applied. */
static struct proj *
three_applied(const char *name)
{
	struct proj *p = sc_project(name, NULL);
	int i;

	for (i = 1; i <= 3; i++) {
		char v[32], fwd[64], rb[64];

		snprintf(v, sizeof(v), "2023010%d_m%d", i, i);
		snprintf(fwd, sizeof(fwd), "CREATE TABLE t%d (id int);\n", i);
		snprintf(rb, sizeof(rb), "DROP TABLE t%d;\n", i);
		sc_pair(p, "pending", v, fwd, rb);
	}
	sc_commit(p, "three");
	run_ok(p, "apply", NULL, NULL);
	return p;
}

static void
test_rollback_undoes_the_latest_and_moves_it_back(void **state)
{
	struct proj *p = three_applied("latest");
	char *s;

	(void)state;
	rollback_ok(p, NULL, NULL);
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "pending");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "applied");
	assert_null(sc_psql(p, "SELECT 1 FROM t3"));
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM schema_versions "
			     "WHERE version = '20230103_m3' AND NOT "
			     "is_active AND rolled_back_at IS NOT "
			     "NULL"),
	    1);
	s = sc_git(p, "log -1 --format=%%s%%n%%b");
	sc_expect_contains(s, "rollback 20230103_m3");
	sc_expect_contains(s, "Migdir-Action: rollback");
	free(s);
	s = sc_git(p, "show --name-status --format= HEAD");
	sc_expect_contains(s,
	    "R100\tmigrations/applied/20230103_m3.sql\t"
	    "migrations/pending/20230103_m3.sql");
	free(s);
	assert_true(sc_git_clean(p));
	sc_free(p);
}

static void
test_rollback_step_to_and_all(void **state)
{
	struct proj *p = three_applied("limits");
	struct tu_run *r;

	(void)state;
	rollback_ok(p, "--step", "2");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "pending");
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	run_ok(p, "apply", NULL, NULL);
	rollback_ok(p, "--to", "20230101_m1");
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	assert_string_equal(sc_folder_of(p, "20230102_m2"), "pending");
	r = sc_migdir(p, NULL, "rollback", "--step", "5", NULL);
	sc_expect_status(r, 1, "rollback --step 5 with one applied");
	sc_expect_contains(r->err, "only 1 migration can be rolled back");
	sc_run_free(r);
	rollback_ok(p, "--all", NULL);
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "pending");
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 0, "rollback with nothing applied");
	sc_expect_contains(r->out, "Nothing to roll back");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "rollback", "--all", "--step", "2", NULL);
	sc_expect_status(r, 2, "two limits");
	sc_run_free(r);
	sc_free(p);
}

static void
test_rollback_refuses_a_missing_rollback_file(void **state)
{
	struct proj *p = sc_project("norb", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_m1", "CREATE TABLE t1 ();\n", NULL);
	sc_commit(p, "no rollback");
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->out, "has no rollback file");
	sc_run_free(r);
	run_ok(p, "apply", NULL, NULL);
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 1, "rollback without a rollback file");
	sc_expect_contains(r->err, "20230101_m1 has no rollback file");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM t1"), 0);
	assert_string_equal(sc_folder_of(p, "20230101_m1"), "applied");
	sc_free(p);
}

static void
test_rollback_refuses_a_changed_rollback_file_unless_allowed(void **state)
{
	struct proj *p = three_applied("changed");
	struct tu_run *r;

	(void)state;
	sc_write(p, "migrations/applied/20230103_rollback_m3.sql",
	    "DROP TABLE t3 CASCADE;\n");
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->out,
	    "rollback file changed since the migration "
	    "was applied");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 1, "changed rollback");
	sc_expect_contains(r->err,
	    "the rollback file of 20230103_m3 changed "
	    "since the migration was applied");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM t3"), 0);
	sc_commit(p, "cascade");
	rollback_ok(p, "--allow-changed", NULL);
	assert_null(sc_psql(p, "SELECT 1 FROM t3"));
	/* the history holds the checksum of the file that ran */
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM "
			     "schema_versions_history h JOIN "
			     "schema_versions v USING (version) "
			     "WHERE h.action = 'rollback' AND "
			     "h.checksum <> v.rollback_checksum"),
	    1);
	sc_free(p);
}

static void
test_rollback_never_touches_the_archive(void **state)
{
	struct proj *p = sc_project("archive", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_m1", "CREATE TABLE t1 ();\n",
	    "DROP TABLE t1;\n");
	sc_commit(p, "m1");
	run_ok(p, "apply", NULL, NULL);
	free(sc_git(p,
	    "mv migrations/applied/20230101_m1.sql "
	    "migrations/archive/"));
	free(sc_git(p,
	    "mv migrations/applied/20230101_rollback_m1.sql "
	    "migrations/archive/"));
	sc_commit(p, "archive m1");
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 1, "rollback of an archived migration");
	sc_expect_contains(r->err, "20230101_m1 is archived");
	sc_run_free(r);
	r = sc_migdir(p, NULL, "rollback", "--all", NULL);
	sc_expect_status(r, 0, "rollback --all stops at the archive");
	sc_expect_contains(r->out, "Nothing to roll back");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM t1"), 0);
	sc_free(p);
}

static void
test_rollback_dry_run_changes_nothing(void **state)
{
	struct proj *p = three_applied("dry");
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "rollback", "--dry-run", "--step", "2", NULL);
	sc_expect_status(r, 0, "rollback --dry-run");
	sc_expect_contains(r->out,
	    "Plan: roll back 2 migrations from "
	    "production (tracked)");
	sc_expect_contains(r->out, "20230103_m3");
	sc_expect_contains(r->out, "20230102_m2");
	sc_run_free(r);
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "applied");
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM t3"), 0);
	sc_free(p);
}

/* Everything a refused rollback must leave as it was. */
static char *
snapshot(struct proj *p)
{
	char *head = sc_git(p, "rev-parse HEAD");
	char *status = sc_git(p, "status --porcelain");
	char *files = tu_sh(p->dir, "ls migrations/*");
	char *rows = sc_psql(p,
	    "SELECT string_agg(version || ' ' || is_active || ' ' || "
	    "coalesce(rolled_back_at::text, '-'), ', ' ORDER BY version) "
	    "FROM schema_versions");
	char *history =
	    sc_psql(p, "SELECT count(*) FROM schema_versions_history");
	char *tables = sc_psql(p,
	    "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM "
	    "pg_tables WHERE schemaname = 'public'");
	char *data = sc_psql(p, "SELECT count(*) FROM t3");
	char *s =
	    tu_asprintf("head %s\nstatus [%s]\nfiles %s\nrows %s\nhistory %s\n"
			"tables %s\nt3 rows %s\n",
		head, status, files, rows, history, tables, data ? data : "-");

	free(head);
	free(status);
	free(files);
	free(rows);
	free(history);
	free(tables);
	free(data);
	return s;
}

/* Fail unless the project is as snapshot() saw it before. */
static void
expect_unchanged(struct proj *p, const char *before)
{
	char *now = snapshot(p);

	assert_string_equal(now, before);
	free(now);
}

static void
test_rollback_refuses_a_destructive_file_without_force(void **state)
{
	struct proj *p = three_applied("destructive");
	struct tu_run *r;
	char *before;

	(void)state;
	free(sc_psql(p, "INSERT INTO t3 VALUES (1), (2)"));
	before = snapshot(p);
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 1, "destructive rollback without --force");
	sc_expect_contains(r->err,
	    "migdir: error: migrations/applied/20230103_rollback_m3.sql:1:1: "
	    "rollback is destructive (drop-table: drops the table and every "
	    "row in it); run with --force, or --backup FILE first");
	sc_expect_contains(r->err, "    1 | DROP TABLE t3;");
	sc_expect_contains(r->err, "hint:");
	sc_expect_contains(r->err, "Nothing was rolled back.");
	assert_string_equal(r->out, "");
	sc_run_free(r);
	expect_unchanged(p, before);
	/* one document with --json, and still nothing changed */
	r = sc_migdir(p, NULL, "--json", "rollback", NULL);
	sc_expect_status(r, 1, "--json destructive rollback");
	sc_expect_contains(r->out, "\"error\"");
	sc_expect_contains(r->out, "rollback is destructive (drop-table");
	sc_run_free(r);
	expect_unchanged(p, before);
	/* a dry run just shows the class */
	r = sc_migdir(p, NULL, "rollback", "--dry-run", NULL);
	sc_expect_status(r, 0, "rollback --dry-run");
	sc_expect_contains(r->out, "rollback destructive");
	sc_run_free(r);
	expect_unchanged(p, before);
	/* --force runs it */
	r = sc_migdir(p, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 0, "rollback --force");
	sc_expect_contains(r->out, "20230103_m3  destructive");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM t3"));
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "pending");
	assert_true(sc_git_clean(p));
	free(before);
	sc_free(p);
}

static void
test_rollback_names_every_destructive_file(void **state)
{
	struct proj *p = three_applied("every");
	struct tu_run *r;
	char *before;

	(void)state;
	before = snapshot(p);
	r = sc_migdir(p, NULL, "rollback", "--step", "3", NULL);
	sc_expect_status(r, 1, "three destructive rollbacks");
	sc_expect_contains(r->err,
	    "20230103_rollback_m3.sql:1:1: rollback is "
	    "destructive");
	sc_expect_contains(r->err,
	    "The rollbacks of 20230102_m2, 20230101_m1 lose data too.");
	sc_run_free(r);
	expect_unchanged(p, before);
	free(before);
	sc_free(p);
}

static void
test_rollback_runs_a_file_that_loses_nothing_without_force(void **state)
{
	struct proj *p = sc_project("keeps", NULL);
	struct tu_run *r;

	(void)state;
	sc_pair(p, "pending", "20230101_m1",
	    "CREATE TABLE t1 (id int);\nINSERT INTO t1 VALUES (1);\n",
	    "-- it goes with the migration that made it\n"
	    "-- migdir:allow drop-table\n"
	    "DROP TABLE t1;\n");
	sc_pair(p, "pending", "20230102_m2", "CREATE INDEX t1_id ON t1 (id);\n",
	    "DROP INDEX t1_id;\n");
	sc_commit(p, "two");
	run_ok(p, "apply", NULL, NULL);
	/* blocking, not destructive */
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 0, "blocking rollback");
	sc_expect_contains(r->out, "20230102_m2  blocking");
	sc_run_free(r);
	/* the allow says the table's loss is meant */
	r = sc_migdir(p, NULL, "rollback", NULL);
	sc_expect_status(r, 0, "allowed drop-table");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM t1"));
	sc_free(p);
}

/* Does pg_restore --list of file list entry (e.g. "TABLE DATA public t3")? */
static void
expect_listed(const char *file, const char *entry)
{
	const char *argv[] = {"pg_restore", "--list", file, NULL};
	char *list = tu_capture("pg_restore --list", NULL, NULL, argv);

	assert_non_null(list);
	sc_expect_contains(list, entry);
	free(list);
}

/* How many tables' rows the dump holds (a string, as psql would give). */
static char *
data_entries(const char *file)
{
	return tu_sh(NULL, "pg_restore --list '%s' | grep -c 'TABLE DATA'",
	    file);
}

static void
test_rollback_backup_dumps_what_it_drops(void **state)
{
	struct proj *p = three_applied("backup");
	char *file = tu_path(p->tmp, "t3.dump"), *scratch, *url, *n;
	const char *restore[] = {"pg_restore", "--dbname", NULL, NULL, NULL};
	struct tu_run *r;

	(void)state;
	free(sc_psql(p, "INSERT INTO t3 VALUES (1), (2)"));
	r = sc_migdir(p, NULL, "rollback", "--backup", file, NULL);
	sc_expect_status(r, 0, "rollback --backup");
	sc_expect_contains(r->out, "Backed up table t3 to ");
	sc_expect_contains(r->out, "t3.dump (");
	sc_expect_contains(r->out,
	    "bytes, checked with pg_restore --list).\n"
	    "Rolling back 1 migration");
	sc_run_free(r);
	assert_null(sc_psql(p, "SELECT 1 FROM t3"));
	assert_string_equal(sc_folder_of(p, "20230103_m3"), "pending");
	assert_true(sc_git_clean(p));
	/* the dump holds t3 and its rows, and no other table's */
	expect_listed(file, "TABLE DATA public t3 ");
	n = data_entries(file);
	assert_string_equal(n, "1");
	free(n);
	scratch = tu_asprintf("%s_restored", p->db);
	url = pgcluster_createdb(sc_cluster, scratch);
	assert_non_null(url);
	restore[2] = url;
	restore[3] = file;
	free(tu_capture("pg_restore", NULL, NULL, restore));
	n = pgcluster_psql(sc_cluster, scratch, "SELECT sum(id) FROM t3");
	assert_string_equal(n, "3");
	free(n);
	pgcluster_dropdb(sc_cluster, scratch);
	free(scratch);
	free(url);
	free(file);
	sc_free(p);
}

/* Names are handed to pg_dump as the parser read them, quoted. */
static void
test_rollback_backup_takes_names_literally(void **state)
{
	struct proj *p = one_applied("oddnames", "20230101_odd",
	    "CREATE SCHEMA s;\n"
	    "CREATE TABLE s.\"Odd \"\"Name\"\"\" (id int);\n"
	    "CREATE TABLE \"Odd \"\"Name\"\"\" (id int);\n"
	    "CREATE TABLE odd_name (id int);\n"
	    "CREATE TABLE \"my.table\" (id int);\n"
	    "INSERT INTO s.\"Odd \"\"Name\"\"\" VALUES (1);\n"
	    "INSERT INTO \"my.table\" VALUES (7);\n",
	    "DELETE FROM s.\"Odd \"\"Name\"\"\";\n"
	    "TRUNCATE odd_name;\n"
	    "DROP TABLE \"my.table\";\n");
	char *file = tu_path(p->tmp, "odd.dump"), *n;
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "rollback", "--backup", file, NULL);
	sc_expect_status(r, 0, "rollback --backup, odd names");
	sc_expect_contains(r->out,
	    "Backed up tables s.Odd \"Name\", odd_name, my.table to ");
	sc_run_free(r);
	expect_listed(file, "TABLE DATA s Odd \"Name\" ");
	expect_listed(file, "TABLE DATA public odd_name ");
	/* a dot inside a quoted name is part of the name */
	expect_listed(file, "TABLE DATA public my.table ");
	/* not the public table of the same name, nor any other */
	n = data_entries(file);
	assert_string_equal(n, "3");
	free(n);
	/* only its owner can read the data it holds */
	{
		struct stat sb;

		assert_int_equal(stat(file, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	free(file);
	sc_free(p);
}

static void
test_rollback_backup_of_a_dropped_schema_is_the_whole_database(void **state)
{
	struct proj *p = one_applied("wholedb", "20230101_s",
	    "CREATE SCHEMA s;\nCREATE TABLE s.t (id int);\n"
	    "INSERT INTO s.t VALUES (7);\n",
	    "DROP SCHEMA s CASCADE;\n");
	char *file = tu_path(p->tmp, "all.dump");
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "--json", "rollback", "--backup", file, NULL);
	sc_expect_status(r, 0, "rollback --backup of a schema");
	sc_expect_contains(r->out, "\"whole_database\": true");
	sc_expect_contains(r->out, "\"tables\": null");
	sc_expect_contains(r->out, "\"rollback_risk\": \"destructive\"");
	sc_run_free(r);
	expect_listed(file, "TABLE DATA s t ");
	expect_listed(file, "TABLE DATA public schema_versions ");
	free(file);
	sc_free(p);
}

static void
test_rollback_backup_is_relative_to_where_migdir_starts(void **state)
{
	struct proj *p = three_applied("relative");
	struct tu_run *r;

	(void)state;
	sc_write(p, "sub/.keep", "");
	sc_commit(p, "sub");
	r = sc_migdir(p, NULL, "-C", "sub", "--json", "rollback", "--backup",
	    "t3.dump", NULL);
	sc_expect_status(r, 0, "rollback -C sub --backup t3.dump");
	sc_expect_contains(r->out, "/sub/t3.dump\"");
	sc_expect_contains(r->out, "\"tables\": [\n      \"t3\"");
	sc_run_free(r);
	assert_true(sc_exists(p, "sub/t3.dump"));
	assert_false(sc_exists(p, "t3.dump"));
	sc_free(p);
}

static void
test_rollback_backup_not_needed_writes_nothing(void **state)
{
	struct proj *p = one_applied("nobackup", "20230101_m1",
	    "CREATE TABLE t1 (id int);\n",
	    "-- migdir:allow drop-table\nDROP TABLE t1;\n");
	char *file = tu_path(p->tmp, "none.dump");
	struct tu_run *r;

	(void)state;
	r = sc_migdir(p, NULL, "rollback", "--backup", file, NULL);
	sc_expect_status(r, 0, "rollback --backup, nothing destructive");
	sc_expect_contains(r->err,
	    "no backup written: no rollback file of "
	    "this run is destructive");
	sc_run_free(r);
	assert_false(tu_exists(file));
	assert_null(sc_psql(p, "SELECT 1 FROM t1"));
	free(file);
	sc_free(p);
}

/* A stand-in for pg_dump or pg_restore, written by the test. */
static char *
fake_program(struct proj *p, const char *name, const char *body)
{
	char *path = tu_path(p->tmp, name), *script;

	script = tu_asprintf("#!/bin/sh\n%s\n", body);
	assert_int_equal(tu_write_file(path, script), 0);
	assert_int_equal(chmod(path, 0755), 0);
	free(script);
	return path;
}

/*
 * A rollback file PostgreSQL 15's parser rejects is never taken for safe:
 * on this (PostgreSQL 15) server it is refused as a syntax error, before
 * anything changes; on a newer server, as a file that cannot be judged
 * (test_risk covers its class).
 */
static void
test_rollback_refuses_a_rollback_it_cannot_parse(void **state)
{
	struct proj *p =
	    one_applied("unjudged", "20230101_u", "CREATE TABLE u (id int);\n",
		"DROP TABLE u;\nSELECT JSON_OBJECT('a': 1);\n");
	char *before, *after;
	struct tu_run *r;

	(void)state;
	before = snapshot(p);
	r = sc_migdir(p, NULL, "rollback", "--force", NULL);
	sc_expect_status(r, 1, "rollback of an unparsed file");
	sc_expect_contains(r->err,
	    "_rollback_u.sql:2:23: syntax error at or near \":\"");
	sc_run_free(r);
	after = snapshot(p);
	assert_string_equal(before, after);
	free(after);
	free(before);
	sc_free(p);
}

/*
 * A password in the connection string reaches pg_dump through PGPASSWORD,
 * never its command line, which every user of the machine can read.
 */
static void
test_rollback_backup_keeps_the_password_off_the_command_line(void **state)
{
	struct proj *p = three_applied("backuppw");
	char *file = tu_path(p->tmp, "t3.dump");
	char *log = tu_path(p->tmp, "pg_dump.args");
	char *body = tu_asprintf("printf '%%s\\n' \"$*\" "
				 "\"PGPASSWORD=$PGPASSWORD\" >'%s'\n"
				 "exec pg_dump \"$@\"",
	    log);
	char *dump = fake_program(p, "dump", body);
	char *env_dump = tu_asprintf("MIGDIR_PG_DUMP=%s", dump);
	char *url = tu_asprintf("%s%cpassword=s3cret", p->url,
	    strchr(p->url, '?') ? '&' : '?');
	const char *env[] = {env_dump, NULL};
	struct tu_run *r;
	char *seen, *nl;

	(void)state;
	r = sc_migdir_env(p, env, NULL, "--database-url", url, "rollback",
	    "--backup", file, NULL);
	sc_expect_status(r, 0, "rollback --backup with a password");
	assert_null(strstr(r->out, "s3cret"));
	assert_null(strstr(r->err, "s3cret"));
	sc_run_free(r);
	seen = tu_read_file(log);
	assert_non_null(seen);
	nl = strchr(seen, '\n');
	assert_non_null(nl);
	*nl = '\0';
	/* the command line names the database, without the password */
	sc_expect_contains(seen, "--dbname");
	sc_expect_contains(seen, p->db);
	assert_null(strstr(seen, "s3cret"));
	assert_string_equal(nl + 1, "PGPASSWORD=s3cret\n");
	expect_listed(file, "TABLE DATA public t3 ");
	free(seen);
	free(url);
	free(env_dump);
	free(dump);
	free(body);
	free(log);
	free(file);
	sc_free(p);
}

/*
 * Every way a backup can fail: the rollback is refused, nothing changes,
 * and no file is left behind; a file that exists is never overwritten.
 */
static void
test_rollback_backup_failures_change_nothing(void **state)
{
	struct proj *p = three_applied("backupfail");
	char *file = tu_path(p->tmp, "t3.dump");
	char *said = fake_program(p, "said",
	    "echo 'pg_dump: error: connection to server failed' >&2; exit 1");
	char *empty = fake_program(p, "empty",
	    "while [ $# -gt 0 ]; do [ \"$1\" = --file ] && : >\"$2\"; shift; "
	    "done; exit 0");
	char *env_said = tu_asprintf("MIGDIR_PG_DUMP=%s", said);
	char *env_empty = tu_asprintf("MIGDIR_PG_DUMP=%s", empty);
	char *env_restore_said = tu_asprintf("MIGDIR_PG_RESTORE=%s", said);
	const struct {
		const char *env;
		const char *message;
		const char *hint;
	} cases[] = {
	    {"MIGDIR_PG_DUMP=/nonexistent",
		"could not run \"/nonexistent\": no such program",
		"MIGDIR_PG_DUMP names it: correct or unset MIGDIR_PG_DUMP."},
	    {"PATH=/nonexistent", "could not run \"pg_dump\": no such program",
		"apt-get install postgresql-client"},
	    {env_said,
		"pg_dump failed (exit status 1): connection to server failed",
		"Nothing was rolled back."},
	    {env_empty, "pg_dump wrote no backup to",
		"Nothing was rolled back."},
	    {"MIGDIR_PG_RESTORE=/nonexistent",
		"cannot be read back: could not run \"/nonexistent\"",
		"MIGDIR_PG_RESTORE names it"},
	    {env_restore_said,
		"cannot be read back: pg_restore --list failed (exit status 1)",
		"Nothing was rolled back."},
	};
	char *before, *kept;
	struct tu_run *r;
	size_t i;

	(void)state;
	free(sc_psql(p, "INSERT INTO t3 VALUES (1)"));
	before = snapshot(p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *env[] = {cases[i].env, NULL};

		r = sc_migdir_env(p, env, NULL, "rollback", "--backup", file,
		    NULL);
		sc_expect_status(r, 1, cases[i].env);
		sc_expect_contains(r->err, cases[i].message);
		sc_expect_contains(r->err, cases[i].hint);
		assert_string_equal(r->out, "");
		sc_run_free(r);
		assert_false(tu_exists(file));
		expect_unchanged(p, before);
	}
	assert_int_equal(tu_write_file(file, "keep me"), 0);
	r = sc_migdir(p, NULL, "rollback", "--backup", file, NULL);
	sc_expect_status(r, 1, "backup file exists");
	sc_expect_contains(r->err, "already exists");
	sc_run_free(r);
	kept = tu_read_file(file);
	assert_string_equal(kept, "keep me");
	free(kept);
	expect_unchanged(p, before);
	free(before);
	free(env_said);
	free(env_empty);
	free(env_restore_said);
	free(said);
	free(empty);
	free(file);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollback_undoes_the_latest_and_moves_it_back),
	    cmocka_unit_test(test_rollback_step_to_and_all),
	    cmocka_unit_test(test_rollback_refuses_a_missing_rollback_file),
	    cmocka_unit_test(
		test_rollback_refuses_a_changed_rollback_file_unless_allowed),
	    cmocka_unit_test(test_rollback_never_touches_the_archive),
	    cmocka_unit_test(test_rollback_dry_run_changes_nothing),
	    cmocka_unit_test(
		test_rollback_refuses_a_destructive_file_without_force),
	    cmocka_unit_test(test_rollback_names_every_destructive_file),
	    cmocka_unit_test(
		test_rollback_runs_a_file_that_loses_nothing_without_force),
	    cmocka_unit_test(test_rollback_backup_dumps_what_it_drops),
	    cmocka_unit_test(test_rollback_backup_takes_names_literally),
	    cmocka_unit_test(test_rollback_refuses_a_rollback_it_cannot_parse),
	    cmocka_unit_test(
		test_rollback_backup_keeps_the_password_off_the_command_line),
	    cmocka_unit_test(
		test_rollback_backup_of_a_dropped_schema_is_the_whole_database),
	    cmocka_unit_test(
		test_rollback_backup_is_relative_to_where_migdir_starts),
	    cmocka_unit_test(test_rollback_backup_not_needed_writes_nothing),
	    cmocka_unit_test(test_rollback_backup_failures_change_nothing),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
