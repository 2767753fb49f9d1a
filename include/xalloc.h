/*
 * xalloc.h - allocation that never returns NULL.
 *
 * migdir is a short-lived command: running out of memory is not a state it
 * can recover from sensibly, so these wrappers print one line and exit(1),
 * like git's xmalloc.  Everything else in migdir may assume success.
 */
#ifndef MIGDIR_XALLOC_H
#define MIGDIR_XALLOC_H

#include <stddef.h>

/* malloc(n), never NULL (a zero size allocates one byte). */
void *xmalloc(size_t n);

/* calloc(nmemb, size), never NULL; dies on multiplication overflow. */
void *xcalloc(size_t nmemb, size_t size);

/* realloc(p, n), never NULL. */
void *xrealloc(void *p, size_t n);

/* Resize an array of nmemb elements of size bytes; dies on overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);

/* strdup(s), never NULL; xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);

/* strndup(s, n), never NULL. */
char *xstrndup(const char *s, size_t n);

/* Formatted allocation: the result is owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow (*arr, *cap) so that it holds at least `need` elements of `size`
 * bytes, doubling as git's ALLOC_GROW does.
 */
void xgrow(void **arr, size_t *cap, size_t need, size_t size);

#define XGROW(arr, cap, need)                                                  \
	xgrow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif
