#!/usr/bin/env bash
# demo.sh - walk the sample CRM history through migdir against a
# throwaway PostgreSQL: status, apply, status, git log, rollback, apply.
# Everything happens in a scratch directory that is removed at the end.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
migdir=$here/migdir
work=$(mktemp -d "${TMPDIR:-/tmp}/migdir-demo.XXXXXX")
chmod 755 "$work"
cleanup() {
	"$here/tests/lib/pgtmp.sh" stop "$work/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

bold=; dim=; off=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$(printf '\033[1m'); dim=$(printf '\033[2m'); off=$(printf '\033[0m')
fi
step() { printf '\n%s## %s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }
# print a command as one would type it, then run it
show() {
	local a out=
	for a in "$@"; do
		[ "$a" = "$migdir" ] && a=migdir
		case $a in
		*[!A-Za-z0-9_./=:@%+-]*) a="'$a'" ;;
		esac
		out="$out $a"
	done
	printf '%s$%s%s\n' "$bold" "$out" "$off"
	"$@"
}

step "A throwaway PostgreSQL"
eval "$("$here/tests/lib/pgtmp.sh" start "$work/pg")"
psql -X -q -c "CREATE DATABASE crm" postgres
note "server on $PGHOST (port $PGPORT), database crm"

step "The sample project in a scratch git repository"
mkdir "$work/crm" && cd "$work/crm"
cp -r "$here/migrations" "$here/consolidated_schema.sql" "$here/migdir.ini" .
git init -q
git config user.name "Dee Bee Ay"
git config user.email dba@example.invalid
git add -A && git commit -qm "CRM migrations"
export CRM_DATABASE_URL=postgresql:///crm CRM_STAGING_URL=postgresql:///crm
show find migrations -name '*.sql' -not -name '*_rollback_*' | sort
note "migdir.ini tracks [env production] (url = \${CRM_DATABASE_URL})."

step "Production already ran archive/ and applied/"
note "The database is empty: apply loads consolidated_schema.sql (which holds"
note "archive/), then runs applied/ where it already is; nothing moves."
show "$migdir" apply --to 20230601_add_email_templates

step "status: what production has, what is pending"
show "$migdir" status

step "plan, then apply"
show "$migdir" plan
show "$migdir" apply

step "status again"
show "$migdir" status

step "git log: every run is one commit, with trailers reviewers can query"
show git log --format='%h %s' -3
show git log -1 --format=%B
show git show --stat --format= HEAD
show git log --follow --format='%h %s' -- migrations/applied/20230615_add_customer_satisfaction.sql

step "rollback: the two most recently applied"
note "Their rollback files drop a column: migdir refuses until told."
show "$migdir" --yes rollback --step 2 || true
show "$migdir" --yes rollback --step 2 --force
show "$migdir" status

step "apply again"
show "$migdir" apply
show psql -X -c "SELECT version, action, success, to_char(at, 'HH24:MI:SS') AS at FROM schema_versions_history ORDER BY id DESC LIMIT 6" crm

step "consolidate: fold applied/ into consolidated_schema.sql"
note "Built on a scratch database, proved on a second one, then one commit."
show "$migdir" consolidate --tag release-1
show git show --stat --format='%h %s' HEAD
show "$migdir" status

step "Done"
note "The scratch directory and the server are removed now."
