/*
 * test_buf.c - unit tests for the growable string buffer (src/buf.c).
 *
 * Covers the invariants buf.h promises: ptr is never NULL and always
 * NUL-terminated, BUF_INIT shares one static "" until the first append,
 * appends of every kind (bytes with NULs, strings, characters, formatted
 * text far larger than the first allocation), setlen/reset keep the
 * allocation, detach hands over an allocated string even when empty,
 * release may be called twice, and rtrim removes trailing blanks and
 * nothing else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "banned.h"

static void
test_buf_init_points_at_the_shared_empty_string(void **state)
{
	struct buf a = BUF_INIT, b;

	(void)state;
	buf_init(&b);
	assert_ptr_equal(a.ptr, buf_empty);
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.cap, 0);
	assert_string_equal(a.ptr, "");
	buf_release(&a);
	buf_release(&b);
	assert_ptr_equal(a.ptr, buf_empty);
}

static void
test_buf_puts_putc_and_put_append_and_terminate(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "abc");
	assert_true(b.cap > b.len);
	assert_ptr_not_equal(b.ptr, buf_empty);
	buf_putc(&b, '-');
	buf_put(&b, "xyz!!", 3);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.ptr, "abc-xyz");
	assert_int_equal(b.ptr[b.len], '\0');
	buf_release(&b);
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	buf_release(&b); /* twice is fine */
	assert_ptr_equal(b.ptr, buf_empty);
}

static void
test_buf_put_keeps_embedded_nul_bytes(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.ptr, "a\0b", 4);
	buf_putc(&b, '\0');
	assert_int_equal(b.len, 4);
	assert_int_equal(b.ptr[4], '\0');
	buf_release(&b);
}

static void
test_buf_put_of_nothing_leaves_the_shared_empty_string(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put(&b, "ignored", 0);
	buf_puts(&b, "");
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(b.cap, 0);
	/* nobody wrote into the shared string */
	assert_int_equal(buf_empty[0], '\0');
	buf_release(&b);
}

static void
test_buf_grows_across_many_appends(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 10000; i++)
		buf_putc(&b, 'a' + (int)(i % 26));
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= 10001);
	assert_int_equal(b.ptr[0], 'a');
	assert_int_equal(b.ptr[25], 'z');
	assert_int_equal(b.ptr[9999], 'a' + 9999 % 26);
	assert_int_equal(b.ptr[10000], '\0');
	assert_int_equal(strlen(b.ptr), 10000);
	buf_release(&b);
}

static void
test_buf_grow_reserves_without_changing_contents(void **state)
{
	struct buf b = BUF_INIT;
	char *before;

	(void)state;
	buf_grow(&b, 100);
	assert_true(b.cap >= 101);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	buf_puts(&b, "hello");
	before = b.ptr;
	buf_grow(&b, 10); /* already room: no reallocation */
	assert_ptr_equal(b.ptr, before);
	assert_string_equal(b.ptr, "hello");
	buf_release(&b);
}

static void
test_buf_printf_formats_into_empty_and_used_buffers(void **state)
{
	static const struct {
		const char *prefix; /* appended first with buf_puts */
		int number;
		const char *word;
		const char *want;
	} cases[] = {
	    {"", 42, "x", "42:x"},
	    {"pre ", -7, "", "pre -7:"},
	    {"", 0, "", "0:"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		buf_puts(&b, cases[i].prefix);
		buf_printf(&b, "%d:%s", cases[i].number, cases[i].word);
		assert_string_equal(b.ptr, cases[i].want);
		assert_int_equal(b.len, strlen(cases[i].want));
		buf_release(&b);
	}
}

static void
test_buf_printf_of_empty_text_keeps_the_buffer_valid(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	buf_printf(&b, "%s", "ok");
	assert_string_equal(b.ptr, "ok");
	buf_release(&b);
}

static void
test_buf_printf_larger_than_the_allocation_grows_to_fit(void **state)
{
	struct buf b = BUF_INIT;
	char big[3001];
	size_t i;

	(void)state;
	for (i = 0; i < 3000; i++)
		big[i] = (char)('0' + (int)(i % 10));
	big[3000] = '\0';
	buf_puts(&b, "<");
	buf_printf(&b, "%s>%d", big, 12345);
	assert_int_equal(b.len, 1 + 3000 + 1 + 5);
	assert_int_equal(b.ptr[0], '<');
	assert_memory_equal(b.ptr + 1, big, 3000);
	assert_string_equal(b.ptr + 3001, ">12345");
	buf_release(&b);
}

static void
test_buf_setlen_and_reset_truncate_but_keep_the_allocation(void **state)
{
	struct buf b = BUF_INIT;
	char *p;
	size_t cap;

	(void)state;
	buf_puts(&b, "hello world");
	p = b.ptr;
	cap = b.cap;
	buf_setlen(&b, 5);
	assert_string_equal(b.ptr, "hello");
	assert_int_equal(b.len, 5);
	buf_reset(&b);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.ptr, p);
	assert_int_equal(b.cap, cap);
	buf_release(&b);

	/* on BUF_INIT both are no-ops that keep the shared "" untouched */
	buf_reset(&b);
	buf_setlen(&b, 0);
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(buf_empty[0], '\0');
}

static void
test_buf_detach_hands_over_the_string_and_resets(void **state)
{
	struct buf b = BUF_INIT;
	char *s, *e;

	(void)state;
	buf_puts(&b, "owned");
	s = buf_detach(&b);
	assert_string_equal(s, "owned");
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);

	e = buf_detach(&b); /* empty buffer: an allocated "" */
	assert_non_null(e);
	assert_ptr_not_equal(e, buf_empty);
	assert_string_equal(e, "");
	free(e);
}

static void
test_buf_rtrim_removes_trailing_blanks_only(void **state)
{
	static const struct {
		const char *in;
		size_t in_len;
		const char *want;
		size_t want_len;
	} cases[] = {
	    {"abc \t\r\n\n", 8, "abc", 3},
	    {"  a b  ", 7, "  a b", 5},
	    {"\n\n", 2, "", 0},
	    {"x", 1, "x", 1},
	    {"", 0, "", 0},
	    /* a NUL byte is data, not whitespace */
	    {"a\0", 2, "a\0", 2},
	    {"a\0 ", 3, "a\0", 2},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		buf_put(&b, cases[i].in, cases[i].in_len);
		buf_rtrim(&b);
		assert_int_equal(b.len, cases[i].want_len);
		assert_memory_equal(b.ptr, cases[i].want, cases[i].want_len);
		assert_int_equal(b.ptr[b.len], '\0');
		buf_release(&b);
	}
}

static void wrapper(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wrapper(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static void
test_buf_vprintf_through_a_wrapper(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	/* enough rounds that some calls fit and some must grow */
	for (i = 0; i < 200; i++)
		wrapper(&b, "[%03zu]", i);
	assert_int_equal(b.len, 200 * 5);
	assert_memory_equal(b.ptr, "[000][001]", 10);
	assert_string_equal(b.ptr + b.len - 5, "[199]");
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_init_points_at_the_shared_empty_string),
	    cmocka_unit_test(test_buf_puts_putc_and_put_append_and_terminate),
	    cmocka_unit_test(test_buf_put_keeps_embedded_nul_bytes),
	    cmocka_unit_test(
		test_buf_put_of_nothing_leaves_the_shared_empty_string),
	    cmocka_unit_test(test_buf_grows_across_many_appends),
	    cmocka_unit_test(test_buf_grow_reserves_without_changing_contents),
	    cmocka_unit_test(
		test_buf_printf_formats_into_empty_and_used_buffers),
	    cmocka_unit_test(
		test_buf_printf_of_empty_text_keeps_the_buffer_valid),
	    cmocka_unit_test(
		test_buf_printf_larger_than_the_allocation_grows_to_fit),
	    cmocka_unit_test(
		test_buf_setlen_and_reset_truncate_but_keep_the_allocation),
	    cmocka_unit_test(test_buf_detach_hands_over_the_string_and_resets),
	    cmocka_unit_test(test_buf_rtrim_removes_trailing_blanks_only),
	    cmocka_unit_test(test_buf_vprintf_through_a_wrapper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
