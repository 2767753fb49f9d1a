/*
 * pgcluster.h - a throwaway PostgreSQL cluster for migdir's tests.
 *
 * pgcluster_start() makes a private cluster (initdb into a temporary
 * directory, trust authentication, superuser "postgres", reachable only
 * through a unix socket in its own directory) and pgcluster_stop() throws
 * it away.  A cluster left running by a crashed test is stopped and removed
 * by a watchdog process as soon as the test process is gone.
 *
 * Set MIGDIR_TEST_KEEP=1 to keep the directory (data, server log) after
 * the test; MIGDIR_TEST_PG_BINDIR to use PostgreSQL binaries other than
 * the newest under /usr/lib/postgresql/<version>/bin.
 */
#ifndef MIGDIR_PGCLUSTER_H
#define MIGDIR_PGCLUSTER_H

struct pgcluster {
	char *dir;     /* mkdtemp directory holding data/, sock/ and log */
	char *datadir; /* dir/data */
	char *sockdir; /* dir/sock, mode 0700, the unix socket directory */
	int port;      /* a free port: names the socket (no TCP listener) */
	char *bindir;  /* e.g. /usr/lib/postgresql/15/bin */
};

/*
 * Create and start a cluster.  First removes every PG* variable and
 * DATABASE_URL from this process's environment, so that nothing leaks into
 * the tests or the programs they run.  As root, the cluster's files belong
 * to the "postgres" system user and its programs run as that user.
 *
 * Returns 0 and sets *out (release with pgcluster_stop()) on success.  On
 * failure prints why on stderr (the server log's tail if the server did not
 * start; "pgcluster: initdb not found under /usr/lib/postgresql: apt-get
 * install postgresql" if PostgreSQL is missing), sets *out to NULL and
 * returns -1.  A test must then fail, unless MIGDIR_TEST_ALLOW_SKIP=1
 * allows it to skip.
 */
int pgcluster_start(struct pgcluster **out);

/*
 * Stop the server (pg_ctl -m immediate) and remove its directory, unless
 * MIGDIR_TEST_KEEP=1 (then the directory is kept and its path printed on
 * stderr).  Frees c.  NULL is a no-op.
 */
void pgcluster_stop(struct pgcluster *c);

/*
 * Return the connection URL of database dbname:
 * "postgresql://postgres@/DBNAME?host=SOCKDIR&port=PORT", with
 * percent-encoding where needed.  Caller frees.
 */
char *pgcluster_url(const struct pgcluster *c, const char *dbname);

/*
 * Create database dbname, first dropping it (WITH (FORCE)) if it exists.
 * Returns its URL (as pgcluster_url(), caller frees) or NULL on failure.
 */
char *pgcluster_createdb(struct pgcluster *c, const char *dbname);

/* Drop database dbname WITH (FORCE) if it exists.  Returns 0 or -1. */
int pgcluster_dropdb(struct pgcluster *c, const char *dbname);

/*
 * Run sql (any number of statements, each in its own transaction unless
 * it says otherwise) in dbname with psql -X -q -At -v ON_ERROR_STOP=1.
 * Returns psql's stdout with its final newline removed (caller frees), or
 * NULL if psql failed (its stderr is then copied to ours).
 */
char *pgcluster_psql(struct pgcluster *c, const char *dbname, const char *sql);

/*
 * Return the number of client backends connected to dbname whose
 * application_name starts with "migdir", or -1 on error.  A snapshot: a
 * client that has just disconnected may still be counted for a few
 * milliseconds while its backend exits; see pgcluster_wait_sessions().
 */
int pgcluster_count_sessions(struct pgcluster *c, const char *dbname);

/*
 * Poll pgcluster_count_sessions() until it equals want or timeout_ms have
 * passed.  Returns the last count (want on success), or -1 on error.  Use
 * it for "no migdir session left behind" checks.
 */
int pgcluster_wait_sessions(struct pgcluster *c, const char *dbname, int want,
    int timeout_ms);

/*
 * Restart the server as a crash would leave it: pg_ctl -m immediate
 * restart (every session is cut, no checkpoint), waiting until it accepts
 * connections again.  Returns 0, or -1 with the reason on stderr.
 */
int pgcluster_restart(struct pgcluster *c);

/*
 * Make the server ask role for its password (scram-sha-256) on the unix
 * socket, while every other role keeps trust: a line for role goes first
 * in pg_hba.conf, then the configuration is reloaded and this waits until
 * a connection as role without a password is refused.  Returns 0 or -1.
 */
int pgcluster_require_password(struct pgcluster *c, const char *role);

#endif
