# t0075-consolidate: fold applied/ into consolidated_schema.sql; new databases start from it
mkdir repo && cp -r "$MIGDIR_SOURCE/migrations" "$MIGDIR_SOURCE/consolidated_schema.sql" repo/
cd repo
sed "s#\${CRM_DATABASE_URL}#postgresql:///$TEST_DB#" "$MIGDIR_SOURCE/migdir.ini" >migdir.ini
git init -q && git add -A && git commit -qm "the CRM history"
say "an empty tracked database: apply loads the consolidated schema, then applied/ (nothing moves)"
run status
run plan --to 20230601_add_email_templates
run apply --to 20230601_add_email_templates
run status
say "consolidate proves its file on scratch databases before it changes anything"
run consolidate --dry-run
sh_ "git status --porcelain"
run consolidate --tag release-1
sh_ "git log -1 --format=%B"
sh_ "git show --stat --format= HEAD | tail -1"
sh_ "git tag -n1"
sh_ "sed -n '1,6p' consolidated_schema.sql"
sh_ "grep -c 'restrict\|Dumped' consolidated_schema.sql"
sh_ "tail -n 17 consolidated_schema.sql"
say "twice in a row: the second has nothing to do"
run consolidate
run --json consolidate
run status
say "a new environment starts from the new file, then runs the rest"
psql -X -q -c "CREATE DATABASE \"${TEST_DB}_new\""
export CRM_STAGING_URL="postgresql:///${TEST_DB}_new"
run -e staging apply
run -e staging status
say "refusals"
run -e staging consolidate
run consolidate --tag release-1 extra
sh_ "git status --porcelain"
psql -X -q -c "DROP DATABASE \"${TEST_DB}_new\""
