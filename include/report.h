/*
 * report.h - everything migdir prints.
 *
 * One reporter in the shape of PostgreSQL's src/common/logging.c: results go
 * to stdout, diagnostics (error, warning, detail, hint, progress notes) to
 * stderr after stdout is flushed, each prefixed "migdir: LEVEL: ".  Colour is
 * used only on a terminal, never when NO_COLOR is set or TERM is "dumb".
 * With --json, stdout carries exactly one JSON document (rp_json) and human
 * results are suppressed; diagnostics still go to stderr.
 */
#ifndef MIGDIR_REPORT_H
#define MIGDIR_REPORT_H

#include <stdarg.h>

#include "error.h"

enum rp_color {
	RP_RESET,
	RP_BOLD,
	RP_DIM,
	RP_RED,
	RP_GREEN,
	RP_YELLOW,
	RP_BLUE,
	RP_MAGENTA,
	RP_CYAN,
};

/*
 * Configure the reporter: verbosity (-1 quiet, 0 normal, 1+ verbose) and
 * whether stdout carries JSON.  Colour is detected here.
 */
void rp_setup(int verbosity, int json);

/* Has a JSON document been printed?  (stdout carries one at most) */
int rp_json_printed(void);

/* Escape sequence for colour c on stdout ("" when stdout is not coloured). */
const char *rp_c(enum rp_color c);

/* Diagnostics on stderr.  rp_info is hidden by -q, rp_verbose needs -v. */
void rp_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rp_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A message from the server (NOTICE, WARNING ...), tagged with what raised
 * it: "migdir: 20230601_x: NOTICE: ...".  NOTICE and lower need -v.
 */
void rp_server_message(const char *tag, const char *severity, const char *msg);

/*
 * Print an error in full: primary line with locus and SQLSTATE, the source
 * line with a caret under the column, then detail, hint and context.
 */
void rp_print_error(const struct mg_error *e);

/* Human results on stdout (suppressed in JSON mode and by -q). */
void rp_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Human results on stdout even with -q (still suppressed in JSON mode). */
void rp_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print a JSON document (a jansson json_t *, passed as void * so that callers
 * need not include jansson.h) on stdout, with a newline, and drop the
 * caller's reference.
 */
void rp_json(void *json);

/*
 * A JSON string (a new json_t *, never NULL) of text that may come from
 * outside: a path, a message quoting a file.  jansson refuses what is not
 * UTF-8; then the text is shown as buf_shown does (each byte that is not
 * UTF-8, and control characters, as \xHH) instead of being lost.
 */
void *rp_json_text(const char *text);

/* The error as a JSON object {"error": {...}} (a new json_t *). */
void *rp_error_json(const struct mg_error *e);

/* Flush stdout; returns -1 if writing it failed (git's check at exit). */
int rp_finish(void);

/* "s" unless n is 1, for "%zu migration%s". */
const char *rp_plural(size_t n);

/* Format a duration in microseconds for humans: "842 ms", "3.2 s", "4 min 12 s". */
const char *rp_duration(char out[32], long long usec);

/* A monotonic clock in microseconds, for the durations rp_duration shows. */
long long rp_now_us(void);

/* Format a size for humans: "3508 bytes", "42 kB", "17 MB", "3 GB". */
const char *rp_size(char out[32], long long bytes);

/*
 * A time in microseconds since the epoch: local "YYYY-MM-DD HH:MM" for
 * humans, or UTC "YYYY-MM-DDTHH:MM:SSZ" when iso is set.
 */
const char *rp_time(char out[40], long long usec, int iso);

#endif
