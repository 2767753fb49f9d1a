/*
 * cmd_check.c - migdir check: is the migrations folder sound, and how
 * dangerous is each file?  No database.
 *
 * For each migrations directory (the project's, or the ones named): the
 * names, pairs, duplicates and order of its files; every file parsed by
 * PostgreSQL's parser (two threads) and its transaction shape checked;
 * the risk rules of lint.h and one risk class per file; and, when the
 * directory is in a git repository, every applied or archived file
 * compared with the content it had in the commit that applied it.  A file
 * named on the command line is checked inside its directory (so that the
 * pending migrations before it count), but only it is reported.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "lint.h"
#include "name.h"
#include "par.h"
#include "report.h"
#include "scan.h"
#include "sql.h"
#include "state.h"
#include "vcs.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_check_usage[] =
    "usage: migdir check [--format=human|gcc|json] [--fail-on=CLASS] "
    "[PATH...]\n"
    "\n"
    "Check migrations without a database: names, pairs, duplicates, a\n"
    "pending migration older than an applied one, applied files changed\n"
    "since the commit that applied them, SQL that does not parse, the\n"
    "transaction shape, and the risk rules.  Every forward and rollback\n"
    "file gets a risk class: destructive, may-fail, blocking or safe.\n"
    "PATH is a migrations directory or a file in one (default: the\n"
    "project's).  A comment \"-- migdir:allow RULE[,RULE]\" on or before a\n"
    "statement silences those rules there.\n"
    "\n"
    "  --format=FORMAT  human (default), gcc (file:line:col: warning: ...)\n"
    "                   or json (the same as --json)\n"
    "  --fail-on=CLASS  exit with status 3 when a forward file is at least\n"
    "                   CLASS (blocking, may-fail, destructive), or with\n"
    "                   \"warning\" when anything is reported\n"
    "\n"
    "Exit status: 0 clean, 1 errors, 3 --fail-on threshold reached.\n";

enum { O_FORMAT = 1, O_FAIL_ON };

static const struct cmd_opt opts[] = {
    {"format", 0, 1, O_FORMAT},
    {"fail-on", 0, 1, O_FAIL_ON},
    {NULL, 0, 0, 0},
};

enum format { F_HUMAN, F_GCC, F_JSON };

/* Checks on names, folders and history: they have no statement. */
static const struct {
	const char *name;
	int error;
	const char *remedy;
} file_rules[] = {
    {"name", 1,
	"name it YYYYMMDD[HHMM[SS]]_description.sql (rollback: "
	"..._rollback_description.sql), or move it out of the folder"},
    {"duplicate", 1, "keep one copy: the folder says where a migration is"},
    {"unreadable", 1, "make the file readable"},
    {"parse", 1, "correct the statement at this position"},
    {"cannot-run", 1,
	"see migdir(1): which files run in a transaction, and what "
	"migdir cannot send"},
    {"changed-after-apply", 1,
	"restore what was applied (git checkout COMMIT -- FILE) and write a "
	"new migration for the change"},
    {"newer-syntax", 0,
	"the server decides: run migdir plan against it, or rehearse"},
    {"ignored", 0,
	"name it VERSION.sql if it is a migration, or move it out of the "
	"folder"},
    {"no-rollback", 0,
	"write VERSION's rollback as "
	"YYYYMMDD_rollback_description.sql"},
    {"orphan-rollback", 0, "add its forward file, or remove it"},
    {"split-pair", 0, "migdir repair moves the pair together"},
    {"out-of-order", 0,
	"give it a newer prefix, or apply it with apply --out-of-order"},
};

struct diag {
	const char *rule;
	int error;
	int line, col;
	int end_line; /* the statement's last line */
	unsigned effects;
	char *message;
	const char *remedy;
};

struct cfile {
	char *path;          /* as shown: DIR/FOLDER/FILE */
	const char *version; /* borrowed from the scan, NULL for a stray */
	int folder;          /* -1 for a file outside the three folders */
	enum name_kind kind;
	int show; /* reported (named, or in a directory named) */
	/* from the parse (worker threads) */
	struct buf text;
	int read_ok;
	struct sql_script *script; /* NULL when sql_parse_script refused */
	int rc;
	char *error; /* sql_parse_script's message (MG_ERROR) */
	int eline, ecol;
	/* results */
	int classified; /* risk is known */
	enum lint_risk risk;
	size_t allowed;
	struct diag *d;
	size_t nd, dcap;
};

struct root {
	char *dir; /* as shown */
	struct scan scan;
	struct cfile *f;
	size_t n, cap;
};

struct check {
	struct ctx *ctx;
	enum format format;
	int fail_on;      /* -1: off, RISK_*, or RISK_SAFE for "warning" */
	int lock_timeout; /* the environment sets lock_timeout */
	struct root *roots;
	size_t nroots, rcap;
	struct {
		size_t root, file;
	} * todo; /* every file, for the parse threads */
	/* totals */
	size_t fwd_risk[RISK_DESTRUCTIVE + 1]; /* forward files only */
	size_t files, errors, warnings, allowed, risk[RISK_DESTRUCTIVE + 1],
	    unclassified;
};

static void add_diag(struct cfile *f, const char *rule, int error, int line,
    int col, unsigned effects, const char *remedy, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void
add_diag(struct cfile *f, const char *rule, int error, int line, int col,
    unsigned effects, const char *remedy, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	struct diag *d;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	XGROW(f->d, f->dcap, f->nd + 1);
	d = &f->d[f->nd++];
	d->rule = rule;
	d->error = error;
	d->line = line;
	d->col = col;
	d->end_line = line;
	d->effects = effects;
	d->message = buf_detach(&b);
	d->remedy = remedy;
}

/* A finding of one of file_rules, at line 1 unless given. */
static void file_diag(struct cfile *f, const char *rule, int line, int col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
file_diag(struct cfile *f, const char *rule, int line, int col, const char *fmt,
    ...)
{
	struct buf b = BUF_INIT;
	size_t i;
	va_list ap;

	for (i = 0; strcmp(file_rules[i].name, rule); i++)
		;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	add_diag(f, file_rules[i].name, file_rules[i].error, line ? line : 1,
	    col ? col : 1, 0, file_rules[i].remedy, "%s", b.ptr);
	buf_release(&b);
}

static struct cfile *
add_file(struct root *r, const char *path, const char *version, int folder,
    enum name_kind kind)
{
	struct cfile *f;

	XGROW(r->f, r->cap, r->n + 1);
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->version = version;
	f->folder = folder;
	f->kind = kind;
	f->show = 1;
	buf_init(&f->text);
	return f;
}

/* DIR/A[/B] as shown, without a leading "./". */
static void
shown_path(struct buf *out, const char *dir, const char *a, const char *b)
{
	if (strcmp(dir, "."))
		buf_printf(out, "%s/", dir);
	buf_printf(out, "%s%s%s", a, b ? "/" : "", b ? b : "");
}

static int
cmp_stray(const void *a, const void *b)
{
	return strcmp(((const struct stray *)a)->path,
	    ((const struct stray *)b)->path);
}

/* The files of a scanned directory, in run order, forward first. */
static void
list_files(struct root *r)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	size_t i;
	int k, folder;

	for (i = 0; i < r->scan.n; i++) {
		const struct migration *m = &r->scan.v[i];

		for (k = 0; k < 2; k++)
			for (folder = 0; folder < FOLDER_COUNT; folder++) {
				unsigned mask = k ? m->rb : m->fwd;

				if (!(mask & (1u << folder)))
					continue;
				buf_reset(&name);
				name_file(&name, m->version,
				    k ? NAME_ROLLBACK : NAME_FORWARD);
				buf_reset(&path);
				shown_path(&path, r->dir, folder_name[folder],
				    name.ptr);
				add_file(r, path.ptr, m->version, folder,
				    k ? NAME_ROLLBACK : NAME_FORWARD);
			}
	}
	if (r->scan.nstrays > 1)
		qsort(r->scan.strays, r->scan.nstrays, sizeof(*r->scan.strays),
		    cmp_stray);
	for (i = 0; i < r->scan.nstrays; i++) {
		struct cfile *f;

		buf_reset(&path);
		shown_path(&path, r->dir, r->scan.strays[i].path, NULL);
		f = add_file(r, path.ptr, NULL, -1, NAME_FORWARD);
		f->read_ok = -1; /* not parsed */
		file_diag(f, "name", 0, 0, "not a migration name: %s",
		    r->scan.strays[i].reason);
	}
	buf_release(&path);
	buf_release(&name);
}

/*
 * Files of the folders that start like a migration (a digit) but that
 * apply ignores: not ".sql" (a backup, ".psql", ".txt" ...).
 */
static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ignored_files(struct root *r)
{
	struct buf path = BUF_INIT;
	char **names;
	size_t n, cap, i;
	int folder;

	for (folder = 0; folder < FOLDER_COUNT; folder++) {
		struct dirent *de;
		DIR *d;

		buf_reset(&path);
		buf_printf(&path, "%s/%s", r->dir, folder_name[folder]);
		if (!(d = opendir(path.ptr)))
			continue;
		names = NULL;
		n = cap = 0;
		while ((de = readdir(d))) {
			struct name nm;

			if (!isdigit((unsigned char)de->d_name[0]) ||
			    name_parse(&nm, de->d_name) != MG_ENOTFOUND)
				continue;
			XGROW(names, cap, n + 1);
			names[n++] = xstrdup(de->d_name);
		}
		mg_error_clear();
		closedir(d);
		if (n > 1)
			qsort(names, n, sizeof(*names), cmp_name);
		for (i = 0; i < n; i++) {
			struct cfile *f;

			buf_reset(&path);
			shown_path(&path, r->dir, folder_name[folder],
			    names[i]);
			f = add_file(r, path.ptr, NULL, folder, NAME_FORWARD);
			f->read_ok = -1;
			file_diag(f, "ignored", 0, 0,
			    "looks like a migration, but apply ignores it: "
			    "the name does not end in .sql");
			free(names[i]);
		}
		free(names);
	}
	buf_release(&path);
}

/* Parse one file (in a worker thread: errors are thread-local). */
static void
parse_file(struct cfile *f)
{
	const struct mg_error *e;

	if (f->read_ok < 0)
		return;
	if (fs_read(&f->text, f->path) < 0) {
		f->error = xstrdup(mg_error_last()->message);
		mg_error_clear();
		return;
	}
	f->read_ok = 1;
	f->rc = sql_parse_script(&f->script, f->path, f->text.ptr, f->text.len);
	e = mg_error_last();
	if (f->rc == MG_ERROR) {
		struct buf b = BUF_INIT;

		buf_puts(&b, e->message);
		if (e->hint)
			buf_printf(&b, " (%s)", e->hint);
		f->error = buf_detach(&b);
		f->eline = e->line;
		f->ecol = e->col;
	}
	mg_error_clear();
}

static void
parse_one(void *ctx, size_t i)
{
	struct check *c = ctx;

	parse_file(&c->roots[c->todo[i].root].f[c->todo[i].file]);
}

/* Read and parse every file, on a few threads. */
static void
parse_all(struct check *c)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->nroots; i++)
		n += c->roots[i].n;
	c->todo = xcalloc(n + 1, sizeof(*c->todo));
	for (i = 0, n = 0; i < c->nroots; i++)
		for (j = 0; j < c->roots[i].n; j++, n++) {
			c->todo[n].root = i;
			c->todo[n].file = j;
		}
	sql_prepare_threads();
	par_each(n, 16, parse_one, c);
	free(c->todo);
	c->todo = NULL;
}

static void
lint_file(struct check *c, struct cfile *f, struct lint_tables *pending)
{
	struct lint_tables none = {0};
	struct lint_result r;
	char words[64];
	size_t i;

	if (f->read_ok < 0)
		return;
	if (!f->read_ok) {
		file_diag(f, "unreadable", 0, 0, "%s", f->error);
		return;
	}
	if (f->rc == MG_ERROR) {
		file_diag(f, "cannot-run", f->eline, f->ecol, "%s", f->error);
		return;
	}
	if (f->rc == MG_ESQL) {
		if (sql_newer_syntax(f->script))
			file_diag(f, "newer-syntax", f->script->parse_line,
			    f->script->parse_col,
			    "PostgreSQL 15's parser rejects this (%s); it may "
			    "be newer syntax",
			    f->script->parse_error);
		else
			file_diag(f, "parse", f->script->parse_line,
			    f->script->parse_col, "%s", f->script->parse_error);
		return;
	}
	none.lock_timeout_set = c->lock_timeout;
	if (f->kind == NAME_FORWARD && f->folder == FOLDER_PENDING)
		lint_script(&r, f->script, pending, 1);
	else
		lint_script(&r, f->script, &none, 0);
	for (i = 0; i < r.n; i++) {
		const struct lint_finding *x = &r.f[i];

		add_diag(f, x->rule->name, x->rule->error, x->line, x->col,
		    x->rule->effects, x->rule->remedy, "%s%s%s [%s]",
		    x->subject, *x->subject ? ": " : "", x->rule->reason,
		    lint_effect_words(x->rule->effects, words, sizeof(words)));
		if (x->stmt < f->script->n)
			f->d[f->nd - 1].end_line =
			    sql_stmt_end_line(f->script, x->stmt);
	}
	f->classified = 1;
	f->risk = r.risk;
	f->allowed = r.allowed;
	lint_result_release(&r);
	lint_tables_release(&none);
}

/* Names, pairs, duplicates and order, from the scan. */
static void
structure(struct root *r)
{
	const char *newest = NULL;
	size_t i, j;

	for (i = 0; i < r->scan.n; i++)
		if (r->scan.v[i].fwd &
		    ((1u << FOLDER_APPLIED) | (1u << FOLDER_ARCHIVE)))
			newest = r->scan.v[i].version;
	for (i = 0; i < r->n; i++) {
		struct cfile *f = &r->f[i];
		const struct migration *m =
		    f->version ? scan_find(&r->scan, f->version) : NULL;
		unsigned mask;

		if (!m)
			continue;
		mask = f->kind == NAME_FORWARD ? m->fwd : m->rb;
		if (folder_count(mask) > 1) {
			struct buf where = BUF_INIT;

			for (j = 0; j < FOLDER_COUNT; j++)
				if (mask & (1u << j))
					buf_printf(&where, "%s%s/",
					    where.len ? " and " : "",
					    folder_name[j]);
			file_diag(f, "duplicate", 0, 0, "%s is in %s",
			    f->kind == NAME_FORWARD ? "the migration"
						    : "its rollback",
			    where.ptr);
			buf_release(&where);
		}
		if (f->kind == NAME_ROLLBACK && !m->fwd)
			file_diag(f, "orphan-rollback", 0, 0,
			    "rollback without a forward file %s.sql",
			    m->version);
		if (f->kind == NAME_FORWARD && !m->rb)
			file_diag(f, "no-rollback", 0, 0,
			    "no rollback file: %s cannot be rolled back",
			    m->version);
		if (f->kind == NAME_FORWARD && m->rb &&
		    folder_count(m->fwd) == 1 && folder_count(m->rb) == 1 &&
		    m->fwd != m->rb)
			file_diag(f, "split-pair", 0, 0,
			    "its rollback is in %s/",
			    folder_name[folder_lowest(m->rb)]);
		if (f->kind == NAME_FORWARD && f->folder == FOLDER_PENDING &&
		    newest && name_cmp(m->version, newest) < 0)
			file_diag(f, "out-of-order", 0, 0,
			    "pending, but older than %s, which is applied",
			    newest);
	}
}

/* Applied and archived files against what the applying commit held. */
static void
history(struct root *r)
{
	struct vcs *v = NULL;
	struct buf rel = BUF_INIT, dir = BUF_INIT, also = BUF_INIT,
		   name = BUF_INIT;
	struct vcs_arrival *arr[FOLDER_COUNT] = {NULL};
	size_t narr[FOLDER_COUNT] = {0}, i, k;
	int folder;

	if (vcs_open(&v, r->dir) < 0) {
		mg_error_clear();
		return;
	}
	if (vcs_relpath(v, &rel, r->dir) < 0)
		goto out;
	for (folder = FOLDER_APPLIED; folder < FOLDER_COUNT; folder++) {
		const char *sep =
		    rel.len && rel.ptr[rel.len - 1] != '/' ? "/" : "";

		buf_reset(&dir);
		buf_reset(&also);
		buf_printf(&dir, "%s%s%s", rel.ptr, sep, folder_name[folder]);
		/* an archived file was applied from applied/ */
		if (folder == FOLDER_ARCHIVE)
			buf_printf(&also, "%s%s%s", rel.ptr, sep,
			    folder_name[FOLDER_APPLIED]);
		vcs_arrivals(v, dir.ptr, also.len ? also.ptr : NULL,
		    &arr[folder], &narr[folder]);
	}
	for (i = 0; i < r->n; i++) {
		struct cfile *f = &r->f[i];
		const struct vcs_arrival *a = NULL;
		char id[VCS_ID_HEX + 1];

		if (f->folder < FOLDER_APPLIED || f->read_ok != 1)
			continue;
		buf_reset(&name);
		name_file(&name, f->version, f->kind);
		for (k = 0; k < narr[f->folder]; k++)
			if (!strcmp(arr[f->folder][k].name, name.ptr)) {
				a = &arr[f->folder][k];
				break;
			}
		if (!a || vcs_blob_id(id, f->text.ptr, f->text.len) < 0)
			continue;
		if (strcmp(id, a->blob))
			file_diag(f, "changed-after-apply", 0, 0,
			    "changed since commit %.12s applied it", a->commit);
	}
out:
	for (folder = 0; folder < FOLDER_COUNT; folder++)
		vcs_arrivals_release(arr[folder], narr[folder]);
	mg_error_clear();
	vcs_free(v);
	buf_release(&rel);
	buf_release(&dir);
	buf_release(&also);
	buf_release(&name);
}

/* Is dir a migrations directory (it holds one of the three folders)? */
static int
is_migrations_dir(const char *dir)
{
	struct buf p = BUF_INIT;
	int i, yes = 0;

	for (i = 0; i < FOLDER_COUNT && !yes; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, folder_name[i]);
		yes = fs_is_dir(p.ptr);
	}
	buf_release(&p);
	return yes;
}

static struct root *
find_root(struct check *c, const char *dir)
{
	size_t i;

	for (i = 0; i < c->nroots; i++)
		if (!strcmp(c->roots[i].dir, dir))
			return &c->roots[i];
	return NULL;
}

static int
add_root(struct check *c, const char *dir, struct root **out)
{
	struct root *r;
	int error;

	if ((*out = find_root(c, dir)))
		return 0;
	XGROW(c->roots, c->rcap, c->nroots + 1);
	r = &c->roots[c->nroots];
	memset(r, 0, sizeof(*r));
	r->dir = xstrdup(dir);
	if ((error = scan_dir(&r->scan, dir)) < 0) {
		free(r->dir);
		scan_release(&r->scan);
		return error;
	}
	c->nroots++;
	list_files(r);
	ignored_files(r);
	*out = r;
	return 0;
}

/*
 * A file named on the command line: check its whole directory, report
 * it alone (a directory named too is reported whole).
 */
static int
add_path_file(struct check *c, const char *path, unsigned char *named)
{
	struct buf want = BUF_INIT;
	char *copy = xstrdup(path), *slash, *parent;
	struct root *r;
	size_t i, k;
	int error;

	slash = strrchr(copy, '/');
	if (!slash) {
		free(copy);
		return cmd_usage_error("check",
		    "\"%s\" is not in a pending/, applied/ or archive/ folder",
		    path);
	}
	*slash = '\0';
	parent = strrchr(copy, '/');
	for (k = 0; k < FOLDER_COUNT; k++)
		if (!strcmp(parent ? parent + 1 : copy, folder_name[k]))
			break;
	if (k == FOLDER_COUNT) {
		free(copy);
		return cmd_usage_error("check",
		    "\"%s\" is not in a pending/, applied/ or archive/ folder",
		    path);
	}
	if (parent)
		*parent = '\0';
	error = add_root(c, parent ? copy : ".", &r);
	free(copy);
	if (error < 0)
		return error;
	shown_path(&want, r->dir, folder_name[k], strrchr(path, '/') + 1);
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].path, want.ptr))
			break;
	buf_release(&want);
	if (i == r->n)
		return mg_error_set(MG_ERROR,
		    "\"%s\" is not a migration file of \"%s\"", path, r->dir);
	named[r - c->roots] |= 1;
	r->f[i].show = 2;
	return 0;
}

static int
collect(struct check *c, int argc, char **argv, int next)
{
	unsigned char *named; /* per root: 1 files named, 2 itself named */
	struct root *r;
	size_t i, j;
	int error = 0;

	if (next >= argc) {
		if ((error = ctx_config(c->ctx)) < 0)
			return error;
		return add_root(c, c->ctx->cfg.migrations, &r);
	}
	/* every path adds at most one root */
	named = xcalloc((size_t)(argc - next) + 1, 1);
	for (; next < argc && error == 0; next++) {
		char *p = xstrdup(argv[next]);
		size_t len = strlen(p);

		while (len > 1 && p[len - 1] == '/')
			p[--len] = '\0';
		if (fs_is_dir(p)) {
			if (!is_migrations_dir(p))
				error = cmd_usage_error("check",
				    "\"%s\" holds no pending/, applied/ or "
				    "archive/ folder",
				    p);
			else if ((error = add_root(c, p, &r)) == 0)
				named[r - c->roots] |= 2;
		} else if (fs_exists(p))
			error = add_path_file(c, p, named);
		else
			error =
			    mg_error_set(MG_ERROR, "\"%s\" does not exist", p);
		free(p);
	}
	/* a root reached only through named files reports only them */
	for (i = 0; error == 0 && i < c->nroots; i++)
		if (named[i] == 1)
			for (j = 0; j < c->roots[i].n; j++)
				c->roots[i].f[j].show =
				    c->roots[i].f[j].show == 2;
	free(named);
	return error;
}

static const char *
risk_color(enum lint_risk r)
{
	return r == RISK_DESTRUCTIVE ? rp_c(RP_RED)
	    : r == RISK_MAY_FAIL     ? rp_c(RP_YELLOW)
	    : r == RISK_BLOCKING     ? rp_c(RP_MAGENTA)
				     : rp_c(RP_GREEN);
}

static int
diag_cmp(const struct diag *a, const struct diag *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

/* Findings in the order of the file (stable: checks on the file first). */
static void
sort_diags(struct cfile *f)
{
	size_t i, j;

	for (i = 1; i < f->nd; i++) {
		struct diag d = f->d[i];

		for (j = i; j > 0 && diag_cmp(&f->d[j - 1], &d) > 0; j--)
			f->d[j] = f->d[j - 1];
		f->d[j] = d;
	}
}

static void
print_human(const struct check *c, const struct cfile *f)
{
	size_t i;

	if (!f->nd && c->ctx->verbosity <= 0)
		return;
	rp_result("%s%s%s  %s%s%s\n", rp_c(RP_BOLD), f->path, rp_c(RP_RESET),
	    f->classified ? risk_color(f->risk) : rp_c(RP_RED),
	    f->classified ? lint_risk_name(f->risk) : "unchecked",
	    rp_c(RP_RESET));
	for (i = 0; i < f->nd; i++) {
		const struct diag *d = &f->d[i];
		char loc[32];

		snprintf(loc, sizeof(loc), "%d:%d", d->line, d->col);
		rp_result("  %-7s %s%s%s%s  %s\n", loc,
		    d->error ? rp_c(RP_RED) : rp_c(RP_YELLOW),
		    d->error ? "error: " : "", d->rule, rp_c(RP_RESET),
		    d->message);
		if (d->remedy && c->ctx->verbosity >= 0)
			rp_result("          %sinstead: %s%s\n", rp_c(RP_DIM),
			    d->remedy, rp_c(RP_RESET));
	}
}

static void
print_gcc(const struct cfile *f)
{
	size_t i;

	for (i = 0; i < f->nd; i++)
		rp_result("%s:%d:%d: %s: %s [%s]\n", f->path, f->d[i].line,
		    f->d[i].col, f->d[i].error ? "error" : "warning",
		    f->d[i].message, f->d[i].rule);
}

static json_t *
file_json(const struct cfile *f)
{
	json_t *o = json_object(), *list = json_array();
	size_t i;

	json_object_set_new(o, "path", rp_json_text(f->path));
	json_object_set_new(o, "version",
	    f->version ? json_string(f->version) : json_null());
	json_object_set_new(o, "kind",
	    json_string(f->kind == NAME_FORWARD ? "forward" : "rollback"));
	json_object_set_new(o, "folder",
	    f->folder >= 0 ? json_string(folder_name[f->folder]) : json_null());
	json_object_set_new(o, "risk",
	    f->classified ? json_string(lint_risk_name(f->risk)) : json_null());
	if (f->script && f->script->parsed)
		json_object_set_new(o, "transactional",
		    json_boolean(f->script->transactional));
	json_object_set_new(o, "allowed", json_integer((json_int_t)f->allowed));
	for (i = 0; i < f->nd; i++) {
		const struct diag *d = &f->d[i];
		json_t *eff = json_array();

		if (d->effects & EF_LOSS)
			json_array_append_new(eff, json_string("data-loss"));
		if (d->effects & EF_FAIL)
			json_array_append_new(eff, json_string("may-fail"));
		if (d->effects & EF_LOCK)
			json_array_append_new(eff, json_string("blocking"));
		json_array_append_new(list,
		    json_pack("{s:s,s:s,s:i,s:i,s:i,s:o,s:o,s:s?}", "rule",
			d->rule, "severity", d->error ? "error" : "warning",
			"line", d->line, "col", d->col, "end_line", d->end_line,
			"effects", eff, "message", rp_json_text(d->message),
			"remedy", d->remedy));
	}
	json_object_set_new(o, "findings", list);
	return o;
}

static void
count(struct check *c, const struct cfile *f)
{
	size_t i;

	c->files++;
	c->allowed += f->allowed;
	if (f->classified) {
		c->risk[f->risk]++;
		if (f->kind == NAME_FORWARD)
			c->fwd_risk[f->risk]++;
	} else
		c->unclassified++;
	for (i = 0; i < f->nd; i++) {
		if (f->d[i].error)
			c->errors++;
		else
			c->warnings++;
	}
}

static int
report_all(struct check *c)
{
	json_t *files = c->format == F_JSON ? json_array() : NULL;
	size_t i, j;

	for (i = 0; i < c->nroots; i++)
		for (j = 0; j < c->roots[i].n; j++) {
			struct cfile *f = &c->roots[i].f[j];

			if (!f->show)
				continue;
			sort_diags(f);
			count(c, f);
			if (c->format == F_JSON)
				json_array_append_new(files, file_json(f));
			else if (c->format == F_GCC)
				print_gcc(f);
			else
				print_human(c, f);
		}
	if (c->format == F_JSON) {
		rp_json(
		    json_pack("{s:o,s:{s:i,s:i,s:i,s:i,s:{s:i,s:i,s:i,s:i,s:"
			      "i}}}",
			"files", files, "summary", "files", (int)c->files,
			"errors", (int)c->errors, "warnings", (int)c->warnings,
			"allowed", (int)c->allowed, "risk", "safe",
			(int)c->risk[RISK_SAFE], "blocking",
			(int)c->risk[RISK_BLOCKING], "may-fail",
			(int)c->risk[RISK_MAY_FAIL], "destructive",
			(int)c->risk[RISK_DESTRUCTIVE], "unchecked",
			(int)c->unclassified));
	} else if (c->format == F_HUMAN && c->ctx->verbosity >= 0) {
		rp_result("%zu file%s: %zu error%s, %zu warning%s", c->files,
		    rp_plural(c->files), c->errors, rp_plural(c->errors),
		    c->warnings, rp_plural(c->warnings));
		if (c->allowed)
			rp_result(" (%zu allowed)", c->allowed);
		rp_result("; %zu safe, %zu blocking, %zu may-fail, %zu "
			  "destructive",
		    c->risk[RISK_SAFE], c->risk[RISK_BLOCKING],
		    c->risk[RISK_MAY_FAIL], c->risk[RISK_DESTRUCTIVE]);
		if (c->unclassified)
			rp_result(", %zu unchecked", c->unclassified);
		rp_result("\n");
	}
	if (c->errors)
		return EXIT_FAIL;
	if (c->fail_on == (int)RISK_SAFE && c->warnings)
		return EXIT_PENDING;
	for (i = (size_t)(c->fail_on > 0 ? c->fail_on : RISK_DESTRUCTIVE + 1);
	     i <= RISK_DESTRUCTIVE; i++)
		if (c->fwd_risk[i])
			return EXIT_PENDING;
	return EXIT_OK;
}

/*
 * Load migdir.ini when there is one (check also runs where there is
 * none), and make sure -e names one of its environments.
 */
static int
load_config(struct ctx *ctx)
{
	const struct env *env;
	char *path = NULL;
	int error;

	if (!ctx->cfg_loaded) {
		if (ctx->config_path)
			path = xstrdup(ctx->config_path);
		else if (cfg_find(&path, ".") < 0) {
			mg_error_clear();
			if (!ctx->env_name)
				return 0;
			return mg_error_set(MG_EUSAGE,
			    "-e %s: there is no migdir.ini here to name "
			    "environments",
			    ctx->env_name);
		}
		error = cfg_load(&ctx->cfg, path);
		free(path);
		if (error < 0)
			return error;
		ctx->cfg_loaded = 1;
	}
	return state_find_env(&env, &ctx->cfg, ctx->env_name);
}

/*
 * Does the selected environment set a non-zero lock_timeout, and is dir
 * the project's migrations directory (the one its runs use)?
 */
static int
env_lock_timeout(struct ctx *ctx, const char *dir)
{
	const struct env *env;
	char *mine, *theirs, *p;
	int same;

	if (!ctx->cfg_loaded ||
	    state_find_env(&env, &ctx->cfg, ctx->env_name) < 0)
		return 0;
	p = xasprintf("%s/%s", ctx->cfg.root, ctx->cfg.migrations);
	mine = realpath(dir, NULL);
	theirs =
	    realpath(ctx->cfg.migrations[0] == '/' ? ctx->cfg.migrations : p,
		NULL);
	same = mine && theirs && !strcmp(mine, theirs);
	free(mine);
	free(theirs);
	free(p);
	return same && cfg_lock_timeout_set(env);
}

static void
release(struct check *c)
{
	size_t i, j, k;

	for (i = 0; i < c->nroots; i++) {
		struct root *r = &c->roots[i];

		for (j = 0; j < r->n; j++) {
			struct cfile *f = &r->f[j];

			for (k = 0; k < f->nd; k++)
				free(f->d[k].message);
			free(f->d);
			free(f->path);
			free(f->error);
			sql_script_free(f->script);
			buf_release(&f->text);
		}
		free(r->f);
		free(r->dir);
		scan_release(&r->scan);
	}
	free(c->roots);
}

int
cmd_check(struct ctx *ctx, int argc, char **argv)
{
	struct check c;
	const char *arg;
	int next = 0, rc;
	size_t i, j;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.fail_on = -1;
	c.format = (enum format) - 1;
	while ((rc = cmd_options(ctx, cmd_lookup("check"), argc, argv, opts,
		    &arg, &next)) > 0) {
		enum lint_risk r;

		if (rc == O_FORMAT) {
			if (!strcmp(arg, "human"))
				c.format = F_HUMAN;
			else if (!strcmp(arg, "gcc"))
				c.format = F_GCC;
			else if (!strcmp(arg, "json"))
				c.format = F_JSON;
			else
				return cmd_usage_error("check",
				    "unknown format \"%s\" (human, gcc or "
				    "json)",
				    arg);
		} else if (!strcmp(arg, "warning"))
			c.fail_on = RISK_SAFE;
		else if (lint_risk_parse(arg, &r) == 0 && r != RISK_SAFE)
			c.fail_on = (int)r;
		else
			return cmd_usage_error("check",
			    "unknown class \"%s\" (blocking, may-fail, "
			    "destructive or warning)",
			    arg);
	}
	if (rc < 0)
		return rc;
	if ((int)c.format < 0)
		c.format = ctx->json ? F_JSON : F_HUMAN;
	if ((c.format == F_JSON) != (ctx->json != 0))
		rp_setup(ctx->verbosity, c.format == F_JSON);
	if ((rc = collect(&c, argc, argv, next)) < 0 ||
	    (rc = load_config(ctx)) < 0) {
		release(&c);
		return rc;
	}
	parse_all(&c);
	for (i = 0; i < c.nroots; i++) {
		struct lint_tables pending = {0};

		c.lock_timeout = env_lock_timeout(ctx, c.roots[i].dir);
		pending.lock_timeout_set = c.lock_timeout;
		structure(&c.roots[i]);
		for (j = 0; j < c.roots[i].n; j++)
			lint_file(&c, &c.roots[i].f[j], &pending);
		history(&c.roots[i]);
		lint_tables_release(&pending);
	}
	rc = report_all(&c);
	release(&c);
	return rc;
}
