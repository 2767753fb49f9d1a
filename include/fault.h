/*
 * fault.h - fault points for crash tests (sqlite style).
 *
 * The test build (migdir-faults, built from the same sources with
 * MIGDIR_FAULTS=1) exits with status 99 at the named point when the
 * environment says MIGDIR_FAULT=NAME (or NAME:N for the Nth time the
 * point is reached); with a "+sigint" suffix it raises SIGINT there
 * instead, a Ctrl-C at that instant; with "+stop" it stops (SIGSTOP)
 * until sent SIGCONT.  In migdir itself fault_point does nothing.
 *
 * Every point is listed here, once.  tests/faults.tbl holds a row per
 * point and command that reaches it, and test_faults kills migdir-faults
 * at each row; scripts/check-faults.sh fails the build of migdir-faults
 * when a point below has no row there.
 */
#ifndef MIGDIR_FAULT_H
#define MIGDIR_FAULT_H

#define FAULT_POINTS(X)                                                        \
	/* a migration's transaction committed; its files not moved */         \
	X(apply_after_commit)                                                  \
	X(rollback_after_commit)                                               \
	/* the forward file moved, its rollback file not yet */                \
	X(apply_between_renames)                                               \
	X(rollback_between_renames)                                            \
	X(repair_between_renames)                                              \
	X(baseline_between_renames)                                            \
	/* every file of the run moved and the folders synced; git not told */ \
	X(apply_after_renames)                                                 \
	X(rollback_after_renames)                                              \
	X(repair_after_renames)                                                \
	X(baseline_after_renames)                                              \
	/* before each statement of a file run without a transaction */        \
	X(before_statement)                                                    \
	/* the git objects and refs of a commit, in the order written */       \
	X(git_after_blob_write)                                                \
	X(git_after_index_write)                                               \
	X(git_after_tree_write)                                                \
	X(git_after_commit_object)                                             \
	X(git_after_ref_update)                                                \
	/* a file replaced: the new text written beside it, not renamed */     \
	X(file_after_temp_write)                                               \
	/* consolidate: the file replaced; each pair moved to archive/ */      \
	X(consolidate_after_write)                                             \
	X(consolidate_between_moves)                                           \
	/* consolidate --tag: committed, the tag not yet written */            \
	X(consolidate_before_tag)                                              \
	/* baseline: the versions recorded; no file moved */                   \
	X(baseline_after_commit)

#define FAULT_ENUM(name) FAULT_##name,
enum fault { FAULT_POINTS(FAULT_ENUM) FAULT_N };
#undef FAULT_ENUM

void fault_point(enum fault f);

#endif
