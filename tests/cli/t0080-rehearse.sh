# t0080-rehearse: apply, roll back and apply again each pending migration
# on scratch databases; the folders, git and the tracked database stay as
# they are
mkdir repo && cp -r "$MIGDIR_SOURCE/migrations" "$MIGDIR_SOURCE/consolidated_schema.sql" repo/
cd repo
sed "s#\${CRM_DATABASE_URL}#postgresql:///$TEST_DB#" "$MIGDIR_SOURCE/migdir.ini" >migdir.ini
git init -q && git add -A && git commit -qm "the CRM history"
say "the sample: every pending migration round-trips"
run rehearse
run rehearse --jobs 2 20230705_index_tickets_by_status
say "a rollback that forgets the index its migration builds, and one"
say "that fails"
printf -- '-- Rollback: Index support tickets by status and creation time\n-- (forgets the index)\nSELECT 1;\n' >migrations/pending/20230705_rollback_index_tickets_by_status.sql
printf 'ALTER TABLE contacts DROP CONSTRAINT contacts_no_such_check;\n' >>migrations/pending/20230615_rollback_add_customer_satisfaction.sql
git commit -qam "two broken rollbacks"
run rehearse -j 2
say "-q: only what did not round-trip"
run -q rehearse
sh_ "\$MIGDIR_BIN --json rehearse 20230705_index_tickets_by_status | sed -E 's/\"ms\": [0-9]+/\"ms\": <ms>/'"
say "usage errors"
run rehearse --jobs 0
run rehearse 20230601_add_email_templates
run rehearse 20990101_nothing
say "nothing changed, and no scratch database is left"
sh_ "git status --porcelain"
sh_ "git log --format=%s"
sh_ "psql -X -A -t -c \"SELECT count(*) FROM pg_database WHERE datname LIKE 'migdir_scratch%'\" postgres"
sh_ "psql -X -A -t -c \"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'\" $TEST_DB"
