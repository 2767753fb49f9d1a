# t0020-errors: bad input gets one clear line and changes nothing
mkdir empty && cd empty
run status
run -c nowhere.ini status
cd .. && project p
say "a malformed migdir.ini"
printf '[migdir]\ntracked = production\ntrackd = x\n[env production]\n' >migdir.ini
run status
printf '[migdir]\n[env a]\n[env b]\n' >migdir.ini
run status
printf '[migdir]\ngit = sometimes\n' >migdir.ini
run status
printf '[env production]\nlock_timeout = soon\n' >migdir.ini
run status
printf '[migdir]\ntracked = production\n[env production]\nurl = ${NO_SUCH_VAR}\n' >migdir.ini
run status
git checkout -q migdir.ini
say "an unknown environment"
run -e qa status
say "the migrations directory is missing"
mv migrations elsewhere
run status
mv elsewhere migrations
say "an unreachable server, and a password that is never shown"
run --database-url "postgresql://app:hunter2@127.0.0.1:1/crm?connect_timeout=2" status
say "a password in a migdir.ini that others can read is a warning"
printf '[migdir]\ntracked = production\n[env production]\nurl = postgresql://app:hunter2@127.0.0.1:1/crm?connect_timeout=2\n' >migdir.ini
chmod 644 migdir.ini
run status
git checkout -q migdir.ini
say "a migration that cannot be read"
mkdir migrations/pending/20230102_dir.sql
touch migrations/pending/20230102_rollback_dir.sql
run status
run apply
rm -r migrations/pending/20230102_dir.sql migrations/pending/20230102_rollback_dir.sql
say "git in the way"
printf 'CREATE TABLE t1 ();\n' >migrations/pending/20230101_t1.sql
printf 'DROP TABLE t1;\n' >migrations/pending/20230101_rollback_t1.sql
git add -A && git commit -qm t1
git checkout -q --detach
run apply
git checkout -q main
git checkout -q -b other && echo a >file && git add file && git commit -qm a
git checkout -q main && echo b >file && git add file && git commit -qm b
git merge -q other >/dev/null 2>&1
run apply
git merge --abort
touch .git/index.lock
run apply
rm .git/index.lock
sh_ "psql -X -At -c \"SELECT count(*) FROM pg_tables WHERE tablename = 't1'\" $TEST_DB"
say "git refused before the database was touched: no bookkeeping table"
sh_ "psql -X -At -c \"SELECT to_regclass('schema_versions') IS NULL\" $TEST_DB"
say "outside a repository"
rm -rf .git
run apply
say "a long option that needs a value is named as typed"
run rehearse --jobs
run rehearse -j
