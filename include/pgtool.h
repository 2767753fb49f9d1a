/*
 * pgtool.h - run one of PostgreSQL's client programs against a database.
 *
 * pg_dump and pg_restore, found in PATH or named by an environment
 * variable (MIGDIR_PG_DUMP, MIGDIR_PG_RESTORE: Debian's pg_wrapper may
 * pick a version that does not match the server).  The connection string
 * goes on the command line without its password, which travels in the
 * child's PGPASSWORD instead, out of every user's sight.  A failure
 * becomes one error with the program's own words in it.
 */
#ifndef MIGDIR_PGTOOL_H
#define MIGDIR_PGTOOL_H

#include <stddef.h>

#include "buf.h"
#include "proc.h"

struct pgtool {
	const char **argv;
	size_t n, cap;
	const char *what;   /* "pg_dump": how errors name it */
	const char *envvar; /* the variable that may name the program */
	struct buf dbname;  /* the --dbname argument */
	char *pgpassword;   /* "PGPASSWORD=..." for the child, or NULL */
};

/* Start a command line: the program named by envvar, else fallback. */
void pgtool_init(struct pgtool *t, const char *envvar, const char *fallback);

/* Add an argument (borrowed: it must outlive pgtool_run). */
void pgtool_arg(struct pgtool *t, const char *arg);

/*
 * Connect it to the database conninfo names ("" or NULL: libpq's
 * defaults), or to database dbname on that server when dbname is not NULL.
 */
int pgtool_connect(struct pgtool *t, const char *conninfo, const char *dbname);

/*
 * Run it.  Returns 0 when it exited 0 (its output in *pr, which the
 * caller releases); else MG_ERROR saying what went wrong in its own words,
 * with a hint that ends in `nothing` ("Nothing was rolled back.").
 */
int pgtool_run(struct pgtool *t, struct proc_result *pr, const char *nothing);

void pgtool_release(struct pgtool *t);

#endif
