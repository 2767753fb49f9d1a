# t0010-sample: the sample CRM history, walked as a DBA would
mkdir repo && cp -r "$MIGDIR_SOURCE/migrations" "$MIGDIR_SOURCE/consolidated_schema.sql" repo/
cd repo
sed "s#\${CRM_DATABASE_URL}#postgresql:///$TEST_DB#" "$MIGDIR_SOURCE/migdir.ini" >migdir.ini
git init -q && git add -A && git commit -qm "the CRM history"
export CRM_STAGING_URL=postgresql:///$TEST_DB
say "production already has archive/ and applied/: an empty staging database"
say "loads consolidated_schema.sql, then what is not archived, and moves nothing"
run -e staging apply --to 20230601_add_email_templates
run status
run plan
run apply
run status --exit-code
sh_ "git log --format='%s' | head -3"
sh_ "git log -1 --format=%B | sed -n '/^Migdir-/p'"
sh_ "git show --stat --format= HEAD | tail -1"
say "the newest rollback file drops a column: refused without --force"
run rollback --step 2
run rollback --step 2 --force
run status
run plan --rollback --all
run apply --dry-run
run apply
run status --exit-code
sh_ "git status --porcelain"
