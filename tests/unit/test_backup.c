/*
 * test_backup.c - unit tests for what a backup dumps (src/backup.c).
 *
 * Table-driven: the data-losing findings of a rollback file name the
 * tables to dump, each once; a finding with no table (a schema, a type, a
 * database) means the whole database; what loses nothing adds nothing.
 * pg_dump itself runs in tests/integration/test_rollback.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "backup.h"
#include "buf.h"
#include "error.h"
#include "lint.h"
#include "sql.h"
#include "banned.h"

static void
test_findings_name_the_tables(void **state)
{
	static const struct {
		const char *sql;
		const char *tables; /* as "a b", in order */
		int whole;
	} cases[] = {
	    {"DROP TABLE a;\n", "a", 0},
	    {"DROP TABLE a, s.b;\nTRUNCATE a;\n", "a s.b", 0},
	    {"ALTER TABLE c DROP COLUMN x;\nDELETE FROM d;\n", "c d", 0},
	    {"UPDATE e SET x = 1;\n", "e", 0},
	    {"DELETE FROM d WHERE id = 1;\nDROP INDEX i;\n", "", 0},
	    {"DROP SCHEMA z CASCADE;\nDROP TABLE a;\n", "a", 1},
	    {"DROP TYPE mood CASCADE;\n", "", 1},
	    {"DROP DATABASE other;\n", "", 1},
	    {"-- migdir:allow drop-table\nDROP TABLE a;\n", "", 0},
	    {"CREATE TABLE n (id int);\nDROP TABLE n;\n", "", 0},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sql_script *s = NULL;
		struct lint_tables none;
		struct lint_result r;
		struct backup b = {0};
		struct buf names = BUF_INIT;

		memset(&none, 0, sizeof(none));
		none.lock_timeout_set = 1;
		assert_int_equal(sql_parse_script(&s, "rb.sql", cases[i].sql,
				     strlen(cases[i].sql)),
		    0);
		lint_script(&r, s, &none, 0);
		backup_add(&b, &r);
		backup_add(&b, &r); /* twice: each table once */
		for (k = 0; k < b.n; k++)
			buf_printf(&names, "%s%s", k ? " " : "", b.tables[k]);
		if (strcmp(names.ptr, cases[i].tables) ||
		    b.whole != cases[i].whole)
			fail_msg("%s: tables \"%s\" whole %d, expected \"%s\" "
				 "%d",
			    cases[i].sql, names.ptr, b.whole, cases[i].tables,
			    cases[i].whole);
		assert_int_equal(backup_needed(&b),
		    *cases[i].tables || cases[i].whole);
		buf_release(&names);
		backup_release(&b);
		lint_result_release(&r);
		lint_tables_release(&none);
		sql_script_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_findings_name_the_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
