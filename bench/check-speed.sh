#!/usr/bin/env bash
# check-speed.sh - time `migdir check` against squawk on the same files.
#
# usage: bench/check-speed.sh MIGDIR [CORPUS_DIR...]   (REPS, default 7)
#
# Both tools read every forward and rollback file of the corpora (default:
# tests/corpora/*) and print nothing that is kept; the table gives the
# best and median wall time of REPS runs each and migdir's ratio to squawk,
# measured in the same run (the machine is shared: read the ratio).
set -eu
migdir=${1:?usage: check-speed.sh MIGDIR [CORPUS_DIR...]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$here"/tests/corpora/*/
reps=${REPS:-7}
command -v squawk >/dev/null || { echo "squawk not found: npm install -g squawk-cli" >&2; exit 1; }
files=()
for d in "$@"; do files+=("$d"/pending/*.sql); done
bytes=$(cat "${files[@]}" | wc -c)
time_one() { # prints seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
stats() { sort -g | awk '{v[NR]=$1} END {printf "%.3f %.3f", v[1], v[int((NR+1)/2)]}'; }
m=$(for _ in $(seq "$reps"); do time_one "$migdir" check "$@"; done | stats)
s=$(for _ in $(seq "$reps"); do time_one squawk "${files[@]}"; done | stats)
echo "${#files[@]} files, $bytes bytes of SQL, $reps runs each, $(nproc) cores"
echo
echo "| tool | best s | median s |"
echo "|---|---:|---:|"
echo "| migdir check | ${m% *} | ${m#* } |"
echo "| squawk $(squawk --version | awk '{print $2}') | ${s% *} | ${s#* } |"
echo
awk -v a="${m#* }" -v b="${s#* }" 'BEGIN {printf "migdir/squawk (median): %.2f\n", a / b}'
