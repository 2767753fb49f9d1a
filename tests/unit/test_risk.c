/*
 * test_risk.c - unit tests for the classes of migration files (src/risk.c).
 *
 * Files are written into a temporary migrations directory and judged
 * through risk_state with hand-made entries, as status and plan judge
 * them: pending forward files in run order with the tables the ones
 * before them create, every other file on its own; what is not asked for
 * is not read; a file that cannot be read or can never run has no class;
 * scripts handed over are not read again; the environment's lock_timeout
 * counts; a thousand files come out the same with the worker threads as
 * one by one.
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
#include "risk.h"
#include "testutil.h"
#include "banned.h"

#define MAX_ENTRIES 1200

/* A project on disk and the state risk_state reads. */
struct fixture {
	char *tmp;
	struct state st;
	struct env env;
	struct migration m[MAX_ENTRIES];
	struct entry e[MAX_ENTRIES];
	char version[MAX_ENTRIES][32];
};

static struct fixture *
fixture_new(void)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->tmp = tu_mkdtemp("migdir-risk");
	assert_non_null(fx->tmp);
	fx->env.name = "production";
	fx->st.env = &fx->env;
	fx->st.dir = fx->tmp;
	fx->st.e = fx->e;
	return fx;
}

static void
fixture_free(struct fixture *fx)
{
	tu_rmrf(fx->tmp);
	free(fx->tmp);
	free(fx);
}

static void
write_file(struct fixture *fx, int folder, const char *version,
    enum name_kind kind, const char *text)
{
	struct buf path = BUF_INIT;

	scan_path(&path, fx->tmp, folder, version, kind);
	assert_int_equal(tu_write_file(path.ptr, text), 0);
	buf_release(&path);
}

/*
 * Add an entry: its forward and rollback texts (NULL: no such file) in
 * folder, and its state.
 */
static size_t
add(struct fixture *fx, int folder, enum mig_state state, const char *fwd,
    const char *rb)
{
	size_t i = fx->st.n++;
	struct entry *e = &fx->e[i];

	assert_true(i < MAX_ENTRIES);
	snprintf(fx->version[i], sizeof(fx->version[i]), "20230101%06zu_m%zu",
	    i, i);
	fx->m[i].version = fx->version[i];
	e->version = fx->version[i];
	e->m = &fx->m[i];
	e->state = state;
	e->folder = e->rb_folder = -1;
	if (fwd) {
		write_file(fx, folder, e->version, NAME_FORWARD, fwd);
		fx->m[i].fwd = 1u << folder;
		e->folder = folder;
	}
	if (rb) {
		write_file(fx, folder, e->version, NAME_ROLLBACK, rb);
		fx->m[i].rb = 1u << folder;
		e->rb_folder = folder;
	}
	return i;
}

static struct risk *
judge(struct fixture *fx, const struct risk_ask *ask)
{
	struct risk *out = calloc(fx->st.n + 1, sizeof(*out));

	assert_non_null(out);
	risk_state(out, &fx->st, ask);
	return out;
}

#define DROP_T      "SET lock_timeout = '1s';\nDROP TABLE t;\n"
#define INDEX_ON(t) "CREATE INDEX ON " t " (a);\n"

static void
test_each_class_and_no_class(void **state)
{
	struct fixture *fx = fixture_new();
	struct risk *r;
	size_t safe, blocking, mayfail, destr, none, bad;

	(void)state;
	safe = add(fx, FOLDER_APPLIED, ST_APPLIED, "SELECT 1;\n", DROP_T);
	blocking = add(fx, FOLDER_APPLIED, ST_APPLIED,
	    "SET lock_timeout = '1s';\n" INDEX_ON("t"), NULL);
	mayfail = add(fx, FOLDER_ARCHIVE, ST_ARCHIVED,
	    "SET lock_timeout = '1s';\nALTER TABLE t ALTER a SET NOT NULL;\n",
	    "SELECT 1;\n");
	destr = add(fx, FOLDER_PENDING, ST_PENDING, DROP_T, DROP_T);
	none = add(fx, FOLDER_PENDING, ST_PENDING, NULL, "SELECT 1;\n");
	/* COPY FROM STDIN can never run: no class */
	bad = add(fx, FOLDER_PENDING, ST_PENDING,
	    "COPY t FROM STDIN;\n1\n\\.\n", NULL);
	r = judge(fx, NULL);
	assert_int_equal(r[safe].fwd, RISK_SAFE);
	assert_int_equal(r[blocking].fwd, RISK_BLOCKING);
	assert_int_equal(r[mayfail].fwd, RISK_MAY_FAIL);
	assert_int_equal(r[destr].fwd, RISK_DESTRUCTIVE);
	assert_int_equal(r[none].fwd, RISK_NONE);
	assert_int_equal(r[bad].fwd, RISK_UNKNOWN);
	/* NULL asks for forward files only */
	assert_int_equal(r[safe].rb, RISK_NONE);
	assert_int_equal(r[destr].rb, RISK_NONE);
	assert_string_equal(risk_name(r[destr].fwd), "destructive");
	assert_string_equal(risk_name(RISK_NONE), "-");
	assert_string_equal(risk_name(RISK_UNKNOWN), "?");
	assert_null(risk_json_name(RISK_UNKNOWN));
	assert_null(risk_json_name(RISK_NONE));
	assert_string_equal(risk_json_name(RISK_MAY_FAIL), "may-fail");
	free(r);
	fixture_free(fx);
}

static void
test_rejected_syntax_and_missing_files_are_unknown(void **state)
{
	struct fixture *fx = fixture_new();
	struct buf path = BUF_INIT;
	struct risk *r;
	size_t syntax, gone;

	(void)state;
	syntax = add(fx, FOLDER_PENDING, ST_PENDING, "SELEC nothing;\n", NULL);
	gone = add(fx, FOLDER_APPLIED, ST_APPLIED, "SELECT 1;\n", NULL);
	scan_path(&path, fx->tmp, FOLDER_APPLIED, fx->version[gone],
	    NAME_FORWARD);
	assert_int_equal(remove(path.ptr), 0);
	buf_release(&path);
	r = judge(fx, NULL);
	/* no actions to judge: never "safe" (a newer server may run it) */
	assert_int_equal(r[syntax].fwd, RISK_UNKNOWN);
	assert_int_equal(r[gone].fwd, RISK_UNKNOWN);
	assert_null(mg_error_last()->message); /* nothing left behind */
	free(r);
	fixture_free(fx);
}

static void
test_pending_files_see_the_tables_earlier_pending_files_create(void **state)
{
	struct fixture *fx = fixture_new();
	struct risk_ask ask[4];
	struct risk *r;
	size_t made, later, applied, used;

	(void)state;
	/* an applied migration's table is not new for anyone */
	applied = add(fx, FOLDER_APPLIED, ST_APPLIED,
	    "CREATE TABLE old (a int);\n", NULL);
	made = add(fx, FOLDER_PENDING, ST_PENDING, "CREATE TABLE t (a int);\n",
	    DROP_T);
	later = add(fx, FOLDER_PENDING, ST_PENDING,
	    "SET lock_timeout = '1s';\n" INDEX_ON("t"), NULL);
	used = add(fx, FOLDER_PENDING, ST_PENDING,
	    "SET lock_timeout = '1s';\n" INDEX_ON("old"), NULL);
	r = judge(fx, NULL);
	assert_int_equal(r[applied].fwd, RISK_SAFE);
	assert_int_equal(r[made].fwd, RISK_SAFE);
	assert_int_equal(r[later].fwd, RISK_SAFE); /* t is new when it runs */
	assert_int_equal(r[used].fwd, RISK_BLOCKING);
	free(r);
	/* asked for the later file only: the earlier one still counts */
	memset(ask, 0, sizeof(ask));
	ask[later].want = RISK_FWD;
	r = judge(fx, ask);
	assert_int_equal(r[later].fwd, RISK_SAFE);
	assert_int_equal(r[made].fwd, RISK_NONE); /* parsed, not shown */
	assert_int_equal(r[used].fwd, RISK_NONE);
	free(r);
	/* a rollback file is judged on its own */
	memset(ask, 0, sizeof(ask));
	ask[made].want = RISK_RB;
	r = judge(fx, ask);
	assert_int_equal(r[made].rb, RISK_DESTRUCTIVE);
	assert_int_equal(r[made].fwd, RISK_NONE);
	free(r);
	fixture_free(fx);
}

static void
test_scripts_handed_over_are_not_read_again(void **state)
{
	struct fixture *fx = fixture_new();
	const char *text = "SET lock_timeout = '1s';\nTRUNCATE t;\n";
	struct sql_script *s = NULL;
	struct risk_ask ask[1];
	struct risk *r;
	size_t i;

	(void)state;
	/* the files on disk say safe; the scripts handed over say otherwise */
	i = add(fx, FOLDER_APPLIED, ST_APPLIED, "SELECT 1;\n", "SELECT 1;\n");
	assert_int_equal(sql_parse_script(&s, "handed.sql", text, strlen(text)),
	    0);
	memset(ask, 0, sizeof(ask));
	ask[i].want = RISK_FWD | RISK_RB;
	ask[i].fwd = s;
	ask[i].rb = s;
	r = judge(fx, ask);
	assert_int_equal(r[i].fwd, RISK_DESTRUCTIVE);
	assert_int_equal(r[i].rb, RISK_DESTRUCTIVE);
	free(r);
	sql_script_free(s);
	fixture_free(fx);
}

/* A strong lock needs a lock_timeout: the file's, or the environment's. */
static void
test_the_environment_lock_timeout_counts(void **state)
{
	static const struct {
		const char *setting;
		int risk;
	} cases[] = {
	    {NULL, RISK_BLOCKING},
	    {"0", RISK_BLOCKING},
	    {"0ms", RISK_BLOCKING},
	    {"5s", RISK_SAFE},
	};
	const char *alter = "ALTER TABLE t ADD COLUMN b int;\n";
	struct fixture *fx = fixture_new();
	struct risk_ask ask[2];
	struct risk *r;
	size_t pending, applied, k;

	(void)state;
	pending = add(fx, FOLDER_PENDING, ST_PENDING, alter, NULL);
	applied = add(fx, FOLDER_APPLIED, ST_APPLIED, "SELECT 1;\n", alter);
	memset(ask, 0, sizeof(ask));
	ask[pending].want = RISK_FWD;
	ask[applied].want = RISK_RB;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		fx->env.lock_timeout = (char *)cases[k].setting;
		r = judge(fx, ask);
		assert_int_equal(r[pending].fwd, cases[k].risk);
		assert_int_equal(r[applied].rb, cases[k].risk);
		free(r);
	}
	fixture_free(fx);
}

/* Many files: the threads give what one by one gives, in run order. */
static void
test_a_thousand_files_in_threads(void **state)
{
	struct fixture *fx = fixture_new();
	struct risk *r;
	size_t i, n = 1000;
	char fwd[160];

	(void)state;
	fx->env.lock_timeout = "5s";
	for (i = 0; i < n; i++) {
		/* each pending file indexes the table of the one before it */
		if (i == 0)
			snprintf(fwd, sizeof(fwd),
			    "CREATE TABLE t0 (a int);\n" INDEX_ON("old"));
		else
			snprintf(fwd, sizeof(fwd),
			    "CREATE TABLE t%zu (a int);\n"
			    "CREATE INDEX ON t%zu (a);\n",
			    i, i - 1);
		add(fx, i < n / 2 ? FOLDER_APPLIED : FOLDER_PENDING,
		    i < n / 2 ? ST_APPLIED : ST_PENDING, fwd,
		    i % 3 ? "SELECT 1;\n" : "DROP TABLE x;\n");
	}
	{
		struct risk_ask *ask = calloc(n, sizeof(*ask));

		assert_non_null(ask);
		for (i = 0; i < n; i++)
			ask[i].want = RISK_FWD | RISK_RB;
		r = judge(fx, ask);
		free(ask);
	}
	for (i = 0; i < n; i++) {
		/* applied: the table of the one before is not new; pending: it
		   is, except for the first pending file (its predecessor is
		   applied) */
		int want = i == 0 || i <= n / 2 ? RISK_BLOCKING : RISK_SAFE;

		if (r[i].fwd != want)
			fail_msg("entry %zu: class %d, expected %d", i,
			    r[i].fwd, want);
		assert_int_equal(r[i].rb, i % 3 ? RISK_SAFE : RISK_DESTRUCTIVE);
	}
	free(r);
	fixture_free(fx);
}

static void
test_cells_are_padded_to_one_width(void **state)
{
	char buf[64];
	int k;

	(void)state;
	for (k = RISK_UNKNOWN; k <= RISK_DESTRUCTIVE; k++)
		assert_int_equal(strlen(risk_cell(buf, sizeof(buf), k)),
		    RISK_WIDTH);
	assert_string_equal(risk_cell(buf, sizeof(buf), RISK_MAY_FAIL),
	    "may-fail   ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_class_and_no_class),
	    cmocka_unit_test(
		test_rejected_syntax_and_missing_files_are_unknown),
	    cmocka_unit_test(
		test_pending_files_see_the_tables_earlier_pending_files_create),
	    cmocka_unit_test(test_scripts_handed_over_are_not_read_again),
	    cmocka_unit_test(test_the_environment_lock_timeout_counts),
	    cmocka_unit_test(test_a_thousand_files_in_threads),
	    cmocka_unit_test(test_cells_are_padded_to_one_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
