/*
 * error.c - the process-wide last-error slot (see error.h).
 *
 * One slot (per thread), overwritten by each mg_error_set: errors are
 * passed up as codes and printed once, so there is never more than one to
 * remember.  mg_error_take and mg_error_put hand an error from a worker
 * thread to the one that reports it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xalloc.h"
#include "banned.h"

/* One slot per thread: state.c reads the database in a second thread. */
static _Thread_local struct mg_error last;

static void
release(struct mg_error *e)
{
	free(e->message);
	free(e->detail);
	free(e->hint);
	free(e->file);
	free(e->src_line);
	free(e->sqlstate);
	free(e->context);
	memset(e, 0, sizeof(*e));
}

void
mg_error_clear(void)
{
	release(&last);
}

static int
vset(int code, int with_errno, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	int saved = errno;

	buf_vprintf(&b, fmt, ap);
	if (with_errno)
		buf_printf(&b, ": %s", strerror(saved));
	mg_error_clear();
	last.code = code;
	last.message = buf_detach(&b);
	errno = saved;
	return code;
}

int
mg_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int
mg_error_os(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, 1, fmt, ap);
	va_end(ap);
	return code;
}

static void
vreplace(char **slot, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_vprintf(&b, fmt, ap);
	free(*slot);
	*slot = buf_detach(&b);
}

void
mg_error_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreplace(&last.detail, fmt, ap);
	va_end(ap);
}

void
mg_error_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreplace(&last.hint, fmt, ap);
	va_end(ap);
}

void
mg_error_prefix(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_printf(&b, ": %s", last.message ? last.message : "unknown error");
	free(last.message);
	last.message = buf_detach(&b);
}

void
mg_error_locus(const char *file, int line, int col, const char *src_line)
{
	free(last.file);
	free(last.src_line);
	last.file = xstrdup(file);
	last.line = line;
	last.col = col;
	last.src_line = xstrdup(src_line);
}

void
mg_error_server(const char *sqlstate, const char *context)
{
	free(last.sqlstate);
	free(last.context);
	last.sqlstate = xstrdup(sqlstate);
	last.context = xstrdup(context);
}

void
mg_error_take(struct mg_error *out)
{
	*out = last;
	memset(&last, 0, sizeof(last));
}

void
mg_error_put(struct mg_error *e)
{
	mg_error_clear();
	last = *e;
	memset(e, 0, sizeof(*e));
}

void
mg_error_clear_taken(struct mg_error *e)
{
	release(e);
}

const struct mg_error *
mg_error_last(void)
{
	return &last;
}
