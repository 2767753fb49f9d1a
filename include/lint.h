/*
 * lint.h - risk rules on what a migration's statements do.
 *
 * Pure: a parsed script (sql.h) goes in, findings come out.  Each rule has
 * a stable name, says what it means for the database (data lost, a lock
 * that blocks other sessions, a statement that existing data can make
 * fail), and carries a one-line reason and remedy.  A file's risk class is
 * the worst effect among the findings it does not allow:
 *
 *	destructive   data is lost             (drop-table, truncate ...)
 *	may-fail      existing data can break   (add-foreign-key, set-not-null)
 *	blocking      a lock holds up others    (index-not-concurrent ...)
 *	safe          none of the above
 *
 * Rules about tables ignore tables that are new: created by an earlier
 * statement of the same file, or (through struct lint_tables) by a
 * pending migration that runs before it.  A comment
 * "-- migdir:allow RULE[,RULE]" on a statement's lines or before it (after
 * the previous statement) silences those rules for that statement; an
 * allow that silences nothing is itself reported (unused-allow).
 */
#ifndef MIGDIR_LINT_H
#define MIGDIR_LINT_H

#include <stddef.h>

#include "sql.h"

enum lint_effect {
	EF_LOCK = 1 << 0, /* blocks other sessions while it runs */
	EF_FAIL = 1 << 1, /* existing data (or running code) can make it fail */
	EF_LOSS = 1 << 2, /* data is lost */
};

enum lint_risk {
	RISK_SAFE,
	RISK_BLOCKING,
	RISK_MAY_FAIL,
	RISK_DESTRUCTIVE,
};

struct lint_rule {
	const char *name;   /* stable: used in allows, output and --json */
	unsigned effects;   /* enum lint_effect; 0 for notes on the file */
	int error;          /* the file cannot run as written */
	const char *reason; /* what happens, one line */
	const char *remedy; /* what to do instead, one line */
};

/* Every rule, in the order the man page lists them; ends with a NULL name. */
extern const struct lint_rule lint_rules[];

/* The rule with this name, or NULL. */
const struct lint_rule *lint_rule_find(const char *name);

/* "safe", "blocking", "may-fail", "destructive". */
const char *lint_risk_name(enum lint_risk r);

/* Parse a class name; returns 0, or -1 for an unknown name. */
int lint_risk_parse(const char *name, enum lint_risk *out);

/* The class that a set of effects means. */
enum lint_risk lint_risk_of(unsigned effects);

/* What the effects mean, for people: "data loss, blocking lock". */
const char *lint_effect_words(unsigned effects, char *buf, size_t size);

/* Tables created by the pending migrations checked so far. */
struct lint_tables {
	char (*v)[2][SQL_NAME_MAX]; /* schema ("" if unqualified), name */
	size_t n, cap;
	int lock_timeout_set; /* the environment sets lock_timeout */
};

void lint_tables_release(struct lint_tables *t);

struct lint_finding {
	const struct lint_rule *rule;
	size_t stmt;                        /* statement index in the script */
	int line, col;                      /* the statement's position */
	char subject[2 * SQL_NAME_MAX + 2]; /* "schema.table", "col" ... */
	char schema[SQL_NAME_MAX]; /* the action's schema ("" if none) */
	char rel[SQL_NAME_MAX];    /* ... and relation, as the parser read */
};

struct lint_allow {
	int line; /* where the comment is */
	int col;
	char rule[48]; /* the rule it names */
	size_t stmt;   /* the statement it applies to (n: none) */
	int used;      /* it silenced a finding */
};

struct lint_result {
	struct lint_finding *f; /* findings not allowed, by line and column */
	size_t n, cap;
	struct lint_allow *allows;
	size_t nallows, allows_cap;
	size_t allowed;      /* findings that an allow silenced */
	unsigned effects;    /* union of the findings' effects */
	enum lint_risk risk; /* lint_risk_of(effects) */
};

/*
 * Check one parsed script.  new_tables holds the tables that earlier
 * pending migrations created (NULL: none); with carry, the tables this
 * script creates are added to it for the migrations after it.  The result
 * must be released.  Unknown rule names in allows are findings too
 * (unused-allow says which).
 */
void lint_script(struct lint_result *out, const struct sql_script *s,
    struct lint_tables *new_tables, int carry);

void lint_result_release(struct lint_result *r);

#endif
