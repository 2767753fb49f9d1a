/*
 * fuzz.h - what the libFuzzer targets share.
 *
 * A target checks invariants, not only that nothing crashes: a broken one
 * calls FUZZ_CHECK, which prints the condition and aborts, so that
 * libFuzzer keeps the input as a crash.
 */
#ifndef MIGDIR_FUZZ_H
#define MIGDIR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
			    __FILE__, __LINE__, #cond);                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* A NUL-terminated copy of the input (caller frees). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The next field of the input, up to a NUL byte or the end: a copy
 * (caller frees), or NULL when the input is used up.
 */
static inline char *
fuzz_field(const uint8_t **data, size_t *size)
{
	const uint8_t *nul;
	size_t n;
	char *s;

	if (*size == 0)
		return NULL;
	nul = memchr(*data, 0, *size);
	n = nul ? (size_t)(nul - *data) : *size;
	s = fuzz_str(*data, n);
	*data += n + (nul != NULL);
	*size -= n + (nul != NULL);
	return s;
}

/* Is s (n bytes) well-formed UTF-8 (no overlong forms, no surrogates)? */
static inline int
fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		size_t k, i;
		unsigned cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(end - p) <= k)
			return 0;
		for (i = 1; i <= k; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		if ((k == 2 &&
			(cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		p += k + 1;
	}
	return 1;
}

#endif
