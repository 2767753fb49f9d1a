#!/usr/bin/env bash
# seeds.sh OUT - fill OUT/<target>/ with seed inputs for the fuzz targets:
# the handwritten edge cases of tests/fuzz/seeds/<target>/, and what the
# repository holds already: the sample's migrations/, the corpora under
# tests/corpora/ (file names for name, files for sql, lint and json),
# migdir.ini and the ini files the CLI tests write (config).  Seeds are
# named after where they come from, so running it again adds nothing
# twice and keeps what libFuzzer added to OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tests/fuzz/seeds.sh OUT}
max=65536 # larger files only slow the targets down

for t in name config sql lint json; do
	mkdir -p "$out/$t"
	for f in tests/fuzz/seeds/"$t"/*; do
		[ -f "$f" ] && cp -n "$f" "$out/$t/seed-${f##*/}"
	done
done

# SQL files: the sample and the corpora
mapfile -t sqls < <(find migrations tests/corpora -name '*.sql' -size -${max}c | LC_ALL=C sort)
for i in "${!sqls[@]}"; do
	f=${sqls[$i]}
	id=${f//\//_}
	cp -n "$f" "$out/sql/$id"
	# lint and json: every third file is plenty to start from
	if [ $((i % 3)) = 0 ]; then
		cp -n "$f" "$out/lint/$id"
		cp -n "$f" "$out/json/$id"
	fi
	# name: the file name paired (NUL) with the next one
	next=${sqls[$(((i + 1) % ${#sqls[@]}))]}
	[ -e "$out/name/$id" ] || printf '%s\0%s' "${f##*/}" "${next##*/}" >"$out/name/$id"
done

# ini files: the project's own, and those the CLI tests write in here-documents
cp -n migdir.ini "$out/config/migdir.ini"
awk -v dir="$out/config" '
	!grab && /migdir\.ini/ && match($0, /<<-?["'\'']?[A-Za-z_]+/) {
		end = substr($0, RSTART, RLENGTH); gsub(/[<"'\''-]/, "", end)
		n++; f = dir "/cli-" FILENAME "-" n; gsub(/\//, "_", f); f = dir "/" substr(f, length(dir) + 2)
		grab = 1; next
	}
	grab && $0 ~ "^[ \t]*" end "$" { grab = 0; close(f); next }
	grab { print > f }
' tests/cli/*.sh
