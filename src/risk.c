/*
 * risk.c - judge migration files with lint.c, for status, plan and runs.
 *
 * risk_state makes a list of the files it must read, reads and parses them
 * with a few threads (the parser, not the disk, is what a status of a
 * thousand migrations waits on), then checks them: the pending forward
 * files one after the other in run order, carrying the tables each
 * creates to those after it, every other file on its own.  lint.c stays
 * pure; this file does the reading.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "name.h"
#include "par.h"
#include "report.h"
#include "risk.h"
#include "xalloc.h"
#include "banned.h"

#define FILES_PER_THREAD 16 /* fewer files than this: no thread is worth it */

static void
lint_in(struct lint_result *out, const struct sql_script *s,
    const struct state *st, struct lint_tables *carried)
{
	struct lint_tables none;

	memset(&none, 0, sizeof(none));
	none.lock_timeout_set = cfg_lock_timeout_set(st->env);
	lint_script(out, s, carried ? carried : &none, carried != NULL);
}

void
risk_alone(struct lint_result *out, const struct sql_script *s,
    const struct state *st)
{
	lint_in(out, s, st, NULL);
}

/* One file to read and parse. */
struct job {
	size_t entry;
	enum name_kind kind;
	int carry;                 /* a pending forward file: checked later */
	struct buf text;           /* its text, while script borrows it */
	struct sql_script *script; /* parsed (carry only), or NULL */
	int risk;                  /* the class (not carry), RISK_UNKNOWN */
};

struct pool {
	const struct state *st;
	struct job *jobs;
	size_t n;
};

/*
 * The class of a linted script: a file PostgreSQL 15's parser rejects has
 * no actions to judge, so its class is unknown, never "safe" (a newer
 * server may still run it).
 */
static int
class_of(const struct sql_script *s, const struct lint_result *res)
{
	return s->parsed ? (int)res->risk : RISK_UNKNOWN;
}

static void
do_job(const struct state *st, struct job *j)
{
	const struct entry *e = &st->e[j->entry];
	struct buf path = BUF_INIT;
	struct lint_result res;
	int error;

	j->risk = RISK_UNKNOWN;
	state_path(&path, st, e->version,
	    j->kind == NAME_FORWARD ? e->folder : e->rb_folder, j->kind);
	buf_init(&j->text);
	if (fs_read(&j->text, path.ptr) < 0)
		goto out;
	/* a file the parser rejects (MG_ESQL) has a script all the same */
	error =
	    sql_parse_script(&j->script, path.ptr, j->text.ptr, j->text.len);
	if (error < 0 && error != MG_ESQL)
		goto out;
	if (!j->carry) {
		lint_in(&res, j->script, st, NULL);
		j->risk = class_of(j->script, &res);
		lint_result_release(&res);
		sql_script_free(j->script);
		j->script = NULL;
	}
out:
	if (!j->script)
		buf_release(&j->text);
	mg_error_clear(); /* the class says it; status says why */
	buf_release(&path);
}

static void
job_fn(void *ctx, size_t i)
{
	struct pool *p = ctx;

	do_job(p->st, &p->jobs[i]);
}

/* Run the jobs: in threads when there are enough, else here. */
static void
run_jobs(struct pool *p)
{
	sql_prepare_threads();
	par_each(p->n, FILES_PER_THREAD, job_fn, p);
}

static int
is_pending_forward(const struct entry *e)
{
	return e->state == ST_PENDING && e->folder >= 0 && e->m && e->m->fwd;
}

static int
has_file(const struct entry *e, enum name_kind kind)
{
	return kind == NAME_FORWARD ? e->m && e->m->fwd && e->folder >= 0
				    : e->m && e->m->rb && e->rb_folder >= 0;
}

static void
add_job(struct pool *p, size_t entry, enum name_kind kind, int carry)
{
	struct job *j = &p->jobs[p->n++];

	memset(j, 0, sizeof(*j));
	j->entry = entry;
	j->kind = kind;
	j->carry = carry;
}

void
risk_state(struct risk *out, const struct state *st, const struct risk_ask *ask)
{
	struct pool p;
	struct lint_tables carried;
	struct lint_result res;
	size_t i, last = 0, *job_of = xcalloc(st->n + 1, sizeof(*job_of));
	int any_pending = 0;

	memset(&p, 0, sizeof(p));
	memset(&carried, 0, sizeof(carried));
	p.st = st;
	p.jobs = xcalloc(2 * st->n + 1, sizeof(*p.jobs));
	/* the last pending forward file asked for: those before it count */
	for (i = 0; i < st->n; i++)
		if (is_pending_forward(&st->e[i]) &&
		    (!ask || (ask[i].want & RISK_FWD))) {
			last = i;
			any_pending = 1;
		}
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		unsigned want = ask ? ask[i].want : RISK_FWD;
		int carry = any_pending && i <= last && is_pending_forward(e);

		out[i].fwd = out[i].rb = RISK_NONE;
		job_of[i] = SIZE_MAX;
		if ((want & RISK_FWD || carry) && has_file(e, NAME_FORWARD) &&
		    !(ask && ask[i].fwd)) {
			job_of[i] = p.n;
			add_job(&p, i, NAME_FORWARD, carry);
		}
		if ((want & RISK_RB) && has_file(e, NAME_ROLLBACK) &&
		    !(ask && ask[i].rb))
			add_job(&p, i, NAME_ROLLBACK, 0);
	}
	run_jobs(&p);
	for (i = 0; i < p.n; i++) {
		struct job *j = &p.jobs[i];
		struct risk *r = &out[j->entry];

		if (!j->carry && j->kind == NAME_FORWARD)
			r->fwd = (signed char)j->risk;
		else if (!j->carry)
			r->rb = (signed char)j->risk;
	}
	carried.lock_timeout_set = cfg_lock_timeout_set(st->env);
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];
		const struct sql_script *fwd = ask ? ask[i].fwd : NULL;
		int carry = any_pending && i <= last && is_pending_forward(e);
		struct job *j =
		    job_of[i] != SIZE_MAX ? &p.jobs[job_of[i]] : NULL;

		if (ask && ask[i].rb) {
			lint_in(&res, ask[i].rb, st, NULL);
			out[i].rb = (signed char)class_of(ask[i].rb, &res);
			lint_result_release(&res);
		}
		if (!fwd && j && j->carry)
			fwd = j->script;
		if (fwd) {
			lint_in(&res, fwd, st, carry ? &carried : NULL);
			out[i].fwd = (signed char)class_of(fwd, &res);
			lint_result_release(&res);
		} else if (j && j->carry)
			out[i].fwd = RISK_UNKNOWN;
		if (ask && !(ask[i].want & RISK_FWD))
			out[i].fwd = RISK_NONE;
		if (j && j->carry) {
			sql_script_free(j->script);
			buf_release(&j->text);
		}
	}
	lint_tables_release(&carried);
	free(p.jobs);
	free(job_of);
}

const char *
risk_name(int risk)
{
	if (risk == RISK_NONE)
		return "-";
	if (risk < RISK_SAFE || risk > RISK_DESTRUCTIVE)
		return "?";
	return lint_risk_name((enum lint_risk)risk);
}

const char *
risk_json_name(int risk)
{
	if (risk < RISK_SAFE || risk > RISK_DESTRUCTIVE)
		return NULL;
	return lint_risk_name((enum lint_risk)risk);
}

const char *
risk_cell(char *buf, size_t size, int risk)
{
	static const enum rp_color color[] = {
	    RP_RESET,
	    RP_MAGENTA,
	    RP_YELLOW,
	    RP_RED,
	};
	const char *name = risk_name(risk);
	int lit = risk > RISK_SAFE && risk <= RISK_DESTRUCTIVE;

	snprintf(buf, size, "%s%s%s%*s", lit ? rp_c(color[risk]) : "", name,
	    lit ? rp_c(RP_RESET) : "", RISK_WIDTH - (int)strlen(name), "");
	return buf;
}
