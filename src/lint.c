/*
 * lint.c - the risk rules, from the actions sql.c reads off the parse tree.
 *
 * One pass over a script's actions in statement order, keeping the set of
 * relations (tables and indexes share PostgreSQL's namespace) that are new
 * at that point; then the allows are matched to the findings.  The rules'
 * texts are what `migdir check` prints and what migdir-check(1) lists.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "xalloc.h"
#include "banned.h"

#define ALLOW_MARK "migdir:allow"

const struct lint_rule lint_rules[] = {
    /* data loss */
    {"drop-table", EF_LOSS | EF_LOCK, 0, "drops the table and every row in it",
	"stop using the table first, back it up, and drop it in a later "
	"release"},
    {"drop-column", EF_LOSS | EF_LOCK, 0,
	"drops the column's value in every row",
	"stop reading and writing the column first, back it up, and drop it "
	"in a later release"},
    {"drop-schema", EF_LOSS, 0, "drops the schema (with CASCADE, all it holds)",
	"drop the objects inside it one by one, each after a backup"},
    {"drop-database", EF_LOSS, 0, "drops a whole database",
	"do this by hand, after a backup, not in a migration"},
    {"drop-type", EF_FAIL, 0,
	"fails while a column, function or view still uses the type",
	"drop or convert what uses it first, in an earlier statement"},
    {"drop-cascade", EF_LOSS, 0,
	"CASCADE also drops what depends on it (views, foreign keys, columns "
	"of a dropped type); TRUNCATE CASCADE empties the tables that "
	"reference it",
	"drop the dependent objects by name, so that the file says what "
	"goes"},
    {"truncate", EF_LOSS | EF_LOCK, 0, "removes every row of the table",
	"delete the rows you mean with a WHERE clause, after a backup"},
    {"delete-without-where", EF_LOSS, 0, "deletes every row of the table",
	"add a WHERE clause, or write TRUNCATE if that is meant"},
    {"update-without-where", EF_LOSS, 0,
	"overwrites the columns it sets in every row",
	"add a WHERE clause, or back the column up first"},
    /* failures on existing data */
    {"add-not-null-column", EF_FAIL, 0,
	"adds a NOT NULL column without a DEFAULT: fails if the table has a "
	"row",
	"give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL"},
    {"add-foreign-key", EF_FAIL | EF_LOCK, 0,
	"validates a foreign key while blocking writes to both tables, and "
	"fails on an orphan row",
	"ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later "
	"statement"},
    {"add-check", EF_FAIL | EF_LOCK, 0,
	"validates a CHECK constraint under an ACCESS EXCLUSIVE lock, and "
	"fails on a row that breaks it",
	"ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later "
	"statement"},
    {"add-unique", EF_FAIL | EF_LOCK, 0,
	"builds a unique index while blocking writes, and fails on "
	"duplicates",
	"CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING "
	"INDEX"},
    {"unique-index", EF_FAIL, 0,
	"a unique index on an existing table fails if its rows hold "
	"duplicates",
	"look for duplicates first (GROUP BY ... HAVING count(*) > 1)"},
    {"set-not-null", EF_FAIL | EF_LOCK, 0,
	"scans the table under an ACCESS EXCLUSIVE lock, and fails if a row "
	"holds NULL",
	"ADD CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT "
	"NULL"},
    {"column-type-change", EF_FAIL | EF_LOCK, 0,
	"rewrites the table under an ACCESS EXCLUSIVE lock (unless the types "
	"are binary-compatible), and fails on a value that does not convert",
	"add a new column, backfill it in batches, then switch readers over"},
    {"rename-table", EF_FAIL, 0,
	"queries that still use the old name fail from the moment this "
	"commits",
	"ship code that works with both names first, or leave a view with "
	"the old name"},
    {"rename-column", EF_FAIL, 0,
	"queries that still use the old column name fail from the moment "
	"this commits",
	"add the new column and copy, or ship code that reads both first"},
    {"enum-add-value", EF_FAIL, 0,
	"no rollback can remove an enum value, and the transaction that "
	"adds it cannot use it",
	"add the value in a migration of its own and use it in a later one"},
    {"enum-add-used", EF_FAIL, 1,
	"an enum value is used in the transaction block that adds it: "
	"PostgreSQL refuses (unsafe use of new value)",
	"move the statements that use the value after the block's COMMIT"},
    {"non-atomic", EF_FAIL, 0,
	"the file runs statement by statement, without a transaction: if one "
	"fails, those before it stay applied",
	"put the statement that needs this in a migration of its own"},
    /* blocking locks */
    {"index-not-concurrent", EF_LOCK, 0,
	"CREATE INDEX blocks writes to the table until the index is built",
	"CREATE INDEX CONCURRENTLY, in a migration of its own"},
    {"drop-index-not-concurrent", EF_LOCK, 0,
	"DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table",
	"DROP INDEX CONCURRENTLY, in a migration of its own"},
    {"reindex-not-concurrent", EF_LOCK, 0,
	"REINDEX blocks writes to the table while it rebuilds",
	"REINDEX ... CONCURRENTLY, in a migration of its own"},
    {"drop-constraint", EF_LOCK, 0,
	"takes an ACCESS EXCLUSIVE lock; rows that break the rule can be "
	"written afterwards, so adding it back may fail",
	"make sure no code relies on the constraint, and keep its definition "
	"in the rollback"},
    {"volatile-default", EF_LOCK, 0,
	"a volatile default (or serial, identity, a stored generated column) "
	"rewrites the table under an ACCESS EXCLUSIVE lock",
	"add the column without the default, SET DEFAULT, then backfill in "
	"batches"},
    {"vacuum-full", EF_LOCK, 0,
	"VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
	"plain VACUUM, or pg_repack, outside the migration"},
    {"cluster", EF_LOCK, 0,
	"CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
	"run it by hand in a maintenance window, or use pg_repack"},
    {"lock-timeout", EF_LOCK, 0,
	"takes a strong lock with no lock_timeout: queued behind a long "
	"query, it blocks every query that comes after it",
	"SET lock_timeout = '5s' first, or set lock_timeout in the "
	"environment's section of migdir.ini"},
    /* notes: they do not change the class */
    {"repeated-transaction", 0, 0,
	"the file has several BEGIN ... COMMIT blocks; migdir runs them in "
	"one transaction, so locks are held until the last COMMIT",
	"split the file where it commits, if the locks must be released"},
    {"unused-allow", 0, 0, "this migdir:allow silences nothing",
	"remove it, or correct the rule's name"},
    {NULL, 0, 0, NULL, NULL},
};

const struct lint_rule *
lint_rule_find(const char *name)
{
	const struct lint_rule *r;

	for (r = lint_rules; r->name; r++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

static const char *const risk_names[] = {
    "safe",
    "blocking",
    "may-fail",
    "destructive",
};

const char *
lint_risk_name(enum lint_risk r)
{
	return risk_names[r];
}

int
lint_risk_parse(const char *name, enum lint_risk *out)
{
	int i;

	for (i = RISK_SAFE; i <= RISK_DESTRUCTIVE; i++)
		if (!strcmp(name, risk_names[i])) {
			*out = (enum lint_risk)i;
			return 0;
		}
	return -1;
}

enum lint_risk
lint_risk_of(unsigned effects)
{
	if (effects & EF_LOSS)
		return RISK_DESTRUCTIVE;
	if (effects & EF_FAIL)
		return RISK_MAY_FAIL;
	if (effects & EF_LOCK)
		return RISK_BLOCKING;
	return RISK_SAFE;
}

const char *
lint_effect_words(unsigned effects, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", effects & EF_LOSS ? "data loss" : "",
	    (effects & EF_LOSS) && (effects & (EF_FAIL | EF_LOCK)) ? ", " : "",
	    effects & EF_FAIL ? "may fail" : "",
	    (effects & EF_FAIL) && (effects & EF_LOCK) ? ", " : "",
	    effects & EF_LOCK ? "blocking lock" : "");
	if (!effects)
		snprintf(buf, size, "note");
	return buf;
}

void
lint_tables_release(struct lint_tables *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

static void
tables_add(struct lint_tables *t, const char *schema, const char *name)
{
	XGROW(t->v, t->cap, t->n + 1);
	memcpy(t->v[t->n][0], schema, SQL_NAME_MAX);
	memcpy(t->v[t->n][1], name, SQL_NAME_MAX);
	t->n++;
}

/*
 * Is the relation in the set?  An unqualified name is taken to be in
 * public (the usual search_path): backup.orders is not orders.
 */
static int
tables_has(const struct lint_tables *t, const char *schema, const char *name)
{
	size_t i;

	for (i = 0; t && i < t->n; i++)
		if (!strcmp(t->v[i][1], name) &&
		    !strcmp(*schema ? schema : "public",
			*t->v[i][0] ? t->v[i][0] : "public"))
			return 1;
	return 0;
}

/* State of one pass over a script. */
struct pass {
	const struct sql_script *s;
	struct lint_result *out;
	struct lint_tables local;   /* created by this script so far */
	struct lint_tables *shared; /* created by earlier pending files */
	int lock_timeout;           /* set by the file (or the environment) */
	int lock_reported;
};

static int
is_new(const struct pass *p, const struct sql_action *a)
{
	return tables_has(&p->local, a->schema, a->rel) ||
	    tables_has(p->shared, a->schema, a->rel);
}

static void
add_finding(struct lint_result *r, const struct sql_script *s, const char *rule,
    size_t stmt, const char *schema, const char *subject)
{
	struct lint_finding *f;

	XGROW(r->f, r->cap, r->n + 1);
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->rule = lint_rule_find(rule);
	f->stmt = stmt;
	if (stmt < s->n) {
		f->line = s->stmts[stmt].line;
		f->col = s->stmts[stmt].col;
	} else
		f->line = f->col = 1;
	snprintf(f->subject, sizeof(f->subject), "%s%s%s",
	    schema && *schema ? schema : "", schema && *schema ? "." : "",
	    subject ? subject : "");
}

static void
report(struct pass *p, const char *rule, const struct sql_action *a)
{
	struct lint_finding *f;

	add_finding(p->out, p->s, rule, a->stmt, a->schema, a->rel);
	f = &p->out->f[p->out->n - 1];
	memcpy(f->schema, a->schema, sizeof(f->schema));
	memcpy(f->rel, a->rel, sizeof(f->rel));
}

/* Does the action take a lock that blocks reads or writes of a table? */
static int
strong_lock(const struct sql_action *a)
{
	switch (a->kind) {
	case SA_CREATE_INDEX:
	case SA_DROP_INDEX:
	case SA_REINDEX:
		return !(a->flags & SAF_CONCURRENT);
	case SA_DROP_TABLE:
	case SA_TRUNCATE:
	case SA_DROP_COLUMN:
	case SA_ALTER_TYPE:
	case SA_SET_NOT_NULL:
	case SA_ADD_COLUMN:
	case SA_ADD_CONSTRAINT:
	case SA_DROP_CONSTRAINT:
	case SA_RENAME_TABLE:
	case SA_RENAME_COLUMN:
	case SA_VACUUM_FULL:
	case SA_CLUSTER:
	case SA_ALTER_OTHER:
		return 1;
	default:
		return 0;
	}
}

static void
add_column_rules(struct pass *p, const struct sql_action *a)
{
	if ((a->flags & SAF_NOT_NULL) && !(a->flags & SAF_DEFAULT))
		report(p, "add-not-null-column", a);
	if (a->flags & SAF_REWRITE)
		report(p, "volatile-default", a);
	if (a->flags & SAF_FK)
		report(p, "add-foreign-key", a);
	if (a->flags & SAF_CHECK)
		report(p, "add-check", a);
	if (a->flags & SAF_UNIQUE_COL)
		report(p, "add-unique", a);
}

static void
add_constraint_rules(struct pass *p, const struct sql_action *a)
{
	if (a->con == 'f' && !(a->flags & SAF_NOT_VALID))
		report(p, "add-foreign-key", a);
	else if (a->con == 'c' && !(a->flags & SAF_NOT_VALID))
		report(p, "add-check", a);
	else if ((a->con == 'u' || a->con == 'p' || a->con == 'x') &&
	    !(a->flags & SAF_USING_INDEX))
		report(p, "add-unique", a);
}

/* The rules for one action on a relation that existed before the file. */
static void
existing_rules(struct pass *p, const struct sql_action *a)
{
	static const struct {
		enum sql_act kind;
		const char *rule;
	} plain[] = {
	    {SA_DROP_TABLE, "drop-table"},
	    {SA_TRUNCATE, "truncate"},
	    {SA_DELETE_ALL, "delete-without-where"},
	    {SA_UPDATE_ALL, "update-without-where"},
	    {SA_DROP_COLUMN, "drop-column"},
	    {SA_ALTER_TYPE, "column-type-change"},
	    {SA_SET_NOT_NULL, "set-not-null"},
	    {SA_DROP_CONSTRAINT, "drop-constraint"},
	    {SA_RENAME_TABLE, "rename-table"},
	    {SA_RENAME_COLUMN, "rename-column"},
	    {SA_VACUUM_FULL, "vacuum-full"},
	    {SA_CLUSTER, "cluster"},
	};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (plain[i].kind == a->kind) {
			report(p, plain[i].rule, a);
			return;
		}
	switch (a->kind) {
	case SA_CREATE_INDEX:
		if (!(a->flags & SAF_CONCURRENT))
			report(p, "index-not-concurrent", a);
		if (a->flags & SAF_UNIQUE)
			report(p, "unique-index", a);
		break;
	case SA_DROP_INDEX:
		if (!(a->flags & SAF_CONCURRENT))
			report(p, "drop-index-not-concurrent", a);
		break;
	case SA_REINDEX:
		if (!(a->flags & SAF_CONCURRENT))
			report(p, "reindex-not-concurrent", a);
		break;
	case SA_ADD_COLUMN:
		add_column_rules(p, a);
		break;
	case SA_ADD_CONSTRAINT:
		add_constraint_rules(p, a);
		break;
	default:
		break;
	}
}

static void
check_action(struct pass *p, const struct sql_action *a)
{
	if ((a->flags & SAF_CASCADE) && !(*a->rel && is_new(p, a)))
		report(p, "drop-cascade", a);
	switch (a->kind) {
	case SA_CREATE_TABLE:
		tables_add(&p->local, a->schema, a->rel);
		return;
	case SA_CREATE_INDEX:
		if (is_new(p, a)) {
			if (*a->name)
				tables_add(&p->local, a->schema, a->name);
			return;
		}
		break;
	case SA_RENAME_TABLE:
		if (is_new(p, a)) {
			tables_add(&p->local, a->schema, a->name);
			return;
		}
		break;
	case SA_DROP_SCHEMA:
		report(p, "drop-schema", a);
		return;
	case SA_DROP_DATABASE:
		report(p, "drop-database", a);
		return;
	case SA_DROP_TYPE:
		report(p, "drop-type", a);
		return;
	case SA_ENUM_ADD:
		add_finding(p->out, p->s, "enum-add-value", a->stmt, a->schema,
		    a->name);
		return;
	case SA_LOCK_TIMEOUT:
		p->lock_timeout = (a->flags & SAF_NONZERO) != 0;
		return;
	default:
		if (*a->rel && is_new(p, a))
			return;
		break;
	}
	if (strong_lock(a) && !p->lock_timeout && !p->lock_reported) {
		p->lock_reported = 1;
		report(p, "lock-timeout", a);
	}
	existing_rules(p, a);
}

/*
 * In a file that runs without migdir's transaction, does one of its own
 * BEGIN ... COMMIT blocks hold both the ADD VALUE and a use of it?
 */
static int
enum_use_in_block(const struct sql_script *s)
{
	size_t i;
	int in_block = 0;

	if (!s->enum_used || s->transactional)
		return 0;
	for (i = 0; i < s->enum_add; i++) {
		if (s->stmts[i].flags & SQL_TX_BEGIN)
			in_block = 1;
		else if (s->stmts[i].flags & SQL_TX_COMMIT)
			in_block = 0;
	}
	for (; in_block && i < s->enum_use; i++)
		if (s->stmts[i].flags & SQL_TX_COMMIT)
			return 0;
	return in_block;
}

static void
shape_rules(const struct sql_script *s, struct lint_result *r)
{
	if (enum_use_in_block(s))
		add_finding(r, s, "enum-add-used", s->enum_use, NULL, NULL);
	if (!s->transactional && !s->marked && s->nrun > 1)
		add_finding(r, s, "non-atomic", s->reason_stmt, NULL,
		    s->reason);
	if (s->wrapped > 1)
		add_finding(r, s, "repeated-transaction", 0, NULL, NULL);
}

static void
add_allow(struct lint_result *r, const struct sql_script *s, int line, int col,
    const char *rule, size_t len)
{
	struct lint_allow *a;
	size_t i;

	XGROW(r->allows, r->allows_cap, r->nallows + 1);
	a = &r->allows[r->nallows++];
	memset(a, 0, sizeof(*a));
	a->line = line;
	a->col = col;
	if (len >= sizeof(a->rule))
		len = sizeof(a->rule) - 1;
	memcpy(a->rule, rule, len);
	a->rule[len] = '\0';
	a->stmt = s->n;
	for (i = 0; i < s->n; i++)
		if (sql_stmt_end_line(s, i) >= line) {
			a->stmt = i;
			break;
		}
}

/* Every "-- migdir:allow a,b" comment: one allow per rule named. */
static void
find_allows(struct lint_result *r, const struct sql_script *s)
{
	const char *t = s->text, *p = t, *end = t + s->len;
	size_t mlen = strlen(ALLOW_MARK);
	int line = 1;
	const char *line_start = t;

	while (p < end && (p = strstr(p, ALLOW_MARK)) != NULL) {
		const char *q = p;

		for (; line_start < p; line_start++)
			if (*line_start == '\n')
				line++;
		while (q > t && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (q - t < 2 || q[-1] != '-' || q[-2] != '-') {
			p += mlen;
			continue;
		}
		p += mlen;
		/* RULE[, RULE]...: what follows the list is a free comment */
		for (;;) {
			const char *w;
			int col;

			while (*p == ' ' || *p == '\t' || *p == ':')
				p++;
			w = p;
			while (isalnum((unsigned char)*p) || *p == '-' ||
			    *p == '_')
				p++;
			if (p == w)
				break;
			for (col = 1; w - col >= t && w[-col] != '\n'; col++)
				;
			add_allow(r, s, line, col, w, (size_t)(p - w));
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ',')
				break;
			p++;
		}
	}
}

/* Drop the findings an allow silences; report the allows left unused. */
static void
apply_allows(struct lint_result *r, const struct sql_script *s)
{
	size_t i, j, k = 0;

	for (i = 0; i < r->n; i++) {
		int allowed = 0;

		for (j = 0; j < r->nallows; j++)
			if (r->allows[j].stmt == r->f[i].stmt &&
			    !strcmp(r->allows[j].rule, r->f[i].rule->name)) {
				r->allows[j].used = 1;
				allowed = 1;
			}
		if (allowed)
			r->allowed++;
		else
			r->f[k++] = r->f[i];
	}
	r->n = k;
	for (j = 0; j < r->nallows; j++) {
		struct lint_finding *f;

		if (r->allows[j].used)
			continue;
		add_finding(r, s, "unused-allow", s->n, NULL,
		    r->allows[j].rule);
		f = &r->f[r->n - 1];
		f->line = r->allows[j].line;
		f->col = r->allows[j].col;
	}
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct lint_finding *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void
lint_script(struct lint_result *out, const struct sql_script *s,
    struct lint_tables *new_tables, int carry)
{
	struct pass p;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.out = out;
	p.shared = new_tables;
	p.lock_timeout = new_tables && new_tables->lock_timeout_set;
	for (i = 0; i < s->nacts; i++)
		check_action(&p, &s->acts[i]);
	shape_rules(s, out);
	find_allows(out, s);
	apply_allows(out, s);
	/* stable: findings of one statement keep the order of its actions */
	for (i = 1; i < out->n; i++) {
		struct lint_finding f = out->f[i];
		size_t j = i;

		while (j > 0 && finding_cmp(&out->f[j - 1], &f) > 0) {
			out->f[j] = out->f[j - 1];
			j--;
		}
		out->f[j] = f;
	}
	for (i = 0; i < out->n; i++)
		out->effects |= out->f[i].rule->effects;
	out->risk = lint_risk_of(out->effects);
	if (carry && new_tables)
		for (i = 0; i < p.local.n; i++)
			tables_add(new_tables, p.local.v[i][0],
			    p.local.v[i][1]);
	lint_tables_release(&p.local);
}

void
lint_result_release(struct lint_result *r)
{
	free(r->f);
	free(r->allows);
	memset(r, 0, sizeof(*r));
}
