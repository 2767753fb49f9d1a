/*
 * fuzz_config.c - the ini loader and its helpers (config.h): cfg_load,
 * cfg_expand with ${VAR}, cfg_has_password, cfg_redact,
 * cfg_parse_duration.
 *
 * Input: a migdir.ini, written to a file of its own (cfg_load reads a
 * path), and also taken whole as one value.  The oracle for passwords is
 * libpq itself (PQconninfoParse, as the connection would read the
 * string): when libpq finds a password, cfg_has_password must say so and
 * what cfg_redact prints must give libpq no password but "<redacted>" (or,
 * if libpq cannot read it any more, not hold the password).
 */
#include <stdbool.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "error.h"
#include "fuzz.h"

/* in memory when it can: a file on disk per run is 20 times slower */
static char shm_dir[] = "/dev/shm/migdir-fuzz-config-XXXXXX";
static char tmp_dir[] = "/tmp/migdir-fuzz-config-XXXXXX";
static const char *dir;
static char path[sizeof(shm_dir) + sizeof("/" CFG_FILE)];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!(dir = mkdtemp(shm_dir)) && !(dir = mkdtemp(tmp_dir)))
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, CFG_FILE);
	atexit(cleanup);
	/* what ${VAR} finds: no '$', '{' or '}' so that none is left over */
	setenv("FUZZ_URL", "postgresql://app:s3cret@db.example/app", 1);
	setenv("FUZZ_HOST", "db.example", 1);
	setenv("FUZZ_EMPTY", "", 1);
	unsetenv("FUZZ_UNSET");
	return 0;
}

/* The password libpq reads in conninfo (caller frees), or NULL. */
static char *
libpq_password(const char *conninfo, bool *parsed)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *pw = NULL;

	opts = PQconninfoParse(conninfo, &err);
	PQfreemem(err);
	*parsed = opts != NULL;
	if (!opts)
		return NULL;
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			pw = strdup(o->val);
	PQconninfoFree(opts);
	return pw;
}

static void
check_password(const char *conninfo)
{
	bool parsed;
	char *pw = libpq_password(conninfo, &parsed), *red, *left;

	red = cfg_redact(conninfo);
	FUZZ_CHECK(red != NULL);
	if (!cfg_has_password(conninfo))
		FUZZ_CHECK(strcmp(red, conninfo) == 0);
	if (pw && strcmp(pw, "<redacted>") != 0) {
		FUZZ_CHECK(cfg_has_password(conninfo));
		/*
		 * libpq reads "<redacted>" back, no tail of the value left
		 * over; or, when masking through the last '@' of a URL left
		 * a string libpq cannot read, at least not the password
		 */
		left = libpq_password(red, &parsed);
		if (parsed) /* (masking too much may leave no password) */
			FUZZ_CHECK(
			    left == NULL || strcmp(left, "<redacted>") == 0);
		else
			FUZZ_CHECK(strstr(red, pw) == NULL);
		free(left);
	}
	free(pw);
	free(red);
}

static void
check_expand(const char *value)
{
	char *out = NULL;

	if (cfg_expand(&out, value) < 0) {
		FUZZ_CHECK(out == NULL || true);
		FUZZ_CHECK(mg_error_last()->message != NULL);
		mg_error_clear();
		return;
	}
	FUZZ_CHECK(out != NULL);
	/* ("$${FUZZ_EMPTY}{X}" makes a "${" of its own) */
	if (!strstr(value, "FUZZ_EMPTY"))
		FUZZ_CHECK(strstr(out, "${") == NULL);
	if (!strstr(value, "${"))
		FUZZ_CHECK(strcmp(out, value) == 0);
	check_password(out);
	free(out);
}

static void
check_duration(const char *text)
{
	long ms = -1;

	if (cfg_parse_duration(&ms, text) < 0) {
		mg_error_clear();
		return;
	}
	FUZZ_CHECK(ms >= 0);
	FUZZ_CHECK(text[0] >= '0' && text[0] <= '9');
}

static void
check_config(const struct config *cfg)
{
	const struct env *t = cfg_tracked(cfg);
	int has_pw = 0;
	size_t i, j;

	FUZZ_CHECK(t != NULL && cfg->tracked != NULL);
	FUZZ_CHECK(cfg_env(cfg, cfg->tracked) == t);
	FUZZ_CHECK(cfg->nenvs >= 1);
	FUZZ_CHECK(cfg->migrations && *cfg->migrations);
	FUZZ_CHECK(cfg->consolidated && *cfg->consolidated);
	FUZZ_CHECK(cfg->table && *cfg->table && cfg->schema && *cfg->schema);
	FUZZ_CHECK(cfg->lock_wait_ms >= 0);
	if (cfg->scratch_url) {
		has_pw |= cfg_has_password(cfg->scratch_url);
		check_password(cfg->scratch_url);
	}
	for (i = 0; i < cfg->nenvs; i++) {
		const struct env *e = &cfg->envs[i];
		long ms;

		FUZZ_CHECK(e->name != NULL);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg->envs[j].name, e->name) != 0);
		FUZZ_CHECK(e->lock_wait_ms >= -1);
		if (e->lock_timeout)
			FUZZ_CHECK(
			    cfg_parse_duration(&ms, e->lock_timeout) == 0);
		if (e->statement_timeout)
			FUZZ_CHECK(
			    cfg_parse_duration(&ms, e->statement_timeout) == 0);
		(void)cfg_lock_timeout_set(e);
		if (e->url) {
			has_pw |= cfg_has_password(e->url);
			check_password(e->url);
			check_expand(e->url);
		}
		if (e->service)
			check_expand(e->service);
	}
	/* (a password a later line overrides is still in the file) */
	if (has_pw)
		FUZZ_CHECK(cfg->password_in_file);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct config cfg;
	FILE *f;
	int rc;

	check_duration(text);
	if (!memchr(data, '\n', size)) {
		check_expand(text);
		check_password(text);
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	mg_error_clear();
	rc = cfg_load(&cfg, path);
	FUZZ_CHECK(rc == 0 || rc == MG_ERROR);
	if (rc == 0) {
		check_config(&cfg);
		cfg_release(&cfg);
	} else {
		const struct mg_error *e = mg_error_last();

		FUZZ_CHECK(e->message != NULL);
		FUZZ_CHECK(e->file != NULL && strcmp(e->file, path) == 0);
	}
	mg_error_clear();
	free(text);
	return 0;
}
