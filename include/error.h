/*
 * error.h - the last error, libgit2 style.
 *
 * A function that can fail returns an int: 0 on success, a negative MG_E*
 * code on failure, after recording a message with mg_error_set() in one
 * process-wide slot (git's error(), libgit2's git_error_set).  Callers pass
 * the code up untouched; the command adds context once and main.c prints the
 * slot through report.c.
 *
 *	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
 *		return mg_error_os(MG_ERROR, "could not open file \"%s\"", path);
 *
 * Messages follow PostgreSQL's style guide: a short lowercase primary message
 * without a full stop; detail and hint are full sentences.
 */
#ifndef MIGDIR_ERROR_H
#define MIGDIR_ERROR_H

enum {
	MG_OK = 0,
	MG_ERROR = -1,     /* any failure callers do not branch on */
	MG_ENOTFOUND = -2, /* a file, row, repository or section is missing */
	MG_ELOCKED = -3,   /* another migdir holds the lock */
	MG_EDRIFT = -4,    /* a file differs from what the database recorded */
	MG_ESQL = -5,      /* the server (or the parser) rejected SQL */
	MG_EUSAGE = -6,    /* bad command line: exit status 2 */
	MG_ECANCEL = -7,   /* interrupted by the user */
	MG_EHELP = -8,     /* --help printed the usage: stop, exit status 0 */
};

struct mg_error {
	int code;      /* MG_E* of the last failure, MG_OK after clear */
	char *message; /* primary message, never NULL after a set */
	char *detail;  /* optional full sentence(s) */
	char *hint;    /* optional full sentence(s): what to do */
	/* Locus, for errors about a place in a file (SQL and config errors). */
	char *file;     /* path as the user should see it, or NULL */
	int line, col;  /* 1-based; 0 when unknown */
	char *src_line; /* text of that line, for the caret display */
	char *sqlstate; /* five characters from the server, or NULL */
	char *context;  /* server CONTEXT (e.g. PL/pgSQL line), or NULL */
};

/* Record a primary message and code; returns code. */
int mg_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As mg_error_set, appending ": strerror(errno)". */
int mg_error_os(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Attach a detail or a hint to the last error (replacing any earlier). */
void mg_error_detail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void mg_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Attach a locus to the last error: file (copied), 1-based line and column,
 * and the text of that line (copied; may be NULL).
 */
void mg_error_locus(const char *file, int line, int col, const char *src_line);

/* Attach server fields (copied; each may be NULL). */
void mg_error_server(const char *sqlstate, const char *context);

/* Prefix the primary message with "prefix: " (context added by a command). */
void mg_error_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Move the calling thread's last error into *out, leaving its slot empty;
 * mg_error_put makes *e (so taken, perhaps in another thread) the calling
 * thread's last error and empties *e.
 */
void mg_error_take(struct mg_error *out);
void mg_error_put(struct mg_error *e);

/* Free a taken error that is not put back (NULL fields are fine). */
void mg_error_clear_taken(struct mg_error *e);

/* The last error (of this thread); fields valid until the next set or clear. */
const struct mg_error *mg_error_last(void);

/* Forget the last error. */
void mg_error_clear(void);

#endif
