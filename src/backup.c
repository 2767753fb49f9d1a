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
#include "pgtool.h"
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
		buf_put_ident(&pat, f->schema);
		buf_putc(&pat, '.');
	}
	buf_put_ident(&pat, f->rel);
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

int
backup_write(struct backup *b, const char *conninfo, const char *file)
{
	static const char nothing[] = "Nothing was rolled back.";
	struct pgtool t;
	struct proc_result pr = {0};
	struct stat sb;
	size_t i;
	int error, fd;

	pgtool_init(&t, "MIGDIR_PG_DUMP", "pg_dump");
	/* a new file that only its owner reads: it holds the data */
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		if (errno == EEXIST) {
			error = mg_error_set(MG_ERROR,
			    "backup file \"%s\" already exists", file);
			mg_error_hint("Give a new file name: migdir does not "
				      "overwrite a file. %s",
			    nothing);
		} else {
			error = mg_error_os(MG_ERROR,
			    "could not create the backup file \"%s\"", file);
			mg_error_hint("%s", nothing);
		}
		goto out;
	}
	close(fd);
	pgtool_arg(&t, "--format=custom");
	pgtool_arg(&t, "--strict-names");
	pgtool_arg(&t, "--file");
	pgtool_arg(&t, file);
	for (i = 0; !b->whole && i < b->n; i++) {
		pgtool_arg(&t, "--table");
		pgtool_arg(&t, b->patterns[i]);
	}
	if ((error = pgtool_connect(&t, conninfo, NULL)) < 0 ||
	    (error = pgtool_run(&t, &pr, nothing)) < 0)
		goto fail;
	if (stat(file, &sb) < 0 || sb.st_size == 0) {
		error = mg_error_set(MG_ERROR,
		    "pg_dump wrote no backup to \"%s\"", file);
		mg_error_hint("%s", nothing);
		goto fail;
	}
	b->bytes = (long long)sb.st_size;
	proc_result_release(&pr);
	pgtool_release(&t);
	pgtool_init(&t, "MIGDIR_PG_RESTORE", "pg_restore");
	t.what = "pg_restore --list";
	pgtool_arg(&t, "--list");
	pgtool_arg(&t, file);
	if ((error = pgtool_run(&t, &pr, nothing)) < 0) {
		mg_error_prefix("the backup \"%s\" cannot be read back", file);
		goto fail;
	}
	goto out;
fail:
	unlink(file);
out:
	proc_result_release(&pr);
	pgtool_release(&t);
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
