/*
 * test_secrets.c - a password never shows.
 *
 * The cluster asks role migdir_app for its password (scram-sha-256), a
 * password full of URL-special characters.  For every way of giving it
 * (URL in migdir.ini, url = ${VAR}, a password= keyword, PGPASSWORD, a
 * service file, a password file) every command that connects runs, on
 * its success paths and its failure paths (wrong password, unknown
 * database, a migration that fails, -v, --json); then neither the
 * password nor its percent-encoded form may appear in any output, in
 * git history (messages, trailers, content), in a file of the repository
 * migdir wrote, nor on the command line of any pg_dump or pg_restore
 * migdir ran: a wrapper records each one's /proc/PID/cmdline.
 *
 * Then privileges: a role with only what a migration needs (CONNECT,
 * USAGE and CREATE on the schema, or rights on tables an admin made with
 * migdir init) applies and rolls back; each privilege taken away makes
 * migdir stop with the server's 42501 message and a hint naming the
 * GRANT, with nothing moved and nothing committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "scenario.h"
#include "../../include/banned.h"

#define ROLE "migdir_app"
#define PW   "Pw-9f3c!x@y:z/%"
/* PW percent-encoded, as a URL carries it */
#define PW_URL "Pw-9f3c%21x%40y%3Az%2F%25"
/* wrong passwords that hold the right one: a leak of either is seen */
#define PW_WRONG     PW "-wrong"
#define PW_URL_WRONG PW_URL "-wrong"

enum way {
	WAY_INI_URL,
	WAY_VAR_URL,
	WAY_KEYWORD,
	WAY_PGPASSWORD,
	WAY_SERVICE,
	WAY_PGPASS,
};

static char *tmpdir;   /* wrappers, their log, service and password files */
static char *argv_log; /* the wrappers' command lines */

static void
write_wrapper(const char *tool)
{
	char *path = tu_asprintf("%s/wrap_%s", tmpdir, tool);
	char *text = tu_asprintf("#!/bin/sh\n"
				 "tr '\\0' ' ' </proc/$$/cmdline >>'%s'\n"
				 "echo >>'%s'\n"
				 "exec '%s/%s' \"$@\"\n",
	    argv_log, argv_log, sc_cluster->bindir, tool);

	assert_int_equal(tu_write_file(path, text), 0);
	assert_int_equal(chmod(path, 0755), 0);
	free(path);
	free(text);
}

static int
setup(void **state)
{
	char *res;

	if (sc_group_setup(state) < 0)
		return -1;
	if (!sc_cluster)
		return 0;
	tmpdir = tu_mkdtemp("migdir-secrets");
	argv_log = tu_path(tmpdir, "argv.log");
	write_wrapper("pg_dump");
	write_wrapper("pg_restore");
	res = pgcluster_psql(sc_cluster, "postgres",
	    "CREATE ROLE " ROLE " LOGIN CREATEDB PASSWORD '" PW "';\n");
	if (!res || pgcluster_require_password(sc_cluster, ROLE) < 0)
		return -1;
	free(res);
	return 0;
}

static int
teardown(void **state)
{
	if (tmpdir && !tu_keep_requested())
		tu_rmrf(tmpdir);
	free(tmpdir);
	free(argv_log);
	return sc_group_teardown(state);
}

/* Everything migdir said, for the final search. */
struct seen {
	char *text;
};

static void
see(struct seen *s, const char *what, const char *more)
{
	char *t = tu_asprintf("%s== %s\n%s\n", s->text ? s->text : "", what,
	    more ? more : "");

	free(s->text);
	s->text = t;
}

/*
 * How a run is given password pw for database db: a migdir.ini line and
 * environment entries for migdir.
 */
struct conn {
	char *ini_line;
	char *owned[6];
	const char *env[8];
	int n;
};

static void
conn_env(struct conn *c, char *entry)
{
	c->owned[c->n] = entry;
	c->env[c->n++] = entry;
	c->env[c->n] = NULL;
}

static char *
url(const char *enc, const char *db)
{
	return tu_asprintf("postgresql://" ROLE "%s%s@/%s?host=%s&port=%d",
	    enc ? ":" : "", enc ? enc : "", db, sc_cluster->sockdir,
	    sc_cluster->port);
}

static void
conn_make(struct conn *c, enum way w, const char *pw, const char *db)
{
	/* the URL form of the password */
	const char *enc = !strcmp(pw, PW) ? PW_URL : PW_URL_WRONG;
	char *file, *text, *u;

	memset(c, 0, sizeof(*c));
	conn_env(c, tu_asprintf("MIGDIR_PG_DUMP=%s/wrap_pg_dump", tmpdir));
	conn_env(c,
	    tu_asprintf("MIGDIR_PG_RESTORE=%s/wrap_pg_restore", tmpdir));
	if (w != WAY_PGPASS) /* not the password file of whoever runs this */
		conn_env(c, tu_asprintf("PGPASSFILE=/nonexistent"));
	switch (w) {
	case WAY_INI_URL:
		u = url(enc, db);
		c->ini_line = tu_asprintf("url = %s", u);
		free(u);
		break;
	case WAY_VAR_URL:
		c->ini_line = tu_asprintf("url = ${CRM_URL}");
		u = url(enc, db);
		conn_env(c, tu_asprintf("CRM_URL=%s", u));
		free(u);
		break;
	case WAY_KEYWORD:
		c->ini_line = tu_asprintf("url = host=%s port=%d user=" ROLE
					  " password='%s' dbname=%s",
		    sc_cluster->sockdir, sc_cluster->port, pw, db);
		break;
	case WAY_PGPASSWORD:
		u = url(NULL, db);
		c->ini_line = tu_asprintf("url = %s", u);
		free(u);
		conn_env(c, tu_asprintf("PGPASSWORD=%s", pw));
		break;
	case WAY_SERVICE:
		c->ini_line = tu_asprintf("service = crm");
		file = tu_path(tmpdir, "pg_service.conf");
		text = tu_asprintf("[crm]\nhost=%s\nport=%d\nuser=" ROLE
				   "\ndbname=%s\npassword=%s\n",
		    sc_cluster->sockdir, sc_cluster->port, db, pw);
		assert_int_equal(tu_write_file(file, text), 0);
		conn_env(c, tu_asprintf("PGSERVICEFILE=%s", file));
		free(text);
		free(file);
		break;
	case WAY_PGPASS:
		u = url(NULL, db);
		c->ini_line = tu_asprintf("url = %s", u);
		free(u);
		file = tu_path(tmpdir, "pgpass");
		/* a password file writes ':' in a password as "\:" */
		text = tu_asprintf("%s:%d:*:" ROLE ":Pw-9f3c!x@y\\:z/%%%s\n",
		    sc_cluster->sockdir, sc_cluster->port,
		    strcmp(pw, PW) ? "-wrong" : "");
		assert_int_equal(tu_write_file(file, text), 0);
		assert_int_equal(chmod(file, 0600), 0);
		conn_env(c, tu_asprintf("PGPASSFILE=%s", file));
		free(text);
		free(file);
		break;
	}
}

static void
conn_free(struct conn *c)
{
	int i;

	free(c->ini_line);
	for (i = 0; i < c->n; i++)
		free(c->owned[i]);
	memset(c, 0, sizeof(*c));
}

/* migdir.ini for the connection (never committed: the user's secret). */
static void
write_ini(struct proj *p, const char *line)
{
	char *ini = tu_asprintf("[migdir]\n"
				"migrations = migrations\n"
				"tracked = production\n"
				"\n"
				"[env production]\n"
				"%s\n",
	    line);

	sc_write(p, "migdir.ini", ini);
	free(ini);
}

/*
 * Run migdir with the arguments that follow (up to six, then NULL) and
 * the connection, expecting exit status want and, when expect is not
 * NULL, that text on standard error; what it says goes to s.
 */
static void
run(struct proj *p, struct seen *s, const struct conn *c, int want,
    const char *expect, ...)
{
	const char *a[7] = {NULL};
	char *what = tu_asprintf("migdir"), *t;
	struct tu_run *r;
	va_list ap;
	int n = 0;

	va_start(ap, expect);
	while (n < 6 && (a[n] = va_arg(ap, const char *))) {
		t = tu_asprintf("%s %s", what, a[n++]);
		free(what);
		what = t;
	}
	va_end(ap);
	r = sc_migdir_env(p, c->env, NULL, a[0], a[1], a[2], a[3], a[4], a[5],
	    NULL);
	sc_expect_status(r, want, what);
	if (expect)
		sc_expect_contains(r->err, expect);
	see(s, what, r->out);
	see(s, "stderr", r->err);
	sc_run_free(r);
	free(what);
}

static int
unlink_rel(struct proj *p, const char *rel)
{
	char *path = tu_path(p->dir, rel);
	int rc = unlink(path);

	free(path);
	return rc;
}

/* Commit everything but migdir.ini (it holds the secret). */
static void
commit_migrations(struct proj *p, const char *msg)
{
	char *out = sc_git(p, "add -A . ':!migdir.ini'");

	assert_non_null(out);
	free(out);
	out = sc_git(p, "commit -qm '%s'", msg);
	assert_non_null(out);
	free(out);
}

/* Fail the test if text holds the password in either form. */
static void
expect_no_password(const char *where, const char *text)
{
	const char *hit;
	size_t before;

	if (!text)
		fail_msg("%s: nothing to search", where);
	if (!(hit = strstr(text, PW)) && !(hit = strstr(text, PW_URL)))
		return;
	before = (size_t)(hit - text) < 400 ? (size_t)(hit - text) : 400;
	fail_msg("the password shows in %s:\n...%.*s<<<HERE>>>%.60s", where,
	    (int)before, hit - before, hit);
}

#define B(p, n) tu_asprintf("%s/backup%d_%s.dump", tmpdir, n, (p)->db)

/*
 * Every command that connects, given the password the way w does, on
 * success and failure paths; then nothing may show the password.
 */
static void
sweep(enum way w, const char *name)
{
	struct proj *p = sc_project(name, NULL);
	struct seen s = {0};
	struct conn c;
	char *b1 = B(p, 1), *b2 = B(p, 2), *b3 = B(p, 3), *out, *pats, *q1, *q2;

	free(sc_psql(p, "ALTER DATABASE \"%s\" OWNER TO " ROLE, p->db));
	sc_pair(p, "pending", "20240101_create_items",
	    "CREATE TABLE items (id int PRIMARY KEY, name text);\n"
	    "INSERT INTO items VALUES (1, 'one');\n",
	    "DROP TABLE items;\n");
	sc_pair(p, "pending", "20240102_create_notes",
	    "CREATE TABLE notes (id int);\n", "DROP TABLE notes;\n");
	sc_pair(p, "pending", "20240103_add_price",
	    "ALTER TABLE items ADD COLUMN price int;\n",
	    "ALTER TABLE items DROP COLUMN price;\n");
	sc_commit(p, "three migrations");
	assert_int_equal(tu_write_file(argv_log, ""), 0);

	/* success paths */
	conn_make(&c, w, PW, p->db);
	write_ini(p, c.ini_line);
	run(p, &s, &c, 0, NULL, "init", NULL);
	run(p, &s, &c, 0, NULL, "status", NULL);
	run(p, &s, &c, 0, "connected to", "-v", "status", NULL);
	run(p, &s, &c, 0, NULL, "--json", "status", NULL);
	run(p, &s, &c, 0, NULL, "-v", "plan", NULL);
	run(p, &s, &c, 0, NULL, "-v", "apply", "--to", "20240101_create_items",
	    NULL);
	run(p, &s, &c, 0, NULL, "--json", "apply", NULL);
	run(p, &s, &c, 0, NULL, "rollback", "--force", "--backup", b1, NULL);
	run(p, &s, &c, 0, NULL, "-v", "--json", "rollback", "--force",
	    "--backup", b2, NULL);
	/* scratch databases: each rehearse and consolidate takes seconds */
	run(p, &s, &c, 0, NULL, "-v", "--json", "rehearse", NULL);
	run(p, &s, &c, 0, NULL, "apply", NULL);
	run(p, &s, &c, 0, NULL, "repair", NULL);
	run(p, &s, &c, 0, NULL, "--json", "repair", NULL);
	sc_write(p, "migrations/pending/20240104_broken.sql",
	    "SELECT broken FROM nothing_here;\n");
	commit_migrations(p, "a broken migration");
	run(p, &s, &c, 1, "SQLSTATE 42P01", "apply", NULL);
	run(p, &s, &c, 1, "SQLSTATE 42P01", "-v", "--json", "apply", NULL);
	if (w == WAY_INI_URL)
		run(p, &s, &c, 3, NULL, "rehearse", NULL);
	assert_int_equal(unlink_rel(p,
			     "migrations/pending/20240104_broken.sql"),
	    0);
	commit_migrations(p, "no broken migration");
	run(p, &s, &c, 0, NULL, "-v", "--json", "consolidate", NULL);
	run(p, &s, &c, 0, NULL, "baseline", "--dry-run", NULL);
	run(p, &s, &c, 0, NULL, "--json", "baseline", "--dry-run", NULL);
	run(p, &s, &c, 0, NULL, "check", "-e", "production", NULL);
	sc_pair(p, "pending", "20240105_create_tags",
	    "CREATE TABLE tags (id int);\n", "DROP TABLE tags;\n");
	commit_migrations(p, "one more");
	conn_free(&c);

	/* a wrong password, an unknown database */
	conn_make(&c, w, PW_WRONG, p->db);
	write_ini(p, c.ini_line);
	run(p, &s, &c, 1, "password authentication failed", "status", NULL);
	run(p, &s, &c, 1, "password authentication failed", "-v", "--json",
	    "apply", NULL);
	run(p, &s, &c, 1, "password authentication failed", "rollback",
	    "--force", "--backup", b3, NULL);
	run(p, &s, &c, 1, "password authentication failed", "rehearse", NULL);
	run(p, &s, &c, 1, "password authentication failed", "consolidate",
	    NULL);
	run(p, &s, &c, 1, "password authentication failed", "baseline",
	    "--dry-run", NULL);
	run(p, &s, &c, 1, "password authentication failed", "repair", NULL);
	conn_free(&c);
	conn_make(&c, w, PW, "no_such_db");
	write_ini(p, c.ini_line);
	run(p, &s, &c, 1, "\"no_such_db\" does not exist", "--json", "status",
	    NULL);
	run(p, &s, &c, 1, "\"no_such_db\" does not exist", "-v", "rollback",
	    "--backup", b3, NULL);
	run(p, &s, &c, 1, "\"no_such_db\" does not exist", "rehearse", NULL);
	conn_free(&c);
	if (w == WAY_INI_URL || w == WAY_KEYWORD) {
		/* a malformed value around a literal password */
		conn_make(&c, w, PW, "x${NOPE");
		write_ini(p, c.ini_line);
		run(p, &s, &c, 1, "unterminated", "status", NULL);
		run(p, &s, &c, 1, "unterminated", "--json", "apply", NULL);
		conn_free(&c);
	}

	/* the output, git, the repository's files, the children's argv */
	expect_no_password("migdir's output", s.text);
	out = sc_git(p, "log -p --format=full --all");
	expect_no_password("git log -p --format=full", out);
	free(out);
	out = sc_git(p, "log '--format=%%(trailers)'");
	expect_no_password("the trailers", out);
	free(out);
	q1 = tu_shquote(PW);
	q2 = tu_shquote(PW_URL);
	pats = tu_asprintf("-e %s -e %s", q1, q2);
	free(q1);
	free(q2);
	out = tu_sh(p->dir,
	    "grep -rlF %s --exclude-dir=.git --exclude=migdir.ini . || true",
	    pats);
	assert_non_null(out);
	if (*out)
		fail_msg("the password shows in %s", out);
	free(out);
	out = tu_read_file(argv_log);
	assert_non_null(out);
	/* pg_dump (backup, rehearse, consolidate, baseline), pg_restore */
	sc_expect_contains(out, "--no-password");
	sc_expect_contains(out, "--schema-only");
	sc_expect_contains(out, "wrap_pg_restore --list");
	expect_no_password("the command line of pg_dump or pg_restore", out);
	free(out);
	free(pats);
	free(s.text);
	free(b1);
	free(b2);
	free(b3);
	sc_free(p);
}

static void
test_password_in_ini_url(void **state)
{
	(void)state;
	sweep(WAY_INI_URL, "ini_url");
}

static void
test_password_in_expanded_variable(void **state)
{
	(void)state;
	sweep(WAY_VAR_URL, "var_url");
}

static void
test_password_keyword(void **state)
{
	(void)state;
	sweep(WAY_KEYWORD, "keyword");
}

static void
test_pgpassword(void **state)
{
	(void)state;
	sweep(WAY_PGPASSWORD, "pgpassword");
}

static void
test_service_file(void **state)
{
	(void)state;
	sweep(WAY_SERVICE, "service");
}

static void
test_password_file(void **state)
{
	(void)state;
	sweep(WAY_PGPASS, "pgpass");
}

/* ------------------------------------------------------------------------
 * Privileges: a role with only what a migration needs.
 */
#define MIN "migdir_min"

/* Run migdir as MIN, expecting want and hint text on stderr. */
static void
as_min(struct proj *p, int want, const char *hint, const char *a1,
    const char *a2, const char *a3)
{
	char *what = tu_asprintf("migdir %s %s %s", a1, a2 ? a2 : "",
	    a2 && a3 ? a3 : "");
	struct tu_run *r = sc_migdir(p, NULL, a1, a2, a3, NULL);

	sc_expect_status(r, want, what);
	if (hint) {
		sc_expect_contains(r->err, hint);
		/* libpq gives none for a refused connection, nor pg_dump */
		if (!strstr(hint, "CONNECT") &&
		    !strstr(r->err, "pg_dump failed"))
			sc_expect_contains(a1[0] == '-' ? r->out : r->err,
			    "42501");
	}
	sc_run_free(r);
	free(what);
}

/* Nothing moved, nothing committed: the commit count and the folder. */
static void
nothing_done(struct proj *p, const char *commits, const char *version)
{
	char *now = sc_git(p, "rev-list --count HEAD");

	assert_non_null(now);
	assert_string_equal(now, commits);
	assert_string_equal(sc_folder_of(p, version), "pending");
	assert_true(sc_git_clean(p));
	free(now);
}

static void
test_least_privilege(void **state)
{
	struct proj *p = sc_project("least", NULL);
	char *u, *ini, *admin, *commits, *dump;
	struct tu_run *r;

	(void)state;
	free(sc_psql(p,
	    "DROP ROLE IF EXISTS " MIN "; CREATE ROLE " MIN
	    " LOGIN; REVOKE CONNECT ON DATABASE \"%s\" FROM PUBLIC;",
	    p->db));
	u = pgcluster_url(sc_cluster, p->db);
	admin = tu_asprintf("--database-url=%s", u);
	ini = tu_asprintf("[migdir]\ntracked = production\n\n"
			  "[env production]\nurl = postgresql://" MIN
			  "@/%s?host=%s&port=%d\n",
	    p->db, sc_cluster->sockdir, sc_cluster->port);
	sc_write(p, "migdir.ini", ini);
	sc_pair(p, "pending", "20240101_create_items",
	    "CREATE TABLE items (id int PRIMARY KEY, name text);\n"
	    "INSERT INTO items VALUES (1, 'one');\n",
	    "DROP TABLE items;\n");
	sc_commit(p, "one migration, as " MIN);
	commits = sc_git(p, "rev-list --count HEAD");

	/* no CONNECT */
	as_min(p, 1, "GRANT CONNECT ON DATABASE", "status", NULL, NULL);
	r = sc_migdir(p, NULL, "status", NULL);
	sc_expect_contains(r->err, "lacks CONNECT on database");
	sc_run_free(r);
	/* no CREATE on the schema: schema_versions cannot be created */
	free(sc_psql(p, "GRANT CONNECT ON DATABASE \"%s\" TO " MIN, p->db));
	as_min(p, 1, "GRANT USAGE, CREATE ON SCHEMA public TO " MIN, "apply",
	    NULL, NULL);
	nothing_done(p, commits, "20240101_create_items");
	assert_int_equal(sc_psql_long(p,
			     "SELECT count(*) FROM pg_class "
			     "WHERE relname = 'schema_versions'"),
	    0);
	/* an admin made the tables (migdir init): MIN may not read them */
	r = sc_migdir(p, NULL, admin, "init", NULL);
	sc_expect_status(r, 0, "init as the admin");
	sc_run_free(r);
	commit_migrations(p, "migdir init");
	free(commits);
	commits = sc_git(p, "rev-list --count HEAD");
	free(sc_psql(p, "GRANT USAGE ON SCHEMA public TO " MIN));
	as_min(p, 1, "lacks SELECT on schema_versions", "--json", "status",
	    NULL);
	as_min(p, 1, "GRANT SELECT, INSERT, UPDATE, DELETE ON", "apply", NULL,
	    NULL);
	/* SELECT alone: the bookkeeping cannot be written */
	free(sc_psql(p,
	    "GRANT SELECT ON schema_versions, "
	    "schema_versions_history TO " MIN));
	as_min(p, 0, NULL, "status", NULL, NULL);
	as_min(p, 1, "GRANT SELECT, INSERT, UPDATE, DELETE ON", "apply", NULL,
	    NULL);
	nothing_done(p, commits, "20240101_create_items");
	/* the bookkeeping rights, but a migration needs CREATE */
	free(sc_psql(p,
	    "GRANT INSERT, UPDATE, DELETE ON schema_versions, "
	    "schema_versions_history TO " MIN "; GRANT USAGE ON "
	    "ALL SEQUENCES IN SCHEMA public TO " MIN));
	as_min(p, 1, "lacks CREATE on schema public", "apply", NULL, NULL);
	as_min(p, 1, "Nothing of 20240101_create_items was applied", "apply",
	    NULL, NULL);
	nothing_done(p, commits, "20240101_create_items");
	/* everything a migration needs: apply, status, rollback work */
	free(sc_psql(p, "GRANT CREATE ON SCHEMA public TO " MIN));
	as_min(p, 0, NULL, "apply", NULL, NULL);
	as_min(p, 0, NULL, "status", "--exit-code", NULL);
	assert_string_equal(sc_folder_of(p, "20240101_create_items"),
	    "applied");
	as_min(p, 0, NULL, "rollback", "--force", NULL);
	as_min(p, 0, NULL, "apply", NULL, NULL);
	free(commits);
	commits = sc_git(p, "rev-list --count HEAD");
	/* a migration that writes into a table of another owner */
	free(sc_psql(p, "CREATE TABLE settings (k text PRIMARY KEY, v text)"));
	sc_pair(p, "pending", "20240102_add_setting",
	    "INSERT INTO settings VALUES ('theme', 'dark');\n",
	    "DELETE FROM settings WHERE k = 'theme';\n");
	commit_migrations(p, "a setting");
	free(commits);
	commits = sc_git(p, "rev-list --count HEAD");
	as_min(p, 1, "GRANT INSERT ON settings TO " MIN, "apply", NULL, NULL);
	nothing_done(p, commits, "20240102_add_setting");
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM settings"), 0);
	/* pg_dump for rollback --backup may not read the table it saves */
	free(sc_psql(p, "REVOKE SELECT ON items FROM " MIN));
	dump = tu_asprintf("--backup=%s/least.dump", tmpdir);
	as_min(p, 1, "GRANT SELECT ON items TO " MIN, "rollback", "--force",
	    dump);
	assert_string_equal(sc_folder_of(p, "20240101_create_items"),
	    "applied");
	free(commits);
	commits = sc_git(p, "rev-list --count HEAD");
	r = sc_migdir(p, NULL, "rollback", "--force", dump, NULL);
	sc_expect_contains(r->err, "Nothing was rolled back");
	sc_run_free(r);
	assert_int_equal(sc_psql_long(p, "SELECT count(*) FROM items"), 1);
	free(dump);
	free(commits);
	free(ini);
	free(admin);
	free(u);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_password_in_ini_url),
	    cmocka_unit_test(test_password_in_expanded_variable),
	    cmocka_unit_test(test_password_keyword),
	    cmocka_unit_test(test_pgpassword),
	    cmocka_unit_test(test_service_file),
	    cmocka_unit_test(test_password_file),
	    cmocka_unit_test(test_least_privilege),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
