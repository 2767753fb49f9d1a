/*
 * fuzz_lint.c - the risk rules (lint.h) over a parsed script.
 *
 * Input: a migration file's bytes; when the parser accepts it (or the
 * scanner splits it), lint_script runs alone and with the tables of a
 * previous run carried over.  Invariants: findings name a rule and a
 * statement of the script, and their effects make the file's class; they
 * come in the file's order; allows point at statements that exist; a table
 * a file creates is new to the files after it, so carrying can only take
 * findings away.
 */
#include "error.h"
#include "fuzz.h"
#include "lint.h"
#include "sql.h"

#define PATH "fuzz/20240101_fuzz.sql"

static void
check_result(const struct lint_result *r, const struct sql_script *s)
{
	unsigned effects = 0;
	size_t i;
	char words[128];

	for (i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->f[i];

		FUZZ_CHECK(f->rule != NULL && f->rule->name != NULL);
		FUZZ_CHECK(lint_rule_find(f->rule->name) == f->rule);
		FUZZ_CHECK(f->rule->reason && f->rule->remedy);
		/* findings about the file as a whole may use stmt == n */
		FUZZ_CHECK(f->stmt <= s->n);
		/* in the order of the file: line, then column */
		if (i > 0)
			FUZZ_CHECK(r->f[i - 1].line < f->line ||
			    (r->f[i - 1].line == f->line &&
				r->f[i - 1].col <= f->col));
		FUZZ_CHECK(memchr(f->subject, 0, sizeof(f->subject)) != NULL);
		FUZZ_CHECK(memchr(f->schema, 0, sizeof(f->schema)) != NULL);
		FUZZ_CHECK(memchr(f->rel, 0, sizeof(f->rel)) != NULL);
		if (f->stmt < s->n)
			FUZZ_CHECK(f->line == s->stmts[f->stmt].line);
		effects |= f->rule->effects;
	}
	FUZZ_CHECK(effects == r->effects);
	FUZZ_CHECK(r->risk == lint_risk_of(r->effects));
	for (i = 0; i < r->nallows; i++) {
		FUZZ_CHECK(r->allows[i].stmt <= s->n);
		FUZZ_CHECK(memchr(r->allows[i].rule, 0,
			       sizeof(r->allows[i].rule)) != NULL);
		FUZZ_CHECK(r->allows[i].line >= 1);
	}
	(void)lint_effect_words(r->effects, words, sizeof(words));
	FUZZ_CHECK(memchr(words, 0, sizeof(words)) != NULL);
	{
		enum lint_risk back;

		FUZZ_CHECK(
		    lint_risk_parse(lint_risk_name(r->risk), &back) == 0);
		FUZZ_CHECK(back == r->risk);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct sql_script *s = NULL;
	struct lint_result alone = {0}, carried = {0}, again = {0};
	struct lint_tables tables = {0};

	mg_error_clear();
	if (sql_parse_script(&s, PATH, text, size) == MG_ERROR) {
		free(text);
		mg_error_clear();
		return 0;
	}
	lint_script(&alone, s, NULL, 0);
	check_result(&alone, s);
	/* the same script twice: what it creates is new the second time */
	lint_script(&carried, s, &tables, 1);
	check_result(&carried, s);
	FUZZ_CHECK(carried.n == alone.n && carried.effects == alone.effects);
	lint_script(&again, s, &tables, 0);
	check_result(&again, s);
	FUZZ_CHECK(again.n <= alone.n + alone.nallows);
	lint_result_release(&again);
	lint_result_release(&carried);
	lint_result_release(&alone);
	lint_tables_release(&tables);
	sql_script_free(s);
	mg_error_clear();
	free(text);
	return 0;
}
