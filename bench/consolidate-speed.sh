#!/usr/bin/env bash
# consolidate-speed.sh - time `migdir consolidate` on a corpus, against the
# work it cannot avoid measured in the same run.
#
# usage: bench/consolidate-speed.sh MIGDIR [CORPUS_DIR]   (REPS, default 3)
#
# The corpus (default tests/corpora/lemmy) is applied to a tracked database
# on a throwaway cluster (bench/pgtmp), then consolidated REPS times (each
# time from the same applied state: the consolidation commit is reset).
# The floor is what any consolidation must do: one psql session replaying
# every forward file into an empty database, pg_dump --schema-only of it, and
# psql loading the dump into a second empty database, plus a second
# pg_dump.  The table gives migdir's replay, proof and total (from its
# --json), the floor, their ratio, and the time per migration.
set -eu
migdir=$(cd "$(dirname "${1:?usage: consolidate-speed.sh MIGDIR [CORPUS_DIR]}")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${2:-$here/tests/corpora/lemmy}
reps=${REPS:-3}
port=${PORT:-55439}
work=$(mktemp -d /tmp/migdir-consolidate-bench.XXXXXX)
chmod 755 "$work" # the server runs as postgres when we are root
trap '"$here/bench/pgtmp" stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
url=$("$here/bench/pgtmp" start "$work/pg" "$port")
base=${url%/postgres}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'; }
q() { psql -X -q -d "$url" -c "$1" >/dev/null; }

# the project: the corpus in pending/, applied to the tracked database
mkdir -p "$work/p/migrations/applied" "$work/p/migrations/archive"
cp -r "$corpus/pending" "$work/p/migrations/"
printf '[migdir]\ntracked = production\n[env production]\nurl = %s/tracked\n' "$base" >"$work/p/migdir.ini"
cd "$work/p"
git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm corpus
export GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b
q "CREATE DATABASE tracked"
"$migdir" -q apply
n=$(ls migrations/applied | grep -vc _rollback_)
applied=$(git rev-parse HEAD)

floor=()
tot=()
rep=()
prf=()
for i in $(seq "$reps"); do
	git reset -q --hard "$applied"
	# the floor
	q "DROP DATABASE IF EXISTS f1" && q "DROP DATABASE IF EXISTS f2"
	t0=$(now)
	q "CREATE DATABASE f1 TEMPLATE template0"
	args=()
	for f in $(ls migrations/applied/*.sql | grep -v _rollback_); do
		args+=(-f "$f")
	done
	psql -X -q -v ON_ERROR_STOP=1 -d "$base/f1" "${args[@]}" >/dev/null 2>&1
	pg_dump --schema-only --no-owner -d "$base/f1" >"$work/f1.sql"
	q "CREATE DATABASE f2 TEMPLATE template0"
	grep -vE '^\\(un)?restrict ' "$work/f1.sql" | psql -X -q -v ON_ERROR_STOP=1 -d "$base/f2" >/dev/null 2>&1
	pg_dump --schema-only --no-owner -d "$base/f2" >/dev/null
	floor+=("$(since "$t0")")
	# migdir
	t0=$(now)
	"$migdir" --json consolidate >"$work/c.json" 2>/dev/null
	tot+=("$(since "$t0")")
	rep+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["replay_ms"] / 1000)' "$work/c.json")")
	prf+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["proof_ms"] / 1000)' "$work/c.json")")
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
F=$(med "${floor[@]}") T=$(med "${tot[@]}") R=$(med "${rep[@]}") P=$(med "${prf[@]}")
echo "$(basename "$corpus"): $n migrations, $reps runs, $(nproc) cores, medians"
echo
echo "| step | s | ms per migration |"
echo "|---|---:|---:|"
awk -v n="$n" -v r="$R" -v p="$P" -v t="$T" -v f="$F" 'BEGIN {
	printf "| migdir replay (scratch db, executor, pg_dump) | %.2f | %.1f |\n", r, 1000 * r / n
	printf "| migdir proof (second scratch db, load, pg_dump) | %.2f | %.1f |\n", p, 1000 * p / n
	printf "| migdir consolidate, total | %.2f | %.1f |\n", t, 1000 * t / n
	printf "| floor: one psql -f ... -f, pg_dump, psql load, pg_dump | %.2f | %.1f |\n", f, 1000 * f / n
	printf "\nmigdir / floor: %.2f\n", t / f
}'
