/*
 * cmd_new.c - migdir new DESCRIPTION: write a migration pair in pending/.
 *
 * The description becomes part of a file name and of the version stored in
 * the database, so it is checked, not escaped: letters, digits, spaces,
 * '-' and '_' only (lowercased; spaces and '-' become '_').  Both files are
 * created with O_EXCL; if the second cannot be, the first is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "error.h"
#include "fsutil.h"
#include "name.h"
#include "report.h"
#include "run.h"
#include "scan.h"
#include "banned.h"

const char cmd_new_usage[] =
    "usage: migdir new [--timestamp] DESCRIPTION\n"
    "\n"
    "Write pending/YYYYMMDD_description.sql and its rollback\n"
    "pending/YYYYMMDD_rollback_description.sql from a template.  The\n"
    "description may hold letters, digits, spaces, '-' and '_'; it is\n"
    "lowercased and spaces and '-' become '_'.  Existing files are never\n"
    "overwritten.\n"
    "\n"
    "  -t, --timestamp   prefix YYYYMMDDHHMMSS instead of YYYYMMDD, so that\n"
    "                    migrations of one day run in the order they were\n"
    "                    created\n";

enum { O_TIMESTAMP = 1 };

static const struct cmd_opt opts[] = {
    {"timestamp", 't', 0, O_TIMESTAMP},
    {NULL, 0, 0, 0},
};

static void
forward_template(struct buf *b, const char *version, const char *title,
    const char *date)
{
	buf_printf(b,
	    "-- Migration: %s\n"
	    "-- Created %s.  Rollback: %.*s_rollback_%s.sql\n"
	    "--\n"
	    "-- migdir runs this file in one transaction together with its\n"
	    "-- schema_versions row; a BEGIN; ... COMMIT; around it is "
	    "allowed, not\n"
	    "-- needed.  A statement that cannot run in a transaction (CREATE "
	    "INDEX\n"
	    "-- CONCURRENTLY, VACUUM ...) makes the file run statement by "
	    "statement:\n"
	    "-- keep such a statement in a file of its own.\n"
	    "\n",
	    title, date, (int)(strchr(version, '_') - version), version,
	    strchr(version, '_') + 1);
}

static void
rollback_template(struct buf *b, const char *version, const char *title)
{
	buf_printf(b,
	    "-- Rollback: %s\n"
	    "-- Undoes %s.sql, in reverse order.\n"
	    "\n",
	    title, version);
}

/* Warn when a same-day migration created earlier sorts after this one. */
static void
check_order(const struct scan *s, const char *version)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const char *v = s->v[i].version;

		if (!strncmp(v, version, 8) && name_cmp(v, version) > 0) {
			rp_warning("%s runs before %s, created earlier: use "
				   "--timestamp to keep creation order",
			    version, v);
			return;
		}
	}
}

int
cmd_new(struct ctx *ctx, int argc, char **argv)
{
	struct buf desc = BUF_INIT, version = BUF_INIT, fwd = BUF_INIT,
		   rb = BUF_INIT, text = BUF_INIT;
	struct scan scan = {0};
	const char *arg;
	char date[32], stamp[32], *title = NULL;
	int next = 0, rc, timestamp = 0, f;
	time_t now = time(NULL);
	struct tm tm;

	while ((rc = cmd_options(ctx, cmd_lookup("new"), argc, argv, opts, &arg,
		    &next)) > 0)
		if (rc == O_TIMESTAMP)
			timestamp = 1;
	if (rc < 0)
		goto out;
	if (next >= argc) {
		rc = cmd_usage_error("new", "a description is needed");
		goto out;
	}
	if (next + 1 < argc) {
		rc = cmd_usage_error("new",
		    "one description only (quote it if it has spaces)");
		goto out;
	}
	if (name_normalize_description(&desc, argv[next]) < 0) {
		mg_error_hint("Use letters, digits, spaces, '-' and '_', e.g. "
			      "migdir new add_email_templates.");
		rc = MG_EUSAGE;
		goto out;
	}
	if ((rc = ctx_config(ctx)) < 0)
		goto out;
	if ((rc = scan_dir(&scan, ctx->cfg.migrations)) < 0) {
		if (rc == MG_ENOTFOUND)
			mg_error_hint("Run migdir init first.");
		goto out;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	strftime(stamp, sizeof(stamp), timestamp ? "%Y%m%d%H%M%S" : "%Y%m%d",
	    &tm);
	buf_printf(&version, "%s_%s", stamp, desc.ptr);
	if (version.len > NAME_MAX_VERSION) {
		rc = cmd_usage_error("new", "the description is too long");
		goto out;
	}
	if (scan_find(&scan, version.ptr)) {
		rc = mg_error_set(MG_ERROR, "migration %s already exists",
		    version.ptr);
		mg_error_hint(
		    "Choose another description, or use --timestamp.");
		goto out;
	}
	for (f = 0; f < (int)scan.n; f++)
		if (!strcmp(strchr(scan.v[f].version, '_') + 1, desc.ptr))
			rp_warning("%s has the same description",
			    scan.v[f].version);
	check_order(&scan, version.ptr);
	title = run_description(version.ptr);
	scan_path(&fwd, ctx->cfg.migrations, FOLDER_PENDING, version.ptr,
	    NAME_FORWARD);
	scan_path(&rb, ctx->cfg.migrations, FOLDER_PENDING, version.ptr,
	    NAME_ROLLBACK);
	forward_template(&text, version.ptr, title, date);
	if ((rc = fs_mkdir(ctx->cfg.migrations)) < 0)
		goto out;
	buf_reset(&desc);
	buf_printf(&desc, "%s/%s", ctx->cfg.migrations,
	    folder_name[FOLDER_PENDING]);
	if ((rc = fs_mkdir(desc.ptr)) < 0 ||
	    (rc = fs_create(fwd.ptr, text.ptr, text.len)) < 0)
		goto out;
	buf_reset(&text);
	rollback_template(&text, version.ptr, title);
	if ((rc = fs_create(rb.ptr, text.ptr, text.len)) < 0) {
		unlink(fwd.ptr);
		goto out;
	}
	if (ctx->json)
		rp_json(json_pack("{s:s,s:s,s:s}", "version", version.ptr,
		    "forward", fwd.ptr, "rollback", rb.ptr));
	else {
		rp_result("created %s\n", fwd.ptr);
		rp_result("created %s\n", rb.ptr);
	}
	rc = 0;
out:
	free(title);
	scan_release(&scan);
	buf_release(&desc);
	buf_release(&version);
	buf_release(&fwd);
	buf_release(&rb);
	buf_release(&text);
	return rc;
}
