# t0001-help: usage, help, version and bad options of every command
say "no command"
run
say "help and version"
run help
run version
run --json version
sh_ "\"\$MIGDIR_BIN\" -v version | sed -E 's/[0-9]+\\.[0-9]+(\\.[0-9]+)?/<v>/g'"
sh_ "\"\$MIGDIR_BIN\" -v --json version | sed -E 's/\\b[0-9]+(\\.[0-9]+)*\\b/<v>/g'"
for cmd in init new status plan apply rollback repair check version help; do
	say "$cmd: --help, and an option it does not have"
	run "$cmd" --help
	run "$cmd" --no-such-option
done
say "rehearse: --help, and an option it does not have"
run rehearse --help
run rehearse --no-such-option
run help apply
run help nope
run nope
run -x status
run status extra-argument
run apply --step two
run apply --to
run apply --step 1 --to 20230101_x
run apply --to not_a_version
run rollback --all --step 2
run apply --all
run plan --dry-run
run rollback --out-of-order
run apply --force
run plan --rollback --force
run apply --backup x.dump
run rollback --backup
run rollback --backup ''
run rollback --dry-run --backup x.dump
