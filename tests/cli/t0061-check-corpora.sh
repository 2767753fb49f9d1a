# t0061-check-corpora: check parses the sample and every corpus without a
# "does not parse" error or a crash; the per-rule counts are part of the
# expectation, so a change in any rule shows here
cd "$MIGDIR_SOURCE" || exit 1
for d in migrations tests/corpora/authelia tests/corpora/lemmy tests/corpora/langfuse; do
	say "$d"
	sh_ "\"\$MIGDIR_BIN\" check --format=gcc $d | sed -E 's/.*\\[([a-z-]+)\\]\$/\\1/' | sort | uniq -c | sed 's/^ *//'; echo \"exit \${PIPESTATUS[0]}\""
	sh_ "\"\$MIGDIR_BIN\" check $d | tail -1"
done
