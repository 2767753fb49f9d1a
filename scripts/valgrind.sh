#!/usr/bin/env bash
# valgrind.sh MIGDIR - run the main commands under valgrind against a
# throwaway PostgreSQL and a scratch repository holding the sample: any
# memory error or definite/indirect leak fails.  (libpq and libgit2 are
# loaded with dlopen and kept for the life of the process: what they hold
# at exit is "still reachable", not a leak.)
set -eu
migdir=${1:?usage: valgrind.sh /path/to/migdir}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/migdir-vg.XXXXXX")
chmod 755 "$work"
trap '"$here/tests/lib/pgtmp.sh" stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
eval "$("$here/tests/lib/pgtmp.sh" start "$work/pg")"
psql -X -q -c "CREATE DATABASE vg" postgres
export CRM_DATABASE_URL=postgresql:///vg CRM_STAGING_URL=postgresql:///vg
mkdir "$work/p" && cd "$work/p"
cp -r "$here/migrations" "$here/migdir.ini" "$here/consolidated_schema.sql" .
git init -q && git -c user.name=vg -c user.email=vg@x add -A
git -c user.name=vg -c user.email=vg@x commit -qm sample
git config user.name vg && git config user.email vg@example.invalid

# vg WANT ARGS...: run migdir ARGS under valgrind, expecting exit status WANT
nvg=0
vg() {
	local want=$1 rc=0
	shift
	nvg=$((nvg + 1))
	printf 'valgrind: migdir %s\n' "$*"
	valgrind -q --error-exitcode=42 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect "$migdir" "$@" \
	    >"$work/out" 2>"$work/err" || rc=$?
	if [ $rc = 42 ] || grep -q '^==[0-9]*==' "$work/err" || [ $rc != "$want" ]; then
		cat "$work/out" "$work/err"
		echo "valgrind.sh: migdir $*: exit $rc (want $want), or valgrind errors"
		exit 1
	fi
}
vg 0 version
vg 0 --json version
vg 0 help
vg 0 help apply
vg 0 apply --help
vg 2 apply --no-such-option
vg 2 no-such-command
# the connection refused: no such database, a url that libpq cannot read,
# a variable that is not set, a ${ that is not closed
vg 1 --database-url postgresql:///no_such_db status
vg 1 --json --database-url 'postgresql:///vg?bogus=1' apply
printf '[env x]\nurl = ${VG_NOT_SET}\n' >unset.ini
vg 1 -c unset.ini status
printf '[env x]\nurl = postgresql://u:secret@/vg?port=${NOPE\n' >open.ini
vg 1 -c open.ini --json status
rm unset.ini open.ini
# a configuration file that is wrong
printf '[migdir]\ntrackd = x\n' >"$work/bad.ini"
vg 1 -c "$work/bad.ini" status
# a role that lacks a privilege: no CONNECT, then no SELECT
psql -X -q -c "CREATE ROLE vg_min LOGIN" -c "REVOKE CONNECT ON DATABASE vg FROM PUBLIC" postgres
vg 1 --database-url postgresql://vg_min@/vg status
vg 0 -e staging apply --to 20230601_add_email_templates
vg 0 status
vg 0 --json status
vg 0 -v status
psql -X -q -c "GRANT CONNECT ON DATABASE vg TO vg_min" postgres
vg 1 --json --database-url postgresql://vg_min@/vg status
vg 0 plan
vg 0 --json plan
vg 0 rehearse --jobs 2
vg 0 --json rehearse 20230712_add_contact_preferences
vg 0 -v --json apply --to 20230705_index_tickets_by_status
vg 0 apply
vg 0 check
vg 0 --json check
vg 3 --json check --fail-on=may-fail
vg 0 check --format=gcc "$here/tests/corpora/lemmy"
vg 0 check migrations/applied/20230620_add_ticket_tags.sql
vg 1 rollback --step 2
vg 0 rollback --step 2 --force
MIGDIR_PG_DUMP=/nonexistent vg 1 rollback --backup "$work/tags.dump"
vg 0 --json rollback --backup "$work/tags.dump"
vg 0 plan --rollback --all
vg 0 repair
vg 0 --json repair
vg 0 new add_more_things
vg 0 --json new add_even_more
vg 3 status --exit-code
printf 'SELECT broken;\n' >migrations/pending/20991231_broken.sql
vg 1 apply
vg 1 -v --json apply
vg 3 rehearse -j 2
printf 'SELECT (;\n' >migrations/pending/20991230_syntax.sql
vg 1 check
rm migrations/pending/20991230_syntax.sql
vg 0 --json rollback --all --force
# baseline: a staging database migrated by hand, then the tracked one
psql -X -q -c "CREATE DATABASE vg_hand" postgres
psql -X -q -d vg_hand -f consolidated_schema.sql -c "DROP TABLE schema_versions"
CRM_STAGING_URL=postgresql:///vg_hand vg 0 -e staging baseline --dry-run
psql -X -q -d vg_hand -c "CREATE TABLE notes (id int)"
CRM_STAGING_URL=postgresql:///vg_hand vg 1 -e staging baseline
CRM_STAGING_URL=postgresql:///vg_hand vg 0 --json -e staging baseline --force
"$migdir" -q apply --to 20230712_add_contact_preferences
printf 'CREATE TABLE made_by_hand (id int);\n' >migrations/pending/20230713_made_by_hand.sql
git add migrations/pending/20230713_made_by_hand.sql && git commit -qm "made by hand"
psql -X -q -d vg -f migrations/pending/20230713_made_by_hand.sql
vg 2 baseline --to 20990101_nope
vg 0 baseline --to 20230713_made_by_hand
rm -f migrations/pending/20991231_broken.sql migrations/pending/*add_more_things.sql \
    migrations/pending/*add_even_more.sql
git add -A && git commit -qm "no broken files"
vg 0 apply
vg 0 consolidate --dry-run
vg 0 --json consolidate --tag vg-1
vg 0 consolidate
vg 0 init
vg 0 --json init
echo "valgrind.sh: no errors, no leaks ($nvg command lines)"
