#!/usr/bin/env bash
# run.sh N -- time migration tools applying and rolling back N synthetic
# migrations (made by gen.sh) against a throwaway local PostgreSQL.
#
# For every tool and every repetition: a fresh database is created, the tool
# applies all N migrations (timed), a no-op apply and a status call are timed on
# the now up-to-date database, then the tool rolls all N back (timed). The
# database is checked after apply (N tables t_*, N bookkeeping rows) and after
# rollback (0 and 0), untimed, so a tool that silently did less fails the run.
# Repetitions are interleaved across tools (rep 1 of every tool, then rep 2 ...)
# and the median of REPS runs is reported.
#
# Usage:   ./run.sh N
# Env:     REPS=3                       repetitions per measurement (median reported)
#          TOOLS="psql sql-migrate dbmate sqitch sqitch-direct migdir"
#                                       which rows to run; also: sqitch-verify
#          MIGDIR=/path/to/migdir       enables the migdir row (skipped if unset)
#          DBMATE=/path/to/dbmate       dbmate's Go binary (default: the one npm's
#                                       dbmate package installed, see run_dbmate)
#          PGDIR=/tmp/bench_pg          cluster dir for ./pgtmp (port $PORT)
#          WORK=/tmp/bench_work/nN      scratch: generated migrations, logs
#          RESULTS=<this dir>/results   summary + raw samples are written here
#          KEEP_PG=1                    don't stop a cluster that run.sh started
#          QUIET_PSI=15 QUIET_MAX=30    wait up to QUIET_MAX s before each sample until
#                                       CPU pressure avg10 < QUIET_PSI % (0 = off)
#          QUIESCE=1                    CHECKPOINT + sync before every sample (0 = off)
#
# Timing: wall clock from bash $EPOCHREALTIME (microsecond resolution) around
# `/usr/bin/time -f '%U %S'`, which also gives the client-side CPU (user+sys of
# the tool and every child it waited for, e.g. sqitch's psql processes), and
# server CPU from the postmaster's reaped-children counters (see measure()).
# Output: results/summary_nN.md (tables), results/raw_nN.tsv (every sample),
#         results/env_nN.txt (versions); tool output in $WORK/logs.
set -euo pipefail
export LC_ALL=C

N=${1:?usage: run.sh N}
[[ $N =~ ^[0-9]+$ && $N -ge 1 ]] || { echo "run.sh: N must be a positive integer" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${PORT:-55433}
PGDIR=${PGDIR:-/tmp/bench_pg}
PGTMP=${PGTMP:-$HERE/pgtmp}
REPS=${REPS:-3}
TOOLS=${TOOLS:-"psql sql-migrate dbmate sqitch sqitch-direct migdir"}
MIGDIR=${MIGDIR:-}
if [[ -z $MIGDIR && -x $HERE/../migdir ]]; then MIGDIR=$(cd "$HERE/.." && pwd)/migdir; fi
DBMATE=${DBMATE:-}
WORK=${WORK:-/tmp/bench_work/n$N}
RESULTS=${RESULTS:-$HERE/results}
PG_BIN=/usr/lib/postgresql/15/bin
PSQL=$PG_BIN/psql                            # the real binary, not Debian's pg_wrapper
BASE=postgresql://postgres@127.0.0.1:$PORT   # + /dbname
GEN=$WORK/gen
RAW=$RESULTS/raw_n$N.tsv
SUMMARY=$RESULTS/summary_n$N.md
LOG=$WORK/logs

mkdir -p "$WORK" "$LOG" "$RESULTS"

# ---------------------------------------------------------------- cluster ---
STARTED_PG=0
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  "$PGTMP" start "$PGDIR" "$PORT" >/dev/null
  STARTED_PG=1
fi
cleanup() { if [[ $STARTED_PG = 1 && ${KEEP_PG:-0} != 1 ]]; then "$PGTMP" stop "$PGDIR"; fi; }
trap cleanup EXIT

admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$BASE/postgres" "$@" >/dev/null; }
q1()    { local db=$1; shift; "$PSQL" -X -qAt -v ON_ERROR_STOP=1 "$BASE/$db" -c "$*"; }
fresh_db() { admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
PM_PID=$(head -n 1 "$(q1 postgres "SHOW data_directory")/postmaster.pid")
[[ -r /proc/$PM_PID/stat ]] || { echo "run.sh: cannot read postmaster $PM_PID" >&2; exit 1; }

# ---------------------------------------------------------------- helpers ---
# Server CPU: PostgreSQL backends are children of the postmaster; when one exits
# the postmaster reaps it and the kernel adds its CPU to the postmaster's
# cutime+cstime (/proc/PID/stat fields 16,17). Every tool here disconnects
# before it exits, so after waiting for its backends to go away the delta is
# the server-side CPU of that run (10 ms resolution; an autovacuum worker that
# happens to exit meanwhile is counted too).
# CPU stall: delta of /proc/pressure/cpu "some" total over the run, as % of
# wall time -- how long something was runnable but waiting for a CPU. On a
# quiet box it is small; high values mean the sample was disturbed by other
# load on this (shared, 2-core) machine.
pm_ticks() { local f; read -r -a f < "/proc/$PM_PID/stat"; echo $(( f[15] + f[16] )); }
psi_us()   { local l=0; [[ -r /proc/pressure/cpu ]] && { read -r l < /proc/pressure/cpu; l=${l##*total=}; }; echo "$l"; }
# Quiesce (QUIESCE=1, default): before each sample run CHECKPOINT and sync(1),
# so dirty buffers, dropped-relation files and the ext4 journal of earlier
# samples are flushed now rather than in the middle of the next timed run.
quiesce() {
  [[ ${QUIESCE:-1} = 1 ]] || return 0
  admin -c CHECKPOINT; sync
}

# Quiet gate: before each sample wait (at most QUIET_MAX s) until the 10-s CPU
# pressure average is below QUIET_PSI %, so samples start on an idle-ish box.
quiet_gate() {
  [[ ${QUIET_PSI:-15} != 0 && -r /proc/pressure/cpu ]] || return 0
  local l a i
  for ((i = 0; i < ${QUIET_MAX:-30} * 4; i++)); do
    read -r l < /proc/pressure/cpu; a=${l#*avg10=}; a=${a%%.*}
    (( a < ${QUIET_PSI:-15} )) && return 0
    sleep 0.25
  done
}
wait_backends() {   # until no client backend (user postgres) is left and no child
                    # is mid-exit (its CPU reaches cutime only once reaped)
  local i c a busy
  for ((i = 0; i < 500; i++)); do
    busy=0
    for c in $(< "/proc/$PM_PID/task/$PM_PID/children"); do
      a=; read -r -d '' a < "/proc/$c/cmdline" 2>/dev/null || true
      if [[ -z $a ]]; then            # exiting or zombie, not yet reaped (or just gone)
        [[ -e /proc/$c ]] && { busy=1; break; }
      elif [[ $a == "postgres: postgres "* ]]; then   # a client backend
        busy=1; break
      fi
    done
    (( busy )) || return 0
    sleep 0.01
  done
  echo "run.sh: warning: client backends still present after 5 s" >&2
}

# measure TOOL PHASE REP CWD cmd...  -- run cmd in CWD, append a sample to $RAW
#   columns: wall_s, client cpu_s (tool + children it waited for),
#            server cpu_s (backends), cpu stall %
measure() {
  local tool=$1 phase=$2 rep=$3 cwd=$4; shift 4
  local log="$LOG/$tool.$phase.$rep.log" tf="$WORK/.time" rc=0
  local c0 c1 p0 p1
  quiesce; wait_backends; quiet_gate; c0=$(pm_ticks); p0=$(psi_us)
  ( cd "$cwd"
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S' -o "$tf" "$@" >"$log" 2>&1 || exit $?
    t1=$EPOCHREALTIME
    echo "$t0 $t1" > "$tf.wall" ) || rc=$?
  if (( rc != 0 )); then
    echo "run.sh: FAILED ($rc): $tool $phase rep $rep: $*" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  p1=$(psi_us); wait_backends; c1=$(pm_ticks)
  local u s w0 w1
  read -r u s < <(tail -n 1 "$tf")
  read -r w0 w1 < "$tf.wall"
  awk -v t="$tool" -v n="$N" -v r="$rep" -v p="$phase" -v w0="$w0" -v w1="$w1" -v u="$u" -v s="$s" \
      -v sc=$(( c1 - c0 )) -v hz="$(getconf CLK_TCK)" -v st=$(( p1 - p0 )) \
      'BEGIN { w = w1 - w0; printf "%s\t%s\t%s\t%s\t%.6f\t%.2f\t%.2f\t%.1f\n", t, n, r, p, w, u + s, sc / hz, (w > 0 ? st / 1e4 / w : 0) }' >> "$RAW"
}

# check DB WANT_TABLES [BOOKKEEPING_SQL WANT_ROWS] -- untimed sanity check
check() {
  local db=$1 want=$2 sql=${3:-} wantrows=${4:-}
  local got; got=$(q1 "$db" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't\_%'")
  [[ $got = "$want" ]] || { echo "run.sh: $db has $got tables t_*, expected $want" >&2; exit 1; }
  if [[ -n $sql ]]; then
    got=$(q1 "$db" "$sql")
    [[ $got = "$wantrows" ]] || { echo "run.sh: $db: '$sql' = $got, expected $wantrows" >&2; exit 1; }
  fi
  if [[ $want != 0 ]]; then   # last table really got its 3 rows (FK checked)
    local last; printf -v last 't_%05d' "$N"
    got=$(q1 "$db" "SELECT count(*) FROM $last")
    [[ $got = 3 ]] || { echo "run.sh: $db.$last has $got rows, expected 3" >&2; exit 1; }
  fi
}

# ---------------------------------------------------------- tool: psql floor
# One psql session, one transaction per migration, + one bookkeeping
# INSERT/DELETE per migration (see gen.sh). Not a migration tool: no
# "skip what is applied" logic, so no noop_apply row; status = a count(*).
run_psql() {
  local rep=$1 db=bench_psql
  fresh_db $db
  measure psql apply    "$rep" "$GEN/psql" "$PSQL" -X -q -v ON_ERROR_STOP=1 -f apply.sql "$BASE/$db"
  check $db "$N" "SELECT count(*) FROM floor_migrations" "$N"
  measure psql status   "$rep" "$GEN/psql" "$PSQL" -X -qAt -c "SELECT count(*), max(id) FROM floor_migrations" "$BASE/$db"
  measure psql rollback "$rep" "$GEN/psql" "$PSQL" -X -q -v ON_ERROR_STOP=1 -f rollback.sql "$BASE/$db"
  check $db 0 "SELECT count(*) FROM floor_migrations" 0
}

# ------------------------------------------------------- tool: sql-migrate
# rubenv/sql-migrate (Debian package). dbconfig.yml reads $SQLMIGRATE_DSN.
# `down` defaults to -limit=1, so -limit=0 is needed to roll everything back.
run_sql-migrate() {
  local rep=$1 db=bench_sqlmigrate t=sql-migrate
  export SQLMIGRATE_DSN="postgres://postgres@127.0.0.1:$PORT/$db?sslmode=disable"
  fresh_db $db
  measure $t apply      "$rep" "$GEN/sql-migrate" sql-migrate up   -config=dbconfig.yml -env=bench
  check $db "$N" "SELECT count(*) FROM gorp_migrations" "$N"
  measure $t noop_apply "$rep" "$GEN/sql-migrate" sql-migrate up   -config=dbconfig.yml -env=bench
  measure $t status     "$rep" "$GEN/sql-migrate" sql-migrate status -config=dbconfig.yml -env=bench
  measure $t rollback   "$rep" "$GEN/sql-migrate" sql-migrate down -config=dbconfig.yml -env=bench -limit=0
  check $db 0 "SELECT count(*) FROM gorp_migrations" 0
}

# ------------------------------------------------------------ tool: sqitch
# sqitch (Debian package), registry in schema "sqitch" of the target db.
#   sqitch         : as installed -- client "psql" from $PATH, which on Debian
#                    is /usr/bin/psql = pg_wrapper (a Perl script) -> real psql
#   sqitch-direct  : --client $PG_BIN/psql (skips pg_wrapper)
#   sqitch-verify  : as installed, plus deploy --verify (runs verify/ scripts)
_sqitch() {
  local t=$1 rep=$2 db=bench_sqitch; shift 2
  local target="db:pg://postgres@127.0.0.1:$PORT/$db" opts=("$@") dopts=()
  [[ $t = sqitch-verify ]] && dopts=(--verify)
  fresh_db $db
  measure $t apply      "$rep" "$GEN/sqitch" sqitch deploy "${opts[@]}" "${dopts[@]}" "$target"
  check $db "$N" "SELECT count(*) FROM sqitch.changes" "$N"
  measure $t noop_apply "$rep" "$GEN/sqitch" sqitch deploy "${opts[@]}" "$target"
  measure $t status     "$rep" "$GEN/sqitch" sqitch status "${opts[@]}" "$target"
  measure $t rollback   "$rep" "$GEN/sqitch" sqitch revert -y "${opts[@]}" "$target"
  check $db 0 "SELECT count(*) FROM sqitch.changes" 0
}
run_sqitch()        { _sqitch sqitch        "$1"; }
run_sqitch-direct() { _sqitch sqitch-direct "$1" --client "$PSQL"; }
run_sqitch-verify() { _sqitch sqitch-verify "$1"; }

# ------------------------------------------------------------ tool: dbmate
# amacneil/dbmate from npm (`npm install -g dbmate@VERSION`). What npm puts on
# PATH (/usr/bin/dbmate) is a Node launcher (dist/cli.js) that spawns the Go
# binary shipped in the optional dependency @dbmate/linux-<arch>; the launcher
# adds ~0.1 s of Node start-up to every call, which is no part of dbmate (its
# other distributions are the Go binary alone), so the Go binary is timed:
# $DBMATE, or found by find_dbmate below. --no-dump-schema: no pg_dump after
# each up/rollback. Every migration runs in its own transaction (default).
# dbmate has no multi-step rollback: `dbmate rollback` (alias `down`) undoes
# the most recent migration only and has no flag for more (2.36.0; extra
# arguments are ignored), so the rollback of all N is one timed `bash -c` loop
# of N separate `dbmate rollback` processes, stopping at the first failure.
# The summary names the row "dbmate (rollback = N calls)".
find_dbmate() {
  local root a b p
  root=$(npm root -g 2>/dev/null) || root=
  case $(uname -m) in x86_64) a=x64 ;; aarch64) a=arm64 ;; i?86) a=ia32 ;; *) a=$(uname -m) ;; esac
  if [[ -n $root ]]; then
    for b in "$root/dbmate/node_modules/@dbmate/linux-$a/bin/dbmate" "$root/@dbmate/linux-$a/bin/dbmate"; do
      [[ -x $b ]] && { echo "$b"; return 0; }
    done
  fi
  p=$(command -v dbmate) || return 1
  [[ $(head -c 2 "$p") != '#!' ]] || return 1   # a launcher script, not dbmate itself
  echo "$p"
}
run_dbmate() {
  local rep=$1 db=bench_dbmate t=dbmate
  local common=(--no-dump-schema --url "$BASE/$db?sslmode=disable" --migrations-dir "$GEN/dbmate/db/migrations")
  fresh_db $db
  measure $t apply      "$rep" "$GEN/dbmate" "$DBMATE" "${common[@]}" up
  check $db "$N" "SELECT count(*) FROM schema_migrations" "$N"
  measure $t noop_apply "$rep" "$GEN/dbmate" "$DBMATE" "${common[@]}" up
  measure $t status     "$rep" "$GEN/dbmate" "$DBMATE" "${common[@]}" status
  measure $t rollback   "$rep" "$GEN/dbmate" "$BASH" -c \
    'n=$1; shift; for ((i = 1; i <= n; i++)); do "$@" rollback || exit; done' dbmate-rollback-loop \
    "$N" "$DBMATE" "${common[@]}"
  check $db 0 "SELECT count(*) FROM schema_migrations" 0
}

# ====================================================================== #
# ===========================  migdir slot  ============================ #
# ====================================================================== #
# Skipped unless MIGDIR=/path/to/migdir is set. Before every rep (untimed) a
# fresh git repository is made with `migdir init` and the generated pending
# files are committed in it, as a DBA's repository would be; then migdir runs
# there against the tracked database given by --database-url. Git commits and
# file moves are part of what is timed: they are part of migdir's job.
MIGDIR_APPLY=(apply)
MIGDIR_ROLLBACK=(rollback --all --force)   # the rollbacks drop tables
MIGDIR_STATUS=(status)
MIGDIR_VERSION=(version)
MIGDIR_BOOKKEEPING_SQL=${MIGDIR_BOOKKEEPING_SQL:-"SELECT count(*) FROM schema_versions WHERE is_active"}
run_migdir() {
  local rep=$1 db=bench_migdir t=migdir d="$WORK/migdir-run"
  local url="$BASE/$db"
  rm -rf "$d"; mkdir -p "$d"
  ( cd "$d" && git init -q && git config user.name bench && git config user.email bench@example.invalid &&
    "$MIGDIR" init >/dev/null && cp "$GEN"/migdir/pending/*.sql migrations/pending/ &&
    git add -A && git commit -q -m "bench: $N migrations" ) || { echo "run.sh: migdir project set-up failed" >&2; exit 1; }
  local common=(--database-url "$url")
  fresh_db $db
  "$MIGDIR" "${MIGDIR_VERSION[@]}" >/dev/null 2>&1 || true   # warm the binary's pages (untimed)
  measure $t apply      "$rep" "$d" "$MIGDIR" "${common[@]}" "${MIGDIR_APPLY[@]}"
  check $db "$N" "$MIGDIR_BOOKKEEPING_SQL" "$N"
  measure $t noop_apply "$rep" "$d" "$MIGDIR" "${common[@]}" "${MIGDIR_APPLY[@]}"
  measure $t status     "$rep" "$d" "$MIGDIR" "${common[@]}" "${MIGDIR_STATUS[@]}"
  measure $t rollback   "$rep" "$d" "$MIGDIR" "${common[@]}" "${MIGDIR_ROLLBACK[@]}"
  check $db 0 "$MIGDIR_BOOKKEEPING_SQL" 0
}
# ====================================================================== #

# pure process start-up, no database work at all
run_startup() {
  local rep=$1 t did_sqitch=0
  for t in "${ACTIVE[@]}"; do
    case $t in
      psql)          measure psql          version "$rep" "$WORK" "$PSQL" --version ;;
      sql-migrate)   measure sql-migrate   version "$rep" "$WORK" sql-migrate --version ;;
      dbmate)        measure dbmate        version "$rep" "$WORK" "$DBMATE" --version ;;
      sqitch*)       (( did_sqitch++ )) ||
                     measure sqitch        version "$rep" "$WORK" sqitch --version ;;
      migdir)        [[ -n $MIGDIR ]] && (( ${#MIGDIR_VERSION[@]} )) &&
                     measure migdir        version "$rep" "$WORK" "$MIGDIR" "${MIGDIR_VERSION[@]}" ;;
    esac
  done
  return 0
}

# ------------------------------------------------------------------ main ---
# drop tools that are unavailable
ACTIVE=()
for t in $TOOLS; do
  case $t in
    migdir)
      if [[ -z $MIGDIR ]]; then echo "run.sh: migdir skipped (set MIGDIR=/path/to/migdir)" >&2; continue; fi
      [[ -x $MIGDIR ]] || { echo "run.sh: MIGDIR=$MIGDIR is not executable" >&2; exit 2; } ;;
    sqitch*)      command -v sqitch      >/dev/null || { echo "run.sh: no sqitch" >&2; exit 2; } ;;
    sql-migrate)  command -v sql-migrate >/dev/null || { echo "run.sh: no sql-migrate" >&2; exit 2; } ;;
    dbmate)
      [[ -n $DBMATE ]] || DBMATE=$(find_dbmate) || true
      [[ -n $DBMATE && -x $DBMATE ]] || { echo "run.sh: no dbmate Go binary (npm install -g dbmate, or set DBMATE=/path/to/dbmate)" >&2; exit 2; }
      "$DBMATE" --version >/dev/null || { echo "run.sh: DBMATE=$DBMATE --version failed" >&2; exit 2; } ;;
    psql) ;;
    *) echo "run.sh: unknown tool $t" >&2; exit 2 ;;
  esac
  ACTIVE+=("$t")
done

"$HERE/gen.sh" "$N" "$GEN"
printf 'tool\tN\trep\tphase\twall_s\tclient_cpu_s\tserver_cpu_s\tcpu_stall_pct\n' > "$RAW"

{
  echo "date:        $(date -u +%FT%TZ)"
  echo "host:        $(uname -sr), $(nproc) cpu, $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "server:      $(q1 postgres 'SELECT version()')"
  echo "server opts: fsync=$(q1 postgres 'SHOW fsync') synchronous_commit=$(q1 postgres 'SHOW synchronous_commit') shared_buffers=$(q1 postgres 'SHOW shared_buffers')"
  echo "psql:        $("$PSQL" --version)"
  echo "sqitch:      $(sqitch --version 2>/dev/null) (perl $(perl -e 'print $^V'), DBD::Pg $(perl -MDBD::Pg -e 'print $DBD::Pg::VERSION'))"
  echo "sql-migrate: $(dpkg-query -W -f '${Version}' sql-migrate 2>/dev/null) (Debian), built with $(dpkg-query -W -f '${Built-Using}' sql-migrate 2>/dev/null | grep -o 'golang-[0-9.]* (= [^)]*)' | head -1)"
  if [[ -n $DBMATE ]]; then
    dbm_go=$(grep -a -o -m 1 'Go buildinf:.\{0,64\}' "$DBMATE" | grep -a -o -m 1 'go1[0-9.]*' || true)
    dbm_pq=$(grep -a -o -m 1 'github.com/lib/pq'$'\t''v[0-9.]*' "$DBMATE" | grep -a -o -m 1 'v[0-9.]*$' || true)
    dbm_npm=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$(npm root -g 2>/dev/null)/dbmate/package.json" 2>/dev/null | head -n 1 || true)
    echo "dbmate:      $("$DBMATE" --version) (${dbm_npm:+npm dbmate@$dbm_npm, }Go binary $DBMATE called directly, not via the Node launcher on PATH; built with ${dbm_go:-go ?}, lib/pq ${dbm_pq:-?}; rollback = $N calls of \`dbmate rollback\`)"
  fi
  [[ -n $MIGDIR ]] && echo "migdir:      $MIGDIR"
  echo "tools:       ${ACTIVE[*]}   reps: $REPS"
} > "$RESULTS/env_n$N.txt"
cat "$RESULTS/env_n$N.txt" >&2

# warm TOOL: one untimed start of the tool's binary, so that a binary the
# kernel dropped from the page cache is not read from disk inside a sample
warm() {
  case $1 in
    psql)        "$PSQL" --version ;;
    sql-migrate) sql-migrate --version ;;
    dbmate)      "$DBMATE" --version ;;
    sqitch*)     sqitch --version ;;
    migdir)      "$MIGDIR" "${MIGDIR_VERSION[@]}" ;;
  esac >/dev/null 2>&1 || true
}

for ((rep = 1; rep <= REPS; rep++)); do
  for t in "${ACTIVE[@]}"; do
    warm "$t"
    echo "run.sh: N=$N rep $rep/$REPS $t ..." >&2
    "run_$t" "$rep"
  done
  run_startup "$rep"
done

# -------------------------------------------------------------- summary ---
# Medians per (tool, phase) over the REPS samples; "x floor" = ratio to the
# psql floor's median at the same N.
summarize() {
awk -F'\t' -v n="$N" -v order="${ACTIVE[*]}" -v reps="$REPS" '
  function median(key,   cnt, i, j, v, tmp) {
    cnt = c[key]; if (cnt == 0) return -1
    for (i = 1; i <= cnt; i++) v[i] = s[key, i]
    for (i = 2; i <= cnt; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j+1] = v[j]; v[j+1] = tmp }
    return (cnt % 2) ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
  }
  function mn(key,   i, m) { m = -1; for (i = 1; i <= c[key]; i++) if (m < 0 || s[key, i] < m) m = s[key, i]; return m }
  function mx(key,   i, m) { m = -1; for (i = 1; i <= c[key]; i++) if (s[key, i] > m) m = s[key, i]; return m }
  function add(key, val) { c[key]++; s[key, c[key]] = val }
  function f(x, fmt) { return (x < 0) ? "-" : sprintf(fmt, x) }
  function ratio(a, b) { return (a >= 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
  function nm(t) { return (t == "psql") ? "psql (floor)" : (t == "dbmate") ? sprintf("dbmate (rollback = %d calls)", n) : t }
  function sn(t) { return (t == "psql") ? "psql (floor)" : t }
  NR > 1 {
    k = $1 SUBSEP $4
    add(k SUBSEP "wall", $5); add(k SUBSEP "ccpu", $6); add(k SUBSEP "scpu", $7)
    add(k SUBSEP "tcpu", $6 + $7); add(k SUBSEP "stall", $8)
  }
  END {
    nt = split(order, T, " ")
    fa = median("psql" SUBSEP "apply" SUBSEP "wall"); fr = median("psql" SUBSEP "rollback" SUBSEP "wall")
    print "Wall clock, median of " reps ":"
    print ""
    print "| tool | N | apply s | rollback s | apply ms/migration | rollback ms/migration | apply x floor | rollback x floor | apply overhead ms/migration vs floor | rollback overhead ms/migration vs floor |"
    print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    for (i = 1; i <= nt; i++) {
      t = T[i]; a = median(t SUBSEP "apply" SUBSEP "wall"); r = median(t SUBSEP "rollback" SUBSEP "wall")
      printf "| %s | %d | %.3f | %.3f | %.2f | %.2f | %s | %s | %s | %s |\n", nm(t), n, a, r, 1000 * a / n, 1000 * r / n, ratio(a, fa), ratio(r, fr),
             (fa > 0 ? sprintf("%+.2f", 1000 * (a - fa) / n) : "-"), (fr > 0 ? sprintf("%+.2f", 1000 * (r - fr) / n) : "-")
    }
    if (index(" " order " ", " dbmate ")) {
      print ""
      print "dbmate (rollback = " n " calls): dbmate has no multi-step rollback (`dbmate rollback` undoes the latest migration only, and has no flag for more), so its rollback is " n " separate `dbmate rollback` processes, each connecting afresh, run by one timed `bash -c` loop."
    }
    print ""
    print "Best of " reps " (minimum wall of each tool; on this shared machine the minimum is the sample least disturbed):"
    print ""
    print "| tool | N | apply min s | rollback min s | apply x floor (min) | rollback x floor (min) |"
    print "|---|--:|--:|--:|--:|--:|"
    ma = mn("psql" SUBSEP "apply" SUBSEP "wall"); mr = mn("psql" SUBSEP "rollback" SUBSEP "wall")
    for (i = 1; i <= nt; i++) {
      t = T[i]; a = mn(t SUBSEP "apply" SUBSEP "wall"); r = mn(t SUBSEP "rollback" SUBSEP "wall")
      printf "| %s | %d | %.3f | %.3f | %s | %s |\n", nm(t), n, a, r, ratio(a, ma), ratio(r, mr)
    }
    print ""
    print "CPU seconds, median of " reps " (client = the tool and every process it waited for; server = PostgreSQL backends):"
    print ""
    print "| tool | N | apply client | apply server | rollback client | rollback server | apply total ms/migration | apply CPU x floor | rollback CPU x floor |"
    print "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    fca = median("psql" SUBSEP "apply" SUBSEP "tcpu"); fcr = median("psql" SUBSEP "rollback" SUBSEP "tcpu")
    for (i = 1; i <= nt; i++) {
      t = T[i]; ta = median(t SUBSEP "apply" SUBSEP "tcpu"); tr = median(t SUBSEP "rollback" SUBSEP "tcpu")
      printf "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", nm(t), n,
             median(t SUBSEP "apply" SUBSEP "ccpu"), median(t SUBSEP "apply" SUBSEP "scpu"),
             median(t SUBSEP "rollback" SUBSEP "ccpu"), median(t SUBSEP "rollback" SUBSEP "scpu"),
             1000 * ta / n, ratio(ta, fca), ratio(tr, fcr)
    }
    print ""
    print "Start-up / doing nothing useful, wall seconds, median of " reps " (status and no-op apply run against the up-to-date database):"
    print ""
    print "| tool | N | --version | status | no-op apply |"
    print "|---|--:|--:|--:|--:|"
    for (i = 1; i <= nt; i++) {
      t = T[i]; vt = t; if (t ~ /^sqitch/) vt = "sqitch"
      printf "| %s | %d | %s | %s | %s |\n", sn(t), n, f(median(vt SUBSEP "version" SUBSEP "wall"), "%.3f"),
             f(median(t SUBSEP "status" SUBSEP "wall"), "%.3f"), f(median(t SUBSEP "noop_apply" SUBSEP "wall"), "%.3f")
    }
    print ""
    print "Spread of the wall-clock samples (min / median / max) and CPU stall (% of wall time something waited for a CPU; high = disturbed):"
    print ""
    print "| tool | phase | min s | median s | max s | stall % (median) |"
    print "|---|---|--:|--:|--:|--:|"
    for (i = 1; i <= nt; i++) {
      t = T[i]
      for (ph = 1; ph <= 2; ph++) {
        p = (ph == 1) ? "apply" : "rollback"; k = t SUBSEP p
        printf "| %s | %s | %.3f | %.3f | %.3f | %.0f |\n", nm(t), p, mn(k SUBSEP "wall"), median(k SUBSEP "wall"), mx(k SUBSEP "wall"), median(k SUBSEP "stall")
      }
    }
  }' "$RAW"
}

summarize > "$SUMMARY"
echo
echo "N=$N (raw samples: $RAW, summary: $SUMMARY)"
cat "$SUMMARY"
