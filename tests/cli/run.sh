#!/usr/bin/env bash
# run.sh - end-to-end CLI tests: each tNNNN-*.sh runs migdir commands in a
# private directory against a throwaway PostgreSQL started here, and its
# output (stdout, stderr marked "! ", exit status) is diffed against
# expected/tNNNN-*.out after volatile parts (times, durations, commit
# ids, paths, pids) are normalised.
#
#   tests/cli/run.sh [tNNNN-name.sh ...]     run all (or some) tests
#   UPDATE=1 tests/cli/run.sh ...            rewrite the expected files
#
# Needs MIGDIR_BIN (make check-cli sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
: "${MIGDIR_BIN:?set MIGDIR_BIN (make check-cli does)}"
export MIGDIR_BIN MIGDIR_SOURCE=$source_dir

work=$(mktemp -d "${TMPDIR:-/tmp}/migdir-cli.XXXXXX")
chmod 755 "$work"
cleanup() {
	"$source_dir/tests/lib/pgtmp.sh" stop "$work/pg" >/dev/null 2>&1
	if [ "${MIGDIR_TEST_KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
eval "$("$source_dir/tests/lib/pgtmp.sh" start "$work/pg")" || {
	echo "run.sh: could not start PostgreSQL (apt-get install postgresql)" >&2
	exit 1
}
export TZ=UTC LC_ALL=C.UTF-8 NO_COLOR=1 GIT_CONFIG_NOSYSTEM=1
export HOME=$work/home
mkdir -p "$HOME"
git config --global user.name "Test User"
git config --global user.email test@example.invalid
git config --global init.defaultBranch main
git config --global advice.detachedHead false

normalise() {
	sed -E \
	    -e "s#$MIGDIR_BIN#migdir#g" \
	    -e 's#"(duration|replay|proof)_ms": [0-9]+#"\1_ms": <ms>#g' \
	    -e "s#$PGHOST:$PGPORT#<socket>#g" \
	    -e "s#$PGHOST#<sockdir>#g" \
	    -e "s#\.s\.PGSQL\.$PGPORT#.s.PGSQL.<port>#g" \
	    -e "s#$work#<tmp>#g" \
	    -e "s#$(hostname)#<host>#g" \
	    -e 's#[0-9]+(\.[0-9]+)? (ms|s)\b#<dur>#g' \
	    -e 's#[0-9]+ min [0-9]+ s#<dur>#g' \
	    -e 's# +<dur># <dur>#g' \
	    -e 's#[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}Z)?#<time>#g' \
	    -e 's#\b20[0-9]{2}-[0-9]{2}-[0-9]{2}\b#<date>#g' \
	    -e 's#\b[0-9a-f]{40}\b#<sha>#g' \
	    -e 's#\b(committed|commit) [0-9a-f]{7,12}\b#\1 <commit>#g' \
	    -e 's#^[0-9a-f]{7} #<commit> #' \
	    -e 's#pid [0-9]+#pid <pid>#g' \
	    -e "s#$(date -u +%Y%m%d)#<today>#g" \
	    -e 's#<today>[0-9]{6}_#<today><hhmmss>_#g'
}

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=($(cd "$here" && ls t[0-9]*.sh))
failed=0
for t in "${tests[@]}"; do
	name=${t%.sh}
	dir=$work/$name
	mkdir -p "$dir"
	psql -X -q -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" \
	    postgres >/dev/null 2>&1
	export TEST_DB=$name T=$dir
	( cd "$dir" && bash "$here/lib.sh" "$here/$t" ) >"$dir/raw" 2>&1
	normalise <"$dir/raw" >"$dir/out"
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$dir/out" "$here/expected/$name.out"
		echo "updated $name"
	elif diff -u "$here/expected/$name.out" "$dir/out" >"$dir/diff"; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		cat "$dir/diff"
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || { echo "run.sh: $failed CLI test(s) failed"; exit 1; }
