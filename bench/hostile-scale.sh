#!/usr/bin/env bash
# hostile-scale.sh - what migdir does with a 200 MB migration and with
# 100,000 files in pending/: wall time and peak memory (max RSS) of
# status, plan, check and apply, and psql -f on the same 200 MB file in the
# same run (the floor: the machine is shared, read the ratio).
#
# usage: bench/hostile-scale.sh MIGDIR   (MB=200 FILES=100000 to change)
#
# Starts its own throwaway PostgreSQL (tests/lib/pgtmp.sh) in a temporary
# directory and removes everything afterwards.
set -eu
migdir=$(cd "$(dirname "${1:?usage: hostile-scale.sh MIGDIR}")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
mb=${MB:-200}
nfiles=${FILES:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/migdir-scale.XXXXXX")
chmod 755 "$work"
trap '"$here"/tests/lib/pgtmp.sh stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
eval "$("$here"/tests/lib/pgtmp.sh start "$work/pg")"
export TZ=UTC LC_ALL=C.UTF-8 NO_COLOR=1 GIT_CONFIG_NOSYSTEM=1 HOME=$work/home
mkdir -p "$HOME"
git config --global user.name Bench && git config --global user.email bench@example.invalid
git config --global init.defaultBranch main

# measure LABEL CMD...: one line "LABEL  exit  wall s  max RSS MB"
measure() {
	local label=$1 rc
	shift
	rc=0
	/usr/bin/time -f '%e %M' -o "$work/.time" "$@" >"$work/.out" 2>"$work/.err" || rc=$?
	read -r wall rss <"$work/.time" || true
	printf '%-34s exit %-3s %8.2f s %8.1f MB\n' "$label" "$rc" "$wall" \
	    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
	if [ "$rc" != 0 ]; then sed 's/^/    | /' "$work/.err" | head -3; fi
}

project() { # DIR DB
	createdb "$2"
	mkdir -p "$1/migrations/pending" "$1/migrations/applied" "$1/migrations/archive"
	printf '[migdir]\ntracked = production\n[env production]\nurl = postgresql:///%s\n' "$2" >"$1/migdir.ini"
	chmod 600 "$1/migdir.ini"
	touch "$1"/migrations/{pending,applied,archive}/.gitkeep
	git -C "$1" init -q
}

echo "== one ${mb} MB migration ($(nproc) cores)"
p=$work/big
project "$p" big
createdb bigpsql
# rows of ~100 bytes, 1000 to an INSERT: the shape of a data migration
awk -v mb="$mb" 'BEGIN {
	print "CREATE TABLE big (id int PRIMARY KEY, note text);";
	target = mb * 1024 * 1024; n = 0; size = 0;
	while (size < target) {
		line = "INSERT INTO big VALUES ";
		for (i = 0; i < 1000; i++) {
			n++;
			line = line sprintf("%s(%d, '\''%s'\'')", i ? ", " : "",
			    n, "row " n " of a large data migration, padded to about a hundred bytes ......");
		}
		print line ";";
		size += length(line) + 2;
	}
}' >"$p/migrations/pending/20230101_big.sql"
echo "DROP TABLE big;" >"$p/migrations/pending/20230101_rollback_big.sql"
git -C "$p" add -A && git -C "$p" commit -qm big
ls -l "$p/migrations/pending/20230101_big.sql" | awk '{printf "file: %.1f MB\n", $5 / 1048576}'
measure "psql -f (same file)" psql -X -q -v ON_ERROR_STOP=1 -d bigpsql \
    -f "$p/migrations/pending/20230101_big.sql"
measure "migdir check" "$migdir" -C "$p" check
measure "migdir status" "$migdir" -C "$p" status
measure "migdir plan" "$migdir" -C "$p" plan
measure "migdir apply" "$migdir" -C "$p" apply
psql -X -At -d big -c "SELECT 'rows applied: ' || count(*) FROM big"

echo "== ${nfiles} files in pending/"
p=$work/many
project "$p" many
awk -v n="$nfiles" -v d="$p/migrations/pending" 'BEGIN {
	for (i = 0; i < n / 2; i++) {
		f = sprintf("%s/20230101_m%06d.sql", d, i);
		print "CREATE TABLE m" i " (id int);" >f; close(f);
		f = sprintf("%s/20230101_rollback_m%06d.sql", d, i);
		print "DROP TABLE m" i ";" >f; close(f);
	}
}'
git -C "$p" add -A && git -C "$p" commit -qm many
echo "files: $(ls "$p/migrations/pending" | grep -c '\.sql$')"
measure "migdir check" "$migdir" -C "$p" check
measure "migdir status" "$migdir" -C "$p" status
measure "migdir plan" "$migdir" -C "$p" plan
measure "migdir apply" "$migdir" -C "$p" apply
measure "migdir status (all applied)" "$migdir" -C "$p" status
echo "tables created: $(psql -X -At -d many -c "SELECT count(*) FROM pg_tables WHERE tablename ~ '^m[0-9]+$'")"
echo "commits: $(git -C "$p" rev-list --count HEAD), left in pending/: $(ls "$p/migrations/pending" | grep -c '\.sql$' || true)"
