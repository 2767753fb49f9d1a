# t0002-init: a new project, an existing one, a database
mkdir fresh && cd fresh && git init -q
run init
sh_ "find . -path ./.git -prune -o -type f -print | sort"
sh_ cat migdir.ini
say "init never overwrites"
echo "; mine" >>migdir.ini
run init
sh_ tail -1 migdir.ini
say "with a database: the bookkeeping tables"
run --database-url "postgresql:///$TEST_DB" init
run --database-url "postgresql:///$TEST_DB" init
sh_ "psql -X -At -c '\\d schema_versions' $TEST_DB | cut -d'|' -f1-2"
say "status of the new project"
run --database-url "postgresql:///$TEST_DB" status
run --database-url "postgresql:///$TEST_DB" --json status
