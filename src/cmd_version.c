/*
 * cmd_version.c - migdir version: print the version, fast.
 *
 * Loads no configuration and no library beyond what the binary links:
 * with -v it also names the libraries (which loads libgit2 and libpq).
 */
#include <stdio.h>

#include <jansson.h>

#include "cmd.h"
#include "db.h"
#include "report.h"
#include "sql.h"
#include "vcs.h"
#include "banned.h"

const char cmd_version_usage[] =
    "usage: migdir version [-v] [--json]\n"
    "\n"
    "Print migdir's version; with -v, also the versions of the libraries\n"
    "it uses.\n";

int
cmd_version(struct ctx *ctx, int argc, char **argv)
{
	int rc;

	if ((rc = cmd_no_args(ctx, "version", argc, argv)) < 0)
		return rc;
	if (ctx->json) {
		json_t *o = json_pack("{s:s}", "version", MIGDIR_VERSION);

		if (ctx->verbosity > 0) {
			json_object_set_new(o, "libpq",
			    json_string(db_library_version()));
			json_object_set_new(o, "libgit2",
			    json_string(vcs_library_version()));
			json_object_set_new(o, "parser",
			    json_integer(sql_parser_version()));
		}
		rp_json(o);
		return 0;
	}
	rp_result("migdir %s\n", MIGDIR_VERSION);
	if (ctx->verbosity > 0) {
		rp_result("libpq %s\n", db_library_version());
		rp_result("libgit2 %s\n", vcs_library_version());
		rp_result("PostgreSQL parser (libpg_query) %d.%d\n",
		    sql_parser_version() / 10000, sql_parser_version() % 10000);
		rp_result("jansson %s\n", JANSSON_VERSION);
	}
	return 0;
}
