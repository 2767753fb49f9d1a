/*
 * test_plan.c - unit tests for states, problems and steps (src/plan.c).
 *
 * Each test builds a struct scan (the folders), struct rows (the
 * schema_versions rows) and the checksums and HEAD masks by hand, as
 * state.c would, then runs plan_entries and plan_analyze.  Covers the
 * table of DESIGN §4 for the tracked database: a pending file with no
 * row, an inactive row, an active row with the same checksum (finish the
 * move, never run again) or another one (drift); an applied file with an
 * active row, an inactive row (finish the rollback's move) or none; the
 * archive; an active row without a file; forward without rollback and
 * rollback without forward; duplicates; split pairs; out-of-order pending
 * files; moves not committed to git; changed rollback files; unreadable
 * files; untracked environments and a tracked one read without a database.
 * Then the steps: plan_apply (finishing moves first, --to, --step,
 * --out-of-order, blockers giving MG_EDRIFT), plan_rollback (most recently
 * applied first by applied_at then version, --step, --to, --all stopping at
 * the archive, and each refusal, duplicates and unreadable files included) and plan_repair; and the problems' names
 * and texts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "name.h"
#include "plan.h"
#include "rows.h"
#include "scan.h"
#include "xalloc.h"
#include "banned.h"

#define P         (1u << FOLDER_PENDING)
#define A         (1u << FOLDER_APPLIED)
#define R         (1u << FOLDER_ARCHIVE)
#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* The checksums files and rows carry unless a case says otherwise. */
#define SUM    "1111111111111111111111111111111111111111"
#define SUM2   "2222222222222222222222222222222222222222"
#define RBSUM  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RBSUM2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* One migration in the folders. */
struct mspec {
	const char *version;
	unsigned fwd, rb;   /* folders holding the forward / rollback file */
	const char *sum;    /* NULL: SUM if there is a forward file */
	const char *rb_sum; /* NULL: RBSUM if there is a rollback file */
	unsigned head, head_rb; /* folders where HEAD holds them */
};

/* One schema_versions row. */
struct rspec {
	const char *version;
	int active;
	const char *checksum;    /* may be NULL (a table kept by hand) */
	const char *rb_checksum; /* may be NULL */
	long long applied_at;
};

struct fixture {
	struct scan scan;
	struct rows rows;
	struct entry *e;
	size_t n;
};

static const struct plan_ctx tracked_db = {.tracked = 1, .have_db = 1};
static const struct plan_ctx tracked_git = {.tracked = 1,
    .have_db = 1,
    .have_git = 1};
static const struct plan_ctx tracked_nodb = {.tracked = 1};
static const struct plan_ctx untracked = {.have_db = 1};
/* an empty database, with and without consolidated_schema.sql */
static const struct plan_ctx tracked_fresh = {.tracked = 1,
    .have_db = 1,
    .fresh = 1,
    .baseline = 1};
static const struct plan_ctx untracked_fresh = {.have_db = 1,
    .fresh = 1,
    .baseline = 1};
static const struct plan_ctx untracked_fresh_nobase = {.have_db = 1,
    .fresh = 1};

static int
cmp_migration(const void *a, const void *b)
{
	return name_cmp(((const struct migration *)a)->version,
	    ((const struct migration *)b)->version);
}

static const struct mspec *
find_mspec(const struct mspec *m, size_t nm, const char *version)
{
	size_t i;

	for (i = 0; i < nm; i++)
		if (!strcmp(m[i].version, version))
			return &m[i];
	return NULL;
}

/* Build scan, rows and entries, fill checksums and HEAD, analyze. */
static void
fx_build(struct fixture *fx, const struct mspec *m, size_t nm,
    const struct rspec *r, size_t nr, const struct plan_ctx *ctx)
{
	size_t i;

	memset(fx, 0, sizeof(*fx));
	for (i = 0; i < nm; i++) {
		struct migration *mig;

		XGROW(fx->scan.v, fx->scan.cap, fx->scan.n + 1);
		mig = &fx->scan.v[fx->scan.n++];
		mig->version = xstrdup(m[i].version);
		name_stamp(mig->stamp, m[i].version);
		mig->fwd = m[i].fwd;
		mig->rb = m[i].rb;
		fx->scan.present |= m[i].fwd | m[i].rb;
	}
	if (fx->scan.n > 1)
		qsort(fx->scan.v, fx->scan.n, sizeof(*fx->scan.v),
		    cmp_migration);
	for (i = 0; i < nr; i++) {
		struct row *row = rows_add(&fx->rows);

		row->version = xstrdup(r[i].version);
		row->active = r[i].active;
		row->checksum = xstrdup(r[i].checksum);
		row->rollback_checksum = xstrdup(r[i].rb_checksum);
		row->applied_at = r[i].applied_at;
	}
	rows_sort(&fx->rows);
	plan_entries(&fx->e, &fx->n, &fx->scan, &fx->rows);
	for (i = 0; i < fx->n; i++) {
		struct entry *e = &fx->e[i];
		const struct mspec *s;

		if (!e->m)
			continue;
		s = find_mspec(m, nm, e->version);
		assert_non_null(s);
		if (s->fwd)
			snprintf(e->sum, sizeof(e->sum), "%s",
			    s->sum ? s->sum : SUM);
		if (s->rb)
			snprintf(e->rb_sum, sizeof(e->rb_sum), "%s",
			    s->rb_sum ? s->rb_sum : RBSUM);
		e->head = s->head;
		e->head_rb = s->head_rb;
	}
	plan_analyze(fx->e, fx->n, ctx);
}

static void
fx_release(struct fixture *fx)
{
	free(fx->e);
	rows_release(&fx->rows);
	scan_release(&fx->scan);
}

static const struct entry *
fx_entry(const struct fixture *fx, const char *version)
{
	size_t i;

	for (i = 0; i < fx->n; i++)
		if (!strcmp(fx->e[i].version, version))
			return &fx->e[i];
	fail_msg("no entry %s", version);
	return NULL;
}

static size_t
fx_index(const struct fixture *fx, const char *version)
{
	return (size_t)(fx_entry(fx, version) - fx->e);
}

/* Expected step: version, run, from, to. */
struct want_step {
	const char *version;
	int run, from, to;
};

static void
assert_steps(const struct fixture *fx, const struct steps *s,
    const struct want_step *want, size_t n)
{
	size_t i;

	if (s->n != n) {
		for (i = 0; i < s->n; i++)
			print_message("step %zu: %s run %d %d->%d\n", i,
			    fx->e[s->v[i].entry].version, s->v[i].run,
			    s->v[i].from, s->v[i].to);
		fail_msg("%zu steps, want %zu", s->n, n);
	}
	for (i = 0; i < n; i++) {
		const struct step *st = &s->v[i];

		if (strcmp(fx->e[st->entry].version, want[i].version) ||
		    st->run != want[i].run || st->from != want[i].from ||
		    st->to != want[i].to)
			fail_msg("step %zu: %s run %d %d->%d, want %s run %d "
				 "%d->%d",
			    i, fx->e[st->entry].version, st->run, st->from,
			    st->to, want[i].version, want[i].run, want[i].from,
			    want[i].to);
	}
}

static void
assert_error(int rc, int want_rc, const char *words)
{
	const struct mg_error *err = mg_error_last();

	if (rc != want_rc)
		fail_msg("rc %d, want %d (%s)", rc, want_rc,
		    err->message ? err->message : "no message");
	assert_int_equal(err->code, want_rc);
	if (!err->message || !strstr(err->message, words))
		fail_msg("\"%s\" lacks \"%s\"",
		    err->message ? err->message : "", words);
}

/* ---- plan_analyze: one migration against the tracked database ---- */

static void
test_plan_tracked_states_and_problems_follow_the_table(void **state)
{
	static const struct {
		const char *name;
		struct mspec m;
		int has_row;
		struct rspec r;
		enum mig_state state;
		unsigned problems;
	} cases[] = {
	    {"pending with no row is simply pending",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 0, {0}, ST_PENDING, 0},
	    {"pending with an inactive row was rolled back",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 0, SUM, RBSUM, 100}, ST_PENDING, 0},
	    {"active row in pending means finish the move",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_PENDING,
		PB_FINISH_APPLY},
	    {"active row without checksum in pending: finish the move",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, NULL, NULL, 100}, ST_PENDING,
		PB_FINISH_APPLY},
	    {"active row with another checksum in pending is drift",
		{"20230601_a", P, P, SUM2, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_PENDING, PB_DRIFT},
	    {"applied with its active row is consistent",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, 0},
	    {"applied with another checksum is drift",
		{"20230601_a", A, A, SUM2, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, PB_DRIFT},
	    {"applied with an inactive row means finish the rollback",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 0, SUM, RBSUM, 100}, ST_APPLIED,
		PB_FINISH_ROLLBACK},
	    {"applied with no row is a blocker",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 0, {0}, ST_APPLIED,
		PB_NO_ROW},
	    {"archived with its active row is consistent",
		{"20230601_a", R, R, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_ARCHIVED, 0},
	    {"archived with no row is a blocker",
		{"20230601_a", R, R, NULL, NULL, 0, 0}, 0, {0}, ST_ARCHIVED,
		PB_NO_ROW},
	    {"archived with an inactive row is a blocker, not a move",
		{"20230601_a", R, R, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 0, SUM, RBSUM, 100}, ST_ARCHIVED, PB_NO_ROW},
	    {"archived with another checksum is drift",
		{"20230601_a", R, R, SUM2, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_ARCHIVED, PB_DRIFT},
	    {"forward without rollback is reported",
		{"20230601_a", P, 0, NULL, NULL, 0, 0}, 0, {0}, ST_PENDING,
		PB_NO_ROLLBACK},
	    {"rollback without forward is an orphan",
		{"20230601_a", 0, P, NULL, NULL, 0, 0}, 0, {0}, ST_PENDING,
		PB_ORPHAN_ROLLBACK},
	    {"forward in two folders is a duplicate",
		{"20230601_a", P | A, A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_PENDING,
		PB_DUPLICATE | PB_SPLIT_PAIR | PB_FINISH_APPLY},
	    {"rollback in two folders is a duplicate",
		{"20230601_a", A, P | A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED,
		PB_DUPLICATE | PB_SPLIT_PAIR},
	    {"pair split across folders",
		{"20230601_a", A, P, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, PB_SPLIT_PAIR},
	    {"rollback changed since the apply",
		{"20230601_a", A, A, NULL, RBSUM2, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, PB_RB_CHANGED},
	    {"rollback checksum not recorded: nothing to compare",
		{"20230601_a", A, A, NULL, RBSUM2, 0, 0}, 1,
		{"20230601_a", 1, SUM, NULL, 100}, ST_APPLIED, 0},
	    {"rollback change of a pending migration does not matter",
		{"20230601_a", P, P, NULL, RBSUM2, 0, 0}, 1,
		{"20230601_a", 0, SUM, RBSUM, 100}, ST_PENDING, 0},
	    {"unreadable forward file", {"20230601_a", P, P, "", NULL, 0, 0}, 0,
		{0}, ST_PENDING, PB_UNREADABLE},
	    {"unreadable applied file is not proof of drift",
		{"20230601_a", A, A, "", NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, PB_UNREADABLE},
	    {"unreadable pending file with an active row",
		{"20230601_a", P, P, "", NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_PENDING, PB_UNREADABLE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct fixture fx;
		const struct entry *e;

		fx_build(&fx, &cases[i].m, 1, &cases[i].r,
		    cases[i].has_row ? 1 : 0, &tracked_db);
		assert_int_equal(fx.n, 1);
		e = &fx.e[0];
		if (e->state != cases[i].state ||
		    e->problems != cases[i].problems)
			fail_msg("%s: state %d problems %#x, want %d %#x",
			    cases[i].name, e->state, e->problems,
			    cases[i].state, cases[i].problems);
		assert_ptr_equal(e->m, &fx.scan.v[0]);
		assert_ptr_equal(e->row,
		    cases[i].has_row ? &fx.rows.v[0] : NULL);
		fx_release(&fx);
	}
}

static void
test_plan_entry_folders_come_from_the_masks(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, P, NULL, NULL, 0, 0},
	    {"20230602_b", P | A, 0, NULL, NULL, 0, 0},
	    {"20230603_c", 0, R, NULL, NULL, 0, 0},
	};
	struct fixture fx;

	(void)state;
	fx_build(&fx, m, NCASES(m), NULL, 0, &tracked_db);
	assert_int_equal(fx.n, 3);
	assert_int_equal(fx.e[0].folder, FOLDER_APPLIED);
	assert_int_equal(fx.e[0].rb_folder, FOLDER_PENDING);
	assert_int_equal(fx.e[1].folder, FOLDER_PENDING);
	assert_int_equal(fx.e[1].rb_folder, -1);
	assert_int_equal(fx.e[2].folder, -1);
	assert_int_equal(fx.e[2].rb_folder, FOLDER_ARCHIVE);
	assert_string_equal(fx.e[2].version, "20230603_c");
	fx_release(&fx);
}

static void
test_plan_active_row_without_a_file_is_an_orphan_entry(void **state)
{
	static const struct mspec m[] = {
	    {"20230602_b", A, A, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_gone", 1, SUM, RBSUM, 50},
	    {"20230602_b", 1, SUM, RBSUM, 100},
	    {"20230603_old_rollback", 0, SUM, RBSUM, 20},
	};
	struct fixture fx;
	const struct entry *e;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	/* files first, then active rows without a file; inactive: none */
	assert_int_equal(fx.n, 2);
	assert_string_equal(fx.e[0].version, "20230602_b");
	assert_int_equal(fx.e[0].problems, 0);
	e = &fx.e[1];
	assert_string_equal(e->version, "20230601_gone");
	assert_null(e->m);
	assert_non_null(e->row);
	assert_int_equal(e->folder, -1);
	assert_int_equal(e->rb_folder, -1);
	assert_int_equal(e->state, ST_ROW_ONLY);
	assert_int_equal(e->problems, PB_ORPHAN_ROW);
	/* a warning, not a blocker */
	assert_int_equal(e->problems & PB_BLOCKING, 0);
	fx_release(&fx);
}

static void
test_plan_pending_older_than_newest_applied_is_out_of_order(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_b", P, P, NULL, NULL, 0, 0},
	    {"202306021200_rolled_back", P, P, NULL, NULL, 0, 0},
	    {"20230603_c", A, A, NULL, NULL, 0, 0},
	    {"20230604_d", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"202306021200_rolled_back", 0, SUM, RBSUM, 150},
	    {"20230603_c", 1, SUM, RBSUM, 200},
	};
	struct fixture fx;
	const struct entry *e;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	e = fx_entry(&fx, "20230602_b");
	assert_int_equal(e->problems, PB_OUT_OF_ORDER);
	assert_string_equal(e->newest_applied, "20230603_c");
	e = fx_entry(&fx, "202306021200_rolled_back");
	assert_int_equal(e->problems, PB_OUT_OF_ORDER);
	assert_string_equal(e->newest_applied, "20230603_c");
	e = fx_entry(&fx, "20230604_d");
	assert_int_equal(e->problems, 0);
	assert_null(e->newest_applied);
	assert_int_equal(fx_entry(&fx, "20230601_a")->problems, 0);
	fx_release(&fx);

	/* without the database nothing is known to be applied */
	fx_build(&fx, m, NCASES(m), NULL, 0, &tracked_nodb);
	assert_int_equal(fx_entry(&fx, "20230602_b")->problems, 0);
	fx_release(&fx);
}

static void
test_plan_moves_missing_from_head_are_uncommitted(void **state)
{
	static const struct {
		const char *name;
		struct mspec m;
		int active;
		unsigned problems;
	} cases[] = {
	    {"moved to applied, HEAD still has it in pending",
		{"20230601_a", A, A, NULL, NULL, P, P}, 1, PB_UNCOMMITTED},
	    {"applied and committed", {"20230601_a", A, A, NULL, NULL, A, A}, 1,
		0},
	    {"a new pending file is not a move",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 0, 0},
	    {"a new file in applied is not committed",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 1, PB_UNCOMMITTED},
	    {"only the rollback file's move is not committed",
		{"20230601_a", A, A, NULL, NULL, A, P}, 1, PB_UNCOMMITTED},
	    {"rolled back to pending, HEAD has it in applied",
		{"20230601_a", P, P, NULL, NULL, A, A}, 0, PB_UNCOMMITTED},
	    {"archived and committed", {"20230601_a", R, R, NULL, NULL, R, R},
		1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct rspec r = {"20230601_a", cases[i].active, SUM, RBSUM,
		    100};
		struct fixture fx;

		fx_build(&fx, &cases[i].m, 1, &r, 1, &tracked_git);
		if (fx.e[0].problems != cases[i].problems)
			fail_msg("%s: problems %#x, want %#x", cases[i].name,
			    fx.e[0].problems, cases[i].problems);
		fx_release(&fx);

		/* without git, or for another environment: not a problem */
		fx_build(&fx, &cases[i].m, 1, &r, 1, &tracked_db);
		assert_int_equal(fx.e[0].problems & PB_UNCOMMITTED, 0);
		fx_release(&fx);
	}
}

static void
test_plan_untracked_environment_goes_by_the_rows(void **state)
{
	static const struct {
		const char *name;
		struct mspec m;
		int has_row;
		struct rspec r;
		enum mig_state state;
		unsigned problems;
	} cases[] = {
	    {"pending file with an active row is applied there",
		{"20230601_a", P, P, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, 0},
	    {"applied file without a row is pending there",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 0, {0}, ST_PENDING, 0},
	    {"archived file without a row is pending there",
		{"20230601_a", R, R, NULL, NULL, 0, 0}, 0, {0}, ST_PENDING, 0},
	    {"archived file with an active row is archived",
		{"20230601_a", R, R, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_ARCHIVED, 0},
	    {"applied file with an inactive row is pending there",
		{"20230601_a", A, A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 0, SUM, RBSUM, 100}, ST_PENDING, 0},
	    {"another checksum is still drift",
		{"20230601_a", A, A, SUM2, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, PB_DRIFT},
	    {"HEAD masks mean nothing there",
		{"20230601_a", A, A, NULL, NULL, P, P}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100}, ST_APPLIED, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct plan_ctx ctx = untracked;
		struct fixture fx;

		ctx.have_git = 1;
		fx_build(&fx, &cases[i].m, 1, &cases[i].r,
		    cases[i].has_row ? 1 : 0, &ctx);
		if (fx.e[0].state != cases[i].state ||
		    fx.e[0].problems != cases[i].problems)
			fail_msg("%s: state %d problems %#x, want %d %#x",
			    cases[i].name, fx.e[0].state, fx.e[0].problems,
			    cases[i].state, cases[i].problems);
		fx_release(&fx);
	}
}

static void
test_plan_tracked_without_database_goes_by_the_folders(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", R, R, NULL, NULL, 0, 0},
	    {"20230602_b", A, A, NULL, NULL, 0, 0},
	    {"20230603_c", P, P, NULL, NULL, 0, 0},
	};
	struct fixture fx;

	(void)state;
	fx_build(&fx, m, NCASES(m), NULL, 0, &tracked_nodb);
	assert_int_equal(fx.e[0].state, ST_ARCHIVED);
	assert_int_equal(fx.e[1].state, ST_APPLIED);
	assert_int_equal(fx.e[2].state, ST_PENDING);
	/* no rows were read: no row is missing */
	assert_int_equal(fx.e[0].problems, 0);
	assert_int_equal(fx.e[1].problems, 0);
	assert_int_equal(fx.e[2].problems, 0);
	fx_release(&fx);
}

/* ---- problem names and texts ---- */

static void
test_plan_problem_names_and_texts(void **state)
{
	static const struct {
		enum problem p;
		const char *name;
		const char *words;
	} cases[] = {
	    {PB_DRIFT, "drift",
		"database has 111111111111, the file is 222222222222)"},
	    {PB_FINISH_APPLY, "finish-apply",
		"not moved to applied/: apply or repair"},
	    {PB_FINISH_ROLLBACK, "finish-rollback",
		"not moved to pending/: repair"},
	    {PB_SPLIT_PAIR, "split-pair",
		"rollback file is in pending/, the migration in applied/"},
	    {PB_DUPLICATE, "duplicate", "more than one folder"},
	    {PB_NO_ROW, "no-row",
		"in applied/, but the database has no "
		"active row"},
	    {PB_ORPHAN_ROW, "orphan-row", "no file has this version"},
	    {PB_NO_ROLLBACK, "no-rollback", "has no rollback file"},
	    {PB_ORPHAN_ROLLBACK, "orphan-rollback",
		"rollback file without its migration"},
	    {PB_OUT_OF_ORDER, "out-of-order",
		"older than 20230609_newer, which is applied: apply needs "
		"--out-of-order"},
	    {PB_UNCOMMITTED, "uncommitted",
		"moved to applied/ but not committed"},
	    {PB_RB_CHANGED, "rollback-changed", "rollback file changed since"},
	    {PB_UNREADABLE, "unreadable", "cannot be read"},
	};
	struct row row = {0};
	struct entry e;
	char out[256];
	size_t i;

	(void)state;
	memset(&e, 0, sizeof(e));
	row.version = (char *)"20230601_a";
	row.active = 1;
	row.checksum = (char *)SUM;
	e.version = "20230601_a";
	e.row = &row;
	e.folder = FOLDER_APPLIED;
	e.rb_folder = FOLDER_PENDING;
	e.newest_applied = "20230609_newer";
	snprintf(e.sum, sizeof(e.sum), "%s", SUM2);
	for (i = 0; i < NCASES(cases); i++) {
		assert_string_equal(plan_problem_name(cases[i].p),
		    cases[i].name);
		assert_ptr_equal(plan_problem_text(&e, cases[i].p, out,
				     sizeof(out)),
		    out);
		if (!strstr(out, cases[i].words))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, out,
			    cases[i].words);
	}
	assert_string_equal(plan_problem_name((enum problem)(1 << 20)),
	    "unknown");
	assert_string_equal(plan_problem_text(&e, (enum problem)0, out,
				sizeof(out)),
	    "");
	/* a small buffer is cut, not overrun */
	plan_problem_text(&e, PB_DRIFT, out, 8);
	assert_int_equal(strlen(out), 7);
}

/* ---- plan_apply ---- */

static void
test_plan_apply_finishes_moves_before_running_pending(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_b", P, P, NULL, NULL, 0, 0},
	    {"20230603_c", A, P, NULL, NULL, 0, 0},
	    {"20230604_d", A, A, NULL, NULL, 0, 0},
	    {"20230605_e", P, P, NULL, NULL, 0, 0},
	    {"20230606_f", P, 0, NULL, NULL, 0, 0},
	    {"20230607_g", P, A, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230602_b", 1, SUM, RBSUM, 200}, /* crash after commit */
	    {"20230603_c", 1, SUM, RBSUM, 300}, /* crash between moves */
	    {"20230604_d", 0, SUM, RBSUM, 400}, /* rollback not moved */
	    {"20230607_g", 0, SUM, RBSUM, 500}, /* rollback between moves */
	};
	static const struct want_step want[] = {
	    {"20230602_b", 0, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230603_c", 0, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230604_d", 0, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230607_g", 0, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230604_d", 1, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230605_e", 1, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230606_f", 1, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230607_g", 1, FOLDER_PENDING, FOLDER_APPLIED},
	};
	struct plan_opts o = {0};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_int_equal(fx_entry(&fx, "20230602_b")->problems,
	    PB_FINISH_APPLY);
	assert_int_equal(fx_entry(&fx, "20230603_c")->problems, PB_SPLIT_PAIR);
	assert_int_equal(fx_entry(&fx, "20230604_d")->problems,
	    PB_FINISH_ROLLBACK);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), 0);
	/*
	 * b and c are not run again; d's and g's rollbacks are finished,
	 * which leaves them pending, and the run applies them like any
	 * pending migration: as if the rollback had completed.
	 */
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	assert_null(s.v);
	fx_release(&fx);
}

static void
test_plan_apply_commits_moves_that_git_lacks(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, P, P},
	    {"20230602_b", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	};
	static const struct want_step want[] = {
	    {"20230601_a", 0, FOLDER_APPLIED, FOLDER_APPLIED},
	    {"20230602_b", 1, FOLDER_PENDING, FOLDER_APPLIED},
	};
	struct plan_opts o = {0};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_git);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_git, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

/* The folders of a project with an archive, for an empty database. */
static const struct mspec fresh_m[] = {
    {"20230101_a", R, R, NULL, NULL, 0, 0},
    {"20230102_b", R, R, NULL, NULL, 0, 0},
    {"20230103_c", A, A, NULL, NULL, 0, 0},
    {"20230104_d", P, P, NULL, NULL, 0, 0},
};

static void
test_plan_fresh_tracked_loads_the_baseline_then_the_rest(void **state)
{
	static const struct want_step want[] = {
	    {"20230103_c", 1, -1, -1},
	    {"20230104_d", 1, FOLDER_PENDING, FOLDER_APPLIED},
	};
	struct plan_opts o = {0};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, fresh_m, NCASES(fresh_m), NULL, 0, &tracked_fresh);
	/* no "in applied/ without a row": nothing ran here yet */
	assert_int_equal(fx_entry(&fx, "20230103_c")->problems, 0);
	assert_int_equal(fx_entry(&fx, "20230101_a")->problems, 0);
	assert_true(fx_entry(&fx, "20230101_a")->in_baseline);
	assert_false(fx_entry(&fx, "20230103_c")->in_baseline);
	assert_int_equal(fx_entry(&fx, "20230103_c")->state, ST_PENDING);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_fresh, &o), 0);
	assert_true(s.baseline);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_fresh_without_baseline_replays_the_archive(void **state)
{
	static const struct want_step want[] = {
	    {"20230101_a", 1, -1, -1},
	    {"20230102_b", 1, -1, -1},
	    {"20230103_c", 1, -1, -1},
	};
	struct plan_opts o = {.to = "20230103_c"};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, fresh_m, NCASES(fresh_m), NULL, 0,
	    &untracked_fresh_nobase);
	assert_false(fx_entry(&fx, "20230101_a")->in_baseline);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked_fresh_nobase,
			     &o),
	    0);
	assert_false(s.baseline);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_fresh_refuses_a_target_inside_the_baseline(void **state)
{
	struct plan_opts o = {.to = "20230101_a"};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, fresh_m, NCASES(fresh_m), NULL, 0, &untracked_fresh);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked_fresh, &o),
	    MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "20230102_b"));
	mg_error_clear();
	/* the newest archived version itself is fine: the baseline only */
	o.to = "20230102_b";
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked_fresh, &o), 0);
	assert_true(s.baseline);
	assert_int_equal(s.n, 0);
	steps_release(&s);
	o.to = NULL;
	o.step = 1;
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked_fresh, &o), 0);
	assert_int_equal(s.n, 1);
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_a_build_stopped_inside_applied_goes_on(void **state)
{
	static const struct mspec m[] = {
	    {"20230101_a", R, R, NULL, NULL, 0, 0},
	    {"20230102_b", A, A, NULL, NULL, 0, 0},
	    {"20230103_c", A, A, NULL, NULL, 0, 0},
	    {"20230104_d", A, A, NULL, NULL, 0, 0},
	    {"20230105_e", P, P, NULL, NULL, 0, 0},
	};
	/* the baseline and b ran; c and d did not (a failure, --step) */
	static const struct rspec r[] = {
	    {"20230101_a", 1, SUM, RBSUM, 100},
	    {"20230102_b", 1, SUM, RBSUM, 101},
	};
	static const struct want_step want[] = {
	    {"20230103_c", 1, -1, -1},
	    {"20230104_d", 1, -1, -1},
	    {"20230105_e", 1, FOLDER_PENDING, FOLDER_APPLIED},
	};
	static const struct rspec hole[] = {
	    {"20230101_a", 1, SUM, RBSUM, 100},
	    {"20230103_c", 1, SUM, RBSUM, 101},
	};
	struct plan_opts o = {0};
	struct steps s;
	struct fixture fx;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_true(fx_entry(&fx, "20230103_c")->in_build);
	assert_int_equal(fx_entry(&fx, "20230103_c")->problems, 0);
	assert_int_equal(fx_entry(&fx, "20230103_c")->state, ST_PENDING);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
	/* a hole below the newest row is no build: the folders are wrong */
	fx_build(&fx, m, NCASES(m), hole, NCASES(hole), &tracked_db);
	assert_false(fx_entry(&fx, "20230102_b")->in_build);
	assert_int_equal(fx_entry(&fx, "20230102_b")->problems, PB_NO_ROW);
	assert_true(fx_entry(&fx, "20230104_d")->in_build);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o),
	    MG_EDRIFT);
	mg_error_clear();
	fx_release(&fx);
	/* nor is an archive without rows */
	fx_build(&fx, m, NCASES(m), r + 1, 1, &tracked_db);
	assert_false(fx_entry(&fx, "20230103_c")->in_build);
	assert_int_equal(fx_entry(&fx, "20230103_c")->problems, PB_NO_ROW);
	fx_release(&fx);
}

static const struct mspec apply_m[] = {
    {"20230601_a", A, A, NULL, NULL, 0, 0},
    {"20230602_b", P, P, NULL, NULL, 0, 0},
    {"20230603_c", P, P, NULL, NULL, 0, 0},
    {"20230604_d", P, P, NULL, NULL, 0, 0},
};
static const struct rspec apply_r[] = {
    {"20230601_a", 1, SUM, RBSUM, 100},
};

static void
test_plan_apply_honours_to_and_step(void **state)
{
	static const struct {
		const char *to;
		long step;
		size_t n;
		const char *last;
	} cases[] = {
	    {NULL, 0, 3, "20230604_d"},
	    {NULL, 1, 1, "20230602_b"},
	    {NULL, 2, 2, "20230603_c"},
	    {NULL, 99, 3, "20230604_d"},
	    {"20230603_c", 0, 2, "20230603_c"},
	    {"20230602_b", 0, 1, "20230602_b"},
	    {"20230604_d", 0, 3, "20230604_d"},
	    /* already applied: nothing newer is run */
	    {"20230601_a", 0, 0, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;
		size_t j;

		o.to = cases[i].to;
		o.step = cases[i].step;
		fx_build(&fx, apply_m, NCASES(apply_m), apply_r,
		    NCASES(apply_r), &tracked_db);
		assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o),
		    0);
		if (s.n != cases[i].n)
			fail_msg("case %zu: %zu steps, want %zu", i, s.n,
			    cases[i].n);
		for (j = 0; j < s.n; j++) {
			assert_int_equal(s.v[j].run, 1);
			/* in run order, starting with the oldest pending */
			assert_int_equal(s.v[j].entry,
			    fx_index(&fx, "20230602_b") + j);
		}
		if (cases[i].last)
			assert_string_equal(fx.e[s.v[s.n - 1].entry].version,
			    cases[i].last);
		steps_release(&s);
		fx_release(&fx);
	}
}

static void
test_plan_apply_to_an_unknown_version_is_refused(void **state)
{
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230530_row_only", 1, SUM, RBSUM, 50},
	};
	static const char *const targets[] = {
	    "20230699_nope",
	    "20230530_row_only", /* a row, but no file to run */
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(targets); i++) {
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;

		o.to = targets[i];
		fx_build(&fx, apply_m, NCASES(apply_m), r, NCASES(r),
		    &tracked_db);
		mg_error_clear();
		assert_error(plan_apply(&s, fx.e, fx.n, &tracked_db, &o),
		    MG_ERROR, "in the folders");
		assert_non_null(strstr(mg_error_last()->message, targets[i]));
		assert_int_equal(s.n, 0);
		assert_null(s.v);
		fx_release(&fx);
	}
	mg_error_clear();
}

static void
test_plan_apply_refuses_out_of_order_unless_allowed(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_late", P, P, NULL, NULL, 0, 0},
	    {"20230603_c", A, A, NULL, NULL, 0, 0},
	    {"20230604_d", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230603_c", 1, SUM, RBSUM, 200},
	};
	static const struct want_step want[] = {
	    {"20230602_late", 1, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230604_d", 1, FOLDER_PENDING, FOLDER_APPLIED},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	mg_error_clear();
	assert_error(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), MG_ERROR,
	    "20230602_late is older than 20230603_c, which is already "
	    "applied");
	assert_non_null(mg_error_last()->hint);
	assert_non_null(strstr(mg_error_last()->hint, "--out-of-order"));
	assert_int_equal(s.n, 0);
	assert_null(s.v);

	/* --to a newer one does not skip it either */
	o.to = "20230604_d";
	assert_error(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), MG_ERROR,
	    "is older than");

	o.to = NULL;
	o.out_of_order = 1;
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
	mg_error_clear();
}

static void
test_plan_apply_blockers_give_drift_and_no_steps(void **state)
{
	static const struct {
		const char *name;
		struct mspec m;
		int has_row;
		struct rspec r;
		const char *words;
	} cases[] = {
	    {"drift", {"20230601_a", A, A, SUM2, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100},
		"20230601_a changed since it was applied"},
	    {"duplicate", {"20230601_a", A | R, A, NULL, NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100},
		"20230601_a present in more than one folder"},
	    {"no row", {"20230601_a", A, A, NULL, NULL, 0, 0}, 0, {0},
		"20230601_a in applied/, but the database has no active "
		"row"},
	    {"unreadable", {"20230601_a", P, P, "", NULL, 0, 0}, 0, {0},
		"20230601_a cannot be read"},
	    {"unreadable, applied", {"20230601_a", A, A, "", NULL, 0, 0}, 1,
		{"20230601_a", 1, SUM, RBSUM, 100},
		"20230601_a cannot be read"},
	};
	static const struct mspec ok = {"20230602_b", P, P, NULL, NULL, 0, 0};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct mspec m[2];
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;
		size_t idx[2];

		m[0] = cases[i].m;
		m[1] = ok;
		fx_build(&fx, m, 2, &cases[i].r, cases[i].has_row ? 1 : 0,
		    &tracked_db);
		assert_int_equal(plan_blockers(fx.e, fx.n, idx), 1);
		assert_int_equal(idx[0], 0);
		mg_error_clear();
		assert_error(plan_apply(&s, fx.e, fx.n, &tracked_db, &o),
		    MG_EDRIFT, cases[i].words);
		assert_int_equal(s.n, 0);
		assert_null(s.v);
		fx_release(&fx);
	}
	mg_error_clear();
}

static void
test_plan_blockers_lists_every_blocking_entry(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, SUM2, NULL, 0, 0},     /* drift */
	    {"20230602_b", A, 0, NULL, NULL, 0, 0},     /* no rollback */
	    {"20230603_c", A, A, NULL, NULL, 0, 0},     /* no row */
	    {"20230604_d", P, P, NULL, NULL, 0, 0},     /* fine */
	    {"20230605_e", P | R, P, NULL, NULL, 0, 0}, /* duplicate */
	    {"20230606_f", A, A, NULL, NULL, 0, 0},     /* after c */
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230602_b", 1, SUM, NULL, 100},
	    {"20230606_f", 1, SUM, RBSUM, 100},
	};
	struct fixture fx;
	size_t idx[6];

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_int_equal(plan_blockers(fx.e, fx.n, idx), 3);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 4);
	fx_release(&fx);
}

static void
test_plan_apply_untracked_runs_what_the_database_lacks(void **state)
{
	static const struct mspec m[] = {
	    {"20220101_archived", R, R, NULL, NULL, 0, 0},
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_b", A, A, NULL, NULL, 0, 0},
	    {"20230603_c", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20220101_archived", 1, SUM, RBSUM, 100},
	    {"20230602_b", 0, SUM, RBSUM, 100},
	};
	static const struct want_step want[] = {
	    {"20230601_a", 1, -1, -1},
	    {"20230602_b", 1, -1, -1},
	    {"20230603_c", 1, -1, -1},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &untracked);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);

	/* a fresh database: everything, archive first */
	fx_build(&fx, m, NCASES(m), NULL, 0, &untracked);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &untracked, &o), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(fx.e[s.v[0].entry].version, "20220101_archived");
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_apply_with_nothing_pending_has_no_steps(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_orphan", 0, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_int_equal(plan_apply(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_int_equal(s.n, 0);
	steps_release(&s);
	fx_release(&fx);
}

/* ---- plan_rollback ---- */

/* Applied out of version order: c first, then a, then b last. */
static const struct mspec rb_m[] = {
    {"20230601_a", A, A, NULL, NULL, 0, 0},
    {"20230602_b", A, A, NULL, NULL, 0, 0},
    {"20230603_c", A, A, NULL, NULL, 0, 0},
    {"20230604_d", P, P, NULL, NULL, 0, 0},
};
static const struct rspec rb_r[] = {
    {"20230601_a", 1, SUM, RBSUM, 200},
    {"20230602_b", 1, SUM, RBSUM, 300},
    {"20230603_c", 1, SUM, RBSUM, 100},
};

static void
test_plan_rollback_undoes_the_most_recently_applied_first(void **state)
{
	static const struct {
		const char *to;
		long step;
		int all;
		size_t n;
		const char *order[3];
	} cases[] = {
	    {NULL, 0, 0, 1, {"20230602_b"}},
	    {NULL, 1, 0, 1, {"20230602_b"}},
	    {NULL, 2, 0, 2, {"20230602_b", "20230601_a"}},
	    {NULL, 3, 0, 3, {"20230602_b", "20230601_a", "20230603_c"}},
	    {NULL, 0, 1, 3, {"20230602_b", "20230601_a", "20230603_c"}},
	    /* --to VERSION: roll back what came after it, keep it */
	    {"20230603_c", 0, 0, 2, {"20230602_b", "20230601_a"}},
	    {"20230601_a", 0, 0, 1, {"20230602_b"}},
	    {"20230602_b", 0, 0, 0, {NULL}},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;
		size_t j;

		o.to = cases[i].to;
		o.step = cases[i].step;
		o.all = cases[i].all;
		fx_build(&fx, rb_m, NCASES(rb_m), rb_r, NCASES(rb_r),
		    &tracked_db);
		if (plan_rollback(&s, fx.e, fx.n, &tracked_db, &o) != 0)
			fail_msg("case %zu: %s", i, mg_error_last()->message);
		if (s.n != cases[i].n)
			fail_msg("case %zu: %zu steps, want %zu", i, s.n,
			    cases[i].n);
		for (j = 0; j < s.n; j++) {
			assert_string_equal(fx.e[s.v[j].entry].version,
			    cases[i].order[j]);
			assert_int_equal(s.v[j].run, 1);
			assert_int_equal(s.v[j].from, FOLDER_APPLIED);
			assert_int_equal(s.v[j].to, FOLDER_PENDING);
		}
		steps_release(&s);
		fx_release(&fx);
	}
}

static void
test_plan_rollback_breaks_ties_by_the_higher_version(void **state)
{
	static const struct rspec r[] = {
	    /* rows of a table kept by hand: no applied_at */
	    {"20230601_a", 1, SUM, RBSUM, 0},
	    {"20230602_b", 1, SUM, RBSUM, 0},
	    {"20230603_c", 1, SUM, RBSUM, 0},
	};
	static const struct want_step want[] = {
	    {"20230603_c", 1, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230602_b", 1, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230601_a", 1, FOLDER_APPLIED, FOLDER_PENDING},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	o.all = 1;
	fx_build(&fx, rb_m, NCASES(rb_m), r, NCASES(r), &tracked_db);
	assert_int_equal(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_rollback_all_stops_at_the_archive(void **state)
{
	static const struct mspec m[] = {
	    {"20220101_old", R, R, NULL, NULL, 0, 0},
	    {"20230601_a", A, A, NULL, NULL, 0, 0},
	    {"20230602_b", A, A, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20220101_old", 1, SUM, RBSUM, 50},
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230602_b", 1, SUM, RBSUM, 200},
	};
	static const struct want_step want[] = {
	    {"20230602_b", 1, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230601_a", 1, FOLDER_APPLIED, FOLDER_PENDING},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	o.all = 1;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_int_equal(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);

	/* --step past the archive is refused, naming it */
	o.all = 0;
	o.step = 3;
	mg_error_clear();
	assert_error(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), MG_ERROR,
	    "20220101_old is archived");
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	fx_release(&fx);
	mg_error_clear();
}

static void
test_plan_rollback_refuses_each_unsafe_case(void **state)
{
	static const struct {
		const char *name;
		struct mspec m;
		struct rspec r;
		int allow_changed;
		int rc;
		const char *words;
	} cases[] = {
	    {"the most recent is archived",
		{"20230605_z", R, R, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 0, MG_ERROR,
		"20230605_z is archived: it is part of the consolidated "
		"schema"},
	    {"no rollback file", {"20230605_z", A, 0, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, NULL, 900}, 0, MG_ERROR,
		"20230605_z has no rollback file"},
	    {"rollback file changed", {"20230605_z", A, A, NULL, RBSUM2, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 0, MG_EDRIFT,
		"the rollback file of 20230605_z changed since the "
		"migration was applied (recorded aaaaaaaaaaaa, now "
		"bbbbbbbbbbbb)"},
	    {"forward file changed", {"20230605_z", A, A, SUM2, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 1, MG_EDRIFT,
		"20230605_z changed since it was applied"},
	    {"a move is unfinished (applied, row inactive)",
		{"20230605_z", A, A, NULL, NULL, 0, 0},
		{"20230605_z", 0, SUM, RBSUM, 900}, 0, MG_ERROR,
		"20230605_z: a move is unfinished"},
	    {"a move is unfinished (pending, row active)",
		{"20230605_z", P, P, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 0, MG_ERROR,
		"20230605_z: a move is unfinished"},
	    {"a move is unfinished (split pair)",
		{"20230605_z", A, P, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 0, MG_ERROR,
		"20230605_z: a move is unfinished"},
	    {"forward file in two folders",
		{"20230605_z", A | R, A, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 1, MG_ERROR,
		"20230605_z present in more than one folder: keep one copy"},
	    {"forward file unreadable", {"20230605_z", A, A, "", NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, 1, MG_ERROR,
		"20230605_z cannot be read"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct mspec m[NCASES(rb_m) + 1];
		struct rspec r[NCASES(rb_r) + 1];
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;

		memcpy(m, rb_m, sizeof(rb_m));
		memcpy(r, rb_r, sizeof(rb_r));
		m[NCASES(rb_m)] = cases[i].m;
		r[NCASES(rb_r)] = cases[i].r;
		o.allow_changed = cases[i].allow_changed;
		fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
		mg_error_clear();
		assert_error(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o),
		    cases[i].rc, cases[i].words);
		assert_int_equal(s.n, 0);
		assert_null(s.v);
		fx_release(&fx);
	}
	mg_error_clear();
}

static void
test_plan_rollback_hints_say_what_to_do(void **state)
{
	static const struct {
		struct mspec m;
		struct rspec r;
		const char *hint;
	} cases[] = {
	    {{"20230605_z", A, 0, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, NULL, 900},
		"Write 20230605_z's rollback file"},
	    {{"20230605_z", A, A, NULL, RBSUM2, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, "--allow-changed"},
	    {{"20230605_z", P, P, NULL, NULL, 0, 0},
		{"20230605_z", 1, SUM, RBSUM, 900}, "migdir repair"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;

		fx_build(&fx, &cases[i].m, 1, &cases[i].r, 1, &tracked_db);
		mg_error_clear();
		assert_true(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o) < 0);
		assert_non_null(mg_error_last()->hint);
		if (!strstr(mg_error_last()->hint, cases[i].hint))
			fail_msg("\"%s\" lacks \"%s\"", mg_error_last()->hint,
			    cases[i].hint);
		fx_release(&fx);
	}
	mg_error_clear();
}

static void
test_plan_rollback_allows_a_changed_rollback_when_told(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, RBSUM2, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	};
	static const struct want_step want[] = {
	    {"20230601_a", 1, FOLDER_APPLIED, FOLDER_PENDING},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	o.allow_changed = 1;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
	assert_int_equal(fx.e[0].problems, PB_RB_CHANGED);
	assert_int_equal(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_rollback_with_nothing_applied_is_not_found(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 0, SUM, RBSUM, 100},
	    /* an orphan row has no rollback file to run */
	    {"20230530_gone", 1, SUM, RBSUM, 500},
	};
	static const struct {
		long step;
		int all;
	} cases[] = {{0, 0}, {3, 0}, {0, 1}};
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(cases); i++) {
		struct plan_opts o = {0};
		struct fixture fx;
		struct steps s;

		o.step = cases[i].step;
		o.all = cases[i].all;
		fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_db);
		mg_error_clear();
		assert_error(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o),
		    MG_ENOTFOUND, "nothing to roll back");
		assert_int_equal(s.n, 0);
		fx_release(&fx);
	}
	mg_error_clear();
}

static void
test_plan_rollback_asking_for_more_than_applied_is_refused(void **state)
{
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	o.step = 5;
	fx_build(&fx, rb_m, NCASES(rb_m), rb_r, NCASES(rb_r), &tracked_db);
	mg_error_clear();
	assert_error(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), MG_ERROR,
	    "only 3 migrations can be rolled back (asked for 5)");
	assert_int_equal(s.n, 0);
	assert_null(s.v);

	o.step = 0;
	o.to = "20230604_d"; /* pending, not applied */
	assert_error(plan_rollback(&s, fx.e, fx.n, &tracked_db, &o), MG_ERROR,
	    "\"20230604_d\" is not an applied migration");
	fx_release(&fx);
	mg_error_clear();
}

static void
test_plan_rollback_untracked_moves_nothing(void **state)
{
	static const struct mspec m[] = {
	    {"20220101_old", R, R, NULL, NULL, 0, 0},
	    {"20230601_a", P, P, NULL, NULL, 0, 0},
	};
	static const struct rspec r[] = {
	    {"20220101_old", 1, SUM, RBSUM, 50},
	    {"20230601_a", 1, SUM, RBSUM, 100},
	};
	static const struct want_step want[] = {
	    {"20230601_a", 1, -1, -1},
	    {"20220101_old", 1, -1, -1},
	};
	struct plan_opts o = {0};
	struct fixture fx;
	struct steps s;

	(void)state;
	o.step = 2;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &untracked);
	assert_int_equal(plan_rollback(&s, fx.e, fx.n, &untracked, &o), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);
}

/* ---- plan_repair ---- */

static void
test_plan_repair_only_finishes_moves(void **state)
{
	static const struct mspec m[] = {
	    {"20230601_a", A, A, NULL, NULL, A, A},
	    {"20230602_b", P, P, NULL, NULL, P, P},
	    {"20230603_c", A, A, NULL, NULL, A, A},
	    {"20230604_d", A, P, NULL, NULL, A, P},
	    {"20230605_e", A, A, NULL, NULL, P, P},
	    {"20230606_f", P, P, NULL, NULL, 0, 0},
	    /* unreadable: the row cannot vouch for it, so it stays */
	    {"20230607_g", P, P, "", NULL, P, P},
	};
	static const struct rspec r[] = {
	    {"20230601_a", 1, SUM, RBSUM, 100},
	    {"20230602_b", 1, SUM, RBSUM, 200},
	    {"20230603_c", 0, SUM, RBSUM, 300},
	    {"20230604_d", 1, SUM, RBSUM, 400},
	    {"20230605_e", 1, SUM, RBSUM, 500},
	    {"20230607_g", 1, SUM, RBSUM, 600},
	};
	static const struct want_step want[] = {
	    {"20230602_b", 0, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230603_c", 0, FOLDER_APPLIED, FOLDER_PENDING},
	    {"20230604_d", 0, FOLDER_PENDING, FOLDER_APPLIED},
	    {"20230605_e", 0, FOLDER_APPLIED, FOLDER_APPLIED},
	};
	struct fixture fx;
	struct steps s;

	(void)state;
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &tracked_git);
	assert_int_equal(plan_repair(&s, fx.e, fx.n, &tracked_git), 0);
	assert_steps(&fx, &s, want, NCASES(want));
	steps_release(&s);
	fx_release(&fx);

	/* another environment: the folders are not its business */
	fx_build(&fx, m, NCASES(m), r, NCASES(r), &untracked);
	assert_int_equal(plan_repair(&s, fx.e, fx.n, &untracked), 0);
	assert_int_equal(s.n, 0);
	steps_release(&s);
	fx_release(&fx);
}

static void
test_plan_repair_of_a_consistent_state_does_nothing(void **state)
{
	struct fixture fx;
	struct steps s;

	(void)state;
	fx_build(&fx, rb_m, NCASES(rb_m), rb_r, NCASES(rb_r), &tracked_db);
	assert_int_equal(plan_repair(&s, fx.e, fx.n, &tracked_db), 0);
	assert_int_equal(s.n, 0);
	steps_release(&s);
	fx_release(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_plan_tracked_states_and_problems_follow_the_table),
	    cmocka_unit_test(test_plan_entry_folders_come_from_the_masks),
	    cmocka_unit_test(
		test_plan_active_row_without_a_file_is_an_orphan_entry),
	    cmocka_unit_test(
		test_plan_pending_older_than_newest_applied_is_out_of_order),
	    cmocka_unit_test(test_plan_moves_missing_from_head_are_uncommitted),
	    cmocka_unit_test(test_plan_untracked_environment_goes_by_the_rows),
	    cmocka_unit_test(
		test_plan_tracked_without_database_goes_by_the_folders),
	    cmocka_unit_test(test_plan_problem_names_and_texts),
	    cmocka_unit_test(
		test_plan_apply_finishes_moves_before_running_pending),
	    cmocka_unit_test(test_plan_apply_commits_moves_that_git_lacks),
	    cmocka_unit_test(test_plan_apply_honours_to_and_step),
	    cmocka_unit_test(test_plan_apply_to_an_unknown_version_is_refused),
	    cmocka_unit_test(
		test_plan_apply_refuses_out_of_order_unless_allowed),
	    cmocka_unit_test(test_plan_apply_blockers_give_drift_and_no_steps),
	    cmocka_unit_test(test_plan_blockers_lists_every_blocking_entry),
	    cmocka_unit_test(
		test_plan_apply_untracked_runs_what_the_database_lacks),
	    cmocka_unit_test(test_plan_apply_with_nothing_pending_has_no_steps),
	    cmocka_unit_test(
		test_plan_rollback_undoes_the_most_recently_applied_first),
	    cmocka_unit_test(
		test_plan_rollback_breaks_ties_by_the_higher_version),
	    cmocka_unit_test(test_plan_rollback_all_stops_at_the_archive),
	    cmocka_unit_test(test_plan_rollback_refuses_each_unsafe_case),
	    cmocka_unit_test(test_plan_rollback_hints_say_what_to_do),
	    cmocka_unit_test(
		test_plan_rollback_allows_a_changed_rollback_when_told),
	    cmocka_unit_test(
		test_plan_rollback_with_nothing_applied_is_not_found),
	    cmocka_unit_test(
		test_plan_rollback_asking_for_more_than_applied_is_refused),
	    cmocka_unit_test(test_plan_rollback_untracked_moves_nothing),
	    cmocka_unit_test(test_plan_repair_only_finishes_moves),
	    cmocka_unit_test(
		test_plan_fresh_tracked_loads_the_baseline_then_the_rest),
	    cmocka_unit_test(
		test_plan_fresh_without_baseline_replays_the_archive),
	    cmocka_unit_test(
		test_plan_fresh_refuses_a_target_inside_the_baseline),
	    cmocka_unit_test(test_plan_a_build_stopped_inside_applied_goes_on),
	    cmocka_unit_test(
		test_plan_repair_of_a_consistent_state_does_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
