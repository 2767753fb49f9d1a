#!/bin/sh
# check-faults.sh - every fault point of include/fault.h has a row in
# tests/faults.tbl (the matrix test_faults runs), and every row names a
# point that exists.  Run when migdir-faults is built: a new fault point
# without a test fails the build.
set -eu
cd "$(dirname "$0")/.."
points=$(sed -n 's/^[[:space:]]*X(\([a-z_0-9]*\)).*/\1/p' include/fault.h | sort -u)
rows=$(grep -v '^[[:space:]]*#' tests/faults.tbl | grep '|' |
    sed 's/[[:space:]]*|.*//; s/:[0-9]*$//' | sort -u)
[ -n "$points" ] || { echo "check-faults.sh: no X(point) in include/fault.h" >&2; exit 1; }
bad=0
for p in $points; do
	if ! printf '%s\n' "$rows" | grep -qx "$p"; then
		echo "include/fault.h: fault point $p has no row in tests/faults.tbl: add one (point | scenario | finish | what status says)" >&2
		bad=1
	fi
done
for r in $rows; do
	if ! printf '%s\n' "$points" | grep -qx "$r"; then
		echo "tests/faults.tbl: $r is not a fault point of include/fault.h" >&2
		bad=1
	fi
done
exit $bad
