/*
 * report.c - the single place that writes to stdout and stderr.
 *
 * Results go to stdout; diagnostics go to stderr after stdout is flushed so
 * that the two interleave in order on a terminal.  SQL and config errors are
 * printed with their locus and a caret under the offending column, the way
 * compilers and psql do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "report.h"
#include "xalloc.h"
#include "banned.h"

static int verbosity;
static int json_mode;
static int json_printed;
static int color_out, color_err;

static const char *const seq[] = {
    [RP_RESET] = "\033[0m",
    [RP_BOLD] = "\033[1m",
    [RP_DIM] = "\033[2m",
    [RP_RED] = "\033[31m",
    [RP_GREEN] = "\033[32m",
    [RP_YELLOW] = "\033[33m",
    [RP_BLUE] = "\033[34m",
    [RP_MAGENTA] = "\033[35m",
    [RP_CYAN] = "\033[36m",
};

static int
want_color(int fd)
{
	const char *term = getenv("TERM");
	const char *force = getenv("MIGDIR_COLOR");
	const char *no = getenv("NO_COLOR");

	if (force && !strcmp(force, "always"))
		return 1;
	if (force && !strcmp(force, "never"))
		return 0;
	if (no && *no)
		return 0;
	if (!term || !strcmp(term, "dumb"))
		return 0;
	return isatty(fd);
}

void
rp_setup(int v, int json)
{
	verbosity = v;
	json_mode = json;
	color_out = !json && want_color(STDOUT_FILENO);
	color_err = want_color(STDERR_FILENO);
}

int
rp_json_printed(void)
{
	return json_printed;
}

const char *
rp_c(enum rp_color c)
{
	return color_out ? seq[c] : "";
}

static const char *
ec(enum rp_color c)
{
	return color_err ? seq[c] : "";
}

static void vdiag(const char *level, enum rp_color color, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
vdiag(const char *level, enum rp_color color, const char *fmt, va_list ap)
{
	struct buf raw = BUF_INIT, safe = BUF_INIT;

	/* a file name or a server message may hold anything: never let it
	 * reach the terminal raw */
	buf_vprintf(&raw, fmt, ap);
	buf_put_shown(&safe, raw.ptr, "\n\t");
	fflush(stdout);
	fprintf(stderr, "migdir: %s%s%s:%s %s\n", ec(RP_BOLD), ec(color), level,
	    ec(RP_RESET), safe.ptr);
	buf_release(&raw);
	buf_release(&safe);
}

static void diag(const char *level, enum rp_color color, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag(const char *level, enum rp_color color, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(level, color, fmt, ap);
	va_end(ap);
}

void
rp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("error", RP_RED, fmt, ap);
	va_end(ap);
}

void
rp_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("warning", RP_MAGENTA, fmt, ap);
	va_end(ap);
}

void
rp_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("detail", RP_RESET, fmt, ap);
	va_end(ap);
}

void
rp_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("hint", RP_CYAN, fmt, ap);
	va_end(ap);
}

void
rp_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	fflush(stdout);
	fputs("migdir: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
rp_verbose(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	fflush(stdout);
	fprintf(stderr, "migdir: %s", ec(RP_DIM));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", ec(RP_RESET));
}

void
rp_server_message(const char *tag, const char *severity, const char *msg)
{
	int low = !strcmp(severity, "NOTICE") || !strcmp(severity, "INFO") ||
	    !strcmp(severity, "LOG") || !strncmp(severity, "DEBUG", 5);

	if (verbosity < 0 || (low && verbosity < 1))
		return;
	fflush(stdout);
	fprintf(stderr, "migdir: %s%s%s: %s%s%s: %s\n", ec(RP_BOLD), tag,
	    ec(RP_RESET), low ? "" : ec(RP_MAGENTA), severity, ec(RP_RESET),
	    msg);
}

/*
 * The caret line: as many columns as the source has before `col` (1-based
 * byte column), keeping tabs so that the caret lines up, counting a UTF-8
 * sequence as one column.
 */
static void
caret_line(struct buf *out, const char *src, int col)
{
	int i;

	for (i = 0; i < col - 1 && src[i]; i++) {
		unsigned char ch = (unsigned char)src[i];

		if (ch == '\t')
			buf_putc(out, '\t');
		else if ((ch & 0xC0) != 0x80)
			buf_putc(out, ' ');
	}
	buf_putc(out, '^');
}

void
rp_print_error(const struct mg_error *e)
{
	struct buf b = BUF_INIT, src = BUF_INIT;

	if (!e->message)
		return;
	if (e->file && e->line > 0 && e->col > 0)
		buf_printf(&b, "%s:%d:%d: ", e->file, e->line, e->col);
	else if (e->file && e->line > 0)
		buf_printf(&b, "%s:%d: ", e->file, e->line);
	else if (e->file)
		buf_printf(&b, "%s: ", e->file);
	buf_puts(&b, e->message);
	if (e->sqlstate)
		buf_printf(&b, " (SQLSTATE %s)", e->sqlstate);
	rp_error("%s", b.ptr);
	if (e->src_line && e->line > 0) {
		char num[16];
		int w = snprintf(num, sizeof(num), "%d", e->line);

		buf_reset(&b);
		if (e->col > 0) {
			/* the caret under the line as shown, escapes and all */
			char *head =
			    xstrndup(e->src_line, (size_t)(e->col - 1));

			buf_put_shown(&src, head, "\t");
			free(head);
			caret_line(&b, src.ptr, (int)src.len + 1);
			buf_reset(&src);
		}
		buf_put_shown(&src, e->src_line, "\t");
		fprintf(stderr, " %*s | %s\n", w < 4 ? 4 : w, num, src.ptr);
		if (e->col > 0)
			fprintf(stderr, " %*s | %s%s%s%s\n", w < 4 ? 4 : w, "",
			    ec(RP_BOLD), ec(RP_RED), b.ptr, ec(RP_RESET));
	}
	if (e->detail)
		rp_detail("%s", e->detail);
	if (e->hint)
		rp_hint("%s", e->hint);
	if (e->context)
		diag("context", RP_RESET, "%s", e->context);
	buf_release(&b);
	buf_release(&src);
}

void
rp_out(const char *fmt, ...)
{
	va_list ap;

	if (json_mode || verbosity < 0)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void
rp_result(const char *fmt, ...)
{
	va_list ap;

	if (json_mode)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void
rp_json(void *json)
{
	json_t *j = json;

	if (!j)
		return;
	json_printed = 1;
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

/* A JSON string even for text that is not UTF-8 (escaped, then). */
void *
rp_json_text(const char *s)
{
	json_t *j = json_string(s);
	char *t;

	if (j)
		return j;
	t = buf_shown(s);
	j = json_string(t);
	free(t);
	return j;
}

void *
rp_error_json(const struct mg_error *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "message",
	    rp_json_text(e->message ? e->message : "unknown error"));
	if (e->sqlstate)
		json_object_set_new(o, "sqlstate", rp_json_text(e->sqlstate));
	if (e->file)
		json_object_set_new(o, "file", rp_json_text(e->file));
	if (e->line > 0)
		json_object_set_new(o, "line", json_integer(e->line));
	if (e->col > 0)
		json_object_set_new(o, "column", json_integer(e->col));
	if (e->detail)
		json_object_set_new(o, "detail", rp_json_text(e->detail));
	if (e->hint)
		json_object_set_new(o, "hint", rp_json_text(e->hint));
	if (e->context)
		json_object_set_new(o, "context", rp_json_text(e->context));
	return json_pack("{s:o}", "error", o);
}

int
rp_finish(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return -1;
	return 0;
}

const char *
rp_plural(size_t n)
{
	return n == 1 ? "" : "s";
}

long long
rp_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

const char *
rp_duration(char out[32], long long usec)
{
	if (usec < 0)
		usec = 0;
	if (usec < 10000)
		snprintf(out, 32, "%.1f ms", (double)usec / 1000.0);
	else if (usec < 10000000)
		snprintf(out, 32, "%lld ms", (usec + 500) / 1000);
	else if (usec < 120000000)
		snprintf(out, 32, "%.1f s", (double)usec / 1e6);
	else
		snprintf(out, 32, "%lld min %lld s", usec / 60000000,
		    (usec / 1000000) % 60);
	return out;
}

const char *
rp_size(char out[32], long long bytes)
{
	if (bytes < 10240)
		snprintf(out, 32, "%lld bytes", bytes < 0 ? 0 : bytes);
	else if (bytes < 10240LL * 1024)
		snprintf(out, 32, "%lld kB", (bytes + 512) / 1024);
	else if (bytes < 10240LL * 1024 * 1024)
		snprintf(out, 32, "%lld MB", (bytes + 512LL * 1024) / 1048576);
	else
		snprintf(out, 32, "%lld GB",
		    (bytes + 512LL * 1024 * 1024) / 1073741824);
	return out;
}

const char *
rp_time(char out[40], long long usec, int iso)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (iso) {
		gmtime_r(&t, &tm);
		strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		localtime_r(&t, &tm);
		strftime(out, 40, "%Y-%m-%d %H:%M", &tm);
	}
	return out;
}
