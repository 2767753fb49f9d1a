# t0100-hostile: hostile and broken input gets one clear line, and
# nothing runs, moves or is committed
project p
printf 'CREATE TABLE t1 ();\n' >migrations/pending/20230101_t1.sql
printf 'DROP TABLE t1;\n' >migrations/pending/20230101_rollback_t1.sql
git add -A && git commit -qm t1
say "a symbolic link to a file outside the folders"
ln -s /etc/passwd migrations/pending/20230102_x.sql
run apply
run check
rm migrations/pending/20230102_x.sql
say "a folder that is a symbolic link"
mv migrations/applied ../elsewhere && ln -s ../elsewhere migrations/applied
run status
rm migrations/applied && mv ../elsewhere migrations/applied
say "names with control characters and bytes that are not UTF-8 are escaped"
touch "migrations/pending/20230103_a$(printf '\033')[2J$(printf '\377').sql"
run apply
rm migrations/pending/20230103_*
say "new with a path, nothing, or no letter"
run new ../../x
run new " - "
say "a NUL byte, and a Latin-1 file"
printf 'SELECT 1;\nSELECT\0 2;\n' >migrations/pending/20230105_nul.sql
run plan
rm migrations/pending/20230105_nul.sql
printf -- '-- Latin-1\nCOMMENT ON TABLE t1 IS '"'"'caf\351'"'"';\n' >migrations/pending/20230105_latin1.sql
run apply
rm migrations/pending/20230105_latin1.sql
sh_ "psql -X -At -c \"SELECT to_regclass('t1') IS NULL, to_regclass('schema_versions') IS NULL\" $TEST_DB"
say "schema_versions altered by hand"
run apply
sh_ "psql -X -q -c 'ALTER TABLE schema_versions ALTER version DROP NOT NULL; INSERT INTO schema_versions (version) VALUES (NULL)' $TEST_DB"
run status
sh_ "psql -X -q -c 'DELETE FROM schema_versions WHERE version IS NULL; ALTER TABLE schema_versions DROP CONSTRAINT schema_versions_version_key; INSERT INTO schema_versions (version) VALUES ('\''20230101_t1'\'')' $TEST_DB"
run --yes rollback
sh_ "psql -X -q -c 'DELETE FROM schema_versions WHERE applied_by IS NULL; ALTER TABLE schema_versions ALTER is_active TYPE text' $TEST_DB"
run plan
sh_ "git status --porcelain"
