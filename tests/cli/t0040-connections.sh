# t0040-connections: which database, and rollback's question on a terminal
project p
printf 'CREATE TABLE t1 ();\n' >migrations/pending/20230101_t1.sql
printf 'DROP TABLE t1;\n' >migrations/pending/20230101_rollback_t1.sql
git add -A && git commit -qm t1
psql -X -q -c "CREATE DATABASE \"${TEST_DB}_other\"" postgres
say "migdir.ini names the database: a DATABASE_URL left in the shell is ignored"
DATABASE_URL=postgresql:///${TEST_DB}_other run status
say "--database-url is explicit and wins"
run --database-url "postgresql:///${TEST_DB}_other" status
say "an environment that names no database takes DATABASE_URL"
printf '[migdir]\ntracked = production\n[env production]\n' >migdir.ini
DATABASE_URL=postgresql:///${TEST_DB}_other run -v status
git checkout -q migdir.ini
run apply
say "on a terminal, a rollback that drops a table is refused before any question"
sh_ "script -qec '$MIGDIR_BIN rollback' /dev/null </dev/null | tr -d '\r'"
say "with --force, rollback shows the plan and asks before taking any lock"
sh_ "printf 'n\n' | script -qec '$MIGDIR_BIN rollback --force' /dev/null | tr -d '\r'"
sh_ "ls migrations/applied"
sh_ "printf 'y\n' | script -qec '$MIGDIR_BIN rollback --force' /dev/null | tr -d '\r'"
sh_ "ls migrations/pending"
say "nothing left: no question"
sh_ "script -qec '$MIGDIR_BIN rollback' /dev/null </dev/null | tr -d '\r'"
say "--json: one document, even when the run fails"
printf 'SELECT nope;\n' >migrations/pending/20230102_bad.sql
run --json apply
