/*
 * state.c - gather config, folders, checksums, git and database rows.
 *
 * The domain layer between the commands and the adapters: it decides which
 * environment and connection string apply, which locks a writing command
 * takes (the lock file in the migrations directory, then the database's
 * advisory lock), and hands plan.c complete entries.  Everything a command
 * needs to refuse is found here, before any SQL runs.
 */
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "name.h"
#include "report.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

static char *
who_am_i(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw && pw->pw_name ? pw->pw_name : getenv("USER");
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s@%s", user ? user : "unknown", host);
}

/* Quote a value for a libpq key=value string. */
static void
conninfo_value(struct buf *out, const char *v)
{
	buf_putc(out, '\'');
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *v);
	}
	buf_putc(out, '\'');
}

/*
 * Which database: --database-url (the command line is explicit), else the
 * environment's url or service from migdir.ini, else DATABASE_URL, else
 * libpq's own defaults (PG* variables, service file).  A DATABASE_URL left
 * in the shell never overrides a database migdir.ini names: that would
 * point the tracked environment's moves at another database.
 */
static int
choose_conninfo(struct state *st)
{
	const char *url = getenv("DATABASE_URL");
	struct buf b = BUF_INIT;
	char *v = NULL;

	if (st->ctx->database_url) {
		st->conninfo = xstrdup(st->ctx->database_url);
		st->conn_source = "--database-url";
	} else if (st->env->url && *st->env->url) {
		if (cfg_expand(&st->conninfo, st->env->url) < 0)
			goto bad;
		st->conn_source = "migdir.ini url";
	} else if (st->env->service && *st->env->service) {
		if (cfg_expand(&v, st->env->service) < 0)
			goto bad;
		buf_puts(&b, "service=");
		conninfo_value(&b, v);
		free(v);
		st->conninfo = buf_detach(&b);
		st->conn_source = "migdir.ini service";
	} else if (url && *url) {
		st->conninfo = xstrdup(url);
		st->conn_source = "DATABASE_URL";
	} else {
		st->conninfo = xstrdup("");
		st->conn_source = "libpq defaults (PG* variables)";
	}
	return 0;
bad:
	mg_error_prefix("environment %s in %s", st->env->name, st->cfg->path);
	mg_error_hint("Set the variable, or give --database-url.");
	return MG_ERROR;
}

void
state_path(struct buf *out, const struct state *st, const char *version,
    int folder, enum name_kind kind)
{
	scan_path(out, st->dir, folder, version, kind);
}

void
state_repo_path(struct buf *out, const struct state *st, const char *version,
    int folder, enum name_kind kind)
{
	buf_puts(out, st->repo_prefix ? st->repo_prefix : "");
	buf_printf(out, "%s/", folder_name[folder]);
	name_file(out, version, kind);
}

const char *
state_env_label(const struct state *st)
{
	static char label[128];

	snprintf(label, sizeof(label), "%s%s", st->env->name,
	    st->tracked ? " (tracked)" : "");
	return label;
}

void
state_db_display(struct buf *out, const struct state *st)
{
	if (st->db)
		buf_puts(out, db_display(st->db));
	else
		db_describe_conninfo(out, st->conninfo ? st->conninfo : "");
}

/*
 * What the files and git say about each migration of the scan, gathered
 * while the database is read in another thread, then copied into the
 * plan entries.
 */
struct facts {
	char sum[VCS_ID_HEX + 1];
	char rb_sum[VCS_ID_HEX + 1];
	unsigned head, head_rb;
};

/* Reused while hashing: one directory descriptor per folder, two paths. */
struct hasher {
	int dirfd[FOLDER_COUNT]; /* -1 until opened (or when missing) */
	struct buf repo_path;    /* for the git index */
	struct buf name;         /* the file name within its folder */
	struct buf text;
};

/*
 * The checksum of the file of version in folder into sum ("" when it
 * cannot be read).  When git's index has the file and its stat data still
 * match, the index's blob id is the checksum and the file is not read:
 * one fstatat per file, relative to its folder, is the cost of a status.
 */
static void
hash_file(struct state *st, struct hasher *h, const char *version, int folder,
    enum name_kind kind, char sum[VCS_ID_HEX + 1])
{
	struct stat sb;
	struct buf path = BUF_INIT;

	sum[0] = '\0';
	buf_reset(&h->name);
	name_file(&h->name, version, kind);
	if (st->vcs) {
		if (h->dirfd[folder] == -2) {
			buf_printf(&path, "%s/%s", st->dir,
			    folder_name[folder]);
			h->dirfd[folder] =
			    open(path.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			buf_release(&path);
		}
		buf_reset(&h->repo_path);
		buf_printf(&h->repo_path, "%s%s/%s", st->repo_prefix,
		    folder_name[folder], h->name.ptr);
		if (h->dirfd[folder] >= 0 &&
		    fstatat(h->dirfd[folder], h->name.ptr, &sb, 0) == 0 &&
		    vcs_cached_blob(st->vcs, h->repo_path.ptr, &sb, sum))
			return;
	}
	state_path(&path, st, version, folder, kind);
	if (fs_read(&h->text, path.ptr) < 0 ||
	    vcs_blob_id(sum, h->text.ptr, h->text.len) < 0) {
		rp_warning("%s", mg_error_last()->message);
		mg_error_clear();
		sum[0] = '\0';
	}
	buf_release(&path);
}

/* Checksums of every forward and rollback file of the scan, by scan index. */
static void
hash_files(struct state *st, struct facts *facts)
{
	struct hasher h;
	size_t i;
	int f;

	for (f = 0; f < FOLDER_COUNT; f++)
		h.dirfd[f] = -2;
	buf_init(&h.repo_path);
	buf_init(&h.name);
	buf_init(&h.text);
	for (i = 0; i < st->scan.n; i++) {
		const struct migration *m = &st->scan.v[i];

		int ff = folder_lowest(m->fwd), rf = folder_lowest(m->rb);

		if (ff >= 0)
			hash_file(st, &h, m->version, ff, NAME_FORWARD,
			    facts[i].sum);
		if (rf >= 0)
			hash_file(st, &h, m->version, rf, NAME_ROLLBACK,
			    facts[i].rb_sum);
	}
	for (f = 0; f < FOLDER_COUNT; f++)
		if (h.dirfd[f] >= 0)
			close(h.dirfd[f]);
	buf_release(&h.repo_path);
	buf_release(&h.name);
	buf_release(&h.text);
}

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* The folders among lists (sorted names, one list per folder) holding name. */
static unsigned
folders_holding(char **names[FOLDER_COUNT], size_t n[FOLDER_COUNT],
    const char *name)
{
	unsigned mask = 0;
	int f;

	for (f = 0; f < FOLDER_COUNT; f++)
		if (n[f] &&
		    bsearch(name, names[f], n[f], sizeof(*names[f]), cmp_name))
			mask |= 1u << f;
	return mask;
}

/* Which folders HEAD (or, with git = stage, the index) holds each file in. */
static int
read_head(struct state *st, struct facts *facts)
{
	struct buf dir = BUF_INIT, file = BUF_INIT;
	char **names[FOLDER_COUNT] = {NULL};
	size_t n[FOLDER_COUNT] = {0}, i;
	int folder, error = 0;

	for (folder = 0; folder < FOLDER_COUNT && !error; folder++) {
		buf_reset(&dir);
		buf_printf(&dir, "%s%s", st->repo_prefix, folder_name[folder]);
		/* with git = stage, a staged move is as recorded as it gets */
		error = st->cfg->git == CFG_GIT_STAGE
		    ? vcs_index_files(st->vcs, dir.ptr, &names[folder],
			  &n[folder])
		    : vcs_head_files(st->vcs, dir.ptr, &names[folder],
			  &n[folder]);
	}
	for (i = 0; i < st->scan.n && !error; i++) {
		buf_reset(&file);
		name_forward_file(&file, st->scan.v[i].version);
		facts[i].head = folders_holding(names, n, file.ptr);
		buf_reset(&file);
		name_rollback_file(&file, st->scan.v[i].version);
		facts[i].head_rb = folders_holding(names, n, file.ptr);
	}
	for (folder = 0; folder < FOLDER_COUNT; folder++)
		vcs_free_names(names[folder], n[folder]);
	buf_release(&dir);
	buf_release(&file);
	return error;
}

static int
open_git(struct state *st, unsigned need)
{
	struct buf rel = BUF_INIT;
	int error;

	if (st->cfg->git == CFG_GIT_OFF || !st->tracked)
		return 0;
	error = vcs_open(&st->vcs, ".");
	if (error == MG_ENOTFOUND) {
		if (!(need & NEED_GIT)) {
			mg_error_clear();
			return 0;
		}
		mg_error_hint(
		    "Run migdir inside a git repository, or set git = "
		    "off in migdir.ini.");
		return error;
	}
	if (error < 0)
		return error;
	if ((error = vcs_relpath(st->vcs, &rel, st->dir)) < 0)
		goto out;
	if (rel.len)
		buf_putc(&rel, '/');
	st->repo_prefix = buf_detach(&rel);
	if ((need & NEED_GIT) &&
	    (error = vcs_check_ready(st->vcs, st->cfg->git == CFG_GIT_COMMIT)) <
		0)
		goto out;
	if ((need & NEED_GIT) && st->cfg->git == CFG_GIT_COMMIT) {
		buf_reset(&rel);
		vcs_commit_hooks(st->vcs, &rel);
		if (rel.len)
			rp_warning("migdir's git commits do not run hooks "
				   "(libgit2 runs none): %s will not run",
			    rel.ptr);
	}
	st->pctx.have_git = 1;
out:
	buf_release(&rel);
	return error;
}

/* How long to wait for another migdir: the environment's, else [migdir]'s. */
static long
lock_wait(const struct state *st)
{
	return st->env->lock_wait_ms >= 0 ? st->env->lock_wait_ms
					  : st->cfg->lock_wait_ms;
}

/*
 * The database half of state_open, run in its own thread.  It connects at
 * once, but takes the lock or creates tables only once the files and git
 * have passed (the gate): a git refusal must come before any database work.
 */
struct db_job {
	struct state *st;
	unsigned need;
	int error;
	struct mg_error err; /* the thread's error, handed back */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int gate; /* 0 until the main thread decides: 1 go on, -1 stop */
};

static void
open_gate(struct db_job *job, int go)
{
	pthread_mutex_lock(&job->mu);
	job->gate = go ? 1 : -1;
	pthread_cond_signal(&job->cv);
	pthread_mutex_unlock(&job->mu);
}

static int
wait_gate(struct db_job *job)
{
	int gate;

	pthread_mutex_lock(&job->mu);
	while (job->gate == 0)
		pthread_cond_wait(&job->cv, &job->mu);
	gate = job->gate;
	pthread_mutex_unlock(&job->mu);
	return gate;
}

static int
open_db(struct db_job *job)
{
	struct state *st = job->st;
	unsigned need = job->need;
	struct db_target t = {0};
	int error;

	t.conninfo = st->conninfo;
	t.schema = st->cfg->schema;
	t.table = st->cfg->table;
	t.lock_timeout = st->env->lock_timeout;
	if (t.lock_timeout &&
	    cfg_parse_duration(&t.lock_timeout_ms, t.lock_timeout) < 0) {
		mg_error_clear(); /* read with migdir.ini: cannot happen */
		t.lock_timeout_ms = 0;
	}
	t.statement_timeout = st->env->statement_timeout;
	t.environment = st->env->name;
	t.who = st->who;
	t.app_version = MIGDIR_VERSION;
	if ((error = db_connect(&st->db, &t)) < 0)
		return error;
	rp_verbose("connected to %s (%s, PostgreSQL %d.%d)", db_display(st->db),
	    st->conn_source, db_server_version(st->db) / 10000,
	    db_server_version(st->db) % 10000);
	if ((need & (NEED_LOCK | NEED_ENSURE)) && wait_gate(job) < 0)
		return MG_ERROR; /* the main thread's error is the one */
	if ((need & NEED_LOCK) && (error = db_lock(st->db, lock_wait(st))) < 0)
		return error;
	st->lock_waited = db_lock_waited(st->db);
	if ((error = db_probe(st->db, &st->probe)) < 0)
		return error;
	if ((need & NEED_ENSURE) && (error = state_ensure(st)) < 0)
		return error;
	if ((error = db_read_rows(st->db, &st->probe, &st->rows)) < 0)
		return error;
	if ((need & NEED_HISTORY) &&
	    (error = db_read_failures(st->db, &st->probe, &st->failures)) < 0)
		return error;
	st->pctx.have_db = 1;
	return 0;
}

static void *
db_thread(void *arg)
{
	struct db_job *job = arg;

	if ((job->error = open_db(job)) < 0)
		mg_error_take(&job->err);
	return NULL;
}

/*
 * Read the files and git while the database is read: the connection,
 * the server's work and the round trips overlap with hashing two thousand
 * files and reading HEAD, which is most of what a status costs.
 */
static int
gather(struct state *st, unsigned need, struct facts *facts)
{
	struct db_job job = {0};
	pthread_t thread;
	int threaded = 0, error = 0;

	job.st = st;
	job.need = need;
	pthread_mutex_init(&job.mu, NULL);
	pthread_cond_init(&job.cv, NULL);
	if (need & NEED_DB)
		threaded = pthread_create(&thread, NULL, db_thread, &job) == 0;
	error = open_git(st, need);
	open_gate(&job, error == 0);
	if (error == 0) {
		hash_files(st, facts);
		if (st->vcs)
			error = read_head(st, facts);
	}
	if (threaded)
		pthread_join(thread, NULL);
	else if ((need & NEED_DB) && !error)
		db_thread(&job); /* no thread to be had: one after the other */
	if (job.error < 0 && error == 0) {
		mg_error_put(&job.err);
		error = job.error;
	}
	mg_error_clear_taken(&job.err);
	pthread_cond_destroy(&job.cv);
	pthread_mutex_destroy(&job.mu);
	return error;
}

int
state_find_env(const struct env **out, const struct config *cfg,
    const char *name)
{
	struct buf names = BUF_INIT;
	size_t i;

	if (!name) {
		*out = cfg_tracked(cfg);
		return 0;
	}
	if ((*out = cfg_env(cfg, name)))
		return 0;
	for (i = 0; i < cfg->nenvs; i++)
		buf_printf(&names, "%s%s", i ? ", " : "", cfg->envs[i].name);
	mg_error_set(MG_EUSAGE, "no environment \"%s\" in %s", name, cfg->path);
	mg_error_hint("The environments are: %s.", names.ptr);
	buf_release(&names);
	return MG_EUSAGE;
}

int
state_open(struct state *st, struct ctx *ctx, unsigned need)
{
	struct facts *facts = NULL;
	size_t i;
	int error;

	memset(st, 0, sizeof(*st));
	buf_init(&st->ensured);
	st->ctx = ctx;
	assert(ctx->cfg_loaded); /* the command loaded migdir.ini */
	st->cfg = &ctx->cfg;
	if ((error = state_find_env(&st->env, st->cfg, ctx->env_name)) < 0)
		return error;
	st->tracked = !strcmp(st->env->name, st->cfg->tracked);
	st->pctx.tracked = st->tracked;
	st->dir = st->cfg->migrations;
	st->who = who_am_i();
	if (st->cfg->password_in_file && st->cfg->world_readable)
		rp_warning("%s holds a password and is readable by others: "
			   "move it to ~/.pgpass or a service file",
		    st->cfg->path);
	if ((need & (NEED_DB | NEED_CONNINFO)) &&
	    (error = choose_conninfo(st)) < 0)
		goto fail;
	/*
	 * The lock file first, then the one scan: no other migdir moves a
	 * file after we have looked.  The lock file before the database
	 * lock, always in that order.  A missing directory is scan_dir's
	 * error to tell.
	 */
	if ((need & NEED_LOCK) && st->tracked && fs_is_dir(st->dir)) {
		struct buf lock = BUF_INIT;

		buf_printf(&lock, "%s/%s", st->dir, STATE_LOCK_FILE);
		error = fs_lock(&st->lock, lock.ptr,
		    ctx->command ? ctx->command : "migdir", lock_wait(st));
		buf_release(&lock);
		if (error < 0)
			goto fail;
	}
	if ((error = scan_dir(&st->scan, st->dir)) < 0) {
		if (error == MG_ENOTFOUND)
			mg_error_hint("Run migdir init to create it, or set "
				      "\"migrations\" in %s.",
			    st->cfg->path);
		goto fail;
	}
	facts = xcalloc(st->scan.n + 1, sizeof(*facts));
	if ((error = gather(st, need, facts)) < 0)
		goto fail;
	plan_entries(&st->e, &st->n, &st->scan, &st->rows);
	for (i = 0; i < st->n; i++)
		st->e[i].failure =
		    failures_find(&st->failures, st->e[i].version);
	for (i = 0; i < st->scan.n; i++) {
		memcpy(st->e[i].sum, facts[i].sum, sizeof(facts[i].sum));
		memcpy(st->e[i].rb_sum, facts[i].rb_sum,
		    sizeof(facts[i].rb_sum));
		st->e[i].head = facts[i].head;
		st->e[i].head_rb = facts[i].head_rb;
	}
	free(facts);
	if (st->pctx.have_db) {
		int active = 0;

		for (i = 0; i < st->rows.n && !active; i++)
			active = st->rows.v[i].active;
		st->pctx.fresh = !active && st->probe.objects == 0;
		st->pctx.baseline = fs_exists(st->cfg->consolidated);
	}
	plan_analyze(st->e, st->n, &st->pctx);
	return 0;
fail:
	free(facts);
	state_close(st);
	return error;
}

int
state_ensure(struct state *st)
{
	int error;

	if ((error = db_ensure(st->db, &st->probe, &st->ensured)) < 0)
		return error;
	db_probe_ensured(&st->probe);
	return 0;
}

int
state_last_run(const struct state *st, const char *version, const char *action,
    char **by, long long *at)
{
	*by = NULL;
	*at = 0;
	if (!st->db)
		return 0;
	return db_last_run(st->db, &st->probe, version, action, by, at);
}

void
state_disconnect(struct state *st)
{
	db_close(st->db);
	st->db = NULL;
}

void
state_close(struct state *st)
{
	state_disconnect(st);
	fs_unlock(st->lock);
	vcs_free(st->vcs);
	free(st->e);
	rows_release(&st->rows);
	failures_release(&st->failures);
	scan_release(&st->scan);
	free(st->repo_prefix);
	free(st->conninfo);
	free(st->who);
	buf_release(&st->ensured);
	memset(st, 0, sizeof(*st));
}

#define HOLDS_TAG "-- migdir-archive: "

void
state_holds(const struct state *st, unsigned mask, struct holds *out)
{
	struct buf list = BUF_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->found = 1;
	for (i = 0; i < st->n; i++) {
		const struct entry *e = &st->e[i];

		if (!e->m || !e->m->fwd || e->folder < 0 ||
		    !(mask & (1u << e->folder)))
			continue;
		buf_printf(&list, "%s\n", e->version);
		snprintf(out->last, sizeof(out->last), "%s", e->version);
		out->n++;
	}
	if (vcs_blob_id(out->digest, list.ptr, list.len) < 0) {
		mg_error_clear();
		out->digest[0] = '\0';
	}
	buf_release(&list);
}

void
state_read_holds(const char *text, size_t len, struct holds *out)
{
	const char *p = text, *end = text + len;
	size_t tag = strlen(HOLDS_TAG);

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[512];

		if (n > tag && n < sizeof(line) && !memcmp(p, HOLDS_TAG, tag)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line + tag,
				"%zu versions, the last %255[^,], digest %40s",
				&out->n, out->last, out->digest) == 3)
				out->found = 1;
			return;
		}
		/* the line sits in the file's opening comment */
		if (n >= 2 && strncmp(p, "--", 2))
			return;
		p += n + (nl ? 1 : 0);
	}
}

void
state_holds_line(struct buf *out, const struct holds *h)
{
	buf_printf(out, HOLDS_TAG "%zu versions, the last %s, digest %s\n",
	    h->n, h->n ? h->last : "none", h->digest);
}

int
state_check_baseline(const struct state *st, const char *text, size_t len)
{
	struct holds file, archive;

	state_read_holds(text, len, &file);
	if (!file.found)
		return 0;
	state_holds(st, 1u << FOLDER_ARCHIVE, &archive);
	if (file.n == archive.n && !strcmp(file.digest, archive.digest))
		return 0;
	mg_error_set(MG_EDRIFT,
	    "%s holds %zu archived versions (the last %s), but archive/ holds "
	    "%zu (the last %s)",
	    st->cfg->consolidated, file.n, file.last, archive.n,
	    archive.n ? archive.last : "none");
	mg_error_hint("A consolidate was interrupted, or one of them was "
		      "changed by hand: migdir consolidate finishes an "
		      "interrupted one; else restore both from git. Nothing "
		      "was loaded.");
	return MG_EDRIFT;
}

int
state_check_baseline_file(const struct state *st)
{
	struct buf text = BUF_INIT;
	int error = 0;

	if (fs_read(&text, st->cfg->consolidated) == 0)
		error = state_check_baseline(st, text.ptr, text.len);
	else
		mg_error_clear(); /* no file: nothing to hold */
	buf_release(&text);
	return error;
}
