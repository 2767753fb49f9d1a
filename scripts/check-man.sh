#!/bin/sh
# check-man.sh - every man page renders without a warning (man -l and groff).
cd "$(dirname "$0")/.." || exit 1
status=0
for f in man/*.[15]; do
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings=all -l "$f" 2>&1 >/dev/null)
	out="$out$(groff -man -Tutf8 -ww -z "$f" 2>&1)"
	if [ -n "$out" ]; then
		echo "check-man: $f:"
		echo "$out"
		status=1
	fi
done
[ $status = 0 ] && echo "check-man: ok ($(ls man/*.[15] | wc -l) pages)"
exit $status
