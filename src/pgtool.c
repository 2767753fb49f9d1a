/*
 * pgtool.c - pg_dump and pg_restore, run through proc.c with the password
 * in the child's environment.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "pgtool.h"
#include "xalloc.h"
#include "banned.h"

void
pgtool_init(struct pgtool *t, const char *envvar, const char *fallback)
{
	const char *p = getenv(envvar);

	memset(t, 0, sizeof(*t));
	buf_init(&t->dbname);
	t->what = fallback;
	t->envvar = envvar;
	pgtool_arg(t, p && *p ? p : fallback);
}

void
pgtool_arg(struct pgtool *t, const char *arg)
{
	XGROW(t->argv, t->cap, t->n + 2);
	t->argv[t->n++] = arg;
	t->argv[t->n] = NULL;
}

int
pgtool_connect(struct pgtool *t, const char *conninfo, const char *dbname)
{
	char *password = NULL;
	int error;

	pgtool_arg(t, "--no-password");
	if ((!conninfo || !*conninfo) && !dbname)
		return 0;
	if ((error = db_conninfo_split(conninfo ? conninfo : "", dbname,
		 &t->dbname, &password)) < 0)
		return error;
	if (password) {
		free(t->pgpassword);
		t->pgpassword = xasprintf("PGPASSWORD=%s", password);
		free(password);
	}
	pgtool_arg(t, "--dbname");
	pgtool_arg(t, t->dbname.ptr);
	return 0;
}

/*
 * The program's last words, for an error: its standard error without the
 * "pg_dump: " (its name) and "error: " prefixes, lines joined.
 */
static void
its_words(struct buf *out, const struct proc_result *pr, const char *what)
{
	const char *p = pr->err.ptr;
	size_t nlen = strcspn(what, " ");

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > nlen + 2 && !strncmp(p, what, nlen) &&
		    !strncmp(p + nlen, ": ", 2)) {
			p += nlen + 2;
			len -= nlen + 2;
		}
		if (len > 7 && !strncmp(p, "error: ", 7)) {
			p += 7;
			len -= 7;
		}
		if (len) {
			if (out->len)
				buf_puts(out, "; ");
			buf_put(out, p, len);
		}
		p += len + (nl ? 1 : 0);
		if (!nl)
			break;
	}
	if (!out->len)
		buf_puts(out, "it said nothing");
}

int
pgtool_run(struct pgtool *t, struct proc_result *pr, const char *nothing)
{
	const char *child_env[2] = {t->pgpassword, NULL};
	struct buf words = BUF_INIT;
	int error;

	if ((error = proc_run_env(pr, t->argv,
		 t->pgpassword ? child_env : NULL)) < 0) {
		const char *set = getenv(t->envvar);

		if (error != MG_ENOTFOUND)
			mg_error_hint("%s", nothing);
		else if (set && *set)
			mg_error_hint("%s names it: correct or unset %s. %s",
			    t->envvar, t->envvar, nothing);
		else
			mg_error_hint("Install PostgreSQL's client programs "
				      "(Debian: apt-get install "
				      "postgresql-client), or set %s to the "
				      "program's path. %s",
			    t->envvar, nothing);
		return MG_ERROR;
	}
	if (pr->status == 0)
		return 0;
	its_words(&words, pr, t->what);
	if (pr->status > 128)
		mg_error_set(MG_ERROR, "%s was ended by signal %d: %s", t->what,
		    pr->status - 128, words.ptr);
	else
		mg_error_set(MG_ERROR, "%s failed (exit status %d): %s",
		    t->what, pr->status, words.ptr);
	mg_error_hint("%s", nothing);
	buf_release(&words);
	return MG_ERROR;
}

void
pgtool_release(struct pgtool *t)
{
	free(t->argv);
	buf_release(&t->dbname);
	free(t->pgpassword);
	memset(t, 0, sizeof(*t));
}
