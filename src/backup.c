/*
 * backup.c - pg_dump the tables a destructive rollback drops, and check it.
 *
 * Which tables: the subjects of the findings that lose data.  How: one
 * pg_dump -Fc with a -t pattern per table (each name double-quoted, so
 * that it is taken literally, as the parser gave it), against the same
 * connection string migdir uses; then pg_restore -l must list the file.
 * The programs run through proc.c, never through a shell.  A failure
 * removes the file, so that a refused rollback leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "buf.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "proc.h"
#include "xalloc.h"
#include "banned.h"

/* The rules whose subject is the table that loses data. */
static const char *const table_rules[] = {
    "drop-table",
    "drop-column",
    "truncate",
    "delete-without-where",
    "update-without-where",
    NULL,
};

static int
is_table_rule(const char *name)
{
	size_t i;

	for (i = 0; table_rules[i]; i++)
		if (!strcmp(table_rules[i], name))
			return 1;
	return 0;
}

/* One identifier of a pg_dump pattern, double-quoted: taken literally. */
static void
quote_ident(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

/*
 * The table of a finding: its schema and name as the parser read them
 * (a dot inside a quoted name stays part of the name).
 */
static void
add_table(struct backup *b, const struct lint_finding *f)
{
	struct buf pat = BUF_INIT;
	size_t i;

	if (*f->schema) {
		quote_ident(&pat, f->schema);
		buf_putc(&pat, '.');
	}
	quote_ident(&pat, f->rel);
	for (i = 0; i < b->n; i++)
		if (!strcmp(b->patterns[i], pat.ptr)) {
			buf_release(&pat);
			return;
		}
	XGROW(b->tables, b->cap, b->n + 1);
	XGROW(b->patterns, b->pcap, b->n + 1);
	b->tables[b->n] = xstrdup(f->subject);
	b->patterns[b->n++] = buf_detach(&pat);
}

void
backup_add(struct backup *b, const struct lint_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct lint_finding *f = &r->f[i];

		if (!(f->rule->effects & EF_LOSS))
			continue;
		if (is_table_rule(f->rule->name) && *f->rel)
			add_table(b, f);
		else
			b->whole = 1;
	}
}

int
backup_needed(const struct backup *b)
{
	return b->whole || b->n > 0;
}

static const char *
program(const char *env, const char *fallback)
{
	const char *p = getenv(env);

	return p && *p ? p : fallback;
}

/*
 * The program's last words, for an error: its standard error without the
 * "pg_dump: " (its name: the first word of what) and "error: " prefixes,
 * lines joined.
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

/* Run argv; 0 when it exited 0, else MG_ERROR with its words. */
static int
run_checked(struct proc_result *pr, const char *const *argv,
    const char *const *child_env, const char *what, const char *env)
{
	struct buf words = BUF_INIT;
	int error;

	if ((error = proc_run_env(pr, argv, child_env)) < 0) {
		const char *set = getenv(env);

		if (error != MG_ENOTFOUND)
			mg_error_hint("Nothing was rolled back.");
		else if (set && *set)
			mg_error_hint("%s names it: correct or unset %s. "
				      "Nothing was rolled back.",
			    env, env);
		else
			mg_error_hint("Install PostgreSQL's client programs "
				      "(Debian: apt-get install "
				      "postgresql-client), or set %s to the "
				      "program's path. Nothing was rolled "
				      "back.",
			    env);
		return MG_ERROR;
	}
	if (pr->status == 0)
		return 0;
	its_words(&words, pr, what);
	if (pr->status > 128)
		mg_error_set(MG_ERROR, "%s was ended by signal %d: %s", what,
		    pr->status - 128, words.ptr);
	else
		mg_error_set(MG_ERROR, "%s failed (exit status %d): %s", what,
		    pr->status, words.ptr);
	mg_error_hint("Nothing was rolled back.");
	buf_release(&words);
	return MG_ERROR;
}

int
backup_write(struct backup *b, const char *conninfo, const char *file)
{
	const char *dump = program("MIGDIR_PG_DUMP", "pg_dump");
	const char *restore = program("MIGDIR_PG_RESTORE", "pg_restore");
	const char **argv = xcalloc(b->n * 2 + 12, sizeof(*argv));
	struct proc_result pr = {0};
	struct buf dbname = BUF_INIT;
	char *password = NULL, *pgpassword = NULL;
	const char *child_env[2] = {NULL, NULL};
	struct stat sb;
	size_t i, k = 0;
	int error, fd;

	/* the password goes in the environment, not on argv */
	if (conninfo && *conninfo &&
	    (error = db_conninfo_split(conninfo, &dbname, &password)) < 0)
		goto out;
	/* a new file that only its owner reads: it holds the data */
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		if (errno == EEXIST) {
			error = mg_error_set(MG_ERROR,
			    "backup file \"%s\" already exists", file);
			mg_error_hint("Give a new file name: migdir does not "
				      "overwrite a file. Nothing was rolled "
				      "back.");
		} else {
			error = mg_error_os(MG_ERROR,
			    "could not create the backup file \"%s\"", file);
			mg_error_hint("Nothing was rolled back.");
		}
		goto out;
	}
	close(fd);
	argv[k++] = dump;
	argv[k++] = "--format=custom";
	argv[k++] = "--no-password";
	argv[k++] = "--strict-names";
	argv[k++] = "--file";
	argv[k++] = file;
	if (dbname.len) {
		if (password)
			pgpassword = xasprintf("PGPASSWORD=%s", password);
		argv[k++] = "--dbname";
		argv[k++] = dbname.ptr;
	}
	for (i = 0; !b->whole && i < b->n; i++) {
		argv[k++] = "--table";
		argv[k++] = b->patterns[i];
	}
	argv[k] = NULL;
	child_env[0] = pgpassword;
	if ((error = run_checked(&pr, argv, pgpassword ? child_env : NULL,
		 "pg_dump", "MIGDIR_PG_DUMP")) < 0)
		goto fail;
	if (stat(file, &sb) < 0 || sb.st_size == 0) {
		error = mg_error_set(MG_ERROR,
		    "pg_dump wrote no backup to \"%s\"", file);
		mg_error_hint("Nothing was rolled back.");
		goto fail;
	}
	b->bytes = (long long)sb.st_size;
	proc_result_release(&pr);
	k = 0;
	argv[k++] = restore;
	argv[k++] = "--list";
	argv[k++] = file;
	argv[k] = NULL;
	if ((error = run_checked(&pr, argv, NULL, "pg_restore --list",
		 "MIGDIR_PG_RESTORE")) < 0) {
		mg_error_prefix("the backup \"%s\" cannot be read back", file);
		goto fail;
	}
	goto out;
fail:
	unlink(file);
out:
	proc_result_release(&pr);
	free(argv);
	buf_release(&dbname);
	free(password);
	free(pgpassword);
	return error;
}

void
backup_release(struct backup *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->tables[i]);
		free(b->patterns[i]);
	}
	free(b->tables);
	free(b->patterns);
	memset(b, 0, sizeof(*b));
}
