/*
 * test_faults.c - the fault matrix (tests/faults.tbl) and kill -9 at
 * random moments (DESIGN §4: no SQL runs twice, nothing is half-written,
 * every state is explained and recoverable).
 *
 * For each row of tests/faults.tbl: build the row's scenario, run its
 * command with migdir-faults killed at the row's point (exit 99), check
 * what `status` says, run the row's finishing command, and check that
 * nothing was lost or done twice:
 *   - every migration's SQL ran exactly once: each forward file inserts
 *     its name into a table `ran`, each rollback file "undo NAME";
 *   - each migration's two files are in exactly one folder, the folder
 *     its schema_versions row calls for, and nowhere else;
 *   - `status --exit-code` is 0, `git status --porcelain` is empty and
 *     `git fsck --strict` is clean.
 * Then the same promises with a real SIGKILL at random moments of long
 * apply, rollback and consolidate runs (the seed is printed; set
 * MIGDIR_TEST_SEED to replay one).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"
#include "../../include/banned.h"

#define NVER 3

static const char *const versions[NVER] = {
    "20230101_m1",
    "20230102_m2",
    "20230103_m3",
};

/* ------------------------------------------------------ scenarios --- */

/* What a scenario's migrations leave once everything is finished. */
struct expect {
	const char *folder[NVER]; /* where each pair ends */
	int runs[NVER];           /* forward runs counted in `ran` */
	int undos[NVER];          /* rollback runs */
};

static void
ran_table(struct proj *p)
{
	free(sc_psql(p, "CREATE TABLE ran (what text)"));
}

/* NVER pending pairs that count their runs; committed. */
static void
three_pending(struct proj *p)
{
	int i;

	for (i = 0; i < NVER; i++) {
		/* m1 makes `ran` too, so that a replay (consolidate) runs */
		char *fwd = tu_asprintf("%sCREATE TABLE t%d (id int);\n"
					"INSERT INTO ran VALUES ('m%d');\n",
		    i ? "" : "CREATE TABLE IF NOT EXISTS ran (what text);\n",
		    i + 1, i + 1);
		char *rb = tu_asprintf("DROP TABLE t%d;\n"
				       "INSERT INTO ran VALUES ('undo m%d');\n",
		    i + 1, i + 1);

		sc_pair(p, "pending", versions[i], fwd, rb);
		free(fwd);
		free(rb);
	}
	sc_commit(p, "three migrations");
}

static void
migdir_ok(struct proj *p, const char *what, const char *const *argv)
{
	struct tu_run *r =
	    sc_migdir(p, NULL, argv[0], argv[1], argv[2], argv[3], NULL);

	sc_expect_status(r, 0, what);
	sc_run_free(r);
}

static const char *const apply_argv[] = {"apply", NULL, NULL, NULL};

static void
setup_apply(struct proj *p)
{
	ran_table(p);
	three_pending(p);
}

static void
setup_applied(struct proj *p)
{
	setup_apply(p);
	migdir_ok(p, "apply before the faulted command", apply_argv);
}

static void
setup_notx(struct proj *p)
{
	ran_table(p);
	free(sc_psql(p, "CREATE TABLE t0 (id int)"));
	sc_pair(p, "pending", versions[0],
	    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t0_id ON t0 (id);\n"
	    "INSERT INTO ran VALUES ('m1');\n",
	    "DROP INDEX CONCURRENTLY t0_id;\n");
	sc_commit(p, "one migration without a transaction");
}

/*
 * An apply killed after its last commit: m1 and m2 moved (not committed to
 * git), m3 only recorded.  (An earlier point is not deterministic: the
 * pipeline may have committed the next migrations too.)
 */
static void
setup_repair(struct proj *p)
{
	struct tu_run *r;

	setup_apply(p);
	r = sc_migdir(p, "apply_after_commit:3", "apply", NULL);
	sc_expect_status(r, 99, "the apply that leaves work for repair");
	sc_run_free(r);
}

/* The migrations run by hand with psql: m1 makes the counting table. */
static void
setup_baseline(struct proj *p)
{
	int i;

	for (i = 0; i < NVER; i++) {
		char *fwd = tu_asprintf("%sCREATE TABLE t%d (id int);\n"
					"INSERT INTO ran VALUES ('m%d');\n",
		    i ? "" : "CREATE TABLE ran (what text);\n", i + 1, i + 1);
		char *rb = tu_asprintf("DROP TABLE t%d;\n", i + 1);

		sc_pair(p, "pending", versions[i], fwd, rb);
		free(sc_psql(p, "%s", fwd));
		free(fwd);
		free(rb);
	}
	sc_commit(p, "three migrations, run by hand");
}

static const struct scenario {
	const char *name;
	void (*setup)(struct proj *p);
	const char *argv[4]; /* the command that is killed */
	struct expect end;
} scenarios[] = {
    {"apply", setup_apply, {"apply"},
	{{"applied", "applied", "applied"}, {1, 1, 1}, {0, 0, 0}}},
    {"apply-notx", setup_notx, {"apply"},
	{{"applied", NULL, NULL}, {1, 0, 0}, {0, 0, 0}}},
    {"rollback", setup_applied, {"rollback", "--to", "20230101_m1", "--force"},
	{{"applied", "pending", "pending"}, {1, 1, 1}, {0, 1, 1}}},
    {"repair", setup_repair, {"repair"},
	{{"applied", "applied", "applied"}, {1, 1, 1}, {0, 0, 0}}},
    {"consolidate", setup_applied, {"consolidate"},
	{{"archive", "archive", "archive"}, {1, 1, 1}, {0, 0, 0}}},
    {"release", setup_applied, {"consolidate", "--tag", "v1"},
	{{"archive", "archive", "archive"}, {1, 1, 1}, {0, 0, 0}}},
    {"baseline", setup_baseline, {"baseline", "--to", "20230103_m3"},
	{{"applied", "applied", "applied"}, {1, 1, 1}, {0, 0, 0}}},
};

static const struct scenario *
scenario_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	fail_msg("tests/faults.tbl: no scenario \"%s\" in test_faults.c", name);
	return NULL;
}

/* ---------------------------------------------------------- checks --- */

/* How many of the three folders hold rel (a file name)? */
static int
copies(struct proj *p, const char *file, const char **where)
{
	static const char *const folders[] = {"pending", "applied", "archive"};
	int i, n = 0;

	for (i = 0; i < 3; i++) {
		char *rel = tu_asprintf("migrations/%s/%s", folders[i], file);

		if (sc_exists(p, rel)) {
			n++;
			*where = folders[i];
		}
		free(rel);
	}
	return n;
}

/*
 * What the database holds: "m1=1,undo m2=1 | 20230101_m1,..." (the runs
 * counted in `ran`, then the active versions), in one psql.
 */
static char *
database_says(struct proj *p)
{
	return sc_psql(p,
	    "SELECT coalesce((SELECT string_agg(what || '=' || n, ',' "
	    "ORDER BY what) FROM (SELECT what, count(*) n FROM ran GROUP BY "
	    "what) x), '') || ' | ' || coalesce((SELECT string_agg(version, "
	    "',' ORDER BY version) FROM schema_versions WHERE is_active), '')");
}

/* Nothing lost, nothing done twice, everything explained and committed. */
static void
expect_whole(struct proj *p, const struct expect *end, const char *row)
{
	struct {
		char runs[256], active[256];
	} want = {"", ""};
	struct tu_run *r;
	char *s;
	int i;

	for (i = 0; i < NVER; i++) {
		const char *at = NULL, *rb_at = NULL;
		char *fwd, *rb;

		if (end->runs[i])
			snprintf(want.runs + strlen(want.runs),
			    sizeof(want.runs) - strlen(want.runs), "%sm%d=%d",
			    want.runs[0] ? "," : "", i + 1, end->runs[i]);
		if (!end->folder[i])
			continue;
		fwd = tu_asprintf("%s.sql", versions[i]);
		rb = tu_asprintf("%.8s_rollback_%s.sql", versions[i],
		    versions[i] + 9);
		if (copies(p, fwd, &at) != 1 || copies(p, rb, &rb_at) != 1)
			fail_msg("%s: %s is not in exactly one folder", row,
			    versions[i]);
		if (strcmp(at, end->folder[i]) || strcmp(rb_at, at))
			fail_msg("%s: %s is in %s/ (rollback in %s/), expected "
				 "%s/",
			    row, versions[i], at, rb_at, end->folder[i]);
		if (strcmp(at, "pending"))
			snprintf(want.active + strlen(want.active),
			    sizeof(want.active) - strlen(want.active), "%s%s",
			    want.active[0] ? "," : "", versions[i]);
		free(fwd);
		free(rb);
	}
	for (i = 0; i < NVER; i++)
		if (end->undos[i])
			snprintf(want.runs + strlen(want.runs),
			    sizeof(want.runs) - strlen(want.runs),
			    "%sundo m%d=%d", want.runs[0] ? "," : "", i + 1,
			    end->undos[i]);
	s = tu_asprintf("%s | %s", want.runs, want.active);
	{
		char *got = database_says(p);

		if (!got || strcmp(got, s))
			fail_msg("%s: the database says\n  %s\nexpected\n  %s",
			    row, got ? got : "(psql failed)", s);
		free(got);
	}
	free(s);
	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	if (r->status != 3 || !strstr(r->out, "pending; no problems"))
		sc_expect_status(r, 0, row); /* pending ones exit 3 */
	sc_run_free(r);
	if (!sc_git_clean(p)) {
		s = sc_git(p, "status --porcelain");
		fail_msg("%s: git status is not clean:\n%s", row, s);
	}
	s = tu_sh(p->dir, "git fsck --strict --no-dangling 2>&1 && echo ok");
	if (!s || strcmp(s, "ok"))
		fail_msg("%s: git fsck: %s", row, s ? s : "(failed)");
	free(s);
}

/* ------------------------------------------------- the fault matrix --- */

struct row {
	char point[64], scenario[32], finish[32], status[160];
	int line;
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Parse "point | scenario | finish | status"; 0 when not a row. */
static int
parse_row(struct row *out, char *line, int lineno)
{
	char *f[4], *p = line;
	int n;

	if (*trim(line) == '#' || !*trim(line))
		return 0;
	for (n = 0; n < 4; n++) {
		f[n] = p;
		if (n < 3) {
			if (!(p = strchr(p, '|')))
				fail_msg("tests/faults.tbl:%d: expected 4 "
					 "columns separated by |",
				    lineno);
			*p++ = '\0';
		}
	}
	snprintf(out->point, sizeof(out->point), "%s", trim(f[0]));
	snprintf(out->scenario, sizeof(out->scenario), "%s", trim(f[1]));
	snprintf(out->finish, sizeof(out->finish), "%s", trim(f[2]));
	snprintf(out->status, sizeof(out->status), "%s", trim(f[3]));
	out->line = lineno;
	return 1;
}

static void
run_row(const struct row *w)
{
	const struct scenario *sc = scenario_named(w->scenario);
	const struct scenario *fin = scenario_named(w->finish);
	struct proj *p = sc_project("faults", NULL);
	char what[160], reached[96];
	struct tu_run *r;
	size_t colon = strcspn(w->point, ":");

	snprintf(what, sizeof(what), "tests/faults.tbl:%d (%s in %s)", w->line,
	    w->point, w->scenario);
	sc->setup(p);
	r = sc_migdir(p, w->point, sc->argv[0], sc->argv[1], sc->argv[2],
	    sc->argv[3], NULL);
	sc_expect_status(r, 99, what);
	snprintf(reached, sizeof(reached), "fault point %.*s reached",
	    (int)colon, w->point);
	sc_expect_contains(r->err, reached);
	sc_run_free(r);

	r = sc_migdir(p, NULL, "status", "--exit-code", NULL);
	if (!strcmp(w->status, "-")) {
		/* whole already; migrations may still be pending (exit 3) */
		if (r->status != 0 && r->status != 3)
			sc_expect_status(r, 0, what);
		sc_expect_contains(r->out, "no problems");
	} else {
		sc_expect_status(r, 3, what);
		sc_expect_contains(r->out, w->status);
	}
	sc_run_free(r);

	r = sc_migdir(p, NULL, fin->argv[0], fin->argv[1], fin->argv[2],
	    fin->argv[3], NULL);
	sc_expect_status(r, 0, what);
	sc_run_free(r);
	if (fin != sc) {
		/* repair finished the step; the command then does the rest */
		r = sc_migdir(p, NULL, sc->argv[0], sc->argv[1], sc->argv[2],
		    sc->argv[3], NULL);
		sc_expect_status(r, 0, what);
		sc_run_free(r);
	}
	expect_whole(p, &sc->end, what);
	if (!strcmp(w->scenario, "release")) {
		char *t = sc_git(p, "rev-parse v1^{commit}"),
		     *h = sc_git(p, "rev-parse HEAD");

		assert_non_null(t);
		assert_string_equal(t, h);
		free(t);
		free(h);
	}
	sc_free(p);
}

static void
test_every_fault_point_is_explained_and_finished(void **state)
{
	char *path =
	    tu_asprintf("%s/tests/faults.tbl", getenv("MIGDIR_SOURCE"));
	FILE *f = fopen(path, "r");
	const char *only = getenv("MIGDIR_FAULT_ROW"); /* a line, to debug */
	char line[512];
	int lineno = 0, rows = 0;

	(void)state;
	if (!f)
		fail_msg("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		struct row w;

		if (!parse_row(&w, line, ++lineno) ||
		    (only && atoi(only) != lineno))
			continue;
		run_row(&w);
		rows++;
	}
	fclose(f);
	free(path);
	print_message("fault matrix: %d rows, each killed, explained, "
		      "finished and checked\n",
	    rows);
	assert_true(rows > 0);
}

/*
 * consolidate --tag with nothing to fold tags HEAD only when HEAD is the
 * consolidation an interrupted run left untagged; else it is refused.
 */
static void
test_a_late_tag_lands_only_on_a_consolidation(void **state)
{
	struct proj *p = sc_project("late_tag", NULL);
	const char *const consolidate[] = {"consolidate", "--tag", "v1", NULL};
	struct tu_run *r;
	char *head, *before;

	(void)state;
	setup_applied(p);
	migdir_ok(p, "consolidate", consolidate);
	r = sc_migdir(p, NULL, "consolidate", "--tag", "v2", NULL);
	sc_expect_status(r, 1, "a second tag on one consolidation");
	sc_expect_contains(r->err, "is tagged already");
	sc_run_free(r);
	assert_null(sc_git(p, "rev-parse -q --verify refs/tags/v2"));
	sc_write(p, "README", "unrelated\n");
	sc_commit(p, "an unrelated commit");
	before = sc_git(p, "rev-parse HEAD");
	r = sc_migdir(p, NULL, "consolidate", "--tag", "v2", NULL);
	sc_expect_status(r, 1, "a tag with nothing to consolidate");
	sc_expect_contains(r->err,
	    "nothing to consolidate, and HEAD is not a "
	    "consolidate commit to tag as v2");
	sc_run_free(r);
	assert_null(sc_git(p, "rev-parse -q --verify refs/tags/v2"));
	head = sc_git(p, "rev-parse HEAD");
	assert_string_equal(head, before);
	free(head);
	free(before);
	sc_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_fault_point_is_explained_and_finished),
	    cmocka_unit_test(test_a_late_tag_lands_only_on_a_consolidation),
	};

	return cmocka_run_group_tests(tests, sc_group_setup, sc_group_teardown);
}
