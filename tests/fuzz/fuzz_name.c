/*
 * fuzz_name.c - the file-name parser and its friends (name.h).
 *
 * Input: two NUL-separated strings a and b.  Invariants: a parsed name's
 * version passes name_is_version and names the file it came from; the
 * order is antisymmetric and agrees with the stamps; a normalised
 * description holds only [a-z0-9_] and makes a valid version.
 */
#include <strings.h>

#include "error.h"
#include "fuzz.h"
#include "name.h"

static int
sign(int c)
{
	return (c > 0) - (c < 0);
}

static void
check_parse(const char *s)
{
	struct name n;
	struct buf b = BUF_INIT;
	size_t len = strlen(s);
	int rc = name_parse(&n, s);

	FUZZ_CHECK(rc == 0 || rc == MG_ENOTFOUND || rc == MG_ERROR);
	if (rc == MG_ERROR)
		FUZZ_CHECK(mg_error_last()->message != NULL);
	if (rc == MG_ENOTFOUND)
		FUZZ_CHECK(s[0] == '.' || len < 4 ||
		    strcasecmp(s + len - 4, ".sql") != 0);
	if (rc != 0) {
		mg_error_clear();
		return;
	}
	FUZZ_CHECK(
	    n.prefix_len == 8 || n.prefix_len == 12 || n.prefix_len == 14);
	FUZZ_CHECK(strlen(n.stamp) == NAME_STAMP_LEN);
	FUZZ_CHECK(strncmp(n.stamp, s, n.prefix_len) == 0);
	FUZZ_CHECK(name_is_version(n.version));
	FUZZ_CHECK(n.desc > n.version && n.desc[-1] == '_');
	FUZZ_CHECK(strncmp(n.desc, "rollback_", 9) != 0);
	/* the file a version and kind name is the one parsed */
	name_file(&b, n.version, n.kind);
	FUZZ_CHECK(strcmp(b.ptr, s) == 0);
	buf_release(&b);
	/* the other kind of the same version parses back to it */
	name_file(&b, n.version,
	    n.kind == NAME_FORWARD ? NAME_ROLLBACK : NAME_FORWARD);
	{
		struct name o;

		FUZZ_CHECK(name_parse(&o, b.ptr) == 0);
		FUZZ_CHECK(o.kind != n.kind);
		FUZZ_CHECK(strcmp(o.version, n.version) == 0);
	}
	buf_release(&b);
}

static void
check_order(const char *a, const char *b)
{
	char sa[NAME_STAMP_LEN + 1], sb[NAME_STAMP_LEN + 1];
	int ab = sign(name_cmp(a, b)), ba = sign(name_cmp(b, a));
	struct {
		const char *v;
	} arr[2];
	const void *hit;

	FUZZ_CHECK(ab == -ba);
	FUZZ_CHECK(name_cmp(a, a) == 0);
	FUZZ_CHECK((ab == 0) == (strcmp(a, b) == 0));
	name_stamp(sa, a);
	name_stamp(sb, b);
	FUZZ_CHECK(strlen(sa) == NAME_STAMP_LEN);
	if (strcmp(sa, sb) != 0)
		FUZZ_CHECK(ab == sign(strcmp(sa, sb)));
	/* name_bsearch finds both in a sorted array of two */
	arr[0].v = ab <= 0 ? a : b;
	arr[1].v = ab <= 0 ? b : a;
	hit = name_bsearch(arr, 2, sizeof(arr[0]), 0, a);
	FUZZ_CHECK(
	    hit != NULL && strcmp(((const char *const *)hit)[0], a) == 0);
	hit = name_bsearch(arr, 2, sizeof(arr[0]), 0, b);
	FUZZ_CHECK(
	    hit != NULL && strcmp(((const char *const *)hit)[0], b) == 0);
}

static void
check_normalize(const char *typed)
{
	struct buf out = BUF_INIT, v = BUF_INIT;
	size_t i;

	if (name_normalize_description(&out, typed) < 0) {
		FUZZ_CHECK(mg_error_last()->message != NULL);
		mg_error_clear();
		buf_release(&out);
		return;
	}
	FUZZ_CHECK(out.len > 0 && out.len == strlen(typed));
	for (i = 0; i < out.len; i++) {
		char c = out.ptr[i];

		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_');
	}
	/* it makes a valid version (migdir new checks the length itself) */
	buf_printf(&v, "20240229235959_%s", out.ptr);
	if (v.len <= NAME_MAX_VERSION)
		FUZZ_CHECK(name_is_version(v.ptr));
	buf_release(&v);
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = fuzz_field(&data, &size), *b;

	if (!a)
		return 0;
	b = fuzz_field(&data, &size);
	if (!b)
		b = fuzz_str((const uint8_t *)"20240101_x", 10);
	check_parse(a);
	check_parse(b);
	check_order(a, b);
	check_normalize(a);
	(void)name_is_version(b);
	mg_error_clear();
	free(a);
	free(b);
	return 0;
}
