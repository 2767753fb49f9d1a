# t0060-check: migdir check without a database: names, pairs, order,
# parse errors, transaction shape, risk rules and classes, allows, the
# three output formats, --fail-on, paths, and files changed after apply
mkdir -p c/pending c/applied c/archive && cd c || exit 1
w() { printf '%b' "$2" >"$1"; }
w applied/20230101_users.sql 'CREATE TABLE users (id bigint PRIMARY KEY, email text);\n'
w applied/20230101_rollback_users.sql 'DROP TABLE users;\n'
say "a clean pending migration on a table an earlier pending one creates"
w pending/20230201_orders.sql 'SET lock_timeout = '"'"'5s'"'"';\nCREATE TABLE orders (id bigint, user_id bigint);\n'
w pending/20230201_rollback_orders.sql 'DROP TABLE orders; -- migdir:allow drop-table, lock-timeout\n'
w pending/20230202_orders_index.sql 'CREATE INDEX orders_user ON orders (user_id);\n'
w pending/20230202_rollback_orders_index.sql 'DROP INDEX CONCURRENTLY orders_user;\n'
run check .
run check --fail-on=warning .
say "risk rules on existing tables, allows, and their classes"
w pending/20230301_risky.sql 'SET lock_timeout = '"'"'2s'"'"';\n-- migdir:allow set-not-null\nALTER TABLE users ALTER email SET NOT NULL;\nALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES orders (id);\nCREATE INDEX users_email ON users (email);\nDELETE FROM users; -- migdir:allow no-such-rule\n'
w pending/20230301_rollback_risky.sql 'DROP INDEX users_email;\nALTER TABLE users DROP CONSTRAINT fk;\n'
run check .
run check --format=gcc .
run check --fail-on=may-fail .
run check --fail-on=destructive .
run check -q --fail-on=blocking .
say "problems with names, pairs, order, SQL and transactions"
w pending/20230101_late.sql 'SELECT 1;\n'
w pending/2023_bad_name.sql 'SELECT 1;\n'
w applied/20230202_orders_index.sql 'CREATE INDEX orders_user ON orders (user_id);\n'
w pending/20230401_rollback_orphan.sql 'SELECT 1;\n'
w pending/20230402_syntax.sql 'CREATE TABLE t (a int;\n'
w pending/20230402_rollback_syntax.sql 'DROP TABLE t;\n'
w pending/20230403_newer.sql 'ALTER TABLE t ADD COLUMN b int GENERATED ALWAYS AS (a * 2) VIRTUAL;\n'
w pending/20230403_rollback_newer.sql 'ALTER TABLE t DROP COLUMN b;\n'
w pending/20230404_tx.sql 'BEGIN;\nCREATE TABLE u (a int);\n'
w pending/20230404_rollback_tx.sql 'DROP TABLE u;\n'
w pending/20230405_enum.sql "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nSELECT 'meh'::mood;\nCOMMIT;\n"
w pending/20230405_rollback_enum.sql 'SELECT 1;\n'
w pending/20230406_cic.sql 'CREATE TABLE v (a int);\nCREATE INDEX CONCURRENTLY v_a ON users (email);\n'
run check .
say "a file that cannot be read, a pair split across folders"
sh_ "mkdir pending/20230407_dir.sql && mv pending/20230402_rollback_syntax.sql applied/"
sh_ "touch pending/20230408_backup.sql.bak pending/20230408_notes.txt pending/README.md"
run check --format=gcc .
say "--json: every file with its class and findings"
run check --json pending/20230405_enum.sql pending/20230406_cic.sql
say "a file named alone is checked in its directory, and reported alone"
run check pending/20230202_orders_index.sql
say "a trailing slash, explicit formats, COPY FROM STDIN, strays in order"
w pending/20230409_copy.sql 'COPY users FROM STDIN;\n1\tx@example.com\n\\.\n'
sh_ "touch pending/zz_stray.sql pending/a_stray.sql"
run check --format=human -q ./pending/../
run check --format=json pending/20230409_copy.sql
sh_ "rm pending/20230409_copy.sql pending/zz_stray.sql pending/a_stray.sql"
say "usage and path errors"
run check pending/README.md
run check ../c/../c/applied
w notes.sql 'SELECT 1;\n'
run check notes.sql
mkdir -p other && w other/20230101_x.sql 'SELECT 1;\n'
run check other/20230101_x.sql
run -e staging check .
run check --format=xml .
run check --fail-on=safe .
run check pending
run check nowhere
run check ../c/pending/nothing.sql
cd .. || exit 1
run check
say "a file changed after the commit that applied it"
project g
w migrations/pending/20230101_a.sql 'CREATE TABLE a (x int);\n'
w migrations/pending/20230101_rollback_a.sql 'DROP TABLE a;\n'
sh_ "git add -A && git commit -qm 'add a' && git mv migrations/pending/20230101_a.sql migrations/pending/20230101_rollback_a.sql migrations/applied/ && git commit -qm 'apply a'"
run check
sh_ "printf 'CREATE TABLE a (x bigint);\n' >migrations/applied/20230101_a.sql && git commit -qam 'edit a'"
run check
say "merging a branch that forked before the apply hides nothing"
sh_ "git checkout -q -b feature HEAD~2 && echo notes >NOTES && git add NOTES && git commit -qm notes && git checkout -q main && git merge -q --no-ff -m merge feature && git log --format=%s --first-parent | head -3"
run check --format=gcc
sh_ "git mv migrations/applied/20230101_a.sql migrations/applied/20230101_rollback_a.sql migrations/archive/ && git commit -qm consolidate"
run check --format=gcc
