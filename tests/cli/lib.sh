#!/usr/bin/env bash
# lib.sh - what every CLI test script gets: `run ARGS` runs migdir and
# prints the command, its stdout, its stderr (each line marked "! ") and
# its exit status; `say` prints a comment line; `sh_ ...` runs a shell
# command whose output is part of the expectation.  Then it sources the
# test script given as $1.
set -u
run() {
	printf '$ migdir %s\n' "$*"
	"$MIGDIR_BIN" "$@" >"$T/.out" 2>"$T/.err"
	local rc=$?
	cat "$T/.out"
	sed 's/^/! /' "$T/.err"
	echo "[exit $rc]"
}
say() { printf '# %s\n' "$*"; }
sh_() {
	printf '$ %s\n' "$*"
	eval "$@" 2>&1
}
# a project: git repository with the sample's layout and an ini that
# tracks the test's own database
project() {
	mkdir -p "$1" && cd "$1" || exit 1
	git init -q
	cat >migdir.ini <<INI
[migdir]
tracked = production

[env production]
url = postgresql:///$TEST_DB

[env staging]
url = \${STAGING_URL}
INI
	mkdir -p migrations/pending migrations/applied migrations/archive
	touch migrations/pending/.gitkeep migrations/applied/.gitkeep migrations/archive/.gitkeep
	git add -A && git commit -qm project
}
source "$1"
