/*
 * scratch.c - make, fill and drop throwaway databases.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "report.h"
#include "run.h"
#include "schema.h"
#include "scratch.h"
#include "xalloc.h"
#include "banned.h"

/*
 * Say which scratch databases a migdir that was killed (kill -9, a second
 * Ctrl-C) left behind: none of its sessions uses them any more.  They are
 * not dropped here: another migdir may have made one a moment ago.
 */
static void
left_behind(struct scratch *sc)
{
	char **names = NULL;
	size_t n = 0, i;

	if (db_idle_databases(sc->admin, SCRATCH_PREFIX, &names, &n) < 0) {
		mg_error_clear();
		return;
	}
	for (i = 0; i < n; i++) {
		rp_warning("scratch database %s was left behind by an "
			   "interrupted migdir: drop it with DROP DATABASE "
			   "\"%s\"",
		    names[i], names[i]);
		free(names[i]);
	}
	free(names);
}

int
scratch_open(struct scratch *sc, const struct state *st)
{
	int error;

	memset(sc, 0, sizeof(*sc));
	if (st->cfg->scratch_url) {
		if ((error = cfg_expand(&sc->conninfo, st->cfg->scratch_url)) <
		    0) {
			mg_error_locus(st->cfg->path, 0, 0, NULL);
			return error;
		}
		sc->source = "scratch_url";
	} else {
		sc->conninfo = xstrdup(st->conninfo ? st->conninfo : "");
		sc->source = "the environment";
	}
	sc->target.conninfo = sc->conninfo;
	sc->target.schema = st->cfg->schema;
	sc->target.table = st->cfg->table;
	sc->target.environment = "scratch";
	sc->target.who = st->who;
	sc->target.app_version = MIGDIR_VERSION;
	sc->target.quiet = 1;
	if ((error = db_connect(&sc->admin, &sc->target)) < 0) {
		mg_error_prefix("the server for scratch databases (%s)",
		    sc->source);
		return error;
	}
	left_behind(sc);
	return 0;
}

static unsigned
random_bits(void)
{
	unsigned r = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			r = 0;
		close(fd);
	}
	return r ^ ((unsigned)getpid() << 16);
}

int
scratch_create(struct scratch *sc, const char *template, const char **name)
{
	unsigned r;
	char *n;
	int error;

	/*
	 * Unique on this server: our pid, a counter, and a random part
	 * (two machines, or two containers, may share a pid).
	 */
	r = random_bits() ^ (unsigned)time(NULL) ^ (sc->seq * 7919u);
	n = xasprintf(SCRATCH_PREFIX "%ld_%u_%08x", (long)getpid(), ++sc->seq,
	    r);
	if ((error = db_create_database(sc->admin, n, template)) < 0) {
		free(n);
		return error;
	}
	XGROW(sc->names, sc->cap, sc->n + 1);
	sc->names[sc->n++] = n;
	rp_verbose("made scratch database %s%s%s", n, template ? " from " : "",
	    template ? template : "");
	*name = n;
	return 0;
}

int
scratch_connect(struct scratch *sc, const char *name, struct db **out)
{
	struct db_target t = sc->target;
	struct db_probe probe;
	int error;

	t.dbname = name;
	if ((error = db_connect(out, &t)) < 0)
		return error;
	if ((error = db_probe(*out, &probe)) < 0 ||
	    (error = db_ensure(*out, &probe, NULL)) < 0) {
		db_close(*out);
		*out = NULL;
	}
	return error;
}

int
scratch_drop(struct scratch *sc, const char *name)
{
	size_t i;
	int error;

	for (i = 0; i < sc->n; i++)
		if (sc->names[i] == name || !strcmp(sc->names[i], name))
			break;
	if ((error = db_drop_database(sc->admin, name)) < 0)
		return error;
	if (i < sc->n) {
		free(sc->names[i]);
		memmove(&sc->names[i], &sc->names[i + 1],
		    (sc->n - i - 1) * sizeof(*sc->names));
		sc->n--;
	}
	return 0;
}

void
scratch_close(struct scratch *sc)
{
	while (sc->admin && sc->n > 0) {
		char *name = xstrdup(sc->names[sc->n - 1]);

		if (scratch_drop(sc, name) < 0) {
			/* say so, keep the error the command had */
			struct mg_error keep;

			mg_error_take(&keep);
			rp_warning("could not drop scratch database %s: drop "
				   "it by hand (DROP DATABASE %s)",
			    name, name);
			mg_error_put(&keep);
			free(sc->names[--sc->n]);
		}
		free(name);
	}
	while (sc->n > 0)
		free(sc->names[--sc->n]);
	free(sc->names);
	db_close(sc->admin);
	free(sc->conninfo);
	memset(sc, 0, sizeof(*sc));
}

int
scratch_dump(struct scratch *sc, const char *name, struct buf *out)
{
	struct schema_book book = {sc->target.schema, sc->target.table};

	return schema_dump(out, sc->conninfo, name, &book);
}

int
scratch_want_applied(const struct entry *e, void *arg)
{
	(void)arg;
	return e->folder == FOLDER_APPLIED;
}

/* The files of a replay, ready to run. */
struct replay {
	struct run_file *files;
	struct db_unit *units;
	struct db_record *records;
	size_t n, nrecords;
};

static void
replay_release(struct replay *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		run_file_release(&r->files[i]);
		db_failure_release(&r->units[i].fail);
	}
	run_records_free(r->records, r->nrecords);
	free(r->files);
	free(r->units);
}

static int
add_file(struct replay *r, const char *path, const char *version,
    enum db_action action, int server_version)
{
	size_t i = r->n++;

	return run_file_load(&r->files[i], &r->units[i], path, version, action,
	    server_version);
}

static int
unit_ran(void *payload, struct db_unit *u, size_t index)
{
	char dur[32];

	(void)payload;
	(void)index;
	rp_verbose("  scratch: %s  %s", u->version, rp_duration(dur, u->usec));
	return 0;
}

int
scratch_replay(struct db *db, const struct state *st, scratch_want want,
    void *arg, struct scratch_stats *stats)
{
	struct replay r = {0};
	struct buf path = BUF_INIT;
	struct stat sb;
	long long t0;
	int baseline, sv, error = 0;
	size_t i;

	memset(stats, 0, sizeof(*stats));
	sv = db_server_version(db);
	t0 = rp_now_us();
	baseline = stat(st->cfg->consolidated, &sb) == 0;
	r.files = xcalloc(st->n + 1, sizeof(*r.files));
	r.units = xcalloc(st->n + 1, sizeof(*r.units));
	if (baseline) {
		r.records = run_records(st, 1u << FOLDER_ARCHIVE, &r.nrecords);
		if ((error = add_file(&r, st->cfg->consolidated,
			 st->cfg->consolidated, DB_BASELINE, sv)) < 0 ||
		    (error = state_check_baseline(st, r.files[0].text.ptr,
			 r.files[0].text.len)) < 0)
			goto out;
		r.units[0].records = r.records;
		r.units[0].nrecords = r.nrecords;
		stats->baseline = 1;
		stats->records = r.nrecords;
	}
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (!e->m || !e->m->fwd || e->folder < 0)
			continue;
		if (e->folder == FOLDER_ARCHIVE ? baseline : !want(e, arg))
			continue;
		buf_reset(&path);
		state_path(&path, st, e->version, e->folder, NAME_FORWARD);
		if ((error = add_file(&r, path.ptr, e->version, DB_APPLY, sv)) <
		    0)
			goto out;
		r.units[r.n - 1].rb_checksum = *e->rb_sum ? e->rb_sum : NULL;
		stats->files++;
	}
	error = db_run(db, r.units, r.n, unit_ran, NULL);
	if (error == MG_ESQL || error == MG_ECANCEL) {
		for (i = 0; i < r.n; i++)
			if (r.units[i].failed) {
				run_file_error(&r.files[i], &r.units[i], NULL,
				    NULL);
				break;
			}
	}
out:
	stats->usec = rp_now_us() - t0;
	buf_release(&path);
	replay_release(&r);
	return error;
}
