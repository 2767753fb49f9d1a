/*
 * db.c - libpq: connect, lock, bookkeeping and the migration pipeline.
 *
 * The only file that includes libpq-fe.h.  libpq is loaded with dlopen on
 * the first connection, so that commands which never touch a database start
 * without it; its functions are called through the `pq` table below.
 *
 * Round trips are what separates a migration tool from psql running the
 * same SQL, so db_run keeps them out of the way: transactional migrations go
 * through pipeline mode with up to WINDOW of them in flight, each ending in
 * a flush request so that its COMMIT is reported (and its files moved) as
 * soon as the server has done it.  One Sync ends the whole run: after an
 * error the server skips every message up to it, so nothing after a failed
 * migration runs, whatever was already sent.
 *
 * Every statement migdir writes itself is prepared or parameterised, and
 * names the bookkeeping tables through PQescapeIdentifier.
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "dl.h"
#include "error.h"
#include "fault.h"
#include "report.h"
#include "xalloc.h"
#include "banned.h"

#ifndef LIBPQ_SONAME
#define LIBPQ_SONAME "libpq.so.5"
#endif

#define WINDOW         4      /* migrations in flight in the pipeline */
#define MIN_SERVER     120000 /* PostgreSQL 12 */
#define WAIT_REPORT_MS 1000   /* say what a statement waits on after this */
#define WAIT_REPEAT_MS 10000  /* and again this often */
/*
 * The longest pause between two tries for the migration lock.  Eight
 * waiters each missing the release by half a second made the last of
 * them wait seconds for a lock that was free; a try is one cheap query.
 */
#define LOCK_POLL_MAX_MS 100

/* clang-format off */
#define PQ_FUNCS(X) \
	X(PQconnectdbParams) \
	X(PQstatus) \
	X(PQerrorMessage) \
	X(PQfinish) \
	X(PQserverVersion) \
	X(PQsetNoticeReceiver) \
	X(PQsendQueryParams) \
	X(PQsendQuery) \
	X(PQsendQueryPrepared) \
	X(PQsendPrepare) \
	X(PQgetResult) \
	X(PQresultStatus) \
	X(PQresultErrorField) \
	X(PQclear) \
	X(PQntuples) \
	X(PQgetvalue) \
	X(PQgetisnull) \
	X(PQconsumeInput) \
	X(PQisBusy) \
	X(PQsocket) \
	X(PQflush) \
	X(PQsetnonblocking) \
	X(PQenterPipelineMode) \
	X(PQexitPipelineMode) \
	X(PQpipelineSync) \
	X(PQsendFlushRequest) \
	X(PQtransactionStatus) \
	X(PQescapeIdentifier) \
	X(PQescapeLiteral) \
	X(PQfreemem) \
	X(PQconninfoParse) \
	X(PQconninfoFree) \
	X(PQgetCancel) \
	X(PQfreeCancel) \
	X(PQcancel) \
	X(PQdb) \
	X(PQuser) \
	X(PQhost) \
	X(PQport) \
	X(PQbackendPID) \
	X(PQconndefaults) \
	X(PQresultErrorMessage) \
	X(PQexecParams) \
	X(PQputCopyEnd) \
	X(PQgetCopyData) \
	X(PQlibVersion)
/* clang-format on */

static struct {
#define X(f) __typeof__(f) *f;
	PQ_FUNCS(X)
#undef X
} pq;

static int pq_loaded;

static int
pq_load(void)
{
	static const struct dl_sym syms[] = {
#define X(f) {#f, &pq.f},
	    PQ_FUNCS(X)
#undef X
	};
	int error;

	if (pq_loaded)
		return 0;
	if ((error = dl_load(LIBPQ_SONAME, "libpq",
		 "libpq 14 or newer is needed", syms,
		 sizeof(syms) / sizeof(syms[0]))) < 0)
		return error;
	pq_loaded = 1;
	return 0;
}

struct db {
	PGconn *conn;
	PGconn *monitor; /* second connection, opened when something waits */
	char *display;   /* user@host:port/db */
	char *location;  /* host:port/db */
	char *conninfo;  /* as given, for the monitor connection */
	char *dbname;    /* the database, when not the conninfo's; or NULL */
	char *qtable;    /* "schema"."table" */
	char *qhistory;  /* "schema"."table_history" */
	char *qschema;   /* "schema" */
	char *schema, *table, *history; /* unquoted */
	char *lock_key; /* text hashed into the advisory lock key */
	char *environment, *who, *app_version;
	const char *tag; /* prefix of server notices */
	int prepared;    /* bookkeeping statements prepared */
	int handler;     /* registered with the Ctrl-C handler */
	int quiet;       /* server notices only with -v */
	int server_version;
	long first_report_ms; /* say what a statement waits on after this */
	char *last_wait;      /* what the last report said it waited for */
	char *last_wait_tag;  /* ... in which migration */
	char *last_wait_key;  /* ... and which lock and holder */
	long long wait_since; /* when the wait being watched began (us) */
	long long next_say;   /* its next line, in ms since then */
	int lock_waited;      /* db_lock found the lock held by another */
};

/* ---------------------------------------------------------- signals --- */

static volatile sig_atomic_t interrupted;

/*
 * Ctrl-C cancels what every open connection runs (a command may hold
 * several: the tracked database, a scratch server, scratch databases on
 * other threads).  The handler stays while any connection is open.
 */
#define MAX_CANCEL 256
static struct {
	const struct db *owner;
	PGcancel *volatile cancel;
} cancels[MAX_CANCEL];
static pthread_mutex_t cancel_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction old_sigint;
static int nopen; /* connections registered */

static void
on_sigint(int sig)
{
	char errbuf[256];
	size_t i;

	(void)sig;
	if (interrupted) {
		/* A second Ctrl-C: stop now, as the user asked twice. */
		sigaction(SIGINT, &old_sigint, NULL);
		raise(SIGINT);
		return;
	}
	interrupted = 1;
	for (i = 0; i < MAX_CANCEL; i++) {
		PGcancel *c = cancels[i].cancel;

		if (c)
			pq.PQcancel(c, errbuf, sizeof(errbuf));
	}
}

static void
install_handler(const struct db *db)
{
	struct sigaction sa;
	size_t i;

	pthread_mutex_lock(&cancel_mutex);
	for (i = 0; i < MAX_CANCEL; i++)
		if (!cancels[i].owner) {
			cancels[i].owner = db;
			cancels[i].cancel = pq.PQgetCancel(db->conn);
			break;
		}
	if (nopen++ == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_sigint);
	}
	pthread_mutex_unlock(&cancel_mutex);
}

/*
 * A handler running on another thread may still hold a cancel object
 * taken out of the table: those are freed only once no connection is
 * left and the handler is gone.
 */
static PGcancel *retired[MAX_CANCEL];
static size_t nretired;

static void
remove_handler(const struct db *db)
{
	size_t i;

	pthread_mutex_lock(&cancel_mutex);
	for (i = 0; i < MAX_CANCEL; i++)
		if (cancels[i].owner == db) {
			PGcancel *c = cancels[i].cancel;

			cancels[i].cancel = NULL;
			cancels[i].owner = NULL;
			if (c && nretired < MAX_CANCEL)
				retired[nretired++] = c;
			else if (c)
				pq.PQfreeCancel(c);
			break;
		}
	if (nopen > 0 && --nopen == 0) {
		sigaction(SIGINT, &old_sigint, NULL);
		while (nretired > 0)
			pq.PQfreeCancel(retired[--nretired]);
	}
	pthread_mutex_unlock(&cancel_mutex);
}

const char *
db_library_version(void)
{
	static char v[32];
	int n;

	if (pq_load() < 0) {
		mg_error_clear();
		return "unavailable";
	}
	n = pq.PQlibVersion();
	snprintf(v, sizeof(v), "%d.%d", n / 10000, n % 10000);
	return v;
}

int
db_interrupted(void)
{
	return interrupted != 0;
}

/* ------------------------------------------------------------ helpers --- */

static char *
quote_ident(PGconn *conn, const char *s)
{
	char *q = pq.PQescapeIdentifier(conn, s, strlen(s));
	char *copy = xstrdup(q ? q : "\"\"");

	pq.PQfreemem(q);
	return copy;
}

/* libpq's message, without its trailing newline. */
static char *
conn_message(PGconn *conn)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, pq.PQerrorMessage(conn));
	buf_rtrim(&b);
	return buf_detach(&b);
}

/*
 * The length of s cut to at most max bytes without splitting a UTF-8
 * sequence (the server rejects half a character in an identifier).
 */
static int
clip_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

/*
 * Append to secrets the password= value at p (after the keyword); in a
 * URL's query (in_url), the value ends at '&'.
 */
static void
keyword_password(struct buf *secrets, const char *p, int in_url)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p++ != '=')
		return;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\'') {
		for (p++; *p && *p != '\''; p++) {
			if (*p == '\\' && p[1])
				p++;
			buf_putc(secrets, *p);
		}
	} else
		buf_put(secrets, p, strcspn(p, in_url ? " \t\n&#" : " \t\n"));
	buf_putc(secrets, '\0');
}

/*
 * The passwords written in conninfo, NUL-separated in secrets: a URL's
 * "user:secret@" as written and decoded, and password= values.  libpq
 * quotes a malformed connection string, or the bad token of it, back in
 * its messages.
 */
static void
conninfo_passwords(struct buf *secrets, const char *conninfo)
{
	const char *p = strstr(conninfo, "://"), *end, *at = NULL, *c;
	PQconninfoOption *opts, *o;

	if (p) {
		p += 3;
		end = p + strcspn(p, "/?#");
		for (c = p; c < end; c++)
			if (*c == '@')
				at = c;
		for (c = p; at && c < at && *c != ':'; c++)
			;
		if (at && c < at) {
			buf_put(secrets, c + 1, (size_t)(at - c - 1));
			buf_putc(secrets, '\0');
		}
	}
	for (p = conninfo; (p = strstr(p, "password")); p += 8)
		if (p == conninfo || p[-1] == ' ' || p[-1] == '\t' ||
		    p[-1] == '\n' || p[-1] == '?' || p[-1] == '&')
			keyword_password(secrets, p + 8,
			    p > conninfo && (p[-1] == '?' || p[-1] == '&'));
	if ((opts = pq.PQconninfoParse(conninfo, NULL))) {
		for (o = opts; o->keyword; o++)
			if (!strcmp(o->keyword, "password") && o->val) {
				buf_puts(secrets, o->val);
				buf_putc(secrets, '\0');
			}
		pq.PQconninfoFree(opts);
	}
}

/* Append " keyword='value'" (libpq's quoting) to out. */
static void
conninfo_pair(struct buf *out, const char *keyword, const char *value)
{
	const char *v;

	buf_printf(out, "%s%s='", out->len ? " " : "", keyword);
	for (v = value; *v; v++) {
		if (*v == '\\' || *v == '\'')
			buf_putc(out, '\\');
		buf_putc(out, *v);
	}
	buf_putc(out, '\'');
}

/*
 * msg with every password written in conninfo replaced, in one pass (the
 * longest secret first at each place, so that one never rewrites another's
 * "<redacted>").  When libpq cannot parse conninfo, the tokens its
 * message quotes may be a piece of a password it split: they go too.
 * Caller frees.
 */
static char *
redact(const char *msg, const char *conninfo)
{
	struct buf secrets = BUF_INIT, out = BUF_INIT;
	PQconninfoOption *opts = NULL;
	const char *p = msg, *s, *end, *q;
	char *err = NULL;
	int malformed = 0;

	if (*conninfo && !(opts = pq.PQconninfoParse(conninfo, &err)))
		malformed = 1;
	if (opts)
		pq.PQconninfoFree(opts);
	pq.PQfreemem(err);
	conninfo_passwords(&secrets, conninfo);
	end = secrets.ptr ? secrets.ptr + secrets.len : NULL;
	while (*p) {
		size_t best = 0, n;

		for (s = secrets.ptr; s && s < end; s += strlen(s) + 1)
			if ((n = strlen(s)) > best && !strncmp(p, s, n))
				best = n;
		if (best) {
			buf_puts(&out, "<redacted>");
			p += best;
		} else if (malformed && *p == '"' && (q = strchr(p + 1, '"'))) {
			/* a word may be half a password; "=" or "]" may stay */
			if (q - p > 2)
				buf_puts(&out, "\"...\"");
			else
				buf_put(&out, p, (size_t)(q - p + 1));
			p = q + 1;
		} else
			buf_putc(&out, *p++);
	}
	buf_release(&secrets);
	if (!out.ptr)
		buf_puts(&out, "");
	return buf_detach(&out);
}

int
db_conninfo_split(const char *conninfo, const char *dbname, struct buf *rest,
    char **password)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int error;

	*password = NULL;
	if ((error = pq_load()) < 0)
		return error;
	if (!(opts = pq.PQconninfoParse(conninfo, &err))) {
		/* libpq quotes the bad token, which may be the password */
		char *m = redact(err ? err : "out of memory", conninfo);

		error = mg_error_set(MG_ERROR,
		    "could not read the connection string: %s", m);
		free(m);
		pq.PQfreemem(err);
		return error;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val || (dbname && !strcmp(o->keyword, "dbname")))
			continue;
		if (!strcmp(o->keyword, "password")) {
			free(*password);
			*password = xstrdup(o->val);
			continue;
		}
		conninfo_pair(rest, o->keyword, o->val);
	}
	if (dbname)
		conninfo_pair(rest, "dbname", dbname);
	pq.PQconninfoFree(opts);
	return 0;
}

static void
on_notice(void *arg, const PGresult *res)
{
	struct db *db = arg;
	const char *sev =
	    pq.PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (db->quiet)
		rp_verbose("%s: %s: %s", db->tag ? db->tag : "server",
		    sev ? sev : "NOTICE", msg ? msg : "");
	else
		rp_server_message(db->tag ? db->tag : "server",
		    sev ? sev : "NOTICE", msg ? msg : "");
}

static int
is_error(const PGresult *r)
{
	ExecStatusType s = pq.PQresultStatus(r);

	return s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE ||
	    s == PGRES_NONFATAL_ERROR;
}

static void
failure_from(struct db_failure *f, const PGresult *r)
{
	const char *pos = pq.PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
	const char *msg = pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	db_failure_release(f);
	f->sqlstate = xstrdup(pq.PQresultErrorField(r, PG_DIAG_SQLSTATE));
	f->message = xstrdup(msg ? msg : pq.PQresultErrorMessage(r));
	f->detail = xstrdup(pq.PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
	f->hint = xstrdup(pq.PQresultErrorField(r, PG_DIAG_MESSAGE_HINT));
	f->context = xstrdup(pq.PQresultErrorField(r, PG_DIAG_CONTEXT));
	f->position = pos ? atoi(pos) : 0;
}

void
db_failure_release(struct db_failure *f)
{
	free(f->sqlstate);
	free(f->message);
	free(f->detail);
	free(f->hint);
	free(f->context);
	f->sqlstate = f->message = f->detail = f->hint = f->context = NULL;
}

/* ------------------------------------------------------- privileges --- */

/* name as SQL writes it: bare when it can be, else double-quoted. */
static void
sql_name(struct buf *out, const char *name)
{
	const char *p = name;
	int bare = (*p >= 'a' && *p <= 'z') || *p == '_';

	for (; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '$';
	if (bare) {
		buf_puts(out, name);
		return;
	}
	buf_putc(out, '"');
	for (p = name; *p; p++) {
		if (*p == '"')
			buf_putc(out, '"');
		buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

/* The first keyword of sql, upper-cased ("" when none). */
static void
first_keyword(char *w, size_t size, const char *sql)
{
	size_t n = 0;

	while (sql && *sql) {
		if (*sql == ' ' || *sql == '\t' || *sql == '\n' ||
		    *sql == '\r' || *sql == '(')
			sql++;
		else if (sql[0] == '-' && sql[1] == '-')
			sql += strcspn(sql, "\n");
		else
			break;
	}
	while (sql && n + 1 < size &&
	    ((*sql >= 'a' && *sql <= 'z') || (*sql >= 'A' && *sql <= 'Z')))
		w[n++] = (char)(*sql >= 'a' ? *sql++ - 32 : *sql++);
	w[n] = '\0';
}

/*
 * Split "permission denied for table items" (after prefix) into kind
 * ("table") and name ("items", without the quotes some messages add).
 */
static int
denied_object(const char *msg, const char *prefix, char *kind, size_t ksize,
    char *name, size_t nsize)
{
	const char *p = strstr(msg, prefix), *sp;
	size_t n;

	if (!p)
		return 0;
	p += strlen(prefix);
	sp = !strncmp(p, "materialized view ", 18) ? p + 17 : strchr(p, ' ');
	if (!sp)
		return 0;
	n = (size_t)(sp - p) < ksize - 1 ? (size_t)(sp - p) : ksize - 1;
	memcpy(kind, p, n);
	kind[n] = '\0';
	sp++;
	n = strcspn(sp, ";\n"); /* pg_dump goes on: "; query was: ..." */
	if (n >= 2 && sp[0] == '"' && sp[n - 1] == '"') {
		sp++;
		n -= 2;
	}
	n = n < nsize - 1 ? n : nsize - 1;
	memcpy(name, sp, n);
	name[n] = '\0';
	return 1;
}

/* Is name one of migdir's bookkeeping tables or their sequences? */
static int
is_bookkeeping(const struct db *db, const char *name)
{
	size_t n = strlen(db->table), h = strlen(db->history);

	return !strcmp(name, db->table) || !strcmp(name, db->history) ||
	    (!strncmp(name, db->table, n) && !strcmp(name + n, "_id_seq")) ||
	    (!strncmp(name, db->history, h) && !strcmp(name + h, "_id_seq"));
}

/* The privilege a statement starting with verb needs on a table. */
static const char *
table_privilege(const char *verb)
{
	if (!strcmp(verb, "INSERT") || !strcmp(verb, "TRUNCATE") ||
	    !strcmp(verb, "SELECT"))
		return verb;
	if (!strcmp(verb, "UPDATE"))
		return "SELECT, UPDATE";
	if (!strcmp(verb, "DELETE") || !strcmp(verb, "MERGE"))
		return "SELECT, INSERT, UPDATE, DELETE";
	if (!strcmp(verb, "ALTER") || !strcmp(verb, "CREATE"))
		return "REFERENCES";
	return "SELECT";
}

int
db_privilege_hint(struct buf *out, const struct db *db, const char *sqlstate,
    const char *message, const char *statement)
{
	char kind[32], name[128], verb[16];
	struct buf role = BUF_INIT, obj = BUF_INIT;
	const char *user = db && db->conn ? pq.PQuser(db->conn) : NULL;

	if (!message || (sqlstate && strcmp(sqlstate, "42501")) ||
	    (!sqlstate && !strstr(message, "permission denied")))
		return 0;
	sql_name(&role, user && *user ? user : "CURRENT_USER");
	first_keyword(verb, sizeof(verb), statement);
	if (denied_object(message, "permission denied for ", kind, sizeof(kind),
		name, sizeof(name))) {
		sql_name(&obj, name);
		if (db &&
		    (!strcmp(kind, "table") || !strcmp(kind, "sequence")) &&
		    is_bookkeeping(db, name)) {
			buf_printf(out,
			    "The role %s lacks %s on %s, which migdir needs "
			    "for its bookkeeping: as the owner of the table, "
			    "run GRANT SELECT, INSERT, UPDATE, DELETE ON %s, "
			    "%s TO %s; GRANT USAGE ON ALL SEQUENCES IN SCHEMA "
			    "%s TO %s;",
			    role.ptr,
			    !strcmp(kind, "sequence") ? "USAGE"
				: !statement          ? "a privilege"
						      : table_privilege(verb),
			    obj.ptr, db->qtable, db->qhistory, role.ptr,
			    db->qschema, role.ptr);
		} else if (!strcmp(kind, "schema")) {
			int create = !statement || !strcmp(verb, "CREATE") ||
			    !strcmp(verb, "BEGIN");

			buf_printf(out,
			    "The role %s lacks %s on schema %s: as its owner, "
			    "run GRANT %s ON SCHEMA %s TO %s;",
			    role.ptr, create ? "CREATE" : "USAGE", obj.ptr,
			    create ? "USAGE, CREATE" : "USAGE", obj.ptr,
			    role.ptr);
		} else if (!strcmp(kind, "database")) {
			const char *priv =
			    !strcmp(verb, "CREATE") ? "CREATE" : "CONNECT";

			buf_printf(out,
			    "The role %s lacks %s on database %s: as its "
			    "owner, run GRANT %s ON DATABASE %s TO %s;",
			    role.ptr, priv, obj.ptr, priv, obj.ptr, role.ptr);
		} else if (!strcmp(kind, "sequence")) {
			buf_printf(out,
			    "The role %s lacks USAGE on sequence %s: as its "
			    "owner, run GRANT USAGE ON SEQUENCE %s TO %s;",
			    role.ptr, obj.ptr, obj.ptr, role.ptr);
		} else if (!strcmp(kind, "function") ||
		    !strcmp(kind, "procedure")) {
			buf_printf(out,
			    "The role %s lacks EXECUTE on %s %s: as its owner, "
			    "run GRANT EXECUTE ON %s %s TO %s;",
			    role.ptr, kind, obj.ptr,
			    !strcmp(kind, "function") ? "FUNCTION"
						      : "PROCEDURE",
			    obj.ptr, role.ptr);
		} else {
			const char *priv = !strcmp(kind, "table") ||
				!strcmp(kind, "view") ||
				!strcmp(kind, "materialized view")
			    ? table_privilege(verb)
			    : "USAGE";

			buf_printf(out,
			    "The role %s lacks %s on %s %s: as its owner, run "
			    "GRANT %s ON %s TO %s;",
			    role.ptr, priv, kind, obj.ptr, priv, obj.ptr,
			    role.ptr);
		}
	} else if (denied_object(message, "must be owner of ", kind,
		       sizeof(kind), name, sizeof(name))) {
		sql_name(&obj, name);
		buf_printf(out,
		    "Only the owner of %s %s may %s it, and %s is not: run "
		    "this as the owner, make %s a member of the owning role "
		    "(GRANT owner TO %s;), or ALTER %s %s OWNER TO %s;",
		    kind, obj.ptr, *verb ? verb : "change", role.ptr, role.ptr,
		    role.ptr, !strcmp(kind, "table") ? "TABLE" : kind, obj.ptr,
		    role.ptr);
	} else if (strstr(message, "permission denied to create database")) {
		buf_printf(out,
		    "The role %s may not create databases: ALTER ROLE %s "
		    "CREATEDB; or name another server in scratch_url.",
		    role.ptr, role.ptr);
	} else {
		buf_printf(out,
		    "The role %s lacks a privilege this needs: the owner of "
		    "the object (or a superuser) can GRANT it to %s.",
		    role.ptr, role.ptr);
	}
	buf_release(&role);
	buf_release(&obj);
	return 1;
}

/* Record a server error in the last-error slot. */
static int
set_server_error(const PGresult *r, const char *what)
{
	struct db_failure f = {0};

	failure_from(&f, r);
	if (what)
		mg_error_set(MG_ERROR, "%s: %s", what, f.message);
	else
		mg_error_set(MG_ERROR, "%s", f.message);
	if (f.detail)
		mg_error_detail("%s", f.detail);
	if (f.hint)
		mg_error_hint("%s", f.hint);
	mg_error_server(f.sqlstate, NULL);
	db_failure_release(&f);
	return MG_ERROR;
}

/*
 * The session is gone (server restarted or crashed, network cut, backend
 * terminated): one line with libpq's first line of why, and what it means
 * for the run.
 */
static int
lost_connection(struct db *db)
{
	char *m = conn_message(db->conn);

	m[strcspn(m, "\n")] = '\0';
	mg_error_set(MG_ERROR, "lost the connection to %s%s%s: %s", db->display,
	    db->tag ? " while running " : "", db->tag ? db->tag : "",
	    *m ? m : "no reason given");
	mg_error_hint("The server rolled back whatever transaction was open; "
		      "what was reported done is committed and recorded. When "
		      "the server is back, run the same command again: it "
		      "goes on from there.");
	free(m);
	return MG_ERROR;
}

/*
 * Connect with conninfo (a URL or key=value string; "" for libpq's
 * defaults) in UTF-8, naming the application (appkw: application_name or
 * fallback_application_name) and passing options when not "".
 */
static PGconn *
open_conn(const struct db *db, const char *appkw, const char *app,
    const char *options)
{
	const char *kw[6], *val[6];
	int i = 0;

	if (*db->conninfo) {
		kw[i] = "dbname";
		val[i++] = db->conninfo;
	}
	/* a later dbname names the database; the first one is expanded */
	if (db->dbname) {
		kw[i] = "dbname";
		val[i++] = db->dbname;
	}
	kw[i] = appkw;
	val[i++] = app;
	kw[i] = "client_encoding";
	val[i++] = "UTF8";
	if (*options) {
		kw[i] = "options";
		val[i++] = options;
	}
	kw[i] = val[i] = NULL;
	return pq.PQconnectdbParams(kw, val, 1);
}

/* ----------------------------------------------------------- monitor --- */

/*
 * Say what our backend waits on: the lock, who holds it, for how long.
 * Opens a second connection the first time; never holds a lock itself.
 * A lock wait is said when say is set or when it is a new one (another
 * lock, holder or migration than the last said); "still running" only
 * when say is set.  Returns 1 if it said something.
 */
static int
report_wait(struct db *db, long long waited_ms, int say)
{
	static const char *const sql =
	    "SELECT w.mode, coalesce(w.relation::regclass::text, w.locktype), "
	    "b.pid, coalesce(b.usename, ''), coalesce(b.application_name, ''), "
	    "coalesce(b.state, ''), "
	    "coalesce(extract(epoch FROM now() - coalesce(b.xact_start, "
	    "b.query_start))::bigint, 0), "
	    "coalesce(left(regexp_replace(b.query, '\\s+', ' ', 'g'), 80), '') "
	    "FROM pg_catalog.pg_locks w "
	    "CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(w.pid)) "
	    "AS bp(pid) "
	    "JOIN pg_catalog.pg_stat_activity b ON b.pid = bp.pid "
	    "WHERE w.pid = $1 AND NOT w.granted LIMIT 3";
	const char *tag = db->tag ? db->tag : "migdir";
	char pid[16];
	const char *params[1] = {pid};
	PGresult *r;
	char *key;
	int i, n;

	if (db->quiet) {
		/* a scratch database: only migdir's own sessions are there */
		if (say)
			rp_verbose("%s: still running after %lld s", tag,
			    waited_ms / 1000);
		return say;
	}
	if (!db->monitor) {
		db->monitor = open_conn(db, "application_name",
		    "migdir (lock monitor)", "");
		if (pq.PQstatus(db->monitor) != CONNECTION_OK) {
			pq.PQfinish(db->monitor);
			db->monitor = NULL;
		}
	}
	snprintf(pid, sizeof(pid), "%d", pq.PQbackendPID(db->conn));
	r = db->monitor
	    ? pq.PQexecParams(db->monitor, sql, 1, NULL, params, NULL, NULL, 0)
	    : NULL;
	if (pq.PQresultStatus(r) != PGRES_TUPLES_OK ||
	    (n = pq.PQntuples(r)) == 0) {
		if (say)
			rp_info("%s: still running after %lld s", tag,
			    waited_ms / 1000);
		pq.PQclear(r);
		return say;
	}
	key = xasprintf("%s %s %s %s", tag, pq.PQgetvalue(r, 0, 0),
	    pq.PQgetvalue(r, 0, 1), pq.PQgetvalue(r, 0, 2));
	if (!say && db->last_wait_key && !strcmp(key, db->last_wait_key)) {
		free(key); /* said already */
		pq.PQclear(r);
		return 0;
	}
	free(db->last_wait_key);
	db->last_wait_key = key;
	for (i = 0; i < n; i++) {
		/* the holder's statement says why: a long query, an index
		   built concurrently, a session idle in its transaction */
		const char *q = pq.PQgetvalue(r, i, 7);
		char *what = xasprintf("%s on %s, held by pid %s (%s, %s, %s "
				       "for %s s%s%s)",
		    pq.PQgetvalue(r, i, 0), pq.PQgetvalue(r, i, 1),
		    pq.PQgetvalue(r, i, 2),
		    *pq.PQgetvalue(r, i, 3) ? pq.PQgetvalue(r, i, 3) : "?",
		    *pq.PQgetvalue(r, i, 4) ? pq.PQgetvalue(r, i, 4) : "?",
		    *pq.PQgetvalue(r, i, 5) ? pq.PQgetvalue(r, i, 5) : "?",
		    pq.PQgetvalue(r, i, 6), *q ? ": " : "", q);

		char *shown = buf_shown(what); /* another role's text */

		free(what);
		what = shown;
		if (waited_ms < 1000) /* a short lock_timeout: said early */
			rp_info("%s: waiting %lld ms for %s", tag, waited_ms,
			    what);
		else
			rp_info("%s: waiting %lld s for %s", tag,
			    waited_ms / 1000, what);
		if (i > 0) {
			free(what);
			continue;
		}
		free(db->last_wait);
		free(db->last_wait_tag);
		db->last_wait = what;
		db->last_wait_tag = xstrdup(tag);
	}
	pq.PQclear(r);
	return 1;
}

/*
 * Wait until the socket is readable (or writable too, when want_write),
 * reporting long waits.  since is when the current wait began (moved by
 * the caller when progress is made, and *next_check reset to
 * db->first_report_ms).  What the statement waits on is looked at every
 * first_report_ms, so that a lock wait that begins late in a long
 * statement is said too; a line is printed for a new lock wait, and
 * every WAIT_REPEAT_MS otherwise.
 */
static int
wait_socket(struct db *db, int want_write, long long since,
    long long *next_check)
{
	struct pollfd pfd;
	int rc;

	pfd.fd = pq.PQsocket(db->conn);
	pfd.events = POLLIN | (want_write ? POLLOUT : 0);
	pfd.revents = 0;
	if (pfd.fd < 0)
		return lost_connection(db);
	rc = poll(&pfd, 1,
	    db->first_report_ms < 250 ? (int)db->first_report_ms : 250);
	if (rc < 0 && errno != EINTR)
		return mg_error_os(MG_ERROR, "poll failed");
	if (rc == 0) {
		long long waited = (rp_now_us() - since) / 1000;

		if (since != db->wait_since) {
			/* a new wait */
			db->wait_since = since;
			db->next_say = WAIT_REPORT_MS;
		}
		if (waited >= *next_check) {
			if (report_wait(db, waited, waited >= db->next_say))
				db->next_say = waited + WAIT_REPEAT_MS;
			*next_check = waited + db->first_report_ms;
		}
	}
	return 0;
}

/* ---------------------------------------------------- synchronous use --- */

/*
 * A COPY the server started (migdir refuses COPY FROM STDIN and TO STDOUT
 * in files it can split, so only a statement the scanner misjudged gets
 * here): migdir has no data to send and takes none, so end it.  Returns 1
 * if r was such a result.
 */
static int
end_copy(struct db *db, const PGresult *r)
{
	ExecStatusType st = pq.PQresultStatus(r);
	char *data;

	if (st == PGRES_COPY_IN) {
		pq.PQputCopyEnd(db->conn,
		    "migdir sends no COPY data: COPY FROM "
		    "STDIN is psql syntax");
		return 1;
	}
	if (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		while (pq.PQgetCopyData(db->conn, &data, 0) > 0)
			pq.PQfreemem(data);
		return 1;
	}
	return 0;
}

/*
 * Collect the results of the command just sent (blocking mode), waiting
 * interruptibly.  Returns the first error result, else the last result;
 * NULL if the connection broke (error set).
 */
static PGresult *
collect(struct db *db)
{
	PGresult *keep = NULL, *r;
	long long since = rp_now_us(), next_report = db->first_report_ms;

	for (;;) {
		while (pq.PQisBusy(db->conn)) {
			if (wait_socket(db, 0, since, &next_report) < 0 ||
			    !pq.PQconsumeInput(db->conn)) {
				pq.PQclear(keep);
				lost_connection(db);
				return NULL;
			}
		}
		if (!(r = pq.PQgetResult(db->conn)))
			break;
		if (end_copy(db, r)) {
			/* the COPY's own error result follows */
			pq.PQclear(r);
			continue;
		}
		if (keep && is_error(keep)) {
			pq.PQclear(r);
			continue;
		}
		pq.PQclear(keep);
		keep = r;
	}
	if (!keep && pq.PQstatus(db->conn) != CONNECTION_OK)
		lost_connection(db);
	return keep;
}

/* Run sql with text parameters; returns the result or NULL (error set). */
static PGresult *
exec_params(struct db *db, const char *sql, int n, const char *const *params)
{
	if (!pq.PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL,
		0)) {
		lost_connection(db);
		return NULL;
	}
	return collect(db);
}

/* Run a possibly multi-statement simple query. */
static PGresult *
exec_simple(struct db *db, const char *sql)
{
	if (!pq.PQsendQuery(db->conn, sql)) {
		lost_connection(db);
		return NULL;
	}
	return collect(db);
}

/*
 * Run sql (n < 0: a simple, possibly multi-statement query) expecting
 * success: its result, or NULL with the server's words (after what).
 */
static PGresult *
query_ok(struct db *db, const char *sql, int n, const char *const *params,
    const char *what)
{
	PGresult *r =
	    n < 0 ? exec_simple(db, sql) : exec_params(db, sql, n, params);

	if (r && is_error(r)) {
		struct buf hint = BUF_INIT;

		set_server_error(r, what);
		if (!mg_error_last()->hint &&
		    db_privilege_hint(&hint, db, mg_error_last()->sqlstate,
			pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), sql))
			mg_error_hint("%s", hint.ptr);
		buf_release(&hint);
		pq.PQclear(r);
		return NULL;
	}
	return r;
}

/* The same, when the result does not matter: 0 or MG_ERROR. */
static int
exec_ok(struct db *db, const char *sql, int n, const char *const *params,
    const char *what)
{
	PGresult *r = query_ok(db, sql, n, params, what);

	if (!r)
		return MG_ERROR;
	pq.PQclear(r);
	return 0;
}

/* ------------------------------------------------------------ connect --- */

/* Append " -c name=value" to options. */
static void
add_option(struct buf *opts, const char *name, const char *value)
{
	if (value)
		buf_printf(opts, "%s-c %s=%s", opts->len ? " " : "", name,
		    value);
}

static char *
existing_options(const char *conninfo)
{
	PQconninfoOption *o, *opts = NULL;
	char *found = NULL;
	const char *env;

	if (*conninfo)
		opts = pq.PQconninfoParse(conninfo, NULL);
	for (o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "options") && o->val && *o->val)
			found = xstrdup(o->val);
	if (opts)
		pq.PQconninfoFree(opts);
	if (!found && (env = getenv("PGOPTIONS")) && *env)
		found = xstrdup(env);
	return found;
}

/* The value of keyword in a conninfo option array, or NULL. */
static const char *
opt_value(const PQconninfoOption *opts, const char *keyword)
{
	for (; opts && opts->keyword; opts++)
		if (!strcmp(opts->keyword, keyword))
			return opts->val && *opts->val ? opts->val : NULL;
	return NULL;
}

void
db_describe_conninfo(struct buf *out, const char *conninfo)
{
	PQconninfoOption *opts = NULL, *defs;
	const char *keys[4] = {"user", "host", "port", "dbname"};
	const char *v[4];
	char *err = NULL;
	int i;

	if (pq_load() < 0) {
		mg_error_clear();
		buf_puts(out, "(libpq not available)");
		return;
	}
	if (*conninfo && !(opts = pq.PQconninfoParse(conninfo, &err))) {
		buf_puts(out, "(unparsable connection string)");
		pq.PQfreemem(err);
		return;
	}
	defs = pq.PQconndefaults();
	for (i = 0; i < 4; i++)
		if (!(v[i] = opt_value(opts, keys[i])))
			v[i] = opt_value(defs, keys[i]);
	buf_printf(out, "%s%s%s:%s/%s", v[0] ? v[0] : "", v[0] ? "@" : "",
	    v[1] ? v[1] : "localhost", v[2] ? v[2] : "5432",
	    v[3] ? v[3] : (v[0] ? v[0] : ""));
	if (opts)
		pq.PQconninfoFree(opts);
	if (defs)
		pq.PQconninfoFree(defs);
}

int
db_connect(struct db **out, const struct db_target *t)
{
	struct buf opts = BUF_INIT, name = BUF_INIT;
	struct db *db;
	char *old;
	const char *host;
	int error = 0;

	*out = NULL;
	if ((error = pq_load()) < 0)
		return error;
	db = xcalloc(1, sizeof(*db));
	db->conninfo = xstrdup(t->conninfo ? t->conninfo : "");
	db->dbname = t->dbname ? xstrdup(t->dbname) : NULL;
	db->quiet = t->quiet;
	/* a lock_timeout shorter than the report's delay: say it earlier */
	db->first_report_ms =
	    t->lock_timeout_ms > 0 && t->lock_timeout_ms < 2L * WAIT_REPORT_MS
	    ? t->lock_timeout_ms / 2
	    : WAIT_REPORT_MS;
	if (db->first_report_ms < 100) /* pg_locks is not free to ask */
		db->first_report_ms = 100;
	if ((old = existing_options(db->conninfo))) {
		buf_puts(&opts, old);
		free(old);
	}
	add_option(&opts, "lock_timeout", t->lock_timeout);
	add_option(&opts, "statement_timeout", t->statement_timeout);
	/*
	 * The database commit is the point of no return: files move and git
	 * records them once it returns.  Under synchronous_commit = off a
	 * server crash loses commits that already returned, so migdir's own
	 * session always waits for its commits to be durable (last, to win
	 * over a setting in the URL or PGOPTIONS).
	 */
	add_option(&opts, "synchronous_commit", "on");
	db->conn = open_conn(db, "fallback_application_name", "migdir",
	    opts.len ? opts.ptr : "");
	buf_release(&opts);
	if (!db->conn || pq.PQstatus(db->conn) != CONNECTION_OK) {
		char *raw = db->conn ? conn_message(db->conn)
				     : xstrdup("out of memory");
		char *m = redact(raw, db->conninfo);
		char *detail = strstr(m, "\nDETAIL:  ");
		struct buf hint = BUF_INIT;

		if (detail) /* one line, the server's detail apart */
			*detail = '\0';
		db_describe_conninfo(&name, db->conninfo);
		mg_error_set(MG_ERROR, "could not connect to %s: %s", name.ptr,
		    m);
		if (detail)
			mg_error_detail("%s", detail + 10);
		if (db->conn && strstr(m, "permission denied for database") &&
		    db_privilege_hint(&hint, db, NULL, m, NULL))
			mg_error_hint("%s", hint.ptr);
		else
			mg_error_hint("Check the url or service of the "
				      "environment, DATABASE_URL or "
				      "--database-url, and that the server is "
				      "running.");
		buf_release(&hint);
		free(raw);
		free(m);
		buf_release(&name);
		db_close(db);
		return MG_ERROR;
	}
	pq.PQsetNoticeReceiver(db->conn, on_notice, db);
	db->server_version = pq.PQserverVersion(db->conn);
	host = pq.PQhost(db->conn);
	db->location = xasprintf("%s:%s/%s", host && *host ? host : "localhost",
	    pq.PQport(db->conn), pq.PQdb(db->conn));
	db->display = xasprintf("%s@%s", pq.PQuser(db->conn), db->location);
	if (db->server_version < MIN_SERVER) {
		mg_error_set(MG_ERROR,
		    "server %s runs PostgreSQL %d.%d: migdir needs 12 or newer",
		    db->display, db->server_version / 10000,
		    db->server_version % 10000);
		db_close(db);
		return MG_ERROR;
	}
	db->schema = xstrdup(t->schema);
	db->table = xstrdup(t->table);
	db->history =
	    xasprintf("%.*s_history", clip_utf8(t->table, 54), t->table);
	db->qschema = quote_ident(db->conn, t->schema);
	{
		char *qt = quote_ident(db->conn, t->table);
		char *qh = quote_ident(db->conn, db->history);

		db->qtable = xasprintf("%s.%s", db->qschema, qt);
		db->qhistory = xasprintf("%s.%s", db->qschema, qh);
		free(qt);
		free(qh);
	}
	db->lock_key = xasprintf("migdir:%s", db->qtable);
	db->environment = xstrdup(t->environment ? t->environment : "");
	db->who = xstrdup(t->who ? t->who : "");
	db->app_version = xstrdup(t->app_version ? t->app_version : "");
	install_handler(db);
	db->handler = 1;
	*out = db;
	return 0;
}

void
db_close(struct db *db)
{
	if (!db)
		return;
	if (db->handler)
		remove_handler(db);
	if (db->monitor)
		pq.PQfinish(db->monitor);
	if (db->conn)
		pq.PQfinish(db->conn);
	free(db->display);
	free(db->location);
	free(db->conninfo);
	free(db->dbname);
	free(db->qtable);
	free(db->qhistory);
	free(db->qschema);
	free(db->schema);
	free(db->table);
	free(db->history);
	free(db->lock_key);
	free(db->last_wait);
	free(db->last_wait_tag);
	free(db->last_wait_key);
	free(db->environment);
	free(db->who);
	free(db->app_version);
	free(db);
}

const char *
db_display(const struct db *db)
{
	return db->display;
}

const char *
db_location(const struct db *db)
{
	return db->location;
}

int
db_server_version(const struct db *db)
{
	return db->server_version;
}

const char *
db_last_wait(const struct db *db, const char *version)
{
	if (!db || !db->last_wait || !version ||
	    strcmp(db->last_wait_tag, version))
		return NULL;
	return db->last_wait;
}

/* --------------------------------------------------------------- lock --- */

static void
say_holder(struct db *db)
{
	static const char *const sql =
	    "SELECT a.pid, coalesce(a.usename, ''), "
	    "coalesce(a.application_name, ''), "
	    "coalesce(host(a.client_addr), 'local socket'), "
	    "coalesce(extract(epoch FROM now() - a.backend_start)::bigint, 0) "
	    "FROM pg_catalog.pg_locks l "
	    "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
	    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
	    "AND ((l.classid::bigint << 32) | l.objid::bigint) = "
	    "pg_catalog.hashtextextended($1, 0) LIMIT 1";
	const char *params[1] = {db->lock_key};
	PGresult *r = exec_params(db, sql, 1, params);

	if (r && pq.PQresultStatus(r) == PGRES_TUPLES_OK &&
	    pq.PQntuples(r) == 1)
		rp_info("waiting for the migration lock on %s: held by pid %s "
			"(%s, %s, from %s, connected %s s ago)",
		    db->display, pq.PQgetvalue(r, 0, 0), pq.PQgetvalue(r, 0, 1),
		    pq.PQgetvalue(r, 0, 2), pq.PQgetvalue(r, 0, 3),
		    pq.PQgetvalue(r, 0, 4));
	else
		rp_info("waiting for the migration lock on %s", db->display);
	pq.PQclear(r);
	mg_error_clear();
}

int
db_lock(struct db *db, long wait_ms)
{
	static const char *const sql = "SELECT pg_catalog.pg_try_advisory_lock("
				       "pg_catalog.hashtextextended($1, 0))";
	const char *params[1] = {db->lock_key};
	long long start = rp_now_us();
	long sleep_ms = 20;
	int said = 0;

	for (;;) {
		PGresult *r = query_ok(db, sql, 1, params,
		    "could not take the migration lock");
		int got;

		if (!r)
			return MG_ERROR;
		got = !strcmp(pq.PQgetvalue(r, 0, 0), "t");
		pq.PQclear(r);
		if (got) {
			db->lock_waited = said > 0;
			return 0;
		}
		if (!said++)
			say_holder(db);
		if (interrupted)
			return mg_error_set(MG_ECANCEL,
			    "interrupted while waiting for the migration lock");
		if ((rp_now_us() - start) / 1000 >= wait_ms) {
			mg_error_set(MG_ELOCKED,
			    "could not get the migration lock on %s within %ld "
			    "ms",
			    db->display, wait_ms);
			mg_error_hint("Another migdir is applying or rolling "
				      "back; wait for it, or raise lock_wait "
				      "in migdir.ini.");
			return MG_ELOCKED;
		}
		{
			struct timespec ts = {0, sleep_ms * 1000000L};

			nanosleep(&ts, NULL);
		}
		if ((sleep_ms *= 2) > LOCK_POLL_MAX_MS)
			sleep_ms = LOCK_POLL_MAX_MS;
	}
}

int
db_lock_waited(const struct db *db)
{
	return db && db->lock_waited;
}

/* ------------------------------------------------------- bookkeeping --- */

static const struct {
	unsigned bit;
	const char *name;
	const char *type;
} columns[] = {
    {DB_COL_APPLIED_AT, "applied_at", "TIMESTAMP WITH TIME ZONE DEFAULT NOW()"},
    {DB_COL_DESCRIPTION, "description", "TEXT"},
    {DB_COL_IS_ACTIVE, "is_active", "BOOLEAN DEFAULT TRUE"},
    {DB_COL_ROLLED_BACK_AT, "rolled_back_at", "TIMESTAMP WITH TIME ZONE"},
    {DB_COL_CHECKSUM, "checksum", "TEXT"},
    {DB_COL_ROLLBACK_CHECKSUM, "rollback_checksum", "TEXT"},
    {DB_COL_APPLIED_BY, "applied_by", "TEXT"},
    {DB_COL_DURATION_MS, "duration_ms", "BIGINT"},
    {DB_COL_MIGDIR_VERSION, "migdir_version", "TEXT"},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/*
 * How many objects of the user's the database holds, and one of them:
 * relations, functions, types and schemas outside the system ones, and
 * extensions other than plpgsql.  migdir's two tables (and what belongs
 * to them) do not count, so a database only migdir touched is empty.
 */
static int
count_objects(struct db *db, struct db_probe *out)
{
	static const char *const sql =
	    "WITH book AS (SELECT c.oid FROM pg_catalog.pg_class c "
	    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    " WHERE n.nspname = $1 AND c.relname IN ($2, $3)), "
	    "usr AS (SELECT oid, nspname FROM pg_catalog.pg_namespace "
	    " WHERE nspname <> 'information_schema' AND nspname !~ '^pg_'), "
	    "ext AS (SELECT objid FROM pg_catalog.pg_depend WHERE deptype = "
	    "'e'), "
	    "o AS ("
	    " SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN "
	    "  'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN "
	    "  'foreign table' ELSE 'table' END || ' ' || u.nspname || '.' || "
	    "  c.relname AS what, 1 AS k "
	    " FROM pg_catalog.pg_class c JOIN usr u ON u.oid = c.relnamespace "
	    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	    " AND c.oid NOT IN (SELECT oid FROM book) "
	    " AND c.oid NOT IN (SELECT objid FROM ext) "
	    " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
	    "  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
	    "  AND d.objid = c.oid AND d.refobjid IN (SELECT oid FROM book)) "
	    " UNION ALL SELECT 'function ' || u.nspname || '.' || p.proname, 2 "
	    " FROM pg_catalog.pg_proc p JOIN usr u ON u.oid = p.pronamespace "
	    " WHERE p.oid NOT IN (SELECT objid FROM ext) "
	    " UNION ALL SELECT 'type ' || u.nspname || '.' || t.typname, 3 "
	    " FROM pg_catalog.pg_type t JOIN usr u ON u.oid = t.typnamespace "
	    " WHERE (t.typtype IN ('e', 'd', 'r', 'm', 'b') "
	    "  OR (t.typtype = 'c' AND (SELECT c.relkind FROM "
	    "   pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')) "
	    " AND t.typcategory <> 'A' "
	    " AND t.oid NOT IN (SELECT objid FROM ext) "
	    " UNION ALL SELECT 'collation ' || u.nspname || '.' || o.collname, "
	    " 3 FROM pg_catalog.pg_collation o JOIN usr u "
	    " ON u.oid = o.collnamespace "
	    " WHERE o.oid NOT IN (SELECT objid FROM ext) "
	    " UNION ALL SELECT 'operator ' || u.nspname || '.' || o.oprname, 3 "
	    " FROM pg_catalog.pg_operator o JOIN usr u "
	    " ON u.oid = o.oprnamespace "
	    " WHERE o.oid NOT IN (SELECT objid FROM ext) "
	    " UNION ALL SELECT 'text search configuration ' || u.nspname || "
	    " '.' || o.cfgname, 3 FROM pg_catalog.pg_ts_config o JOIN usr u "
	    " ON u.oid = o.cfgnamespace "
	    " WHERE o.oid NOT IN (SELECT objid FROM ext) "
	    " UNION ALL SELECT 'schema ' || nspname, 4 FROM usr "
	    " WHERE nspname NOT IN ('public', $1) "
	    " UNION ALL SELECT 'extension ' || extname, 5 "
	    " FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql') "
	    "SELECT count(*), (SELECT what FROM o ORDER BY k, what LIMIT 1) "
	    "FROM o";
	const char *params[3] = {db->schema, db->table, db->history};
	PGresult *r = query_ok(db, sql, 3, params,
	    "could not look for objects in the database");

	if (!r)
		return MG_ERROR;
	out->objects = atol(pq.PQgetvalue(r, 0, 0));
	snprintf(out->example, sizeof(out->example), "%s",
	    pq.PQgetvalue(r, 0, 1));
	pq.PQclear(r);
	return 0;
}

/*
 * The types migdir reads each column as (a hand-kept table may differ in
 * length or time zone, not in kind); a column of another type would make
 * every query fail, or worse, compare wrongly.
 */
static const struct {
	const char *name;
	const char *types; /* ",type,type," as format_type spells them */
	const char *want;  /* what to ALTER it to */
} column_types[] = {
    {"version", ",text,character varying,", "text"},
    {"applied_at", ",timestamp with time zone,timestamp without time zone,",
	"timestamp with time zone"},
    {"description", ",text,character varying,", "text"},
    {"is_active", ",boolean,", "boolean"},
    {"rolled_back_at", ",timestamp with time zone,timestamp without time zone,",
	"timestamp with time zone"},
    {"checksum", ",text,character varying,", "text"},
    {"rollback_checksum", ",text,character varying,", "text"},
    {"applied_by", ",text,character varying,", "text"},
    {"duration_ms", ",bigint,integer,smallint,", "bigint"},
    {"migdir_version", ",text,character varying,", "text"},
};

/* cols: "name:type,name:type" for the table's columns. */
static int
check_types(struct db *db, const char *cols)
{
	size_t i;

	for (i = 0; i < sizeof(column_types) / sizeof(column_types[0]); i++) {
		const char *p = cols, *type, *end;
		size_t n = strlen(column_types[i].name);
		char *t;
		int ok;

		while (
		    p && !(!strncmp(p, column_types[i].name, n) && p[n] == ':'))
			p = (p = strchr(p, ',')) ? p + 1 : NULL;
		if (!p) {
			if (i > 0) /* migdir adds the others */
				continue;
			mg_error_set(MG_ERROR,
			    "%s has no column \"version\": migdir cannot tell "
			    "which migrations it records",
			    db->qtable);
			mg_error_hint(
			    "Restore the column (version TEXT NOT NULL "
			    "UNIQUE), or set table in migdir.ini to "
			    "migdir's own table; nothing has run.");
			return MG_ERROR;
		}
		type = p + n + 1;
		end = strchr(type, ',');
		t = xasprintf(",%.*s,",
		    (int)(end ? (size_t)(end - type) : strlen(type)), type);
		ok = strstr(column_types[i].types, t) != NULL;
		if (!ok) {
			mg_error_set(MG_ERROR,
			    "%s: column \"%s\" is %.*s, migdir needs %s",
			    db->qtable, column_types[i].name,
			    (int)strlen(t) - 2, t + 1, column_types[i].want);
			mg_error_hint("ALTER TABLE %s ALTER COLUMN %s TYPE %s "
				      "USING %s::%s, or restore it as it "
				      "was; nothing has run.",
			    db->qtable, column_types[i].name,
			    column_types[i].want, column_types[i].name,
			    column_types[i].want);
		}
		free(t);
		if (!ok)
			return MG_ERROR;
	}
	return 0;
}

/*
 * Rows no command can read one meaning from: a NULL version, a version
 * held twice (a table kept by hand has no unique index to stop either).
 */
static int
check_rows(struct db *db)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	long nulls;
	int error = 0;

	buf_printf(&sql,
	    "SELECT (SELECT count(*) FROM %s WHERE version IS NULL), "
	    "(SELECT string_agg(version || ' (' || n || ' rows)', ', ') FROM "
	    " (SELECT version, count(*) AS n FROM %s WHERE version IS NOT "
	    "  NULL GROUP BY version HAVING count(*) > 1 ORDER BY version "
	    "  LIMIT 5) d)",
	    db->qtable, db->qtable);
	r = query_ok(db, sql.ptr, 0, NULL,
	    "could not read the bookkeeping table");
	buf_release(&sql);
	if (!r)
		return MG_ERROR;
	nulls = atol(pq.PQgetvalue(r, 0, 0));
	if (nulls > 0) {
		error = mg_error_set(MG_ERROR,
		    "%s has %ld row%s with a NULL version: migdir cannot "
		    "tell which migration %s",
		    db->qtable, nulls, nulls == 1 ? "" : "s",
		    nulls == 1 ? "it records" : "they record");
		mg_error_hint("Give each its version, or delete it (DELETE "
			      "FROM %s WHERE version IS NULL); nothing has "
			      "run.",
		    db->qtable);
	} else if (!pq.PQgetisnull(r, 0, 1)) {
		error = mg_error_set(MG_ERROR,
		    "%s holds versions in more than one row: %s", db->qtable,
		    pq.PQgetvalue(r, 0, 1));
		mg_error_hint("Keep one row per version (the one whose "
			      "checksum matches the file) and delete the "
			      "others; nothing has run.");
	}
	pq.PQclear(r);
	return error;
}

int
db_probe(struct db *db, struct db_probe *out)
{
	static const char *const sql =
	    "SELECT n.oid IS NOT NULL, c.oid IS NOT NULL, h.oid IS NOT NULL, "
	    "coalesce((SELECT string_agg(attname, ',') "
	    " FROM pg_catalog.pg_attribute "
	    " WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped), "
	    "''), "
	    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i "
	    " JOIN pg_catalog.pg_attribute a "
	    "  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
	    " WHERE i.indrelid = c.oid AND i.indisunique AND i.indnatts = 1 "
	    " AND i.indpred IS NULL AND a.attname = 'version'), "
	    "coalesce((SELECT string_agg(attname || ':' || "
	    " pg_catalog.format_type(atttypid, NULL), ',') "
	    " FROM pg_catalog.pg_attribute "
	    " WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped "
	    " AND attname ~ '^[a-z_]+$'), '') "
	    "FROM (SELECT (SELECT oid FROM pg_catalog.pg_namespace "
	    "  WHERE nspname = $1) AS oid) n "
	    "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid "
	    " AND c.relname = $2 AND c.relkind IN ('r', 'p') "
	    "LEFT JOIN pg_catalog.pg_class h ON h.relnamespace = n.oid "
	    " AND h.relname = $3 AND h.relkind IN ('r', 'p')";
	const char *params[3] = {db->schema, db->table, db->history};
	PGresult *r = query_ok(db, sql, 3, params,
	    "could not inspect the bookkeeping table");
	char *cols, *tok, *save = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!r)
		return MG_ERROR;
	out->schema_exists = !strcmp(pq.PQgetvalue(r, 0, 0), "t");
	out->table_exists = !strcmp(pq.PQgetvalue(r, 0, 1), "t");
	out->history_exists = !strcmp(pq.PQgetvalue(r, 0, 2), "t");
	out->has_unique = !strcmp(pq.PQgetvalue(r, 0, 4), "t");
	cols = xstrdup(pq.PQgetvalue(r, 0, 3));
	for (tok = strtok_r(cols, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		for (i = 0; i < NCOLUMNS; i++)
			if (!strcmp(tok, columns[i].name))
				out->columns |= columns[i].bit;
	free(cols);
	cols = xstrdup(pq.PQgetvalue(r, 0, 5));
	pq.PQclear(r);
	if (out->table_exists) {
		int error = check_types(db, cols);

		free(cols);
		if (error < 0 || (error = check_rows(db)) < 0)
			return error;
	} else
		free(cols);
	return count_objects(db, out);
}

static int
check_duplicates(struct db *db)
{
	struct buf sql = BUF_INIT, list = BUF_INIT;
	PGresult *r;
	int i, n, error = 0;

	buf_printf(&sql,
	    "SELECT version FROM %s GROUP BY version HAVING count(*) > 1 "
	    "ORDER BY version LIMIT 10",
	    db->qtable);
	r = query_ok(db, sql.ptr, 0, NULL, NULL);
	buf_release(&sql);
	if (!r)
		return MG_ERROR;
	if ((n = pq.PQntuples(r)) > 0) {
		for (i = 0; i < n; i++)
			buf_printf(&list, "%s\"%s\"", i ? ", " : "",
			    pq.PQgetvalue(r, i, 0));
		error = mg_error_set(MG_ERROR,
		    "%s holds some versions twice (%s): it cannot get the "
		    "unique index migdir needs",
		    db->qtable, list.ptr);
		mg_error_hint("Keep one row per version (the history of the "
			      "others can go into a note), then run migdir "
			      "init again.");
	}
	buf_release(&list);
	pq.PQclear(r);
	return error;
}

void
db_probe_ensured(struct db_probe *p)
{
	p->schema_exists = p->table_exists = p->history_exists = 1;
	p->has_unique = 1;
	p->columns = DB_COL_ALL;
}

int
db_ensure(struct db *db, const struct db_probe *p, struct buf *report)
{
	struct buf sql = BUF_INIT, added = BUF_INIT;
	size_t i;
	int error;

	if (p->schema_exists && p->table_exists &&
	    (p->columns & DB_COL_ALL) == DB_COL_ALL && p->has_unique &&
	    p->history_exists)
		return 0;
	buf_puts(&sql, "BEGIN;\n");
	if (!p->schema_exists) {
		buf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s;\n",
		    db->qschema);
		if (report)
			buf_printf(report, "created schema %s\n", db->qschema);
	}
	if (!p->table_exists) {
		/* the seed's columns, then migdir's, in one statement */
		buf_printf(&sql,
		    "CREATE TABLE IF NOT EXISTS %s (\n"
		    "  id SERIAL PRIMARY KEY,\n"
		    "  version TEXT NOT NULL UNIQUE",
		    db->qtable);
		for (i = 0; i < NCOLUMNS; i++)
			buf_printf(&sql, ",\n  %s %s", columns[i].name,
			    columns[i].type);
		buf_puts(&sql, "\n);\n");
		if (report)
			buf_printf(report, "created table %s\n", db->qtable);
	} else if (!p->has_unique) {
		if ((error = check_duplicates(db)) < 0)
			goto out;
		buf_printf(&sql, "CREATE UNIQUE INDEX ON %s (version);\n",
		    db->qtable);
		if (report)
			buf_printf(report,
			    "added a unique index on %s (version)\n",
			    db->qtable);
	}
	for (i = 0; i < NCOLUMNS && p->table_exists; i++) {
		if (p->columns & columns[i].bit)
			continue;
		buf_printf(&sql,
		    "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s;\n",
		    db->qtable, columns[i].name, columns[i].type);
		buf_printf(&added, "%s%s", added.len ? ", " : "",
		    columns[i].name);
	}
	if (report && added.len)
		buf_printf(report, "added column%s %s to %s\n",
		    strchr(added.ptr, ',') ? "s" : "", added.ptr, db->qtable);
	if (!p->history_exists) {
		/* an identifier, so quoted like the others */
		char *idx = xasprintf("%.*s_version_idx",
		    clip_utf8(db->history, 40), db->history);
		char *qidx = quote_ident(db->conn, idx);

		buf_printf(&sql,
		    "CREATE TABLE IF NOT EXISTS %s (\n"
		    "  id BIGSERIAL PRIMARY KEY,\n"
		    "  version TEXT NOT NULL,\n"
		    "  action TEXT NOT NULL,\n"
		    "  success BOOLEAN NOT NULL,\n"
		    "  at TIMESTAMP WITH TIME ZONE NOT NULL "
		    "DEFAULT clock_timestamp(),\n"
		    "  by_user TEXT,\n"
		    "  db_user TEXT NOT NULL DEFAULT current_user,\n"
		    "  environment TEXT,\n"
		    "  checksum TEXT,\n"
		    "  duration_ms BIGINT,\n"
		    "  sqlstate TEXT,\n"
		    "  message TEXT,\n"
		    "  statement TEXT,\n"
		    "  location TEXT,\n"
		    "  old_row JSONB,\n"
		    "  migdir_version TEXT\n"
		    ");\n"
		    "CREATE INDEX IF NOT EXISTS %s ON %s (version, at);\n",
		    db->qhistory, qidx, db->qhistory);
		free(qidx);
		free(idx);
		if (report)
			buf_printf(report, "created table %s (run history)\n",
			    db->qhistory);
	}
	buf_puts(&sql, "COMMIT;\n");
	error = exec_ok(db, sql.ptr, -1, NULL,
	    "could not create the bookkeeping tables");
out:
	buf_release(&sql);
	buf_release(&added);
	return error;
}

static char *
value_or_null(const PGresult *r, int row, int col)
{
	return pq.PQgetisnull(r, row, col)
	    ? NULL
	    : xstrdup(pq.PQgetvalue(r, row, col));
}

static long long
ll_or(const PGresult *r, int row, int col, long long dflt)
{
	return pq.PQgetisnull(r, row, col) ? dflt
					   : atoll(pq.PQgetvalue(r, row, col));
}

int
db_read_failures(struct db *db, const struct db_probe *p, struct failures *out)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int i, n;

	memset(out, 0, sizeof(*out));
	if (!p->history_exists)
		return 0;
	buf_printf(&sql,
	    "SELECT version, action, (extract(epoch FROM at) * "
	    "1000000)::bigint, "
	    "sqlstate, location, message FROM "
	    "(SELECT DISTINCT ON (version) * FROM %s "
	    " WHERE action IN ('apply', 'rollback') "
	    " ORDER BY version, id DESC) last WHERE NOT success",
	    db->qhistory);
	r = query_ok(db, sql.ptr, 0, NULL, "could not read the run history");
	buf_release(&sql);
	if (!r)
		return MG_ERROR;
	n = pq.PQntuples(r);
	for (i = 0; i < n; i++) {
		struct failure *f = failures_add(out);

		f->version = xstrdup(pq.PQgetvalue(r, i, 0));
		f->action = xstrdup(pq.PQgetvalue(r, i, 1));
		f->at = ll_or(r, i, 2, 0);
		f->sqlstate = value_or_null(r, i, 3);
		f->location = value_or_null(r, i, 4);
		f->message = value_or_null(r, i, 5);
	}
	pq.PQclear(r);
	failures_sort(out);
	return 0;
}

int
db_last_run(struct db *db, const struct db_probe *p, const char *version,
    const char *action, char **by, long long *at)
{
	struct buf sql = BUF_INIT;
	const char *params[2] = {version, action};
	PGresult *r;

	*by = NULL;
	*at = 0;
	if (!p->history_exists)
		return 0;
	buf_printf(&sql,
	    "SELECT by_user, (extract(epoch FROM at) * 1000000)::bigint "
	    "FROM %s WHERE version = $1 AND action = $2 AND success "
	    "ORDER BY id DESC LIMIT 1",
	    db->qhistory);
	r = query_ok(db, sql.ptr, 2, params, "could not read the run history");
	buf_release(&sql);
	if (!r)
		return MG_ERROR;
	if (pq.PQntuples(r) == 1) {
		*by = value_or_null(r, 0, 0);
		*at = ll_or(r, 0, 1, 0);
	}
	pq.PQclear(r);
	return 0;
}

int
db_read_rows(struct db *db, const struct db_probe *p, struct rows *out)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int i, n;
	unsigned c = p->columns;

	memset(out, 0, sizeof(*out));
	if (!p->table_exists)
		return 0;
	buf_printf(&sql,
	    "SELECT version, %s, %s, %s, %s, %s, %s, %s, %s FROM %s",
	    c & DB_COL_IS_ACTIVE ? "coalesce(is_active, true)" : "true",
	    c & DB_COL_CHECKSUM ? "checksum" : "NULL",
	    c & DB_COL_ROLLBACK_CHECKSUM ? "rollback_checksum" : "NULL",
	    c & DB_COL_APPLIED_AT
		? "(extract(epoch FROM applied_at) * 1000000)::bigint"
		: "NULL",
	    c & DB_COL_ROLLED_BACK_AT
		? "(extract(epoch FROM rolled_back_at) * 1000000)::bigint"
		: "NULL",
	    c & DB_COL_APPLIED_BY ? "applied_by" : "NULL",
	    c & DB_COL_DESCRIPTION ? "description" : "NULL",
	    c & DB_COL_DURATION_MS ? "duration_ms" : "NULL", db->qtable);
	r = query_ok(db, sql.ptr, 0, NULL,
	    "could not read the bookkeeping table");
	buf_release(&sql);
	if (!r)
		return MG_ERROR;
	n = pq.PQntuples(r);
	for (i = 0; i < n; i++) {
		struct row *row = rows_add(out);

		row->version = xstrdup(pq.PQgetvalue(r, i, 0));
		row->active = !strcmp(pq.PQgetvalue(r, i, 1), "t");
		row->checksum = value_or_null(r, i, 2);
		row->rollback_checksum = value_or_null(r, i, 3);
		row->applied_at = ll_or(r, i, 4, 0);
		row->rolled_back_at = ll_or(r, i, 5, 0);
		row->applied_by = value_or_null(r, i, 6);
		row->description = value_or_null(r, i, 7);
		row->duration_ms = ll_or(r, i, 8, -1);
	}
	pq.PQclear(r);
	rows_sort(out);
	return 0;
}

/* ---------------------------------------------------------- running --- */

#define STMT_APPLY    "migdir_apply"
#define STMT_ROLLBACK "migdir_rollback"
#define STMT_CLEAR    "migdir_clear"
#define STMT_BASELINE "migdir_baseline"

/* The three bookkeeping statements, prepared in one round trip. */
static int
prepare(struct db *db)
{
	struct buf sql = BUF_INIT;
	int error;

	if (db->prepared)
		return 0;
	buf_printf(&sql,
	    "PREPARE " STMT_APPLY " AS "
	    "WITH r AS (INSERT INTO %s AS t (version, description, "
	    "applied_at, is_active, rolled_back_at, checksum, "
	    "rollback_checksum, applied_by, duration_ms, migdir_version) "
	    "VALUES ($1, $2, now(), true, NULL, $3, $4, $5, "
	    "coalesce($8::bigint, "
	    "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint), "
	    "$6) "
	    "ON CONFLICT (version) DO UPDATE SET applied_at = now(), "
	    "is_active = true, rolled_back_at = NULL, "
	    "description = coalesce(t.description, EXCLUDED.description), "
	    "checksum = EXCLUDED.checksum, "
	    "rollback_checksum = EXCLUDED.rollback_checksum, "
	    "applied_by = EXCLUDED.applied_by, "
	    "duration_ms = EXCLUDED.duration_ms, "
	    "migdir_version = EXCLUDED.migdir_version "
	    "RETURNING version, checksum, duration_ms) "
	    "INSERT INTO %s (version, action, success, by_user, environment, "
	    "checksum, duration_ms, migdir_version) "
	    "SELECT version, 'apply', true, $5, $7, checksum, duration_ms, $6 "
	    "FROM r;\n",
	    db->qtable, db->qhistory);
	buf_printf(&sql,
	    "PREPARE " STMT_ROLLBACK " AS "
	    "WITH r AS (UPDATE %s SET is_active = false, "
	    "rolled_back_at = now() WHERE version = $1 RETURNING version) "
	    "INSERT INTO %s (version, action, success, by_user, environment, "
	    "checksum, duration_ms, migdir_version) "
	    "SELECT version, 'rollback', true, $3, $5, $2, "
	    "coalesce($6::bigint, "
	    "(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint), "
	    "$4 FROM r;\n",
	    db->qtable, db->qhistory);
	buf_printf(&sql,
	    "PREPARE " STMT_CLEAR " AS "
	    "WITH old AS (DELETE FROM %s WHERE version = $1 "
	    "AND NOT coalesce(is_active, true) RETURNING *) "
	    "INSERT INTO %s (version, action, success, by_user, environment, "
	    "old_row, migdir_version) "
	    "SELECT version, 'superseded', true, $2, $4, to_jsonb(old), $3 "
	    "FROM old;\n",
	    db->qtable, db->qhistory);
	buf_printf(&sql,
	    "PREPARE " STMT_BASELINE " AS "
	    "WITH r AS (INSERT INTO %s AS t (version, description, "
	    "applied_at, is_active, rolled_back_at, checksum, "
	    "rollback_checksum, applied_by, duration_ms, migdir_version) "
	    "SELECT v, d, now(), true, NULL, c, rc, $5, NULL, $6 "
	    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
	    "AS x(v, d, c, rc) "
	    "ON CONFLICT (version) DO UPDATE SET applied_at = now(), "
	    "is_active = true, rolled_back_at = NULL, "
	    "description = coalesce(t.description, EXCLUDED.description), "
	    "checksum = EXCLUDED.checksum, "
	    "rollback_checksum = EXCLUDED.rollback_checksum, "
	    "applied_by = EXCLUDED.applied_by, duration_ms = NULL, "
	    "migdir_version = EXCLUDED.migdir_version "
	    "RETURNING version, checksum) "
	    "INSERT INTO %s (version, action, success, by_user, environment, "
	    "checksum, migdir_version) "
	    "SELECT version, 'baseline', true, $5, $7, checksum, $6 "
	    "FROM r;\n",
	    db->qtable, db->qhistory);
	error = exec_ok(db, sql.ptr, -1, NULL,
	    "could not prepare migdir's bookkeeping");
	buf_release(&sql);
	if (!error)
		db->prepared = 1;
	return error;
}

/*
 * Parameters of the bookkeeping statement of u; returns their count.
 * dur_ms is the unit's duration when it ran outside a transaction (the
 * server's now() is then the bookkeeping's own start), else NULL.
 */
/* A text[] literal of the field at offset off of each record. */
static char *
records_array(const struct db_unit *u, size_t off)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_putc(&b, '{');
	for (i = 0; i < u->nrecords; i++) {
		const char *v =
		    *(const char *const *)((const char *)&u->records[i] + off);

		if (i)
			buf_putc(&b, ',');
		if (!v) {
			buf_puts(&b, "NULL");
			continue;
		}
		buf_putc(&b, '"');
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *v);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	return buf_detach(&b);
}

/* The parameters of a DB_BASELINE unit's bookkeeping (arrays freed by
 * free_records). */
static int
baseline_params(const struct db *db, const struct db_unit *u, const char **p)
{
	p[0] = records_array(u, offsetof(struct db_record, version));
	p[1] = records_array(u, offsetof(struct db_record, description));
	p[2] = records_array(u, offsetof(struct db_record, checksum));
	p[3] = records_array(u, offsetof(struct db_record, rb_checksum));
	p[4] = db->who;
	p[5] = db->app_version;
	p[6] = db->environment;
	return 7;
}

static void
free_records(const struct db_unit *u, const char **p)
{
	int i;

	if (u->action != DB_BASELINE)
		return;
	for (i = 0; i < 4; i++)
		free((char *)p[i]);
}

static const char *
book_statement(const struct db_unit *u)
{
	switch (u->action) {
	case DB_APPLY:
		return STMT_APPLY;
	case DB_ROLLBACK:
		return STMT_ROLLBACK;
	case DB_BASELINE:
		break;
	}
	return STMT_BASELINE;
}

static int
book_params(const struct db *db, const struct db_unit *u, const char **p,
    const char *dur_ms)
{
	if (u->action == DB_BASELINE)
		return baseline_params(db, u, p);
	if (u->action == DB_APPLY) {
		p[0] = u->version;
		p[1] = u->description;
		p[2] = u->checksum;
		p[3] = u->rb_checksum;
		p[4] = db->who;
		p[5] = db->app_version;
		p[6] = db->environment;
		p[7] = dur_ms;
		return 8;
	}
	p[0] = u->version;
	p[1] = u->checksum;
	p[2] = db->who;
	p[3] = db->app_version;
	p[4] = db->environment;
	p[5] = dur_ms;
	return 6;
}

static int
clear_params(const struct db *db, const struct db_unit *u, const char **p)
{
	p[0] = u->version;
	p[1] = db->who;
	p[2] = db->app_version;
	p[3] = db->environment;
	return 4;
}

enum cmd_kind {
	CMD_BEGIN,
	CMD_CLEAR,
	CMD_STMT,
	CMD_BOOK,
	CMD_COMMIT,
	CMD_RESET,
	CMD_SYNC,
};

struct cmd {
	enum cmd_kind kind;
	size_t unit;
	size_t stmt;
};

struct queue {
	struct cmd *v;
	size_t head, n, cap;
};

static void
push(struct queue *q, enum cmd_kind kind, size_t unit, size_t stmt)
{
	XGROW(q->v, q->cap, q->n + 1);
	q->v[q->n].kind = kind;
	q->v[q->n].unit = unit;
	q->v[q->n].stmt = stmt;
	q->n++;
}

/* Send a statement of a unit, or a prepared one with its parameters. */
static int
send_query(struct db *db, const char *sql, const char *prepared, int n,
    const char *const *params)
{
	int ok = prepared
	    ? pq.PQsendQueryPrepared(db->conn, prepared, n, params, NULL, NULL,
		  0)
	    : pq.PQsendQueryParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0);

	return ok ? 0 : lost_connection(db);
}

/* End a transaction a unit (or the file) left open: roll it back. */
static void
rollback_open_xact(struct db *db)
{
	if (pq.PQstatus(db->conn) == CONNECTION_OK &&
	    pq.PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		PGresult *r = exec_simple(db, "ROLLBACK");

		pq.PQclear(r);
	}
}

static int
send_cmd(struct db *db, struct queue *q, enum cmd_kind kind, size_t unit,
    size_t stmt, const char *sql, const char *prepared, int n,
    const char *const *params)
{
	if (send_query(db, sql, prepared, n, params) < 0)
		return MG_ERROR;
	push(q, kind, unit, stmt);
	return 0;
}

/* A file may turn synchronous_commit off; migdir's records stay durable. */
#define SYNC_COMMIT_LOCAL   "SET LOCAL synchronous_commit = on"
#define SYNC_COMMIT_SESSION "SET synchronous_commit = on"

/* Queue one transactional unit: BEGIN, statements, bookkeeping, COMMIT. */
static int
send_unit(struct db *db, struct queue *q, struct db_unit *u, size_t idx)
{
	const char *params[8];
	size_t i;
	int n, error;

	if (send_cmd(db, q, CMD_BEGIN, idx, 0, "BEGIN", NULL, 0, NULL) < 0)
		return MG_ERROR;
	if (u->clear_row) {
		n = clear_params(db, u, params);
		if (send_cmd(db, q, CMD_CLEAR, idx, 0, NULL, STMT_CLEAR, n,
			params) < 0)
			return MG_ERROR;
	}
	for (i = 0; i < u->nstmts; i++)
		if (send_cmd(db, q, CMD_STMT, idx, i, u->stmts[i], NULL, 0,
			NULL) < 0)
			return MG_ERROR;
	/* the file may have turned it off for its transaction: the commit
	   that records the migration must be durable all the same */
	if (send_cmd(db, q, CMD_BOOK, idx, 0, SYNC_COMMIT_LOCAL, NULL, 0,
		NULL) < 0)
		return MG_ERROR;
	n = book_params(db, u, params, NULL);
	error = send_cmd(db, q, CMD_BOOK, idx, 0, NULL, book_statement(u), n,
	    params);
	free_records(u, params);
	if (error < 0 ||
	    send_cmd(db, q, CMD_COMMIT, idx, 0, "COMMIT", NULL, 0, NULL) < 0)
		return MG_ERROR;
	if (u->reset_after &&
	    send_cmd(db, q, CMD_RESET, idx, 0, "RESET ALL", NULL, 0, NULL) < 0)
		return MG_ERROR;
	if (!pq.PQsendFlushRequest(db->conn))
		return lost_connection(db);
	return 0;
}

static void
mark_failed(struct db_unit *u, const struct cmd *c, const PGresult *r)
{
	if (u->failed)
		return;
	u->failed = 1;
	failure_from(&u->fail, r);
	u->fail.stmt = c->stmt;
	/* a deferred check failing at COMMIT is the migration's failure */
	u->fail.at_commit = c->kind == CMD_COMMIT;
	u->fail.in_bookkeeping = c->kind != CMD_STMT && c->kind != CMD_COMMIT;
}

/* Ctrl-C between two statements of a unit run outside the pipeline. */
static int
mark_canceled(struct db_unit *u, size_t stmt)
{
	u->failed = 1;
	u->fail.stmt = stmt;
	u->fail.message = xstrdup("canceled by Ctrl-C");
	return MG_ECANCEL;
}

/*
 * Run units[from, to), all transactional, through one pipeline.  Returns
 * 0, MG_ESQL (a unit failed), MG_ECANCEL, or MG_ERROR.
 */
static int
run_pipeline(struct db *db, struct db_unit *units, size_t from, size_t to,
    db_unit_cb cb, void *payload)
{
	struct queue q = {0};
	size_t next = from, inflight = 0;
	long long mark = rp_now_us(), next_report = db->first_report_ms;
	int synced = 0, stop = 0, done = 0, error = 0, flush = 0;

	if (!pq.PQenterPipelineMode(db->conn) ||
	    pq.PQsetnonblocking(db->conn, 1) != 0) {
		error = lost_connection(db);
		goto out;
	}
	while (!done) {
		while (!stop && next < to && inflight < WINDOW) {
			if (send_unit(db, &q, &units[next], next) < 0) {
				error = MG_ERROR;
				stop = 1;
				break;
			}
			if (inflight == 0)
				mark = rp_now_us();
			next++;
			inflight++;
		}
		if (!synced && (stop || next == to)) {
			if (!pq.PQpipelineSync(db->conn)) {
				error = lost_connection(db);
				goto out;
			}
			push(&q, CMD_SYNC, 0, 0);
			synced = 1;
		}
		if ((flush = pq.PQflush(db->conn)) < 0 ||
		    !pq.PQconsumeInput(db->conn)) {
			error = lost_connection(db);
			goto out;
		}
		while (q.head < q.n && !pq.PQisBusy(db->conn)) {
			struct cmd *c = &q.v[q.head];
			PGresult *r = pq.PQgetResult(db->conn);
			ExecStatusType st;

			if (!r) {
				q.head++; /* end of this command's results */
				continue;
			}
			st = pq.PQresultStatus(r);
			db->tag = units[c->unit].version;
			if (c->kind == CMD_SYNC) {
				/* no NULL follows a sync result */
				q.head++;
				done = 1;
			} else if (st == PGRES_FATAL_ERROR) {
				mark_failed(&units[c->unit], c, r);
				stop = 1;
			} else if (c->kind == CMD_COMMIT &&
			    st == PGRES_COMMAND_OK) {
				struct db_unit *u = &units[c->unit];
				long long t = rp_now_us();

				u->done = 1;
				u->stmts_done = u->nstmts;
				u->usec = t - mark;
				mark = t;
				next_report = db->first_report_ms;
				inflight--;
				if (cb && cb(payload, u, c->unit) < 0) {
					stop = 1;
					if (!error)
						error = MG_ERROR;
				}
			}
			pq.PQclear(r);
		}
		if (done)
			break;
		if (interrupted)
			stop = 1;
		if (q.head < q.n && q.v[q.head].kind != CMD_SYNC)
			db->tag = units[q.v[q.head].unit].version;
		if (wait_socket(db, flush == 1, mark, &next_report) < 0) {
			error = MG_ERROR;
			goto out;
		}
	}
out:
	pq.PQexitPipelineMode(db->conn);
	pq.PQsetnonblocking(db->conn, 0);
	free(q.v);
	rollback_open_xact(db);
	db->tag = NULL;
	for (; from < to; from++)
		if (units[from].failed)
			return interrupted ? MG_ECANCEL : MG_ESQL;
	if (!error && interrupted)
		return MG_ECANCEL;
	return error;
}

/* Send one command synchronously and note a failure in u. */
static int
sync_cmd(struct db *db, struct db_unit *u, enum cmd_kind kind, size_t stmt,
    const char *sql, const char *prepared, int n, const char *const *params)
{
	struct cmd c = {kind, 0, stmt};
	PGresult *r;

	if (send_query(db, sql, prepared, n, params) < 0)
		return MG_ERROR;
	if (!(r = collect(db)))
		return MG_ERROR;
	if (is_error(r)) {
		mark_failed(u, &c, r);
		pq.PQclear(r);
		return MG_ESQL;
	}
	pq.PQclear(r);
	return 0;
}

/*
 * Run one unit that cannot run in a transaction: statement by statement,
 * each waited for, outside the pipeline; its bookkeeping follows in a
 * statement of its own.  A block the file opens itself and leaves failed
 * is rolled back.
 */
static int
run_sync(struct db *db, struct db_unit *u, size_t idx, db_unit_cb cb,
    void *payload)
{
	const char *params[8];
	long long t0 = rp_now_us();
	char dur[32];
	size_t i;
	int n, error = 0;

	db->tag = u->version;
	if (u->clear_row) {
		n = clear_params(db, u, params);
		if ((error = sync_cmd(db, u, CMD_CLEAR, 0, NULL, STMT_CLEAR, n,
			 params)) < 0)
			goto out;
	}
	for (i = 0; i < u->nstmts; i++) {
		fault_point(FAULT_before_statement);
		if (interrupted) {
			error = mark_canceled(u, i);
			goto out;
		}
		if ((error = sync_cmd(db, u, CMD_STMT, i, u->stmts[i], NULL, 0,
			 NULL)) < 0)
			goto out;
		/* in a block the file opened, nothing is done until it ends */
		if (pq.PQtransactionStatus(db->conn) == PQTRANS_IDLE)
			u->stmts_done = i + 1;
	}
	/* no transaction: the server's now() is not the unit's start */
	snprintf(dur, sizeof(dur), "%lld", (rp_now_us() - t0) / 1000);
	n = book_params(db, u, params, dur);
	error =
	    sync_cmd(db, u, CMD_BOOK, 0, SYNC_COMMIT_SESSION, NULL, 0, NULL);
	if (!error)
		error = sync_cmd(db, u, CMD_BOOK, 0, NULL, book_statement(u), n,
		    params);
	free_records(u, params);
	if (error < 0)
		goto out;
	if (u->reset_after &&
	    (error = sync_cmd(db, u, CMD_RESET, 0, "RESET ALL", NULL, 0,
		 NULL)) < 0)
		goto out;
	u->done = 1;
	u->usec = rp_now_us() - t0;
	if (cb && cb(payload, u, idx) < 0)
		error = MG_ERROR;
out:
	rollback_open_xact(db);
	if (!u->done)
		u->usec = rp_now_us() - t0;
	db->tag = NULL;
	if (error == MG_ESQL && interrupted)
		return MG_ECANCEL;
	return error;
}

int
db_run(struct db *db, struct db_unit *units, size_t n, db_unit_cb cb,
    void *payload)
{
	size_t i = 0, j;
	int error;

	if ((error = prepare(db)) < 0)
		return error;
	while (i < n && !interrupted) {
		if (!units[i].transactional) {
			error = run_sync(db, &units[i], i, cb, payload);
			j = i + 1;
		} else {
			for (j = i; j < n && units[j].transactional; j++)
				;
			error = run_pipeline(db, units, i, j, cb, payload);
		}
		if (error < 0)
			break;
		i = j;
	}
	if (error == MG_ECANCEL || (!error && interrupted)) {
		size_t failed = 0, done = 0;

		for (i = 0; i < n; i++) {
			failed += units[i].failed;
			done += units[i].done;
		}
		/* stopped between two migrations: none of them failed */
		if (!failed)
			error = mg_error_set(MG_ECANCEL,
			    "interrupted by Ctrl-C after %zu of %zu "
			    "migration%s",
			    done, n, rp_plural(n));
		else
			error = MG_ECANCEL;
	}
	return error;
}

/* Invalid indexes that no session is building, by itself or joined. */
#define INVALID_INDEXES                                                        \
	"FROM pg_catalog.pg_index i "                                          \
	"JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "                  \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "            \
	"WHERE NOT i.indisvalid AND NOT EXISTS (SELECT 1 FROM "                \
	"pg_catalog.pg_stat_progress_create_index p "                          \
	"WHERE p.index_relid = i.indexrelid)"

int
db_has_invalid_indexes(struct db *db)
{
	PGresult *r = query_ok(db, "SELECT count(*) " INVALID_INDEXES, 0, NULL,
	    "could not look for invalid indexes");
	int n;

	if (!r)
		return MG_ERROR;
	n = atoi(pq.PQgetvalue(r, 0, 0));
	pq.PQclear(r);
	return n > 0;
}

int
db_invalid_index(struct db *db, const char *schema, const char *table,
    const char *index, char **found)
{
	/* an index lives in its table's schema */
	static const char *const sql =
	    "SELECT n.nspname " INVALID_INDEXES " AND c.relname = $1 "
	    "AND c.relnamespace = (SELECT t.relnamespace FROM "
	    "pg_catalog.pg_class t WHERE t.oid = pg_catalog.to_regclass($2))";
	struct buf rel = BUF_INIT;
	const char *params[2];
	PGresult *r;
	char *q;

	*found = NULL;
	if (*schema) {
		q = quote_ident(db->conn, schema);
		buf_printf(&rel, "%s.", q);
		free(q);
	}
	q = quote_ident(db->conn, table);
	buf_puts(&rel, q);
	free(q);
	params[0] = index;
	params[1] = rel.ptr;
	r = query_ok(db, sql, 2, params, "could not look for invalid indexes");
	buf_release(&rel);
	if (!r)
		return MG_ERROR;
	if (pq.PQntuples(r) > 0)
		*found = xstrdup(pq.PQgetvalue(r, 0, 0));
	pq.PQclear(r);
	return 0;
}

int
db_tables_with_rows(struct db *db, struct db_table **out, size_t *n)
{
	static const char *const sql =
	    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relkind = 'r' "
	    "AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
	    "AND NOT (n.nspname = $1 AND c.relname IN ($2, $3)) "
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
	    " WHERE d.objid = c.oid AND d.deptype = 'e') "
	    "ORDER BY 1, 2";
	const char *params[3] = {db->schema, db->table, db->history};
	PGresult *r = query_ok(db, sql, 3, params, "could not list the tables");
	size_t cap = 0;
	int i;

	*out = NULL;
	*n = 0;
	if (!r)
		return MG_ERROR;
	for (i = 0; i < pq.PQntuples(r); i++) {
		struct buf q = BUF_INIT;
		char *qs = quote_ident(db->conn, pq.PQgetvalue(r, i, 0));
		char *qt = quote_ident(db->conn, pq.PQgetvalue(r, i, 1));
		PGresult *e;

		buf_printf(&q, "SELECT 1 FROM %s.%s LIMIT 1", qs, qt);
		e = query_ok(db, q.ptr, 0, NULL, "could not read a table");
		free(qs);
		free(qt);
		buf_release(&q);
		if (!e) {
			pq.PQclear(r);
			db_tables_release(*out, *n);
			*out = NULL;
			*n = 0;
			return MG_ERROR;
		}
		if (pq.PQntuples(e) > 0) {
			XGROW(*out, cap, *n + 1);
			(*out)[*n].schema = xstrdup(pq.PQgetvalue(r, i, 0));
			(*out)[*n].name = xstrdup(pq.PQgetvalue(r, i, 1));
			(*n)++;
		}
		pq.PQclear(e);
	}
	pq.PQclear(r);
	return 0;
}

void
db_tables_release(struct db_table *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].schema);
		free(t[i].name);
	}
	free(t);
}

int
db_idle_databases(struct db *db, const char *prefix, char ***out, size_t *n)
{
	static const char *const sql =
	    "SELECT d.datname FROM pg_catalog.pg_database d "
	    "WHERE starts_with(d.datname, $1) AND NOT EXISTS "
	    "(SELECT 1 FROM pg_catalog.pg_stat_activity a "
	    " WHERE a.datid = d.oid) ORDER BY 1";
	const char *params[1] = {prefix};
	PGresult *r =
	    query_ok(db, sql, 1, params, "could not list the databases");
	int i;

	*out = NULL;
	*n = 0;
	if (!r)
		return MG_ERROR;
	*out = xcalloc((size_t)pq.PQntuples(r) + 1, sizeof(**out));
	for (i = 0; i < pq.PQntuples(r); i++)
		(*out)[(*n)++] = xstrdup(pq.PQgetvalue(r, i, 0));
	pq.PQclear(r);
	return 0;
}

const char *
db_name(const struct db *db)
{
	return pq.PQdb(db->conn);
}

/* "name" quoted for SQL text (caller frees). */
static char *
quote_literal(PGconn *conn, const char *s)
{
	char *q = pq.PQescapeLiteral(conn, s, strlen(s));
	char *out = xstrdup(q ? q : "''");

	if (q)
		pq.PQfreemem(q);
	return out;
}

int
db_create_database(struct db *db, const char *name, const char *template)
{
	struct buf sql = BUF_INIT;
	char *qname = quote_ident(db->conn, name);
	int error;

	if (template) {
		char *qt = quote_ident(db->conn, template);

		buf_printf(&sql, "CREATE DATABASE %s TEMPLATE %s", qname, qt);
		free(qt);
	} else {
		static const char *const like =
		    "SELECT pg_catalog.pg_encoding_to_char(encoding), "
		    "datcollate, datctype FROM pg_catalog.pg_database "
		    "WHERE datname = pg_catalog.current_database()";
		PGresult *r = query_ok(db, like, 0, NULL,
		    "could not read the database's encoding");
		char *v[3];
		int i;

		if (!r) {
			free(qname);
			return MG_ERROR;
		}
		for (i = 0; i < 3; i++)
			v[i] = quote_literal(db->conn, pq.PQgetvalue(r, 0, i));
		pq.PQclear(r);
		buf_printf(&sql,
		    "CREATE DATABASE %s TEMPLATE template0 ENCODING %s "
		    "LC_COLLATE %s LC_CTYPE %s",
		    qname, v[0], v[1], v[2]);
		for (i = 0; i < 3; i++)
			free(v[i]);
	}
	error = exec_ok(db, sql.ptr, 0, NULL, "could not create a database");
	if (error < 0)
		mg_error_hint("migdir makes scratch databases on the server "
			      "of %s: its role needs CREATEDB, or set "
			      "scratch_url in migdir.ini to a server where "
			      "it may create them.",
		    db->display);
	buf_release(&sql);
	free(qname);
	return error;
}

int
db_drop_database(struct db *db, const char *name)
{
	struct buf sql = BUF_INIT;
	char *qname = quote_ident(db->conn, name);
	int error;

	buf_printf(&sql, "DROP DATABASE IF EXISTS %s%s", qname,
	    db->server_version >= 130000 ? " WITH (FORCE)" : "");
	error = exec_ok(db, sql.ptr, 0, NULL, "could not drop a database");
	buf_release(&sql);
	free(qname);
	return error;
}

int
db_record_failure(struct db *db, const struct db_unit *u, const char *statement,
    const char *location)
{
	struct buf sql = BUF_INIT;
	char dur[32];
	const char *p[11];
	int error;

	snprintf(dur, sizeof(dur), "%lld", u->usec / 1000);
	p[0] = u->version;
	p[1] = u->action == DB_APPLY   ? "apply"
	    : u->action == DB_ROLLBACK ? "rollback"
				       : "baseline";
	p[2] = db->who;
	p[3] = db->environment;
	p[4] = u->checksum;
	p[5] = dur;
	p[6] = u->fail.sqlstate;
	p[7] = u->fail.message;
	p[8] = statement;
	p[9] = location;
	p[10] = db->app_version;
	buf_printf(&sql,
	    "INSERT INTO %s (version, action, success, by_user, environment, "
	    "checksum, duration_ms, sqlstate, message, statement, location, "
	    "migdir_version) "
	    "VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	    db->qhistory);
	error = exec_ok(db, sql.ptr, 11, p,
	    "could not record the failure in the history");
	buf_release(&sql);
	return error;
}
