/*
 * pgcluster.c - a throwaway PostgreSQL cluster for migdir's tests.
 *
 * pgcluster_start() scrubs PG* variables from the environment, finds the
 * newest server under /usr/lib/postgresql/<version>/bin, runs initdb into a
 * fresh temporary directory, appends the test settings to postgresql.conf
 * (no fsync, no TCP, socket in DIR/sock, a port nobody else uses, every
 * statement logged to DIR/log) and starts the server with pg_ctl -w.  When
 * run as root it hands the directory to the "postgres" user and runs
 * initdb and pg_ctl through runuser, since the server refuses to run as
 * root; root clients can still reach the socket.  Keeping the settings in
 * postgresql.conf means a cluster kept with MIGDIR_TEST_KEEP=1 restarts
 * exactly as it ran.
 *
 * A forked watchdog holds the read end of a pipe whose write end only this
 * process has: when the process dies without pgcluster_stop() (crash,
 * kill, forgotten teardown) the watchdog reads end-of-file and stops the
 * server and removes the directory, so no postmaster is left behind.
 *
 * The helpers that run SQL go through the real psql of the same bindir
 * (not Debian's pg_wrapper), feeding it a script file so that statements
 * which cannot run inside a transaction block (CREATE DATABASE) work.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgcluster.h"
#include "testutil.h"

#include "../../include/banned.h"

#define PG_ROOT        "/usr/lib/postgresql"
#define LOG_TAIL_LINES 40

extern char **environ;

/* The private side of a cluster; callers see only pub. */
struct pgc {
	struct pgcluster pub; /* first, so the two pointers convert */
	char *runuser;        /* runuser's path when root, else NULL */
	char *logfile;        /* dir/log */
	pid_t wd_pid;         /* the watchdog, or -1 */
	int wd_fd;            /* write end of its pipe, or -1 */
	unsigned long seq;    /* numbers psql's script files */
};

/* Remove PG* and DATABASE_URL from our environment. */
static void
scrub_env(void)
{
	char *name;
	size_t i;
	int again;

	do {
		again = 0;
		for (i = 0; environ[i] != NULL; i++) {
			if (strncmp(environ[i], "PG", 2) != 0 &&
			    strncmp(environ[i], "DATABASE_URL=", 13) != 0)
				continue;
			name = tu_asprintf("%.*s",
			    (int)strcspn(environ[i], "="), environ[i]);
			again = unsetenv(name) == 0;
			free(name);
			break; /* environ changed: scan again */
		}
	} while (again);
}

/*
 * Return the bindir to use (caller frees): $MIGDIR_TEST_PG_BINDIR, else the
 * highest version under PG_ROOT holding an executable initdb; NULL if none.
 */
static char *
find_bindir(void)
{
	const char *env, *v;
	char *end, *best;
	long major, minor, bmajor, bminor;
	glob_t g;
	size_t i, plen;

	env = getenv("MIGDIR_TEST_PG_BINDIR");
	if (env != NULL && *env != '\0')
		return tu_asprintf("%s", env);
	if (glob(PG_ROOT "/*/bin/initdb", 0, NULL, &g) != 0)
		return NULL;
	best = NULL;
	bmajor = bminor = -1;
	plen = strlen(PG_ROOT "/");
	for (i = 0; i < g.gl_pathc; i++) {
		v = g.gl_pathv[i] + plen;
		major = strtol(v, &end, 10);
		if (end == v)
			continue;
		minor = 0;
		if (*end == '.')
			minor = strtol(end + 1, &end, 10);
		if (*end != '/' || access(g.gl_pathv[i], X_OK) != 0)
			continue;
		if (major > bmajor || (major == bmajor && minor > bminor)) {
			free(best);
			/* Strip the trailing "/initdb". */
			best = tu_asprintf("%.*s",
			    (int)(strlen(g.gl_pathv[i]) - 7), g.gl_pathv[i]);
			bmajor = major;
			bminor = minor;
		}
	}
	globfree(&g);
	return best;
}

static char *
find_runuser(void)
{
	static const char *const cands[] = {"/usr/sbin/runuser",
	    "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser", NULL};
	size_t i;

	for (i = 0; cands[i] != NULL; i++)
		if (access(cands[i], X_OK) == 0)
			return tu_asprintf("%s", cands[i]);
	return NULL;
}

/*
 * Can (uid, gid) search every directory on the way to and including path?
 * (Supplementary groups are ignored: a conservative answer.)
 */
static int
reachable_by(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	char *p, *s;
	mode_t need;
	int ok;

	p = tu_asprintf("%s", path);
	ok = 1;
	for (s = p + 1; ok; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (*s == '/')
			*s = '\0';
		else
			s = NULL;
		if (stat(p, &st) < 0)
			ok = 0;
		else {
			need = st.st_uid == uid ? S_IXUSR
			    : st.st_gid == gid  ? S_IXGRP
						: S_IXOTH;
			ok = (st.st_mode & need) != 0;
		}
		if (s == NULL)
			break;
		*s = '/';
	}
	free(p);
	return ok;
}

/* Is port free: no socket file of that number in sockdir, 127.0.0.1 free? */
static int
port_free(const char *sockdir, int port)
{
	struct sockaddr_in a;
	char *p;
	int s, ok;

	p = tu_asprintf("%s/.s.PGSQL.%d", sockdir, port);
	ok = !tu_exists(p);
	free(p);
	if (!ok)
		return 0;
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return 1; /* no IPv4 at all: nothing to collide with */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

static int
pick_port(const char *sockdir)
{
	static int bump; /* spreads clusters of one process apart */
	int start, port, i;

	start = (int)(getpid() % 20000) + bump;
	bump += 97;
	for (i = 0; i < 20000; i++) {
		port = 20000 + (start + i) % 20000;
		if (port_free(sockdir, port))
			return port;
	}
	return -1;
}

/*
 * Run a server program (args, NULL-terminated, at most 24) as the cluster's
 * owner, in the cluster directory.  Returns tu_run()'s result.
 */
static int
run_pg(struct pgc *c, struct tu_run *r, const char *const *args)
{
	const char *argv[32];
	size_t n, i;

	n = 0;
	if (c->runuser != NULL) {
		argv[n++] = c->runuser;
		argv[n++] = "-u";
		argv[n++] = "postgres";
		argv[n++] = "--";
	}
	for (i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return tu_run(r, c->pub.dir, NULL, argv);
}

/* Print the last LOG_TAIL_LINES lines of the server log. */
static void
print_log_tail(struct pgc *c)
{
	char *log, *p;
	int lines;

	log = tu_read_file(c->logfile);
	if (log == NULL || *log == '\0') {
		fprintf(stderr,
		    "pgcluster: server log %s is empty or "
		    "missing\n",
		    c->logfile);
		free(log);
		return;
	}
	p = log + strlen(log);
	if (p[-1] == '\n')
		p--;
	for (lines = 0; p > log; p--)
		if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES)
			break;
	fprintf(stderr, "pgcluster: tail of %s:\n%s%s", c->logfile, p,
	    log[strlen(log) - 1] == '\n' ? "" : "\n");
	free(log);
}

/* Report a failed server program run. */
static void
report_run(const char *what, const struct tu_run *r)
{
	fprintf(stderr, "pgcluster: %s failed (exit %d)\n%s%s", what, r->status,
	    r->out, r->err);
}

/* pg_ctl -m immediate ACTION (stop, restart), waiting for it. */
static int
pg_ctl_immediate(struct pgc *c, const char *action, int quiet)
{
	const char *args[12];
	struct tu_run r;
	char *pg_ctl;
	int rc;

	pg_ctl = tu_path(c->pub.bindir, "pg_ctl");
	args[0] = pg_ctl;
	args[1] = "-D";
	args[2] = c->pub.datadir;
	args[3] = "-m";
	args[4] = "immediate";
	args[5] = "-w";
	args[6] = "-t";
	args[7] = "60";
	args[8] = "-l"; /* a restarted server logs where the first did */
	args[9] = c->logfile;
	args[10] = action;
	args[11] = NULL;
	rc = run_pg(c, &r, args);
	if (rc == 0 && r.status != 0) {
		if (!quiet)
			report_run(action, &r);
		rc = -1;
	}
	tu_run_free(&r);
	free(pg_ctl);
	return rc;
}

/* Close every descriptor above 2 but keep (in the watchdog only). */
static void
close_other_fds(int keep)
{
	struct dirent *de;
	int fds[256];
	size_t n, i;
	long fd, max;
	char *end;
	DIR *d;

	while ((d = opendir("/dev/fd")) != NULL) {
		n = 0;
		while (n < 256 && (de = readdir(d)) != NULL) {
			fd = strtol(de->d_name, &end, 10);
			if (end == de->d_name || *end != '\0' || fd < 3 ||
			    fd == keep || fd == dirfd(d))
				continue;
			fds[n++] = (int)fd;
		}
		closedir(d);
		for (i = 0; i < n; i++)
			close(fds[i]);
		if (n < 256)
			return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != keep)
			close((int)fd);
}

/*
 * Fork the watchdog: it waits for a byte (stop quietly: pgcluster_stop()
 * does the work) or end-of-file (we died: stop the server, remove the
 * directory unless it is to be kept).
 */
static void
start_watchdog(struct pgc *c)
{
	char *q_ctl, *q_data, *q_dir, *q_ru, *cmd;
	char ch;
	ssize_t n;
	pid_t pid;
	int p[2], fd;

	q_ctl = tu_path(c->pub.bindir, "pg_ctl");
	q_data = tu_shquote(c->pub.datadir);
	q_dir = tu_shquote(c->pub.dir);
	q_ru = c->runuser ? tu_shquote(c->runuser) : NULL;
	cmd = q_ctl;
	q_ctl = tu_shquote(cmd);
	free(cmd);
	cmd = tu_asprintf("%s%s%s -D %s -m immediate -w -t 60 stop "
			  ">/dev/null 2>&1%s%s",
	    q_ru ? q_ru : "", q_ru ? " -u postgres -- " : "", q_ctl, q_data,
	    tu_keep_requested() ? "" : "; rm -rf ",
	    tu_keep_requested() ? "" : q_dir);
	free(q_ctl);
	free(q_data);
	free(q_dir);
	free(q_ru);

	c->wd_pid = -1;
	c->wd_fd = -1;
	if (pipe(p) < 0) {
		perror("pgcluster: watchdog pipe");
		free(cmd);
		return;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		perror("pgcluster: watchdog fork");
		close(p[0]);
		close(p[1]);
		free(cmd);
		return;
	}
	if (pid == 0) {
		/* Out of our session: a ^C or group kill must not reach it. */
		setsid();
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_other_fds(p[0]);
		do
			n = read(p[0], &ch, 1);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			_exit(0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	free(cmd);
	c->wd_pid = pid;
	c->wd_fd = p[1];
}

/* Tell the watchdog to go away quietly and reap it. */
static void
stop_watchdog(struct pgc *c)
{
	struct sigaction ign, old;
	ssize_t n;

	if (c->wd_fd >= 0) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, &old);
		n = write(c->wd_fd, "q", 1);
		(void)n;
		sigaction(SIGPIPE, &old, NULL);
		close(c->wd_fd);
		c->wd_fd = -1;
	}
	if (c->wd_pid > 0) {
		tu_wait(c->wd_pid);
		c->wd_pid = -1;
	}
}

static void
pgc_free(struct pgc *c)
{
	free(c->pub.dir);
	free(c->pub.datadir);
	free(c->pub.sockdir);
	free(c->pub.bindir);
	free(c->runuser);
	free(c->logfile);
	free(c);
}

/* Undo a failed start: stop whatever runs, remove or keep the directory. */
static void
abandon(struct pgc *c, int server_may_run)
{
	if (server_may_run)
		pg_ctl_immediate(c, "stop", 1);
	if (tu_keep_requested())
		fprintf(stderr, "pgcluster: kept %s\n", c->pub.dir);
	else
		tu_rmrf(c->pub.dir);
	pgc_free(c);
}

/* s between two q characters, each q inside doubled. */
static char *
quote_with(const char *s, char q)
{
	size_t n, i, j;
	char *out;

	for (n = 0, i = 0; s[i] != '\0'; i++)
		n += s[i] == q ? 2 : 1;
	out = malloc(n + 3);
	if (out == NULL)
		abort();
	j = 0;
	out[j++] = q;
	for (i = 0; s[i] != '\0'; i++) {
		out[j++] = s[i];
		if (s[i] == q)
			out[j++] = q;
	}
	out[j++] = q;
	out[j] = '\0';
	return out;
}

/* 's', single quotes doubled (for SQL and postgresql.conf strings). */
static char *
quote_single(const char *s)
{
	return quote_with(s, '\'');
}

/* "s" as an SQL identifier, embedded double quotes doubled. */
static char *
quote_ident(const char *s)
{
	return quote_with(s, '"');
}

static int
append_settings(struct pgc *c)
{
	char *conf, *q_sock, *text;
	int fd, rc;
	size_t len;
	ssize_t w;

	conf = tu_path(c->pub.datadir, "postgresql.conf");
	q_sock = quote_single(c->pub.sockdir);
	text = tu_asprintf("\n# Added by migdir's tests/lib/pgcluster.c\n"
			   "port = %d\n"
			   "listen_addresses = ''\n"
			   "unix_socket_directories = %s\n"
			   "max_connections = 50\n"
			   "fsync = off\n"
			   "synchronous_commit = off\n"
			   "full_page_writes = off\n"
			   "logging_collector = off\n"
			   "log_statement = 'all'\n"
			   "log_line_prefix = '%%m [%%p] %%q%%a@%%d '\n",
	    c->pub.port, q_sock);
	free(q_sock);
	rc = -1;
	fd = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		len = strlen(text);
		w = write(fd, text, len);
		rc = w == (ssize_t)len ? 0 : -1;
		if (close(fd) < 0)
			rc = -1;
	}
	if (rc < 0)
		fprintf(stderr, "pgcluster: cannot append to %s: %s\n", conf,
		    strerror(errno));
	free(text);
	free(conf);
	return rc;
}

int
pgcluster_start(struct pgcluster **out)
{
	const char *tmp, *args[16];
	struct passwd *pw;
	struct tu_run r;
	struct pgc *c;
	char *bindir, *initdb, *pg_ctl;
	uid_t pg_uid;
	gid_t pg_gid;
	int as_root, rc;

	*out = NULL;
	scrub_env();

	bindir = find_bindir();
	initdb = bindir ? tu_path(bindir, "initdb") : NULL;
	if (initdb == NULL || access(initdb, X_OK) != 0) {
		fprintf(stderr,
		    "pgcluster: initdb not found under " PG_ROOT
		    ": apt-get install postgresql\n");
		if (bindir != NULL)
			fprintf(stderr, "pgcluster: (looked in %s)\n", bindir);
		free(initdb);
		free(bindir);
		return -1;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->pub.bindir = bindir;
	c->wd_pid = -1;
	c->wd_fd = -1;

	as_root = geteuid() == 0;
	pg_uid = 0;
	pg_gid = 0;
	if (as_root) {
		pw = getpwnam("postgres");
		c->runuser = find_runuser();
		if (pw == NULL || c->runuser == NULL) {
			fprintf(stderr,
			    "pgcluster: running as root needs the "
			    "'postgres' user and runuser (apt-get install "
			    "postgresql util-linux)\n");
			free(initdb);
			pgc_free(c);
			return -1;
		}
		pg_uid = pw->pw_uid;
		pg_gid = pw->pw_gid;
	}

	/*
	 * The socket path (DIR/sock/.s.PGSQL.NNNNN) must fit in sun_path
	 * (108 bytes), and as root the postgres user must reach DIR.
	 */
	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60 ||
	    (as_root && !reachable_by(tmp, pg_uid, pg_gid)))
		tmp = "/tmp";
	c->pub.dir = tu_asprintf("%s/migdir-pg.XXXXXX", tmp);
	if (mkdtemp(c->pub.dir) == NULL) {
		fprintf(stderr, "pgcluster: mkdtemp %s: %s\n", c->pub.dir,
		    strerror(errno));
		free(initdb);
		pgc_free(c);
		return -1;
	}
	c->pub.datadir = tu_path(c->pub.dir, "data");
	c->pub.sockdir = tu_path(c->pub.dir, "sock");
	c->logfile = tu_path(c->pub.dir, "log");
	if (mkdir(c->pub.sockdir, 0700) < 0 ||
	    (as_root &&
		(chown(c->pub.dir, pg_uid, pg_gid) < 0 ||
		    chown(c->pub.sockdir, pg_uid, pg_gid) < 0))) {
		fprintf(stderr, "pgcluster: preparing %s: %s\n", c->pub.dir,
		    strerror(errno));
		free(initdb);
		abandon(c, 0);
		return -1;
	}

	args[0] = initdb;
	args[1] = "-D";
	args[2] = c->pub.datadir;
	args[3] = "-A";
	args[4] = "trust";
	args[5] = "-N";
	args[6] = "-U";
	args[7] = "postgres";
	args[8] = "-E";
	args[9] = "UTF8";
	args[10] = "--locale=C";
	args[11] = NULL;
	rc = run_pg(c, &r, args);
	free(initdb);
	if (rc < 0 || r.status != 0) {
		if (rc == 0)
			report_run("initdb", &r);
		tu_run_free(&r);
		abandon(c, 0);
		return -1;
	}
	tu_run_free(&r);

	c->pub.port = pick_port(c->pub.sockdir);
	if (c->pub.port < 0) {
		fprintf(stderr, "pgcluster: no free port in 20000-39999\n");
		abandon(c, 0);
		return -1;
	}
	if (append_settings(c) < 0) {
		abandon(c, 0);
		return -1;
	}

	pg_ctl = tu_path(c->pub.bindir, "pg_ctl");
	args[0] = pg_ctl;
	args[1] = "-D";
	args[2] = c->pub.datadir;
	args[3] = "-l";
	args[4] = c->logfile;
	args[5] = "-w";
	args[6] = "-t";
	args[7] = "60";
	args[8] = "start";
	args[9] = NULL;
	rc = run_pg(c, &r, args);
	free(pg_ctl);
	if (rc < 0 || r.status != 0) {
		if (rc == 0)
			report_run("pg_ctl start", &r);
		tu_run_free(&r);
		print_log_tail(c);
		abandon(c, 1);
		return -1;
	}
	tu_run_free(&r);

	start_watchdog(c);
	*out = &c->pub;
	return 0;
}

void
pgcluster_stop(struct pgcluster *pub)
{
	struct pgc *c;

	if (pub == NULL)
		return;
	c = (struct pgc *)pub;
	stop_watchdog(c);
	pg_ctl_immediate(c, "stop", 0);
	if (tu_keep_requested())
		fprintf(stderr,
		    "pgcluster: kept %s (log: %s; restart with "
		    "%s%s/pg_ctl -D %s -l %s start)\n",
		    pub->dir, c->logfile,
		    c->runuser ? "runuser -u postgres -- " : "", pub->bindir,
		    pub->datadir, c->logfile);
	else
		tu_rmrf(pub->dir);
	pgc_free(c);
}

/* Percent-encode s for a URL path or query value; '/' is kept. */
static char *
url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;
	size_t i, j;
	char *e;

	e = malloc(strlen(s) * 3 + 1);
	if (e == NULL)
		abort();
	for (i = j = 0; s[i] != '\0'; i++) {
		ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~' || ch == '/') {
			e[j++] = (char)ch;
		} else {
			e[j++] = '%';
			e[j++] = hex[ch >> 4];
			e[j++] = hex[ch & 15];
		}
	}
	e[j] = '\0';
	return e;
}

char *
pgcluster_url(const struct pgcluster *c, const char *dbname)
{
	char *db, *host, *url;

	db = url_encode(dbname);
	host = url_encode(c->sockdir);
	url = tu_asprintf("postgresql://postgres@/%s?host=%s&port=%d", db, host,
	    c->port);
	free(db);
	free(host);
	return url;
}

char *
pgcluster_psql(struct pgcluster *pub, const char *dbname, const char *sql)
{
	const char *argv[17];
	struct pgc *c;
	char *script, *psql, *what, *out, port[16];

	c = (struct pgc *)pub;
	script = tu_asprintf("%s/psql-%ld-%lu.sql", pub->dir, (long)getpid(),
	    ++c->seq);
	if (tu_write_file(script, sql) < 0) {
		free(script);
		return NULL;
	}
	psql = tu_path(pub->bindir, "psql");
	snprintf(port, sizeof(port), "%d", pub->port);
	argv[0] = psql;
	argv[1] = "-X";
	argv[2] = "-q";
	argv[3] = "-At";
	argv[4] = "-v";
	argv[5] = "ON_ERROR_STOP=1";
	argv[6] = "-h";
	argv[7] = pub->sockdir;
	argv[8] = "-p";
	argv[9] = port;
	argv[10] = "-U";
	argv[11] = "postgres";
	argv[12] = "-d";
	argv[13] = dbname;
	argv[14] = "-f";
	argv[15] = script;
	argv[16] = NULL;
	what = tu_asprintf("pgcluster: psql on %s", dbname);
	out = tu_capture(what, NULL, NULL, argv);
	unlink(script);
	free(script);
	free(psql);
	free(what);
	return out;
}

/* The database to connect to while creating or dropping dbname. */
static const char *
admin_db(const char *dbname)
{
	return strcmp(dbname, "postgres") == 0 ? "template1" : "postgres";
}

int
pgcluster_dropdb(struct pgcluster *c, const char *dbname)
{
	char *id, *sql, *res;

	id = quote_ident(dbname);
	sql = tu_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE);\n", id);
	res = pgcluster_psql(c, admin_db(dbname), sql);
	free(id);
	free(sql);
	if (res == NULL)
		return -1;
	free(res);
	return 0;
}

char *
pgcluster_createdb(struct pgcluster *c, const char *dbname)
{
	char *id, *sql, *res;

	id = quote_ident(dbname);
	sql = tu_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE);\n"
			  "CREATE DATABASE %s;\n",
	    id, id);
	res = pgcluster_psql(c, admin_db(dbname), sql);
	free(id);
	free(sql);
	if (res == NULL)
		return NULL;
	free(res);
	return pgcluster_url(c, dbname);
}

int
pgcluster_count_sessions(struct pgcluster *c, const char *dbname)
{
	char *lit, *sql, *res, *end;
	long n;

	lit = quote_single(dbname);
	sql = tu_asprintf(
	    "SELECT count(*) FROM pg_stat_activity "
	    "WHERE backend_type = 'client backend' AND datname = %s "
	    "AND application_name LIKE 'migdir%%';\n",
	    lit);
	res = pgcluster_psql(c, "postgres", sql);
	free(lit);
	free(sql);
	if (res == NULL)
		return -1;
	n = strtol(res, &end, 10);
	if (end == res || *end != '\0' || n < 0) {
		fprintf(stderr, "pgcluster: unexpected count \"%s\"\n", res);
		n = -1;
	}
	free(res);
	return (int)n;
}

int
pgcluster_wait_sessions(struct pgcluster *c, const char *dbname, int want,
    int timeout_ms)
{
	struct timespec now, deadline, pause;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pause.tv_sec = 0;
	pause.tv_nsec = 20 * 1000000L;
	for (;;) {
		n = pgcluster_count_sessions(c, dbname);
		if (n < 0 || n == want)
			return n;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec &&
			now.tv_nsec >= deadline.tv_nsec))
			return n;
		nanosleep(&pause, NULL);
	}
}

int
pgcluster_restart(struct pgcluster *c)
{
	return pg_ctl_immediate((struct pgc *)c, "restart", 0);
}

/* Can role connect to postgres without a password?  1 yes, 0 no. */
static int
connects_without_password(struct pgcluster *pub, const char *role)
{
	const char *argv[14],
	    *env[] = {"-PGPASSWORD", "-PGPASSFILE", "PGPASSFILE=/nonexistent",
		"-PGSERVICE", NULL};
	struct tu_run r;
	char *psql, port[16];
	int ok;

	psql = tu_path(pub->bindir, "psql");
	snprintf(port, sizeof(port), "%d", pub->port);
	argv[0] = psql;
	argv[1] = "-X";
	argv[2] = "-w";
	argv[3] = "-h";
	argv[4] = pub->sockdir;
	argv[5] = "-p";
	argv[6] = port;
	argv[7] = "-U";
	argv[8] = role;
	argv[9] = "-d";
	argv[10] = "postgres";
	argv[11] = "-c";
	argv[12] = "SELECT 1";
	argv[13] = NULL;
	ok = tu_run(&r, NULL, env, argv) == 0 && r.status == 0;
	tu_run_free(&r);
	free(psql);
	return ok;
}

int
pgcluster_require_password(struct pgcluster *pub, const char *role)
{
	char *hba, *old, *text, *res;
	int i;

	hba = tu_path(pub->datadir, "pg_hba.conf");
	old = tu_read_file(hba);
	if (old == NULL) {
		fprintf(stderr, "pgcluster: cannot read %s\n", hba);
		free(hba);
		return -1;
	}
	/* the first matching line wins: this one before initdb's trust */
	text = tu_asprintf("local all %s scram-sha-256\n%s", role, old);
	i = tu_write_file(hba, text);
	free(text);
	free(old);
	free(hba);
	if (i < 0)
		return -1;
	res = pgcluster_psql(pub, "postgres", "SELECT pg_reload_conf();\n");
	if (res == NULL)
		return -1;
	free(res);
	/* the postmaster reloads when it gets to it */
	for (i = 0; i < 250; i++) {
		if (!connects_without_password(pub, role))
			return 0;
		nanosleep(&(struct timespec){0, 20000000L}, NULL);
	}
	fprintf(stderr, "pgcluster: %s still connects without a password\n",
	    role);
	return -1;
}
