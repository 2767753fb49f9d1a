#!/usr/bin/env bash
# rehearse-lemmy.sh - time `migdir rehearse` on lemmy's 233 migration pairs.
#
# usage: bench/rehearse-lemmy.sh [MIGDIR]
# Env:   JOBS="1 2"        the --jobs values to time, in this order
#        REPS=1            runs of each (the best and the median are shown)
#        PORT=55441        port of the throwaway cluster (bench/pgtmp, fsync off)
#        PGDIR=...         its directory (default under /dev/shm when it exists)
#        CORPUS=...        another corpus directory with pending/ (default lemmy)
#        FLOOR=1           also time the checklist done by hand (psql, pg_dump)
#
# A git repository holds the corpus's pending/ and tracks a database on
# the throwaway cluster; each run is `migdir --json rehearse --jobs N`.
# For each N: the wall time, the time per migration (wall / pairs), the
# sum of the migrations' own times (each migration's steps, its three
# pg_dumps and its sessions; with N jobs these overlap), the part of it
# in the three steps themselves (apply, rollback, apply again), and the
# verdict counts, which must not depend on N (the script fails if they
# do).  The machine is shared and noisy: compare runs made together.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MIGDIR=${1:-$HERE/../migdir}
MIGDIR=$(cd "$(dirname "$MIGDIR")" && pwd)/$(basename "$MIGDIR")
JOBS=${JOBS:-"1 2"}
REPS=${REPS:-1}
PORT=${PORT:-55441}
if [ -d /dev/shm ]; then PGDIR=${PGDIR:-/dev/shm/migdir-rehearse-bench-pg}; fi
PGDIR=${PGDIR:-/tmp/migdir-rehearse-bench-pg}
CORPUS=${CORPUS:-$HERE/../tests/corpora/lemmy}
command -v jq >/dev/null || { echo "rehearse-lemmy.sh: jq not found (apt-get install jq)" >&2; exit 1; }
[ -x "$MIGDIR" ] || { echo "rehearse-lemmy.sh: no migdir at $MIGDIR (make)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/migdir-rehearse-bench.XXXXXX")
chmod 755 "$WORK"
cleanup() {
	"$HERE/pgtmp" stop "$PGDIR" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
URL=$("$HERE/pgtmp" start "$PGDIR" "$PORT")
psql -X -q -d "$URL" -c "DROP DATABASE IF EXISTS rehearse_bench" \
    -c "CREATE DATABASE rehearse_bench" >/dev/null

cd "$WORK"
mkdir -p repo/migrations/applied repo/migrations/archive
cp -r "$CORPUS/pending" repo/migrations/
cd repo
cat >migdir.ini <<INI
[migdir]
tracked = bench
git = off

[env bench]
url = ${URL%/*}/rehearse_bench
INI
pairs=$(ls migrations/pending/*_rollback_*.sql | wc -l)

echo "$(basename "$CORPUS"): $pairs pairs, $(cat migrations/pending/*.sql | wc -c) bytes of SQL;" \
    "$(nproc) cores; $(psql -X -A -t -d "$URL" -c 'SHOW server_version' | cut -d' ' -f1)," \
    "fsync off"
echo
echo "| --jobs | wall s | s per migration | sum of migrations s | in their steps s | verdicts |"
echo "|---:|---:|---:|---:|---:|---|"
first=""
for n in $JOBS; do
	walls=()
	for _ in $(seq "$REPS"); do
		t0=$EPOCHREALTIME
		rc=0
		"$MIGDIR" --json rehearse --jobs "$n" >"$WORK/out.json" 2>"$WORK/err" || rc=$?
		t1=$EPOCHREALTIME
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
			echo "rehearse-lemmy.sh: migdir exited $rc:" >&2
			cat "$WORK/err" >&2
			exit 1
		fi
		walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')")
	done
	wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	sum=$(jq '[.migrations[].ms] | add / 1000' "$WORK/out.json")
	steps=$(jq '[.migrations[].steps[].ms] | add / 1000' "$WORK/out.json")
	verdicts=$(jq -r '.totals | to_entries
	    | map(select(.key != "migrations" and .key != "ms"
		and .key != "round_trip" and .key != "not_round_trip"
		and .value > 0) | "\(.value) \(.key)") | join(", ")' "$WORK/out.json")
	printf '| %s | %s | %.3f | %.1f | %.1f | %s |\n' "$n" "$wall" \
	    "$(awk -v w="$wall" -v p="$pairs" 'BEGIN {print w / p}')" \
	    "$sum" "$steps" "$verdicts"
	jq -r '.migrations[] | "\(.version) \(.verdict)"' "$WORK/out.json" >"$WORK/verdicts.$n"
	if [ -z "$first" ]; then
		first=$n
	elif ! diff -q "$WORK/verdicts.$first" "$WORK/verdicts.$n" >/dev/null; then
		echo "rehearse-lemmy.sh: --jobs $n gave other verdicts than --jobs $first:" >&2
		diff "$WORK/verdicts.$first" "$WORK/verdicts.$n" >&2
		exit 1
	fi
done
[ "$REPS" -gt 1 ] && echo && echo "median of $REPS runs"

# The floor: the same checklist by hand, one psql session per step and
# three pg_dumps per migration, serially, in one database (what the
# corpus's own verification did): the peer that a script of psql and
# pg_dump is.  FLOOR=0 skips it.
if [ "${FLOOR:-1}" = 1 ]; then
	fdb=${URL%/*}/rehearse_floor
	psql -X -q -d "$URL" -c "DROP DATABASE IF EXISTS rehearse_floor" \
	    -c "CREATE DATABASE rehearse_floor" >/dev/null
	dump() { pg_dump --schema-only --no-owner -d "$fdb" | grep -vE '^\\(un)?restrict '; }
	t0=$EPOCHREALTIME
	dump >"$WORK/s0"
	for rb in migrations/pending/*_rollback_*.sql; do
		fwd=${rb/_rollback_/_}
		psql -X -q -d "$fdb" -f "$fwd" >/dev/null 2>&1 || true
		dump >"$WORK/s1"
		psql -X -q -d "$fdb" -f "$rb" >/dev/null 2>&1 || true
		dump >"$WORK/s2"
		cmp -s "$WORK/s0" "$WORK/s2" || true
		psql -X -q -d "$fdb" -f "$fwd" >/dev/null 2>&1 || true
		dump >"$WORK/s0"
		cmp -s "$WORK/s1" "$WORK/s0" || true
	done
	t1=$EPOCHREALTIME
	floor=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
	echo
	echo "floor (psql -f per step, 3 pg_dumps per migration, serial): $floor s," \
	    "$(awk -v w="$floor" -v p="$pairs" 'BEGIN {printf "%.3f", w / p}') s per migration"
	echo "migdir rehearse / floor, same run: $(awk -v m="$wall" -v f="$floor" \
	    'BEGIN {printf "%.2f", m / f}') (--jobs $n)"
fi
exit 0
