#!/bin/sh
# coverage.sh BUILDDIR - line coverage per module from a COVERAGE=1 build
# whose tests have run (make coverage does both).  Prints one line per
# source file of src/ and the total.
set -eu
build=${1:-build/cov}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-22s %8s %8s %7s\n' module lines covered percent
total=0 covered=0
for src in src/*.c; do
	base=$(basename "$src" .c)
	obj=$build/$base.o
	[ -f "$build/$base.gcda" ] || { printf '%-22s %8s %8s %7s\n' "$src" - 0 "0.0%"; continue; }
	line=$( (cd "$tmp" && gcov -n -o "$OLDPWD/$build" "$OLDPWD/$src" 2>/dev/null) |
	    awk -v f="$src" '$0 ~ "^File .*"f"'"'"'" {want=1; next}
	                     want && /^Lines executed/ {print; exit}')
	pct=$(echo "$line" | sed -E 's/Lines executed:([0-9.]+)% of ([0-9]+)/\1/')
	n=$(echo "$line" | sed -E 's/Lines executed:([0-9.]+)% of ([0-9]+)/\2/')
	[ -n "$n" ] || { pct=0; n=0; }
	c=$(awk -v p="$pct" -v n="$n" 'BEGIN { printf "%d", p * n / 100 + 0.5 }')
	total=$((total + n)); covered=$((covered + c))
	printf '%-22s %8d %8d %6.1f%%\n' "$src" "$n" "$c" "$pct"
	: "$obj"
done
awk -v t="$total" -v c="$covered" 'BEGIN { printf "%-22s %8d %8d %6.1f%%\n", "total", t, c, (t ? 100 * c / t : 0) }'
