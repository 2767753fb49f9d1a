#!/bin/sh
# deps.sh [--ci] - install the Debian packages migdir needs and are missing.
#
# Builds need a C compiler, make, pkg-config and the -dev packages of
# libpq, libgit2, inih, jansson and libpg_query; tests and the demo need
# cmocka, a PostgreSQL server and git.  --ci adds the lint and analysis
# tools (clang and its libFuzzer, clang-format, clang-tidy, cppcheck,
# valgrind, groff).
# Runs apt-get as root, or through sudo; prints what to install otherwise.
set -eu
pkgs="gcc make pkg-config binutils git ca-certificates libc6-dev
libpq-dev libgit2-dev libinih-dev libjansson-dev libpg-query-dev
libcmocka-dev postgresql postgresql-client"
[ "${1:-}" = --ci ] && pkgs="$pkgs clang libclang-rt-dev clang-format clang-tidy cppcheck
valgrind groff man-db"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	as=""
elif command -v sudo >/dev/null 2>&1; then
	as="sudo"
else
	echo "deps.sh: not root and no sudo: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$as apt-get update -q >/dev/null
# shellcheck disable=SC2086
$as apt-get install -y -q --no-install-recommends $missing >/dev/null
