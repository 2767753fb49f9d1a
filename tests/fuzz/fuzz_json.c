/*
 * fuzz_json.c - the JSON that migdir prints (report.c): rp_json_text and
 * rp_error_json, with hostile strings (bytes that are not UTF-8, control
 * characters, quotes) in messages, paths, hints and server fields; and
 * the error a SQL file gets from the parser, as --json prints it.
 *
 * Input: NUL-separated fields message, file, detail, hint, context,
 * sqlstate; the whole input is also parsed as a migration file.
 * Invariants: what is printed is valid UTF-8 and parses back with jansson;
 * no field is lost; valid UTF-8 comes back unchanged.
 */
#include <jansson.h>

#include "error.h"
#include "fuzz.h"
#include "report.h"
#include "sql.h"

/* Print j as rp_json does, check it and read it back (caller decrefs). */
static json_t *
round_trip(json_t *j)
{
	char *text;
	json_t *back;
	json_error_t err;

	FUZZ_CHECK(j != NULL);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(fuzz_utf8_valid(text, strlen(text)));
	back = json_loads(text, 0, &err);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(json_equal(back, j));
	free(text);
	json_decref(j);
	return back;
}

static void
check_text(const char *s)
{
	json_t *j = round_trip(json_pack("{s:o}", "v", rp_json_text(s)));
	const char *v = json_string_value(json_object_get(j, "v"));

	FUZZ_CHECK(v != NULL);
	if (fuzz_utf8_valid(s, strlen(s)))
		FUZZ_CHECK(strcmp(v, s) == 0);
	else
		FUZZ_CHECK(strstr(v, "\\x") != NULL); /* shown as \\xHH */
	json_decref(j);
}

static void
check_error(const struct mg_error *e)
{
	json_t *j = round_trip(rp_error_json(e)), *o;
	size_t want = 1;

	o = json_object_get(j, "error");
	FUZZ_CHECK(json_is_object(o));
	FUZZ_CHECK(json_is_string(json_object_get(o, "message")));
	want += (e->file != NULL) + (e->detail != NULL) + (e->hint != NULL) +
	    (e->context != NULL) + (e->sqlstate != NULL) + (e->line > 0) +
	    (e->col > 0);
	FUZZ_CHECK(json_object_size(o) == want);
	if (e->message && fuzz_utf8_valid(e->message, strlen(e->message)))
		FUZZ_CHECK(
		    strcmp(json_string_value(json_object_get(o, "message")),
			e->message) == 0);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *d = data;
	size_t n = size;
	struct mg_error e = {0};
	char *text = fuzz_str(data, size);
	struct sql_script *s = NULL;

	e.message = fuzz_field(&d, &n);
	e.file = fuzz_field(&d, &n);
	e.detail = fuzz_field(&d, &n);
	e.hint = fuzz_field(&d, &n);
	e.context = fuzz_field(&d, &n);
	e.sqlstate = fuzz_field(&d, &n);
	e.line = size > 0 ? data[0] % 3 : 0;
	e.col = size > 1 ? data[size - 1] % 3 : 0;
	e.code = MG_ERROR;
	check_text(e.message ? e.message : "");
	check_error(&e);
	/* a file's parse error, as migdir --json reports it */
	mg_error_clear();
	if (sql_parse_script(&s, e.file ? e.file : "m.sql", text, size) < 0)
		check_error(mg_error_last());
	sql_script_free(s);
	mg_error_clear();
	free(e.message);
	free(e.file);
	free(e.detail);
	free(e.hint);
	free(e.context);
	free(e.sqlstate);
	free(text);
	return 0;
}
