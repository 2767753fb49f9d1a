# t0003-new: a migration pair from a template; names are checked
project p
run new add_email_templates
sh_ "ls migrations/pending"
sh_ "cat migrations/pending/*_add_email_templates.sql"
sh_ "cat migrations/pending/*_rollback_add_email_templates.sql"
run new "Add Customer-Satisfaction"
run new add_email_templates
run new "drop'; table"
run new "café"
run new rollback_things
run new
run new a b
run --json new --timestamp later_today
sh_ "ls migrations/pending | sed -E 's/^[0-9]{14}_/<stamp>_/'"
