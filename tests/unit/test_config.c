/*
 * test_config.c - unit tests for migdir.ini (src/config.c).
 *
 * Each test writes its migdir.ini into a fresh mkdtemp directory and loads
 * it with cfg_load.  Covers: every key of [migdir] and [env NAME] with the
 * defaults of what is left out; the implicit "default" environment; the
 * choice of the tracked environment; sections without keys; indented keys;
 * the directory that relative paths start from; the password and
 * permission flags; every error path, each with its message and its
 * file:line locus (first error wins); ${VAR} expansion (cfg_expand);
 * durations; password detection and redaction in URLs and conninfo
 * strings; cfg_find walking up the parents; and the init template, which
 * must load as it is written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "testutil.h"
#include "banned.h"

static int
setup_dir(void **state)
{
	char *dir = tu_mkdtemp("migdir-config");

	if (!dir)
		return -1;
	*state = dir;
	return 0;
}

static int
teardown_dir(void **state)
{
	char *dir = *state;

	tu_rmrf(dir);
	free(dir);
	return 0;
}

/* Write text to DIR/migdir.ini; returns the path (caller frees). */
static char *
write_ini(const char *dir, const char *text)
{
	char *path = tu_path(dir, CFG_FILE);

	assert_int_equal(tu_write_file(path, text), 0);
	return path;
}

static void
test_config_reads_every_key(void **state)
{
	static const char text[] =
	    "; a comment\n"
	    "# another comment\n"
	    "[migdir]\n"
	    "migrations = db/migrations\n"
	    "consolidated_schema = db/schema.sql   ; inline comment\n"
	    "table = versions\n"
	    "schema = ops\n"
	    "tracked = production\n"
	    "git = stage\n"
	    "lock_wait = 90s\n"
	    "\n"
	    "[env production]\n"
	    "url = postgresql://app@db.example.com/app\n"
	    "lock_timeout = 5s\n"
	    "statement_timeout = 15min\n"
	    "lock_wait = 2min\n"
	    "\n"
	    "[env staging]\n"
	    "service = crm_staging\n";
	const char *dir = *state;
	char *path = write_ini(dir, text);
	struct config cfg;
	const struct env *prod, *stg;

	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.root, dir);
	assert_string_equal(cfg.migrations, "db/migrations");
	assert_string_equal(cfg.consolidated, "db/schema.sql");
	assert_string_equal(cfg.table, "versions");
	assert_string_equal(cfg.schema, "ops");
	assert_string_equal(cfg.tracked, "production");
	assert_int_equal(cfg.git, CFG_GIT_STAGE);
	assert_int_equal(cfg.lock_wait_ms, 90000);
	assert_int_equal(cfg.nenvs, 2);
	assert_int_equal(cfg.password_in_file, 0);

	prod = cfg_env(&cfg, "production");
	assert_non_null(prod);
	assert_ptr_equal(prod, &cfg.envs[0]);
	assert_ptr_equal(cfg_tracked(&cfg), prod);
	assert_string_equal(prod->url, "postgresql://app@db.example.com/app");
	assert_null(prod->service);
	assert_string_equal(prod->lock_timeout, "5s");
	assert_string_equal(prod->statement_timeout, "15min");
	assert_int_equal(prod->lock_wait_ms, 120000);
	assert_int_equal(prod->line, 12);

	stg = cfg_env(&cfg, "staging");
	assert_ptr_equal(stg, &cfg.envs[1]);
	assert_null(stg->url);
	assert_string_equal(stg->service, "crm_staging");
	assert_null(stg->lock_timeout);
	assert_null(stg->statement_timeout);
	assert_int_equal(stg->lock_wait_ms, -1);
	assert_int_equal(stg->line, 18);

	assert_null(cfg_env(&cfg, "nope"));
	cfg_release(&cfg);
	assert_null(cfg.envs);
	cfg_release(&cfg); /* safe twice */
	free(path);
}

static void
test_config_empty_file_has_defaults_and_an_implicit_environment(void **state)
{
	const char *dir = *state;
	char *path = write_ini(dir, "");
	struct config cfg;
	const struct env *env;

	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_string_equal(cfg.migrations, "migrations");
	assert_string_equal(cfg.consolidated, "consolidated_schema.sql");
	assert_string_equal(cfg.table, "schema_versions");
	assert_string_equal(cfg.schema, "public");
	assert_int_equal(cfg.git, CFG_GIT_COMMIT);
	assert_int_equal(cfg.lock_wait_ms, 60000);
	assert_int_equal(cfg.nenvs, 1);
	assert_string_equal(cfg.tracked, "default");
	env = cfg_tracked(&cfg);
	assert_non_null(env);
	assert_string_equal(env->name, "default");
	assert_null(env->url);
	assert_null(env->service);
	assert_int_equal(env->line, 0);
	assert_int_equal(env->lock_wait_ms, -1);
	cfg_release(&cfg);
	free(path);
}

static void
test_config_tracks_the_only_environment_and_keyless_sections(void **state)
{
	static const struct {
		const char *text;
		const char *tracked;
		size_t nenvs;
		int line; /* of the tracked environment's header */
	} cases[] = {
	    {"[env dev]\nurl = postgresql:///dev\n", "dev", 1, 1},
	    /* a section without keys is still an environment */
	    {"[migdir]\ngit = off\n\n[env local]\n", "local", 1, 4},
	    {"[migdir]\ntracked = b\n[env a]\n[env b]\n", "b", 2, 4},
	    {"[env a]\n[env b-2_x]\n[migdir]\ntracked = b-2_x\n", "b-2_x", 2,
		2},
	    /* blanks inside the brackets are not part of the name */
	    {"[migdir]\ntracked = prod\n[env prod ]\n"
	     "url = postgresql:///prod\n",
		"prod", 1, 3},
	    {"[migdir]\ntracked = prod\n  [env   prod]\n"
	     "url = postgresql:///prod\n",
		"prod", 1, 3},
	};
	const char *dir = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_ini(dir, cases[i].text);
		struct config cfg;

		if (cfg_load(&cfg, path) < 0)
			fail_msg("case %zu: %s", i, mg_error_last()->message);
		assert_string_equal(cfg.tracked, cases[i].tracked);
		assert_int_equal(cfg.nenvs, cases[i].nenvs);
		assert_non_null(cfg_tracked(&cfg));
		assert_string_equal(cfg_tracked(&cfg)->name, cases[i].tracked);
		assert_int_equal(cfg_tracked(&cfg)->line, cases[i].line);
		cfg_release(&cfg);
		free(path);
	}
}

static void
test_config_git_takes_three_values(void **state)
{
	static const struct {
		const char *value;
		enum cfg_git git;
	} cases[] = {
	    {"commit", CFG_GIT_COMMIT},
	    {"stage", CFG_GIT_STAGE},
	    {"off", CFG_GIT_OFF},
	};
	const char *dir = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text =
		    tu_asprintf("[migdir]\ngit = %s\n", cases[i].value);
		char *path = write_ini(dir, text);
		struct config cfg;

		assert_int_equal(cfg_load(&cfg, path), 0);
		assert_int_equal(cfg.git, cases[i].git);
		cfg_release(&cfg);
		free(path);
		free(text);
	}
}

static void
test_config_indented_keys_are_keys_not_continuations(void **state)
{
	static const char text[] = "[env prod]\n"
				   "    url = postgresql:///prod\n"
				   "    lock_timeout = 5s\n"
				   "    statement_timeout = 1min\n";
	const char *dir = *state;
	char *path = write_ini(dir, text);
	struct config cfg;

	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_string_equal(cfg.envs[0].url, "postgresql:///prod");
	assert_string_equal(cfg.envs[0].lock_timeout, "5s");
	assert_string_equal(cfg.envs[0].statement_timeout, "1min");
	cfg_release(&cfg);
	free(path);
}

static void
test_config_root_is_the_directory_of_the_file(void **state)
{
	const char *dir = *state;
	char *path = write_ini(dir, "");
	char cwd[PATH_MAX];
	struct config cfg;

	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_string_equal(cfg.root, dir);
	cfg_release(&cfg);

	/* a bare file name: the current directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cfg_load(&cfg, CFG_FILE), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(cfg.path, CFG_FILE);
	assert_string_equal(cfg.root, ".");
	cfg_release(&cfg);
	free(path);
}

static void
test_config_notes_passwords_and_loose_permissions(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		int password, readable;
	} cases[] = {
	    {"[env p]\nurl = postgresql://app:s3cret@db/app\n", 0644, 1, 1},
	    {"[env p]\nurl = postgresql://app:s3cret@db/app\n", 0600, 1, 0},
	    {"[env p]\nurl = host=db password=s3cret\n", 0640, 1, 1},
	    {"[env p]\nurl = postgresql://app@db/app\n", 0644, 0, 1},
	    {"[env p]\nservice = app\n", 0600, 0, 0},
	    /* any environment counts, not only the tracked one */
	    {"[migdir]\ntracked = p\n[env p]\n[env q]\n"
	     "url = postgresql://u:pw@h/d\n",
		0604, 1, 1},
	};
	const char *dir = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_ini(dir, cases[i].text);
		struct config cfg;

		assert_int_equal(chmod(path, cases[i].mode), 0);
		assert_int_equal(cfg_load(&cfg, path), 0);
		assert_int_equal(cfg.password_in_file, cases[i].password);
		assert_int_equal(cfg.world_readable, cases[i].readable);
		cfg_release(&cfg);
		free(path);
	}
}

static void
test_config_errors_name_the_file_and_line(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *words;
	} cases[] = {
	    {"[migdir]\ntrackd = production\n", 2,
		"unknown key \"trackd\" in section [migdir]"},
	    {"[env prod]\nurl = x\nuri = y\n", 3,
		"unknown key \"uri\" in section [env prod]"},
	    {"[migdir]\n\n[database]\nhost = x\n", 4,
		"unknown section [database]"},
	    {"url = x\n[env prod]\n", 1, "key \"url\" outside any section"},
	    {"[migdir]\ngit = yes\n", 2,
		"invalid value \"yes\" for git: use commit, stage or off"},
	    {"[migdir]\nlock_wait = soon\n", 2, "invalid duration \"soon\""},
	    {"[env p]\nlock_timeout = 5 sec\n", 2,
		"invalid duration \"5 sec\""},
	    {"[env p]\nstatement_timeout = -1\n", 2, "invalid duration \"-1\""},
	    {"[env p]\nlock_wait = 1d\n", 2, "invalid duration \"1d\""},
	    {"[migdir]\ntable =\n", 2, "invalid table name \"\""},
	    {"[migdir]\nschema = "
	     "a234567890123456789012345678901234567890123456789012345678901"
	     "234\n",
		2, "invalid schema name"},
	    {"[migdir]\nmigrations =\n", 2, "empty value for migrations"},
	    {"[migdir]\nconsolidated_schema =\n", 2,
		"empty value for consolidated_schema"},
	    {"[migdir]\ntracked =\n", 2, "empty value for tracked"},
	    {"[env a b]\n", 1, "invalid environment name \"a b\""},
	    {"[env pr;od]\n", 1, "invalid environment name"},
	    {"[env   ]\nurl = x\n", 1, "invalid environment name \"\""},
	    {"[env prod]\n[env dev]\n\n[env prod]\n", 4,
		"environment \"prod\" is defined twice"},
	    {"[migdir]\nthis line has no equals sign\n", 2, "syntax error"},
	    {"[migdir\ngit = off\n", 1, "syntax error"},
	    /* the first error wins, message and line together */
	    {"[migdir]\ngit = maybe\nfoo = 1\n", 2, "invalid value"},
	    {"[migdir]\nnonsense\nfoo = 1\n", 2, "syntax error"},
	    {"[migdir]\ntracked = prod\n[env dev]\n", 2,
		"tracked environment \"prod\" has no [env prod] section"},
	    {"[migdir]\ntracked = a\ntracked = b\n[env a]\n[env b]\n", 3,
		"tracked"},
	};
	const char *dir = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_ini(dir, cases[i].text);
		const struct mg_error *err;
		struct config cfg;

		mg_error_clear();
		if (cfg_load(&cfg, path) != MG_ERROR)
			fail_msg("case %zu loaded: %s", i, cases[i].text);
		err = mg_error_last();
		assert_int_equal(err->code, MG_ERROR);
		if (!strstr(err->message, cases[i].words))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
			    err->message, cases[i].words);
		assert_non_null(err->file);
		assert_string_equal(err->file, path);
		if (err->line != cases[i].line)
			fail_msg("case %zu: line %d, want %d (%s)", i,
			    err->line, cases[i].line, err->message);
		/* a failed load leaves nothing to free */
		assert_null(cfg.path);
		assert_null(cfg.envs);
		assert_int_equal(cfg.nenvs, 0);
		free(path);
	}
	mg_error_clear();
}

static void
test_config_untracked_environments_are_an_error_with_a_hint(void **state)
{
	const char *dir = *state;
	char *path = write_ini(dir, "[env a]\n[env b]\n[env c]\n");
	struct config cfg;

	mg_error_clear();
	assert_int_equal(cfg_load(&cfg, path), MG_ERROR);
	assert_string_equal(mg_error_last()->message,
	    "3 environments and none is tracked");
	assert_string_equal(mg_error_last()->file, path);
	assert_non_null(mg_error_last()->hint);
	assert_non_null(strstr(mg_error_last()->hint, "tracked = NAME"));
	mg_error_clear();
	free(path);
}

static void
test_config_line_numbers_survive_very_long_lines(void **state)
{
	char *text, *path, comment[3001];
	const char *dir = *state;
	struct config cfg;

	memset(comment, 'x', sizeof(comment) - 1);
	comment[sizeof(comment) - 1] = '\0';
	text = tu_asprintf("[migdir]\ntracked = b\n; %s\n[env a]\n"
			   "url = postgresql:///%s\n[env b]\nbogus = 1\n",
	    comment, comment);
	path = write_ini(dir, text);
	mg_error_clear();
	assert_int_equal(cfg_load(&cfg, path), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, "unknown key"));
	assert_int_equal(mg_error_last()->line, 7);
	free(path);
	free(text);

	text = tu_asprintf("[migdir]\ntracked = b\n; %s\n[env a]\n"
			   "url = postgresql:///%s\n[env b]\n",
	    comment, comment);
	path = write_ini(dir, text);
	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_int_equal(cfg_env(&cfg, "a")->line, 4);
	assert_int_equal(cfg_env(&cfg, "b")->line, 6);
	assert_int_equal(strlen(cfg_env(&cfg, "a")->url), 3000 + 14);
	cfg_release(&cfg);
	free(path);
	free(text);
	mg_error_clear();
}

static void
test_config_missing_file_or_directory_is_refused(void **state)
{
	const char *dir = *state;
	char *missing = tu_path(dir, "nope.ini");
	struct config cfg;

	mg_error_clear();
	assert_int_equal(cfg_load(&cfg, missing), MG_ENOTFOUND);
	assert_non_null(strstr(mg_error_last()->message, "not found"));
	assert_null(cfg.path);

	/* a directory is not a configuration file (not an empty one) */
	assert_int_equal(cfg_load(&cfg, dir), MG_ERROR);
	assert_non_null(strstr(mg_error_last()->message, dir));
	assert_null(cfg.path);
	mg_error_clear();
	free(missing);
}

static void
test_config_template_loads_as_written(void **state)
{
	const char *dir = *state;
	char *path = write_ini(dir, cfg_template());
	struct config cfg;

	assert_int_equal(cfg_load(&cfg, path), 0);
	assert_string_equal(cfg.tracked, "production");
	assert_int_equal(cfg.nenvs, 1);
	assert_string_equal(cfg.migrations, "migrations");
	assert_int_equal(cfg.git, CFG_GIT_COMMIT);
	assert_int_equal(cfg.lock_wait_ms, 60000);
	assert_null(cfg_tracked(&cfg)->url);
	assert_int_equal(cfg.password_in_file, 0);
	cfg_release(&cfg);
	free(path);
}

static void
test_cfg_expand_replaces_variables(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"${MIGDIR_T_URL}", "postgresql://h/db"},
	    {"a${MIGDIR_T_A}b${MIGDIR_T_B}c", "a1b2c"},
	    {"${MIGDIR_T_A}${MIGDIR_T_A}", "11"},
	    {"$MIGDIR_T_A", "$MIGDIR_T_A"},
	    {"$${MIGDIR_T_A}", "$1"},
	    {"cost $5", "cost $5"},
	    {"${MIGDIR_T_EMPTY}x", "x"},
	    {"plain", "plain"},
	    {"", ""},
	};
	size_t i;

	(void)state;
	assert_int_equal(setenv("MIGDIR_T_URL", "postgresql://h/db", 1), 0);
	assert_int_equal(setenv("MIGDIR_T_A", "1", 1), 0);
	assert_int_equal(setenv("MIGDIR_T_B", "2", 1), 0);
	assert_int_equal(setenv("MIGDIR_T_EMPTY", "", 1), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;

		assert_int_equal(cfg_expand(&out, cases[i].in), 0);
		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

static void
test_cfg_expand_refuses_unset_and_malformed_variables(void **state)
{
	static const struct {
		const char *in;
		const char *words;
	} cases[] = {
	    {"${MIGDIR_T_UNSET}",
		"environment variable \"MIGDIR_T_UNSET\" is not set"},
	    {"x${MIGDIR_T_A}${MIGDIR_T_UNSET}",
		"\"MIGDIR_T_UNSET\" is not set"},
	    {"${}", "unterminated or empty ${...}"},
	    {"${MIGDIR_T_A", "unterminated or empty ${...}"},
	};
	size_t i;

	(void)state;
	assert_int_equal(setenv("MIGDIR_T_A", "1", 1), 0);
	assert_int_equal(unsetenv("MIGDIR_T_UNSET"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = (char *)"untouched";

		mg_error_clear();
		assert_int_equal(cfg_expand(&out, cases[i].in), MG_ERROR);
		assert_string_equal(out, "untouched");
		if (!strstr(mg_error_last()->message, cases[i].words))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].in,
			    mg_error_last()->message, cases[i].words);
	}
	mg_error_clear();
}

static void
test_cfg_parse_duration_reads_units(void **state)
{
	static const struct {
		const char *text;
		int ok;
		long ms;
	} cases[] = {
	    {"0", 1, 0},
	    {"250", 1, 250},
	    {"250ms", 1, 250},
	    {"5s", 1, 5000},
	    {"15min", 1, 900000},
	    {"2h", 1, 7200000},
	    {"007s", 1, 7000},
	    {"", 0, 0},
	    {"s", 0, 0},
	    {"5 s", 0, 0},
	    {" 5s", 0, 0},
	    {"5s ", 0, 0},
	    {"-5", 0, 0},
	    {"+5", 0, 0},
	    {"1.5s", 0, 0},
	    {"5m", 0, 0},
	    {"5S", 0, 0},
	    {"5sec", 0, 0},
	    {"5d", 0, 0},
	    {"99999999999999999999", 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long ms = -42;
		int rc;

		mg_error_clear();
		rc = cfg_parse_duration(&ms, cases[i].text);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(ms, cases[i].ms);
		} else {
			if (rc != MG_ERROR)
				fail_msg("\"%s\" accepted as %ld",
				    cases[i].text, ms);
			assert_int_equal(ms, -42);
			assert_non_null(
			    strstr(mg_error_last()->message, "duration"));
		}
	}
	mg_error_clear();
}

static void
test_cfg_has_password_finds_literal_passwords(void **state)
{
	static const struct {
		const char *conninfo;
		int has;
	} cases[] = {
	    {"postgresql://app:s3cret@db/app", 1},
	    {"postgres://app:p%40ss@db:5432/app?sslmode=require", 1},
	    {"postgresql://app:p@ss@db/app", 1},
	    {"postgresql://db/app?password=s3cret", 1},
	    {"postgresql://db/app?sslmode=require&password=x", 1},
	    {"host=db password=s3cret", 1},
	    {"password = s3cret host=db", 1},
	    {"host=db password='a b'", 1},
	    /* found by fuzzing against libpq's own parser */
	    {"user='app'password=s3cret", 1},
	    {"postgresql://app:s3?cret@db/app", 1},
	    {"postgresql://app:s3#cret@db/app", 1},
	    {"postgresql://app@db/app", 0},
	    {"postgresql://app:@db/app", 0},
	    {"postgresql://db:5432/app", 0},
	    {"postgresql://db/app?passfile=/x", 0},
	    {"host=db passfile=/home/x/.pgpass", 0},
	    {"host=db sslpassword=x", 0},
	    {"host=db user=password", 0},
	    {"service=app", 0},
	    {"", 0},
	    {"${DATABASE_URL}", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cfg_has_password(cases[i].conninfo) != cases[i].has)
			fail_msg("cfg_has_password(\"%s\") != %d",
			    cases[i].conninfo, cases[i].has);
}

static void
test_cfg_redact_masks_every_password(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"postgresql://app:s3cret@db/app",
		"postgresql://app:<redacted>@db/app"},
	    {"postgresql://app:p@ss@db/app",
		"postgresql://app:<redacted>@db/app"},
	    {"postgresql://db/app?password=s3cret&sslmode=require",
		"postgresql://db/app?password=<redacted>&sslmode=require"},
	    {"host=db password=s3cret user=app",
		"host=db password=<redacted> user=app"},
	    {"host=db password = s3cret", "host=db password = <redacted>"},
	    {"password='it\\'s a secret' dbname=x",
		"password=<redacted> dbname=x"},
	    {"password='a b c' dbname=x", "password=<redacted> dbname=x"},
	    /* found by fuzzing against libpq's own parser */
	    {"user='app'password=s3cret", "user='app'password=<redacted>"},
	    {"password='s3cret'host=db", "password=<redacted> host=db"},
	    {"password=x,postgresql://app:s3cret@db/app host=db",
		"password=<redacted> host=db"},
	    {"postgresql://a password='b:s3cret@db/app",
		"postgresql://a password='b:<redacted>@db/app"},
	    {"postgresql://db/app?password= s3cret",
		"postgresql://db/app?password=<redacted>"},
	    {"host=db password=s3\\ cret user=app",
		"host=db password=<redacted> user=app"},
	    {"host=db password=s3&cret", "host=db password=<redacted>"},
	    {"postgresql://db/app?password=s3 cret&sslmode=require",
		"postgresql://db/app?password=<redacted>&sslmode=require"},
	    {"postgresql://app:s3?cret@db/app",
		"postgresql://app:<redacted>@db/app"},
	    {"could not connect to postgresql://u:pw@h/d: refused",
		"could not connect to postgresql://u:<redacted>@h/d: "
		"refused"},
	    {"postgresql://app@db/app", "postgresql://app@db/app"},
	    {"host=db sslpassword=x", "host=db sslpassword=x"},
	    {"host=db passfile=/x", "host=db passfile=/x"},
	    {"", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = cfg_redact(cases[i].in);

		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

static void
test_cfg_find_walks_up_to_the_nearest_file(void **state)
{
	const char *dir = *state;
	char *real = realpath(dir, NULL);
	char *deep = tu_asprintf("%s/a/b/c", dir);
	char *mid = tu_asprintf("%s/a", dir);
	char *ini = tu_asprintf("%s/a/%s", dir, CFG_FILE);
	char *want = tu_asprintf("%s/a/%s", real, CFG_FILE);
	char *want_deep = tu_asprintf("%s/a/b/c/%s", real, CFG_FILE);
	char *out = NULL;

	assert_int_equal(tu_mkdirs(deep), 0);
	assert_int_equal(tu_write_file(ini, ""), 0);

	assert_int_equal(cfg_find(&out, deep), 0);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(cfg_find(&out, mid), 0);
	assert_string_equal(out, want);
	free(out);

	/* the nearest one wins */
	free(ini);
	ini = tu_asprintf("%s/%s", deep, CFG_FILE);
	assert_int_equal(tu_write_file(ini, ""), 0);
	assert_int_equal(cfg_find(&out, deep), 0);
	assert_string_equal(out, want_deep);
	free(out);

	free(real);
	free(deep);
	free(mid);
	free(ini);
	free(want);
	free(want_deep);
}

static void
test_cfg_find_without_a_file_is_not_found(void **state)
{
	const char *dir = *state;
	char *missing = tu_path(dir, "no/such/dir");
	char *real = realpath(dir, NULL), *p;
	char *out = NULL;
	int above = 0;

	/* a migdir.ini in a parent of the temporary directory would count */
	for (p = real; p && *p;) {
		char *f = tu_asprintf("%s/%s", p, CFG_FILE);

		above |= access(f, F_OK) == 0;
		free(f);
		if ((f = strrchr(p, '/')) == p || !f)
			break;
		*f = '\0';
	}
	if (!above && access("/" CFG_FILE, F_OK) == 0)
		above = 1;
	if (!above) {
		mg_error_clear();
		assert_int_equal(cfg_find(&out, dir), MG_ENOTFOUND);
		assert_null(out);
		assert_non_null(strstr(mg_error_last()->message,
		    "no migdir.ini in this directory or any parent"));
	}
	mg_error_clear();
	assert_int_equal(cfg_find(&out, missing), MG_ENOTFOUND);
	assert_null(out);
	assert_non_null(strstr(mg_error_last()->message, "could not resolve"));
	mg_error_clear();
	free(missing);
	free(real);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
	    T(test_config_reads_every_key),
	    T(test_config_empty_file_has_defaults_and_an_implicit_environment),
	    T(test_config_tracks_the_only_environment_and_keyless_sections),
	    T(test_config_git_takes_three_values),
	    T(test_config_indented_keys_are_keys_not_continuations),
	    T(test_config_root_is_the_directory_of_the_file),
	    T(test_config_notes_passwords_and_loose_permissions),
	    T(test_config_errors_name_the_file_and_line),
	    T(test_config_untracked_environments_are_an_error_with_a_hint),
	    T(test_config_line_numbers_survive_very_long_lines),
	    T(test_config_missing_file_or_directory_is_refused),
	    T(test_config_template_loads_as_written),
	    cmocka_unit_test(test_cfg_expand_replaces_variables),
	    cmocka_unit_test(
		test_cfg_expand_refuses_unset_and_malformed_variables),
	    cmocka_unit_test(test_cfg_parse_duration_reads_units),
	    cmocka_unit_test(test_cfg_has_password_finds_literal_passwords),
	    cmocka_unit_test(test_cfg_redact_masks_every_password),
	    T(test_cfg_find_walks_up_to_the_nearest_file),
	    T(test_cfg_find_without_a_file_is_not_found),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
