#!/bin/sh
# check-includes.sh - each adapter library is included by its one module
# (STYLE.md): libpq by db.c, libgit2 by vcs.c, libpg_query by sql.c, inih
# by config.c.  Prints the offenders and fails if there are any.
cd "$(dirname "$0")/.." || exit 1
status=0
check() {
	others=$(grep -l "#include <$1>" src/*.c include/*.h 2>/dev/null | grep -v "^$2$")
	if [ -n "$others" ]; then
		echo "check-includes: <$1> belongs to $2 only, but: $others"
		status=1
	fi
	grep -q "#include <$1>" "$2" || { echo "check-includes: $2 lost <$1>"; status=1; }
}
check libpq-fe.h src/db.c
check git2.h src/vcs.c
check pg_query.h src/sql.c
check ini.h src/config.c
[ $status = 0 ] && echo "check-includes: ok"
exit $status
