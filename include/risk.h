/*
 * risk.h - the risk class of migration files, for status, plan and runs.
 *
 * The domain side of lint.h: read a migration or rollback file, parse it
 * (sql.h) and give lint.h's class: safe, blocking, may-fail, destructive.
 * A pending forward file is judged knowing the tables that the pending
 * migrations before it create (they are new when it runs); every other
 * file (applied, archived, any rollback) is judged on its own.  All are
 * judged in the selected environment: when its lock_timeout is set, the
 * lock-timeout rule is satisfied.
 *
 * Reading and parsing a file costs far more than the rest of a status, so
 * callers ask only for the classes they show, and hand over the scripts
 * they have parsed already.
 */
#ifndef MIGDIR_RISK_H
#define MIGDIR_RISK_H

#include <stddef.h>

#include "lint.h"
#include "sql.h"
#include "state.h"

enum {
	RISK_NONE = -1,    /* there is no such file */
	RISK_UNKNOWN = -2, /* it cannot be read, or can never run as written */
};

#define RISK_WIDTH 11 /* strlen("destructive"): the width of a column */

/* The classes of one entry's files: enum lint_risk, RISK_NONE, RISK_UNKNOWN. */
struct risk {
	signed char fwd; /* the forward file */
	signed char rb;  /* the rollback file */
};

enum risk_want {
	RISK_FWD = 1 << 0, /* the class of the forward file */
	RISK_RB = 1 << 1,  /* the class of the rollback file */
};

/* What to judge of one entry, and what its caller parsed already. */
struct risk_ask {
	unsigned want;                /* enum risk_want */
	const struct sql_script *fwd; /* the forward file (borrowed), or NULL */
	const struct sql_script *rb; /* the rollback file (borrowed), or NULL */
};

/*
 * The classes of st's entries into out (st->n of them, caller-owned).
 * ask (st->n of them) says which to judge; NULL asks for every forward
 * file.  What is not asked for is RISK_NONE.  The pending forward files
 * before one that is asked for are parsed too, for the tables they
 * create.  Files not handed over are read and parsed by a few threads;
 * a file that cannot be read is RISK_UNKNOWN (status reports why).
 */
void risk_state(struct risk *out, const struct state *st,
    const struct risk_ask *ask);

/*
 * Check one parsed script on its own, in st's environment.  The result
 * must be released (lint_result_release).
 */
void risk_alone(struct lint_result *out, const struct sql_script *s,
    const struct state *st);

/* "safe" ... "destructive"; "-" for RISK_NONE, "?" for RISK_UNKNOWN. */
const char *risk_name(int risk);

/* The name for JSON: NULL for RISK_NONE and RISK_UNKNOWN. */
const char *risk_json_name(int risk);

/*
 * The name padded to RISK_WIDTH, coloured when stdout is a terminal
 * (destructive red, may-fail yellow, blocking magenta); returns buf.
 */
const char *risk_cell(char *buf, size_t size, int risk);

#endif
