/*
 * main.c - migdir [global options] COMMAND [options]
 *
 * Parses the global options, finds the command in the table (full names
 * only), runs it, prints the last error if it failed, and turns the result
 * into an exit status.  The only place that exits (besides xalloc.c on
 * exhaustion).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "report.h"
#include "banned.h"

static int
exit_status(int rc)
{
	if (rc >= 0)
		return rc;
	if (rc == MG_EHELP)
		return EXIT_OK;
	return rc == MG_EUSAGE ? EXIT_USAGE : EXIT_FAIL;
}

int
main(int argc, char **argv)
{
	struct ctx ctx;
	const struct cmd *cmd;
	const char *arg;
	int next = 0, rc;

	memset(&ctx, 0, sizeof(ctx));
	rp_setup(0, 0);
	rc = cmd_options(&ctx, NULL, argc, argv, NULL, &arg, &next);
	if (rc < 0)
		goto out;
	if (next >= argc) {
		help_print_main();
		rc = MG_EUSAGE;
		mg_error_set(MG_EUSAGE, "no command given");
		goto out;
	}
	if (!(cmd = cmd_lookup(argv[next]))) {
		rc =
		    cmd_usage_error(NULL, "unknown command \"%s\"", argv[next]);
		goto out;
	}
	ctx.command = cmd->name;
	rc = cmd->fn(&ctx, argc - next, argv + next);
out:
	if (rc < 0 && mg_error_last()->message) {
		if (ctx.json && !rp_json_printed())
			rp_json(rp_error_json(mg_error_last()));
		rp_print_error(mg_error_last());
	}
	rc = exit_status(rc);
	if (ctx.cfg_loaded)
		cfg_release(&ctx.cfg);
	mg_error_clear();
	if (rp_finish() < 0) {
		fprintf(stderr, "migdir: error: could not write to stdout\n");
		return EXIT_FAIL;
	}
	return rc;
}
