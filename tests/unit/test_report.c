/*
 * test_report.c - the JSON strings migdir prints (report.c): text from
 * outside that is not UTF-8 keeps its place in the document, each bad
 * byte shown as \xHH, and valid text passes unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "report.h"
#include "banned.h"

static void
test_rp_json_text_escapes_what_is_not_utf8(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "plain"},
	    {"", ""},
	    {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
		"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
	    {"tab\tnewline\n\x01", "tab\tnewline\n\x01"},
	    {"caf\xE9", "caf\\xe9"},                      /* LATIN1 */
	    {"\xFF\xFE", "\\xff\\xfe"},                   /* never UTF-8 */
	    {"a\xC3", "a\\xc3"},                          /* cut short */
	    {"\xC0\xAF", "\\xc0\\xaf"},                   /* overlong */
	    {"\xED\xA0\x80", "\\xed\\xa0\\x80"},          /* surrogate */
	    {"\xF4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* > U+10FFFF */
	    {"\xE2\x82x", "\\xe2\\x82x"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = rp_json_text(cases[i].in);

		assert_non_null(j);
		assert_string_equal(json_string_value(j), cases[i].want);
		json_decref(j);
	}
}

static void
test_rp_error_json_keeps_every_field(void **state)
{
	/* found by fuzzing: a field that is not UTF-8 was dropped */
	struct mg_error e = {0};
	json_t *j, *o;
	char *text;

	(void)state;
	e.code = MG_ERROR;
	e.message = "syntax error at or near \"\xFF\"";
	e.file = "/srv/caf\xE9/migrations/pending/20240101_x.sql";
	e.line = 3;
	e.col = 7;
	e.detail = "d\xC3";
	e.hint = "fine";
	j = rp_error_json(&e);
	assert_non_null(j);
	text = json_dumps(j, 0);
	assert_non_null(text);
	json_decref(j);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	o = json_object_get(j, "error");
	assert_int_equal(json_object_size(o), 6);
	assert_string_equal(json_string_value(json_object_get(o, "message")),
	    "syntax error at or near \"\\xff\"");
	assert_string_equal(json_string_value(json_object_get(o, "file")),
	    "/srv/caf\\xe9/migrations/pending/20240101_x.sql");
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	    "d\\xc3");
	assert_string_equal(json_string_value(json_object_get(o, "hint")),
	    "fine");
	json_decref(j);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rp_json_text_escapes_what_is_not_utf8),
	    cmocka_unit_test(test_rp_error_json_keeps_every_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
