#!/bin/bash
# pgtmp.sh - a throwaway PostgreSQL cluster for migdir's shell CLI tests.
#
#   eval "$(bash tests/lib/pgtmp.sh start DIR)"
#   trap 'bash tests/lib/pgtmp.sh stop DIR' EXIT
#
# start makes DIR (which must not hold a cluster yet) and sets it up as
# tests/lib/pgcluster.c does: initdb -A trust -U postgres -E UTF8
# --locale=C into DIR/data, no fsync, no TCP (listen_addresses=''), the
# unix socket in DIR/sock (mode 0700) under a port number nobody uses,
# every statement logged to DIR/log.  As root, DIR belongs to the postgres
# user and the server runs as that user (root clients still get in).  On
# stdout, and nothing else, it prints shell lines for eval: an unset of the
# caller's other PG* variables and DATABASE_URL, if any, then
#   export PGHOST=DIR/sock PGPORT=N PGUSER=postgres
# Progress and errors go to stderr; on failure it exits 1 (2 for usage).
#
# stop stops the server (pg_ctl -m immediate) and removes DIR, or keeps it
# when MIGDIR_TEST_KEEP=1.  It refuses a DIR that has neither data/ nor
# sock/, so a wrong argument cannot remove anything else.
#
# MIGDIR_TEST_PG_BINDIR overrides the server binaries (default: the newest
# /usr/lib/postgresql/<version>/bin).
set -euo pipefail

PG_ROOT=/usr/lib/postgresql

die() {
	echo "pgtmp: $*" >&2
	exit 1
}

usage() {
	echo "usage: pgtmp.sh start DIR | pgtmp.sh stop DIR" >&2
	exit 2
}

find_bindir() {
	local d v best='' bestv=''

	if [ -n "${MIGDIR_TEST_PG_BINDIR:-}" ]; then
		echo "$MIGDIR_TEST_PG_BINDIR"
		return 0
	fi
	for d in "$PG_ROOT"/*/bin; do
		[ -x "$d/initdb" ] || continue
		v=${d#"$PG_ROOT"/}
		v=${v%/bin}
		if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$bestv" "$v" |
		    sort -V | tail -n 1)" = "$v" ]; then
			best=$d
			bestv=$v
		fi
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# Run a server program as the cluster's owner, from inside DIR.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

# Is port $1 free: no socket of that number here, nothing listening on
# 127.0.0.1?
port_free() {
	[ ! -e "$dir/sock/.s.PGSQL.$1" ] || return 1
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		return 1
	fi
	return 0
}

cmd_start() {
	local bindir stray v port='' start i p q_sock

	mkdir -p -- "$1" || die "cannot create $1"
	dir=$(cd -- "$1" && pwd -P)
	if [ -e "$dir/data" ] || [ -e "$dir/sock" ]; then
		die "$dir already holds a cluster (stop it first)"
	fi
	# DIR/sock/.s.PGSQL.NNNNN must fit in a socket address (108 bytes).
	[ "${#dir}" -le 80 ] || die "$dir: path too long for a unix socket"
	bindir=$(find_bindir) || die "initdb not found under $PG_ROOT:" \
	    "apt-get install postgresql"
	[ -x "$bindir/initdb" ] || die "no initdb in $bindir"

	# Nothing of the caller's PG* environment reaches the server, and
	# the caller drops what is not ours.
	stray=''
	for v in $(compgen -e); do
		case $v in
		PGHOST|PGPORT|PGUSER) unset "$v" ;;
		PG*|DATABASE_URL) stray="$stray $v"; unset "$v" ;;
		esac
	done

	mkdir -m 700 -- "$dir/sock"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 ||
			die "running as root needs the postgres user"
		chown postgres: -- "$dir" "$dir/sock"
		runuser -u postgres -- test -x "$dir/sock" ||
			die "the postgres user cannot reach $dir:" \
			    "make its parent directories searchable (chmod 755)"
	fi
	echo "$bindir" >"$dir/bindir"

	if ! as_owner "$bindir/initdb" -D "$dir/data" -A trust -N \
	    -U postgres -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi

	start=$(( ($$ + RANDOM) % 20000 ))
	for (( i = 0; i < 20000; i++ )); do
		p=$(( 20000 + (start + i) % 20000 ))
		if port_free "$p"; then
			port=$p
			break
		fi
	done
	[ -n "$port" ] || die "no free port in 20000-39999"

	q_sock=${dir//\'/\'\'}/sock
	cat >>"$dir/data/postgresql.conf" <<EOF

# Added by migdir's tests/lib/pgtmp.sh
port = $port
listen_addresses = ''
unix_socket_directories = '$q_sock'
max_connections = 50
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_statement = 'all'
log_line_prefix = '%m [%p] %q%a@%d '
EOF

	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
	    -t 60 start >/dev/null 2>"$dir/pg_ctl.err"; then
		cat "$dir/pg_ctl.err" >&2
		echo "pgtmp: tail of $dir/log:" >&2
		tail -n 40 "$dir/log" >&2 || true
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate \
		    stop >/dev/null 2>&1 || true
		die "the server did not start (kept $dir for inspection)"
	fi

	if [ -n "$stray" ]; then
		echo "unset$stray"
	fi
	printf 'export PGHOST=%q PGPORT=%s PGUSER=postgres\n' \
	    "$dir/sock" "$port"
}

cmd_stop() {
	local bindir

	[ -d "$1" ] || die "$1: no such directory"
	dir=$(cd -- "$1" && pwd -P)
	[ -e "$dir/data" ] || [ -e "$dir/sock" ] ||
		die "$dir is not a pgtmp.sh directory (no data/ or sock/)"
	if [ -f "$dir/data/postmaster.pid" ]; then
		bindir=$(cat "$dir/bindir" 2>/dev/null) ||
			bindir=$(find_bindir) || die "no PostgreSQL binaries"
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w \
		    -t 60 stop >/dev/null ||
			echo "pgtmp: pg_ctl stop failed for $dir" >&2
	fi
	if [ "${MIGDIR_TEST_KEEP:-}" = 1 ]; then
		echo "pgtmp: kept $dir" >&2
	else
		rm -rf -- "$dir"
	fi
}

[ $# -eq 2 ] || usage
case $1 in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) usage ;;
esac
