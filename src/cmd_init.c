/*
 * cmd_init.c - migdir init: start a project, and its bookkeeping table.
 *
 * Creates what is missing and never overwrites: migdir.ini, the three
 * folders (each with a .gitkeep so that git keeps them), an empty
 * consolidated schema.  With a database (--database-url, DATABASE_URL, or
 * the environment's url or service) it creates schema_versions and its run
 * history, or adds what a table kept by hand lacks without losing a row.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "db.h"
#include "error.h"
#include "fsutil.h"
#include "report.h"
#include "scan.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

const char cmd_init_usage[] =
    "usage: migdir [-C DIR] [-e ENV] [--database-url URL] init\n"
    "\n"
    "Create, in the current directory (or DIR), what a migdir project needs\n"
    "and does not have yet: migdir.ini, migrations/pending/, applied/ and\n"
    "archive/, and an empty consolidated_schema.sql.  Nothing is ever\n"
    "overwritten.\n"
    "\n"
    "With a database (--database-url, DATABASE_URL, or the url or service\n"
    "of the environment in migdir.ini), also create the bookkeeping table\n"
    "schema_versions and its run history; on a schema_versions kept by\n"
    "hand, add the columns and unique index migdir needs, losing no row.\n";

static void
note(json_t *list, const char *what, const char *path)
{
	rp_out("%s %s\n", what, path);
	json_array_append_new(list,
	    json_pack("{s:s,s:s}", "action", what, "path", path));
}

static int
make_file(json_t *list, const char *path, const char *content)
{
	if (fs_exists(path)) {
		note(list, "kept", path);
		return 0;
	}
	if (fs_create(path, content, strlen(content)) < 0)
		return MG_ERROR;
	note(list, "created", path);
	return 0;
}

static int
make_dir(json_t *list, const char *path)
{
	struct buf keep = BUF_INIT;
	int error = 0;

	if (fs_exists(path)) {
		note(list, "kept", path);
	} else {
		if ((error = fs_mkdir(path)) < 0)
			return error;
		note(list, "created", path);
	}
	buf_printf(&keep, "%s/.gitkeep", path);
	if (!fs_exists(keep.ptr))
		error = fs_create(keep.ptr, "", 0);
	buf_release(&keep);
	return error;
}

/* Is a database named, rather than left to libpq's defaults? */
static int
database_named(const struct ctx *ctx)
{
	const struct env *env = ctx->env_name
	    ? cfg_env(&ctx->cfg, ctx->env_name)
	    : cfg_tracked(&ctx->cfg);
	const char *url = getenv("DATABASE_URL");

	if (ctx->database_url || (url && *url))
		return 1;
	return env &&
	    ((env->url && *env->url) || (env->service && *env->service));
}

static int
init_database(struct ctx *ctx, json_t *out)
{
	struct state st;
	json_t *changes = json_array();
	int error;
	char *p, *line;

	if ((error = state_open(&st, ctx, NEED_DB | NEED_LOCK | NEED_ENSURE)) <
	    0) {
		json_decref(changes);
		return error;
	}
	json_object_set_new(out, "database", json_string(db_display(st.db)));
	for (line = st.ensured.ptr; *line; line = p + 1) {
		if (!(p = strchr(line, '\n')))
			break;
		*p = '\0';
		rp_out("%s\n", line);
		json_array_append_new(changes, json_string(line));
	}
	if (!st.ensured.len)
		rp_out("bookkeeping table %s.%s is ready on %s (%zu rows)\n",
		    st.cfg->schema, st.cfg->table, db_display(st.db),
		    st.rows.n);
	json_object_set_new(out, "database_changes", changes);
	state_close(&st);
	return 0;
}

int
cmd_init(struct ctx *ctx, int argc, char **argv)
{
	struct buf path = BUF_INIT;
	json_t *out = json_object(), *files = json_array();
	int rc, f;

	if ((rc = cmd_no_args(ctx, "init", argc, argv)) < 0)
		goto out;
	if (!ctx->config_path &&
	    (rc = make_file(files, CFG_FILE, cfg_template())) < 0)
		goto out;
	if ((rc = ctx_config(ctx)) < 0)
		goto out;
	if ((rc = make_dir(files, ctx->cfg.migrations)) < 0)
		goto out;
	for (f = 0; f < FOLDER_COUNT; f++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", ctx->cfg.migrations, folder_name[f]);
		if ((rc = make_dir(files, path.ptr)) < 0)
			goto out;
	}
	buf_reset(&path);
	buf_printf(&path, "%s/.gitignore", ctx->cfg.migrations);
	if (!fs_exists(path.ptr) &&
	    (rc = fs_create(path.ptr, STATE_LOCK_FILE "\n",
		 sizeof(STATE_LOCK_FILE "\n") - 1)) < 0)
		goto out;
	/* empty: consolidate fills it when archive/ gets its first files */
	if ((rc = make_file(files, ctx->cfg.consolidated, "")) < 0)
		goto out;
	json_object_set_new(out, "files", files);
	files = NULL;
	if (database_named(ctx)) {
		if ((rc = init_database(ctx, out)) < 0)
			goto out;
	} else
		rp_out("no database named: the first apply creates the "
		       "bookkeeping table (or run init with --database-url)\n");
	if (ctx->json)
		rp_json(json_incref(out));
	rc = 0;
out:
	json_decref(files);
	json_decref(out);
	buf_release(&path);
	return rc;
}
