# t0050-git-modes: git = stage records moves in the index only; git = off
# leaves git alone (and needs no repository)
project p
printf 'CREATE TABLE t1 ();\n' >migrations/pending/20230101_t1.sql
printf 'DROP TABLE t1;\n' >migrations/pending/20230101_rollback_t1.sql
git add -A && git commit -qm t1
sed -i 's/^tracked = production$/tracked = production\ngit = stage/' migdir.ini
git commit -qam "stage mode"
run apply
sh_ "git status --porcelain"
run status --exit-code
run repair
sh_ "git log --format=%s | head -1"
say "the DBA commits the staged moves with a message of their own"
sh_ "git commit -qm 'apply t1 (reviewed)' && git status --porcelain"
say "git = off: no repository needed"
cd .. && mkdir plain && cd plain
printf '[migdir]\ntracked = production\ngit = off\n[env production]\nurl = postgresql:///%s\n' "$TEST_DB" >migdir.ini
mkdir -p migrations/pending migrations/applied migrations/archive
printf 'CREATE TABLE t2 ();\n' >migrations/pending/20230102_t2.sql
printf 'DROP TABLE t2;\n' >migrations/pending/20230102_rollback_t2.sql
cp ../p/migrations/applied/*.sql migrations/applied/
run apply
run status --exit-code
sh_ "ls migrations/applied"
