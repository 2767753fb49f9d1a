/*
 * buf.h - a growable string buffer.
 *
 * Modelled on git's strbuf: `ptr` is never NULL after BUF_INIT (it points at
 * a shared empty string until the first append), is always NUL-terminated,
 * and appends never fail (allocation dies on exhaustion, see xalloc.h), so
 * they return void and can be chained without checks.
 *
 *	struct buf b = BUF_INIT;
 *	buf_printf(&b, "%s/%s", dir, name);
 *	use(b.ptr);
 *	buf_release(&b);
 */
#ifndef MIGDIR_BUF_H
#define MIGDIR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *ptr;  /* contents, NUL-terminated, never NULL */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated; 0 while ptr is the shared "" */
};

extern char buf_empty[];
#define BUF_INIT                                                               \
	{                                                                      \
		buf_empty, 0, 0                                                \
	}

/* Initialise b as BUF_INIT does. */
void buf_init(struct buf *b);

/* Free the contents and reset to BUF_INIT; safe to call twice. */
void buf_release(struct buf *b);

/*
 * Hand the contents to the caller (who frees them with free()) and reset b.
 * Never returns NULL: an empty buffer yields an allocated "".
 */
char *buf_detach(struct buf *b);

/* Make room for `extra` more bytes without changing len. */
void buf_grow(struct buf *b, size_t extra);

/* Truncate to zero length, keeping the allocation. */
void buf_reset(struct buf *b);

/* Truncate to `len` bytes (len <= b->len). */
void buf_setlen(struct buf *b, size_t len);

/* Append n bytes from p (which may contain NULs). */
void buf_put(struct buf *b, const void *p, size_t n);

/* Append the C string s. */
void buf_puts(struct buf *b, const char *s);

/* Append the byte c. */
void buf_putc(struct buf *b, int c);

/* Append formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Remove trailing whitespace (spaces, tabs, newlines). */
void buf_rtrim(struct buf *b);

/*
 * Append s as a double-quoted SQL identifier, quotes inside doubled: taken
 * literally by PostgreSQL and by pg_dump's --table patterns alike.
 */
void buf_put_ident(struct buf *b, const char *s);

/*
 * The length of the longest prefix of the n bytes at s that is valid
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF);
 * n when all of it is.
 */
size_t utf8_valid_len(const char *s, size_t n);

/*
 * Append s so that it is safe to show on a terminal and in JSON: control
 * characters (C0 but those in keep, DEL, C1) and bytes that are not valid
 * UTF-8 become \xHH; the rest is copied as it is.  keep may be "" or, for
 * a text of several lines, "\n\t".
 */
void buf_put_shown(struct buf *b, const char *s, const char *keep);

/* buf_put_shown(.., "") into a new string (caller frees). */
char *buf_shown(const char *s);

#endif
