/*
 * scenario.c - projects, databases and migdir runs for integration tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

struct pgcluster *sc_cluster;
static int counter;

int
sc_group_setup(void **state)
{
	(void)state;
	if (pgcluster_start(&sc_cluster) < 0) {
		if (tu_skip_allowed())
			return 0; /* each test then skips */
		fprintf(stderr,
		    "scenario: no PostgreSQL cluster: install "
		    "postgresql (apt-get install postgresql)\n");
		return -1;
	}
	return 0;
}

int
sc_group_teardown(void **state)
{
	(void)state;
	pgcluster_stop(sc_cluster);
	sc_cluster = NULL;
	return 0;
}

static const char *
bin(const char *name)
{
	const char *b = getenv(name);

	if (!b || !*b)
		fail_msg("%s is not set: run the tests through make check",
		    name);
	return b;
}

void
sc_need_cluster(void)
{
	if (sc_cluster)
		return;
	if (tu_skip_allowed()) /* MIGDIR_TEST_ALLOW_SKIP=1 */
		skip();
	fail_msg("no PostgreSQL cluster: see the message above "
		 "(MIGDIR_TEST_ALLOW_SKIP=1 turns this into a skip)");
}

struct proj *
sc_project(const char *name, const char *ini_extra)
{
	struct proj *p = calloc(1, sizeof(*p));
	char *ini, *dbname;

	sc_need_cluster();
	assert_non_null(p);
	p->tmp = tu_mkdtemp("migdir-test");
	assert_non_null(p->tmp);
	p->dir = tu_path(p->tmp, "repo");
	dbname = tu_asprintf("t%d_%d_%s", (int)getpid(), counter++, name);
	p->db = dbname;
	p->url = pgcluster_createdb(sc_cluster, dbname);
	assert_non_null(p->url);
	assert_int_equal(gitrepo_init(p->dir), 0);
	ini = tu_asprintf("[migdir]\n"
			  "migrations = migrations\n"
			  "tracked = production\n"
			  "%s"
			  "\n"
			  "[env production]\n"
			  "url = %s\n"
			  "\n"
			  "[env staging]\n"
			  "url = ${STAGING_URL}\n",
	    ini_extra ? ini_extra : "", p->url);
	sc_write(p, "migdir.ini", ini);
	free(ini);
	sc_write(p, "migrations/pending/.gitkeep", "");
	sc_write(p, "migrations/applied/.gitkeep", "");
	sc_write(p, "migrations/archive/.gitkeep", "");
	sc_commit(p, "project");
	return p;
}

void
sc_free(struct proj *p)
{
	if (!p)
		return;
	if (sc_cluster)
		pgcluster_dropdb(sc_cluster, p->db);
	if (tu_keep_requested())
		fprintf(stderr, "scenario: kept %s\n", p->tmp);
	else
		tu_rmrf(p->tmp);
	free(p->tmp);
	free(p->dir);
	free(p->db);
	free(p->url);
	free(p);
}

void
sc_write(struct proj *p, const char *rel, const char *content)
{
	char *path = tu_path(p->dir, rel);

	assert_int_equal(tu_write_file(path, content), 0);
	free(path);
}

int
sc_exists(struct proj *p, const char *rel)
{
	char *path = tu_path(p->dir, rel);
	int e = tu_exists(path);

	free(path);
	return e;
}

char *
sc_read(struct proj *p, const char *rel)
{
	char *path = tu_path(p->dir, rel);
	char *s = tu_read_file(path);

	free(path);
	return s;
}

void
sc_commit(struct proj *p, const char *msg)
{
	assert_int_equal(gitrepo_commit_all(p->dir, msg), 0);
}

char *
sc_git(struct proj *p, const char *fmt, ...)
{
	va_list ap;
	char *args, *out;

	va_start(ap, fmt);
	args = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = gitrepo_git(p->dir, "%s", args);
	free(args);
	return out;
}

char *
sc_psql(struct proj *p, const char *fmt, ...)
{
	va_list ap;
	char *sql, *out;

	va_start(ap, fmt);
	sql = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = pgcluster_psql(sc_cluster, p->db, sql);
	free(sql);
	return out;
}

long
sc_psql_long(struct proj *p, const char *fmt, ...)
{
	va_list ap;
	char *sql, *out, *end;
	long v;

	va_start(ap, fmt);
	sql = tu_vasprintf(fmt, ap);
	va_end(ap);
	out = pgcluster_psql(sc_cluster, p->db, sql);
	if (!out)
		fail_msg("query failed: %s", sql);
	v = strtol(out, &end, 10);
	if (*end || end == out)
		fail_msg("query %s gave \"%s\", not a number", sql, out);
	free(sql);
	free(out);
	return v;
}

static struct tu_run *
vrun(struct proj *p, const char *const *extra, const char *fault, va_list ap)
{
	const char *argv[64], *env[32];
	struct tu_run *r = calloc(1, sizeof(*r));
	char *fault_env = NULL;
	int n = 0, k = 0;
	const char *a;

	assert_non_null(r);
	argv[n++] = fault ? bin("MIGDIR_FAULT_BIN") : bin("MIGDIR_BIN");
	while ((a = va_arg(ap, const char *)) && n < 62)
		argv[n++] = a;
	argv[n] = NULL;
	env[k++] = "-DATABASE_URL";
	env[k++] = "-PGHOST";
	env[k++] = "-PGPORT";
	env[k++] = "-PGDATABASE";
	env[k++] = "-PGUSER";
	env[k++] = "TZ=UTC";
	env[k++] = "NO_COLOR=1";
	env[k++] = "-MIGDIR_FAULT";
	if (fault) {
		fault_env = tu_asprintf("MIGDIR_FAULT=%s", fault);
		env[k++] = fault_env;
	}
	while (extra && *extra && k < 30)
		env[k++] = *extra++;
	env[k] = NULL;
	if (tu_run(r, p->dir, env, argv) < 0)
		fail_msg("could not start %s", argv[0]);
	free(fault_env);
	return r;
}

struct tu_run *
sc_migdir(struct proj *p, const char *fault, ...)
{
	struct tu_run *r;
	va_list ap;

	va_start(ap, fault);
	r = vrun(p, NULL, fault, ap);
	va_end(ap);
	return r;
}

struct tu_run *
sc_migdir_env(struct proj *p, const char *const *env, const char *fault, ...)
{
	struct tu_run *r;
	va_list ap;

	va_start(ap, fault);
	r = vrun(p, env, fault, ap);
	va_end(ap);
	return r;
}

void
sc_run_free(struct tu_run *r)
{
	if (!r)
		return;
	tu_run_free(r);
	free(r);
}

void
sc_expect_status(const struct tu_run *r, int want, const char *what)
{
	if (r->status != want)
		fail_msg("%s: exit status %d, expected %d\n--- stdout:\n%s--- "
			 "stderr:\n%s",
		    what, r->status, want, r->out, r->err);
}

void
sc_expect_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("expected to find \"%s\" in:\n%s", needle,
		    haystack ? haystack : "(null)");
}

void
sc_pair(struct proj *p, const char *folder, const char *version,
    const char *forward, const char *rollback)
{
	const char *us = strchr(version, '_');
	char *f, *b;

	assert_non_null(us);
	f = tu_asprintf("migrations/%s/%s.sql", folder, version);
	sc_write(p, f, forward);
	if (rollback) {
		b = tu_asprintf("migrations/%s/%.*s_rollback_%s.sql", folder,
		    (int)(us - version), version, us + 1);
		sc_write(p, b, rollback);
		free(b);
	}
	free(f);
}

const char *
sc_folder_of(struct proj *p, const char *version)
{
	static const char *const folders[] = {"pending", "applied", "archive"};
	int i;

	for (i = 0; i < 3; i++) {
		char *rel =
		    tu_asprintf("migrations/%s/%s.sql", folders[i], version);
		int e = sc_exists(p, rel);

		free(rel);
		if (e)
			return folders[i];
	}
	return NULL;
}

int
sc_git_clean(struct proj *p)
{
	char *s = sc_git(p, "status --porcelain");
	int clean = s && !*s;

	free(s);
	return clean;
}

void
sc_wait_for_query(struct proj *p, const char *pattern)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (sc_psql_long(p,
			"SELECT count(*) FROM pg_stat_activity "
			"WHERE query LIKE '%s' AND pid <> "
			"pg_backend_pid()",
			pattern) > 0)
			return;
		nanosleep(&(struct timespec){0, 50000000L}, NULL);
	}
	fail_msg("no query like %s started", pattern);
}

struct proj *
sc_sample(const char *name, const char *ini_extra)
{
	struct proj *p = sc_project(name, ini_extra);
	char *src = tu_asprintf("%s/migrations", getenv("MIGDIR_SOURCE"));
	char *dst = tu_path(p->dir, "migrations");
	char *file =
	    tu_asprintf("%s/consolidated_schema.sql", getenv("MIGDIR_SOURCE"));
	char *text = tu_read_file(file);

	assert_non_null(text);
	assert_int_equal(tu_copy_tree(src, dst), 0);
	sc_write(p, "consolidated_schema.sql", text);
	sc_commit(p, "the CRM history");
	free(src);
	free(dst);
	free(file);
	free(text);
	return p;
}

long
sc_scratch_dbs(struct proj *p)
{
	return sc_psql_long(p,
	    "SELECT count(*) FROM pg_database WHERE "
	    "datname LIKE 'migdir\\_scratch\\_%%'");
}

char *
sc_schema_of(const char *url, const char *then)
{
	return tu_sh(NULL,
	    "%s/pg_dump --schema-only --no-owner -T 'public.schema_versions*' "
	    "'%s' | grep -vE '^(-- Dumped (from database|by pg_dump) "
	    "version|\\\\(un)?restrict )'%s",
	    sc_cluster->bindir, url, then);
}
