#!/usr/bin/env bash
# run-tests.sh [-j N] CMD... - run test commands N at a time (default: the
# number of cores), each with its output kept in a file and printed whole
# when it ends, so that two tests never interleave their lines.  Every
# integration test starts its own PostgreSQL cluster and works in its own
# temporary directory, so they do not see each other.  Commands are
# started in the order given (put the longest first); the exit status is
# 1 if any failed, and the failed ones are named again at the end.
set -u
jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = -j ]; then
	jobs=$2
	shift 2
fi
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
logs=$(mktemp -d "${TMPDIR:-/tmp}/migdir-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT

declare -A name_of start_of
failed=()
running=0
n=0

# reap: wait for any one job, then print what it wrote
reap() {
	local pid rc=0 t
	wait -n -p pid || rc=$?
	t=$((SECONDS - ${start_of[$pid]}))
	echo "== ${name_of[$pid]} (exit $rc, ${t} s)"
	cat "$logs/$pid"
	[ $rc = 0 ] || failed+=("${name_of[$pid]}")
	running=$((running - 1))
}

for cmd in "$@"; do
	if [ $running -ge "$jobs" ]; then
		reap
	fi
	n=$((n + 1))
	$cmd >"$logs/job$n" 2>&1 &
	mv "$logs/job$n" "$logs/$!"
	name_of[$!]=$cmd
	start_of[$!]=$SECONDS
	running=$((running + 1))
done
while [ $running -gt 0 ]; do
	reap
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "run-tests.sh: failed: ${failed[*]}"
	exit 1
fi
