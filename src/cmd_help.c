/*
 * cmd_help.c - migdir help [COMMAND]: the same text as the man pages'
 * synopses, from the command table.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "report.h"
#include "banned.h"

const char cmd_help_usage[] = "usage: migdir help [COMMAND]\n"
			      "\n"
			      "Show migdir's commands, or the help of one "
			      "command (the same as\n"
			      "\"migdir COMMAND --help\" and "
			      "\"man migdir-COMMAND\").\n";

void
help_print_main(void)
{
	const struct cmd *c;
	int width = 0;

	fputs("usage: migdir [-C DIR] [-c FILE] [-e ENV] [--database-url URL]\n"
	      "              [--json] [-q] [-v] [--yes] COMMAND [options]\n"
	      "\n"
	      "PostgreSQL migrations kept as SQL files in pending/, applied/ "
	      "and archive/;\n"
	      "every run is recorded in schema_versions and every move "
	      "committed to git.\n"
	      "\n"
	      "Commands:\n",
	    stdout);
	for (c = commands; c->name; c++)
		if ((int)strlen(c->name) > width)
			width = (int)strlen(c->name);
	for (c = commands; c->name; c++)
		printf("  %-*s  %s\n", width, c->name, c->summary);
	fputs("\n"
	      "Global options (before or after the command):\n"
	      "  -C DIR              run as if migdir was started in DIR\n"
	      "  -c FILE             read FILE instead of looking for "
	      "migdir.ini\n"
	      "  -e ENV              use environment ENV (default: the tracked "
	      "one)\n"
	      "  --database-url URL  connect to URL instead (with no -e: the "
	      "tracked database)\n"
	      "  --json              print one JSON document on stdout\n"
	      "  -q, --quiet         print only errors and results\n"
	      "  -v, --verbose       say more\n"
	      "  -y, --yes           do not ask for confirmation\n"
	      "\n"
	      "Exit status: 0 ok, 1 failure, 2 usage error, 3 pending work "
	      "or an\n"
	      "inconsistency (status --exit-code).\n"
	      "See \"migdir help COMMAND\" and man migdir.\n",
	    stdout);
}

int
cmd_help(struct ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;
	const char *arg;
	int next = 0, rc;

	while ((rc = cmd_options(ctx, cmd_lookup("help"), argc, argv, NULL,
		    &arg, &next)) > 0)
		;
	if (rc < 0)
		return rc;
	if (next >= argc) {
		help_print_main();
		return 0;
	}
	if (next + 1 < argc)
		return cmd_usage_error("help", "too many arguments");
	if (!(c = cmd_lookup(argv[next])))
		return cmd_usage_error("help", "unknown command \"%s\"",
		    argv[next]);
	fputs(c->usage, stdout);
	return 0;
}
