# t0070-risk: each migration's risk class in status, plan and apply
project p
printf 'CREATE TABLE accounts (id int PRIMARY KEY, email text);\n' >migrations/pending/20230101_accounts.sql
printf 'DROP TABLE accounts;\n' >migrations/pending/20230101_rollback_accounts.sql
git add -A && git commit -qm accounts
run apply
say "one pending file per class; orders is new for the pending files after it"
printf "SET lock_timeout = '2s';\nCREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts);\n" >migrations/pending/20230201_orders.sql
printf 'DROP TABLE orders;\n' >migrations/pending/20230201_rollback_orders.sql
printf 'CREATE INDEX orders_account ON orders (account_id);\n' >migrations/pending/20230202_orders_by_account.sql
printf 'DROP INDEX orders_account;\n' >migrations/pending/20230202_rollback_orders_by_account.sql
printf "SET lock_timeout = '2s';\nALTER TABLE accounts ALTER email SET NOT NULL;\n" >migrations/pending/20230203_email_required.sql
printf "SET lock_timeout = '2s';\nALTER TABLE accounts ALTER email DROP NOT NULL;\n" >migrations/pending/20230203_rollback_email_required.sql
printf "SET lock_timeout = '2s';\nCREATE INDEX accounts_email ON accounts (email);\n" >migrations/pending/20230204_accounts_by_email.sql
printf 'DROP INDEX CONCURRENTLY accounts_email;\n' >migrations/pending/20230204_rollback_accounts_by_email.sql
printf 'DELETE FROM accounts;\n' >migrations/pending/20230205_purge.sql
printf -- '-- nothing to undo\nSELECT 1;\n' >migrations/pending/20230205_rollback_purge.sql
say "a file that can never run has no class"
printf 'COPY accounts FROM STDIN;\n1\tx\n\\.\n' >migrations/pending/20230206_load.sql
git add -A && git commit -qm pending
run status
run --json status
git rm -q migrations/pending/20230206_load.sql && git commit -qm "no load"
say "plan: the class of each migration and of its rollback"
run plan
run --json plan --step 2
run plan --rollback
say "apply: the class of each file as it runs"
run apply --to 20230204_accounts_by_email
run --json apply
say "a row without a file has no class"
git rm -q migrations/applied/20230202_*.sql && git commit -qm "lose a file"
run status
