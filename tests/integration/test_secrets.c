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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
