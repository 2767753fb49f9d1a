# t0090-baseline: adopt a copy of the sample that a DBA migrated by hand
mkdir repo && cp -r "$MIGDIR_SOURCE/migrations" "$MIGDIR_SOURCE/consolidated_schema.sql" repo/
cd repo
sed "s#\${CRM_DATABASE_URL}#postgresql:///$TEST_DB#" "$MIGDIR_SOURCE/migdir.ini" >migdir.ini
git init -q && git add -A && git commit -qm "the CRM history"
run baseline --help
run baseline --no-such-option
run baseline --to
run baseline 20230601_add_email_templates
say "an empty database has nothing to adopt"
run baseline
say "by hand with psql: the consolidated schema, applied/ and one pending file"
sh_ 'for f in consolidated_schema.sql $(ls migrations/applied/*.sql | grep -v _rollback_) migrations/pending/20230615_add_customer_satisfaction.sql; do psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_DB" -f "$f" || echo "FAILED: $f"; done'
sh_ 'psql -X -q -d "$TEST_DB" -c "DROP TABLE schema_versions"'
run baseline --to 20230110_create_contacts
run baseline --to 20230512_add_ringcentral_tokens
run baseline --to 20230999_nope
run baseline --to 20230101_nope
say "archive/ and applied/ are not what the database has: the diff says why"
run baseline
run baseline --dry-run --to 20230615_add_customer_satisfaction
run --json baseline --dry-run --to 20230615_add_customer_satisfaction
run baseline --to 20230615_add_customer_satisfaction
sh_ "git log -1 --format=%B | sed 's/ by [^ ]*@[^ ,]*,/ by <who>,/'"
sh_ "git status --porcelain"
sh_ "psql -X -At -d \"\$TEST_DB\" -c \"SELECT version, action FROM schema_versions_history ORDER BY version\""
run baseline
say "apply runs only the rest"
run apply
say "a table made by hand on another environment: refused, then recorded with --force"
sh_ 'psql -X -q -c "CREATE DATABASE \"${TEST_DB}_staging\"" postgres'
export CRM_STAGING_URL=postgresql:///${TEST_DB}_staging
sh_ 'psql -X -q -v ON_ERROR_STOP=1 -d "${TEST_DB}_staging" -f consolidated_schema.sql -c "DROP TABLE schema_versions" -c "CREATE TABLE notes (id int)"'
run -e staging baseline --to 20230201_add_pipeline_statuses
run -e staging baseline --to 20230201_add_pipeline_statuses --force
sh_ 'psql -X -q -c "DROP DATABASE \"${TEST_DB}_staging\"" postgres'
