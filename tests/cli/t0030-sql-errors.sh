# t0030-sql-errors: where the server said no, with a caret
project p
printf -- '-- two good statements, then a typo\nCREATE TABLE customers (id int PRIMARY KEY, email text);\nINSERT INTO customers VALUES (1, %s);\nUPDATE customers SET emial = lower(email);\n' "'a@b'" >migrations/pending/20230101_customers.sql
printf 'DROP TABLE customers;\n' >migrations/pending/20230101_rollback_customers.sql
printf 'BEGIN;\nCREATE TABLE t (;\nCOMMIT;\n' >migrations/pending/20230102_syntax.sql
printf 'DROP TABLE t;\n' >migrations/pending/20230102_rollback_syntax.sql
git add -A && git commit -qm two
say "a syntax error stops the run before anything runs"
run apply
sh_ "psql -X -At -c \"SELECT to_regclass('customers')\" $TEST_DB"
git rm -q migrations/pending/20230102_*.sql && git commit -qm "drop syntax"
say "a server error: nothing of the file is applied, the failure is recorded"
run apply
sh_ "psql -X -At -c \"SELECT version, action, success, sqlstate, location FROM schema_versions_history\" $TEST_DB"
sh_ "ls migrations/pending"
say "status remembers the failed attempt"
run status
run --json status
say "a file without a transaction that stops midway says what stays done"
printf 'CREATE TABLE customers (id int);\nCREATE INDEX CONCURRENTLY c1 ON customers (id);\nCREATE INDEX CONCURRENTLY c2 ON customers (nope);\n' >migrations/pending/20230101_customers.sql
run apply
run status
say "a block the file opens itself and that fails is not counted as done"
cp migrations/pending/20230101_customers.sql customers.keep
printf 'CREATE TABLE t1 (id int);\nCREATE INDEX CONCURRENTLY t1i ON t1 (id);\nBEGIN;\nCREATE TABLE t2 (id int);\nINSERT INTO t2 VALUES (1/0);\nCOMMIT;\n' >migrations/pending/20230101_customers.sql
run apply
sh_ "psql -X -At -c \"SELECT to_regclass('t1') IS NOT NULL, to_regclass('t2') IS NOT NULL\" $TEST_DB"
mv customers.keep migrations/pending/20230101_customers.sql
say "transaction shapes migdir cannot honour"
printf 'BEGIN;\nCREATE TABLE x ();\n' >migrations/pending/20230103_open.sql
run plan
rm migrations/pending/20230103_open.sql
printf 'CREATE TABLE y ();\nROLLBACK;\n' >migrations/pending/20230103_abort.sql
run plan
rm migrations/pending/20230103_abort.sql
printf 'CREATE INDEX CONCURRENTLY i ON customers (email);\nLOCK TABLE customers;\n' >migrations/pending/20230103_mixed.sql
run plan
rm migrations/pending/20230103_mixed.sql
printf 'COPY customers FROM stdin;\n1\ta@b\n\\.\n' >migrations/pending/20230103_copy.sql
run plan
say "a deferred check that fails at COMMIT is the migration's failure, not migdir's"
rm migrations/pending/20230103_copy.sql migrations/pending/20230101_*.sql
printf 'CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO child VALUES (1);\n' >migrations/pending/20230104_deferred.sql
run apply
sh_ "psql -X -At -c \"SELECT version, success, sqlstate, location FROM schema_versions_history ORDER BY id DESC LIMIT 1\" $TEST_DB"
sh_ "psql -X -At -c \"SELECT to_regclass('parent')\" $TEST_DB"
