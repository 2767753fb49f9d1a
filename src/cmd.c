/*
 * cmd.c - the command table and what commands share: option parsing that
 * accepts the global options anywhere, and loading migdir.ini.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "error.h"
#include "report.h"
#include "xalloc.h"
#include "banned.h"

extern const char cmd_init_usage[], cmd_new_usage[], cmd_status_usage[],
    cmd_plan_usage[], cmd_apply_usage[], cmd_rollback_usage[],
    cmd_repair_usage[], cmd_check_usage[], cmd_consolidate_usage[],
    cmd_baseline_usage[], cmd_rehearse_usage[], cmd_version_usage[],
    cmd_help_usage[];

const struct cmd commands[] = {
    {"init", cmd_init,
	"create migdir.ini, the folders and the bookkeeping "
	"table",
	cmd_init_usage},
    {"new", cmd_new, "write a new migration and its rollback into pending/",
	cmd_new_usage},
    {"status", cmd_status,
	"show every migration's folder, database state "
	"and problems",
	cmd_status_usage},
    {"plan", cmd_plan,
	"show what apply or rollback would do; change "
	"nothing",
	cmd_plan_usage},
    {"apply", cmd_apply, "apply pending migrations, move them, commit",
	cmd_apply_usage},
    {"rollback", cmd_rollback,
	"roll back the most recently applied "
	"migrations",
	cmd_rollback_usage},
    {"repair", cmd_repair,
	"finish interrupted moves and commit them; runs "
	"no SQL",
	cmd_repair_usage},
    {"check", cmd_check,
	"check names, SQL and risk of every migration, without a database",
	cmd_check_usage},
    {"consolidate", cmd_consolidate,
	"fold applied/ into consolidated_schema.sql and move it to archive/",
	cmd_consolidate_usage},
    {"baseline", cmd_baseline,
	"record the versions a hand-migrated database has; runs no SQL",
	cmd_baseline_usage},
    {"rehearse", cmd_rehearse,
	"test each pending migration's rollback on scratch databases",
	cmd_rehearse_usage},
    {"version", cmd_version, "print migdir's version", cmd_version_usage},
    {"help", cmd_help, "show help for migdir or a command", cmd_help_usage},
    {NULL, NULL, NULL, NULL},
};

const struct cmd *
cmd_lookup(const char *name)
{
	const struct cmd *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int
ctx_config(struct ctx *ctx)
{
	char *path = NULL;
	int error;

	if (ctx->cfg_loaded)
		return 0;
	if (ctx->config_path)
		path = xstrdup(ctx->config_path);
	else if ((error = cfg_find(&path, ".")) < 0) {
		mg_error_hint("Run migdir init to start a project here, or use "
			      "-C DIR or -c FILE.");
		return error;
	}
	error = cfg_load(&ctx->cfg, path);
	free(path);
	if (error < 0)
		return error;
	if (chdir(ctx->cfg.root) < 0)
		return mg_error_os(MG_ERROR, "could not change to \"%s\"",
		    ctx->cfg.root);
	ctx->cfg_loaded = 1;
	return 0;
}

int
cmd_no_args(struct ctx *ctx, const char *name, int argc, char **argv)
{
	const char *arg;
	int next = 0, rc;

	while ((rc = cmd_options(ctx, cmd_lookup(name), argc, argv, NULL, &arg,
		    &next)) > 0)
		;
	if (rc < 0)
		return rc;
	if (next < argc)
		return cmd_usage_error(name, "unexpected argument \"%s\"",
		    argv[next]);
	return 0;
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mg_error_set(MG_EUSAGE, "%s%s%s", cmd ? cmd : "", cmd ? ": " : "",
	    b.ptr);
	mg_error_hint("Try \"migdir help%s%s\".", cmd ? " " : "",
	    cmd ? cmd : "");
	buf_release(&b);
	return MG_EUSAGE;
}

int
cmd_parse_count(long *out, const char *cmd, const char *opt, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0)
		return cmd_usage_error(cmd,
		    "%s needs a positive number, not "
		    "\"%s\"",
		    opt, arg);
	*out = v;
	return 0;
}

enum {
	G_DIR = 1000,
	G_CONFIG,
	G_ENV,
	G_URL,
	G_JSON,
	G_QUIET,
	G_VERBOSE,
	G_YES,
	G_HELP,
};

static const struct cmd_opt global_opts[] = {
    {"directory", 'C', 1, G_DIR},
    {"config", 'c', 1, G_CONFIG},
    {"env", 'e', 1, G_ENV},
    {"database-url", 0, 1, G_URL},
    {"json", 0, 0, G_JSON},
    {"quiet", 'q', 0, G_QUIET},
    {"verbose", 'v', 0, G_VERBOSE},
    {"yes", 'y', 0, G_YES},
    {"help", 'h', 0, G_HELP},
    {NULL, 0, 0, 0},
};

int
cmd_options(struct ctx *ctx, const struct cmd *self, int argc, char **argv,
    const struct cmd_opt *opts, const char **arg, int *next)
{
	struct option lo[64];
	struct buf so = BUF_INIT;
	const struct cmd_opt *sets[2] = {opts, global_opts};
	size_t n = 0, s;
	int c, found = 0, done = 0;

	if (*next == 0) {
		optind = 0; /* start a new parse (GNU getopt) */
		*next = -1;
	}
	/* global options stop at the command name; a command's options
	   may follow its operands */
	buf_puts(&so, self ? ":" : "+:");
	for (s = 0; s < 2; s++) {
		const struct cmd_opt *o;

		for (o = sets[s]; o && o->name; o++) {
			lo[n].name = o->name;
			lo[n].has_arg =
			    o->has_arg ? required_argument : no_argument;
			lo[n].flag = NULL;
			lo[n].val = o->short_name ? o->short_name : o->id;
			n++;
			if (o->short_name) {
				buf_putc(&so, o->short_name);
				if (o->has_arg)
					buf_putc(&so, ':');
			}
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	*arg = NULL;
	while (!done) {
		const struct cmd_opt *o = NULL;

		c = getopt_long(argc, argv, so.ptr, lo, NULL);
		if (c == -1) {
			*next = optind;
			found = 0;
			break;
		}
		if (c == '?' || c == ':') {
			char shortname[3] = {'-', (char)optopt, '\0'};
			const char *typed = argv[optind - 1];
			/* a long option is named as typed (not as its letter) */
			const char *bad = !strncmp(typed, "--", 2) ||
				!(optopt > ' ' && optopt < 127)
			    ? typed
			    : shortname;

			found = cmd_usage_error(self ? self->name : NULL,
			    c == ':' ? "option \"%s\" needs a value"
				     : "unknown option \"%s\"",
			    bad);
			break;
		}
		for (s = 0; s < 2 && !o; s++) {
			const struct cmd_opt *p;

			for (p = sets[s]; p && p->name; p++)
				if ((p->short_name && p->short_name == c) ||
				    (!p->short_name && p->id == c)) {
					o = p;
					break;
				}
		}
		if (!o)
			continue;
		switch (o->id) {
		case G_DIR:
			if (chdir(optarg) < 0) {
				found = mg_error_os(MG_ERROR,
				    "could not change to directory \"%s\"",
				    optarg);
				done = 1;
			}
			ctx->dir = optarg;
			break;
		case G_CONFIG:
			ctx->config_path = optarg;
			break;
		case G_ENV:
			ctx->env_name = optarg;
			break;
		case G_URL:
			ctx->database_url = optarg;
			break;
		case G_JSON:
			ctx->json = 1;
			rp_setup(ctx->verbosity, ctx->json);
			break;
		case G_QUIET:
			ctx->verbosity = -1;
			rp_setup(ctx->verbosity, ctx->json);
			break;
		case G_VERBOSE:
			ctx->verbosity++;
			rp_setup(ctx->verbosity, ctx->json);
			break;
		case G_YES:
			ctx->yes = 1;
			break;
		case G_HELP:
			if (self)
				fputs(self->usage, stdout);
			else
				help_print_main();
			found = MG_EHELP;
			done = 1;
			break;
		default:
			*arg = optarg;
			found = o->id;
			done = 1;
		}
	}
	buf_release(&so);
	return found;
}
