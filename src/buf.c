/*
 * buf.c - growable, always NUL-terminated string buffer (see buf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"
#include "banned.h"

char buf_empty[1];

void
buf_init(struct buf *b)
{
	b->ptr = buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	buf_init(b);
}

char *
buf_detach(struct buf *b)
{
	char *p;

	if (!b->cap)
		return xstrdup("");
	p = b->ptr;
	buf_init(b);
	return p;
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	int fresh = !b->cap;

	if (need <= b->cap)
		return;
	if (fresh)
		b->ptr = NULL;
	XGROW(b->ptr, b->cap, need);
	if (fresh)
		b->ptr[0] = '\0';
}

void
buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

void
buf_setlen(struct buf *b, size_t len)
{
	if (!b->cap)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}

void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	buf_grow(b, n);
	memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void
buf_putc(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->ptr[b->len++] = (char)c;
	b->ptr[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->ptr + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
		if (n < 0)
			return;
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_rtrim(struct buf *b)
{
	/* strchr finds the terminator too: a NUL byte is data, not a blank */
	while (b->len && b->ptr[b->len - 1] &&
	    strchr(" \t\r\n", b->ptr[b->len - 1]))
		b->len--;
	if (b->cap)
		b->ptr[b->len] = '\0';
}

void
buf_put_ident(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* The length of the UTF-8 sequence at p (n bytes left), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

size_t
utf8_valid_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(k = utf8_seq(p + i, n - i)))
			break;
		i += k;
	}
	return i;
}

void
buf_put_shown(struct buf *b, const char *s, const char *keep)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		int c1;

		if (p[i] >= 0x20 && p[i] < 0x7F) {
			buf_putc(b, p[i++]);
			continue;
		}
		if (p[i] < 0x80) {
			if (strchr(keep, p[i]))
				buf_putc(b, p[i]);
			else
				buf_printf(b, "\\x%02x", p[i]);
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		c1 = k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0;
		if (!k || c1) {
			/* not UTF-8, or a C1 control: show every byte */
			size_t j, m = k ? k : 1;

			for (j = 0; j < m; j++)
				buf_printf(b, "\\x%02x", p[i + j]);
			i += m;
			continue;
		}
		buf_put(b, p + i, k);
		i += k;
	}
}

char *
buf_shown(const char *s)
{
	struct buf b = BUF_INIT;

	buf_put_shown(&b, s, "");
	return buf_detach(&b);
}
