/*
 * name.c - parse, validate and order migration file names.  Pure.
 *
 * Names are the only part of a migration that becomes database data before
 * any SQL runs, so they are checked strictly: a character outside
 * [a-z0-9_] in a description is refused, never quoted or escaped.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "name.h"
#include "banned.h"

static int
is_desc_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int
two(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * Check a prefix of n digits (8, 12 or 14); returns NULL when it is a real
 * date and time, else what is wrong.
 */
static const char *
check_prefix(const char *p, size_t n)
{
	int year, month, day;

	if (n != 8 && n != 12 && n != 14)
		return "the prefix must be YYYYMMDD, YYYYMMDDHHMM or "
		       "YYYYMMDDHHMMSS";
	year = two(p) * 100 + two(p + 2);
	month = two(p + 4);
	day = two(p + 6);
	if (year < 1900 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month))
		return "the prefix is not a real calendar date";
	if (n >= 12 && (two(p + 8) > 23 || two(p + 10) > 59))
		return "the prefix is not a real clock time";
	if (n == 14 && two(p + 12) > 59)
		return "the prefix is not a real clock time";
	return NULL;
}

static const char *
check_desc(const char *d, size_t n)
{
	size_t i;

	if (n == 0)
		return "the description after the prefix is empty";
	for (i = 0; i < n; i++)
		if (!is_desc_char((unsigned char)d[i]))
			return "the description may only hold lowercase "
			       "letters, digits and underscores";
	return NULL;
}

static int
ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix), i;

	if (n < k)
		return 0;
	for (i = 0; i < k; i++)
		if (tolower((unsigned char)s[n - k + i]) != suffix[i])
			return 0;
	return 1;
}

int
name_parse(struct name *out, const char *filename)
{
	size_t n = strlen(filename), digits = 0, desc_len;
	const char *desc, *why;
	int rollback = 0;

	memset(out, 0, sizeof(*out));
	if (filename[0] == '.' || !ends_with_ci(filename, n, ".sql"))
		return MG_ENOTFOUND;
	if (strcmp(filename + n - 4, ".sql"))
		return mg_error_set(MG_ERROR,
		    "the extension must be lowercase \".sql\"");
	n -= 4;
	while (digits < n && isdigit((unsigned char)filename[digits]))
		digits++;
	if (digits == 0 || digits >= n || filename[digits] != '_')
		return mg_error_set(MG_ERROR,
		    "a migration name starts with YYYYMMDD_ (or "
		    "YYYYMMDDHHMM_, YYYYMMDDHHMMSS_)");
	if ((why = check_prefix(filename, digits)))
		return mg_error_set(MG_ERROR, "%s", why);
	desc = filename + digits + 1;
	desc_len = n - digits - 1;
	if (desc_len >= 9 && !strncmp(desc, "rollback_", 9)) {
		rollback = 1;
		desc += 9;
		desc_len -= 9;
		if (desc_len >= 9 && !strncmp(desc, "rollback_", 9))
			return mg_error_set(MG_ERROR,
			    "a description may not start with \"rollback_\"");
	}
	if ((why = check_desc(desc, desc_len)))
		return mg_error_set(MG_ERROR, "%s", why);
	if (digits + 1 + desc_len > NAME_MAX_VERSION)
		return mg_error_set(MG_ERROR,
		    "the name is longer than %d characters", NAME_MAX_VERSION);
	out->kind = rollback ? NAME_ROLLBACK : NAME_FORWARD;
	out->prefix_len = digits;
	name_stamp(out->stamp, filename);
	snprintf(out->version, sizeof(out->version), "%.*s_%.*s", (int)digits,
	    filename, (int)desc_len, desc);
	out->desc = out->version + digits + 1;
	return 0;
}

void
name_stamp(char out[NAME_STAMP_LEN + 1], const char *version)
{
	size_t digits = 0;

	memset(out, '0', NAME_STAMP_LEN);
	out[NAME_STAMP_LEN] = '\0';
	while (isdigit((unsigned char)version[digits]))
		digits++;
	if (digits == 8 || digits == 12 || digits == 14)
		memcpy(out, version, digits);
}

int
name_cmp(const char *a, const char *b)
{
	char sa[NAME_STAMP_LEN + 1], sb[NAME_STAMP_LEN + 1];
	int c;

	name_stamp(sa, a);
	name_stamp(sb, b);
	if ((c = strcmp(sa, sb)))
		return c;
	return strcmp(a, b);
}

void
name_forward_file(struct buf *out, const char *version)
{
	buf_printf(out, "%s.sql", version);
}

void
name_file(struct buf *out, const char *version, enum name_kind kind)
{
	if (kind == NAME_FORWARD)
		name_forward_file(out, version);
	else
		name_rollback_file(out, version);
}

void
name_rollback_file(struct buf *out, const char *version)
{
	const char *us = strchr(version, '_');

	if (!us) {
		buf_printf(out, "rollback_%s.sql", version);
		return;
	}
	buf_printf(out, "%.*s_rollback_%s.sql", (int)(us - version), version,
	    us + 1);
}

int
name_normalize_description(struct buf *out, const char *typed)
{
	const unsigned char *p;

	buf_reset(out);
	for (p = (const unsigned char *)typed; *p; p++) {
		int c = *p;

		if (c == ' ' || c == '-')
			c = '_';
		else if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (!is_desc_char(c)) {
			if (c >= 0x80)
				return mg_error_set(MG_ERROR,
				    "invalid description \"%s\": non-ASCII "
				    "characters are not allowed",
				    typed);
			return mg_error_set(MG_ERROR,
			    "invalid description \"%s\": character '%c' is "
			    "not allowed",
			    typed, c);
		}
		buf_putc(out, c);
	}
	if (out->len == 0)
		return mg_error_set(MG_ERROR, "the description is empty");
	if (strspn(out->ptr, "_") == out->len)
		return mg_error_set(MG_ERROR,
		    "the description \"%s\" has no letter or digit", typed);
	if (!strncmp(out->ptr, "rollback_", 9) || !strcmp(out->ptr, "rollback"))
		return mg_error_set(MG_ERROR,
		    "a description may not start with \"rollback\"");
	return 0;
}

const void *
name_bsearch(const void *base, size_t n, size_t size, size_t off,
    const char *version)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = (const char *)base + mid * size;
		const char *v;
		int c;

		memcpy(&v, p + off, sizeof(v));
		if ((c = name_cmp(version, v)) == 0)
			return p;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
name_is_version(const char *version)
{
	struct name n;
	struct buf b = BUF_INIT;
	int ok;

	name_forward_file(&b, version);
	ok = name_parse(&n, b.ptr) == 0 && n.kind == NAME_FORWARD &&
	    !strcmp(n.version, version);
	buf_release(&b);
	if (!ok)
		mg_error_clear();
	return ok;
}
