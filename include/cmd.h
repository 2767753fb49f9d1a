/*
 * cmd.h - the command table and what every command receives.
 *
 * To add a command (git's checklist):
 *  1. write src/cmd_NAME.c with `int cmd_NAME(struct ctx *, int, char **)`
 *     and its usage text (the synopsis of its man page);
 *  2. add its row to the table in src/cmd.c;
 *  3. write man/migdir-NAME.1 and list it in man/migdir.1;
 *  4. add tests/cli/tNNNN-NAME.sh and its expected output.
 *
 * A command returns an exit status: EXIT_OK, EXIT_PENDING (only when asked
 * with --exit-code), or a negative MG_E* code after recording the error,
 * which main.c prints and turns into EXIT_FAILURE or EXIT_USAGE.
 */
#ifndef MIGDIR_CMD_H
#define MIGDIR_CMD_H

#include "config.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,    /* something failed; nothing was left half done */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_PENDING = 3, /* --exit-code: pending work or inconsistency */
};

/* Global options and what main.c opened for the command. */
struct ctx {
	const char *dir;          /* -C DIR (already applied with chdir) */
	const char *config_path;  /* -c FILE */
	const char *env_name;     /* -e ENV */
	const char *database_url; /* --database-url URL */
	int json;                 /* --json */
	int verbosity;            /* -q: -1, -v: +1 each */
	int yes;                  /* --yes */
	const char *command;      /* the command's name */
	struct config cfg;        /* valid after ctx_config() */
	int cfg_loaded;
};

typedef int (*cmd_fn)(struct ctx *ctx, int argc, char **argv);

struct cmd {
	const char *name;
	cmd_fn fn;
	const char *summary; /* one line for `migdir help` */
	const char *usage;   /* full help text, as in the man page */
};

/* The table, terminated by a NULL name. */
extern const struct cmd commands[];

/* The command called name (full names only), or NULL. */
const struct cmd *cmd_lookup(const char *name);

/*
 * Load migdir.ini (from -c, or found in the current directory or a parent)
 * and chdir to its directory, so that every path is project-relative.
 * Returns 0 or an error (MG_ENOTFOUND with a hint to run migdir init).
 */
int ctx_config(struct ctx *ctx);

/* One option of a command (its global ones are added by cmd_options). */
struct cmd_opt {
	const char *name; /* long name without "--" */
	int short_name;   /* 0 for none */
	int has_arg;      /* 0 or 1 */
	int id;           /* returned by cmd_options */
};

/*
 * getopt_long over a command's options plus the global ones (which may
 * follow the command name too).  Call repeatedly: returns the id of the
 * next command option (*arg its argument), 0 at the end (*next = index of
 * the first operand), or MG_EUSAGE after printing what is wrong.  -h and
 * --help print the command's usage and return MG_EHELP (exit 0).
 */
int cmd_options(struct ctx *ctx, const struct cmd *self, int argc, char **argv,
    const struct cmd_opt *opts, const char **arg, int *next);

/*
 * cmd_options for a command that takes no options and no operands of its
 * own: 0, or MG_EUSAGE (or MG_EHELP after --help) as cmd_options.
 */
int cmd_no_args(struct ctx *ctx, const char *name, int argc, char **argv);

/* Report a usage error: "migdir CMD: message", then the synopsis; returns MG_EUSAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a positive count for --step; MG_EUSAGE if malformed. */
int cmd_parse_count(long *out, const char *cmd, const char *opt,
    const char *arg);

/* Print migdir's own usage (the command list) on stdout. */
void help_print_main(void);

int cmd_init(struct ctx *ctx, int argc, char **argv);
int cmd_new(struct ctx *ctx, int argc, char **argv);
int cmd_status(struct ctx *ctx, int argc, char **argv);
int cmd_plan(struct ctx *ctx, int argc, char **argv);
int cmd_apply(struct ctx *ctx, int argc, char **argv);
int cmd_rollback(struct ctx *ctx, int argc, char **argv);
int cmd_repair(struct ctx *ctx, int argc, char **argv);
int cmd_check(struct ctx *ctx, int argc, char **argv);
int cmd_consolidate(struct ctx *ctx, int argc, char **argv);
int cmd_baseline(struct ctx *ctx, int argc, char **argv);
int cmd_rehearse(struct ctx *ctx, int argc, char **argv);
int cmd_version(struct ctx *ctx, int argc, char **argv);
int cmd_help(struct ctx *ctx, int argc, char **argv);

#endif
