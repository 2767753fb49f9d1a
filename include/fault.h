/*
 * fault.h - fault points for crash tests (sqlite style).
 *
 * The test build (migdir-faults, built from the same sources with
 * MIGDIR_FAULTS=1) exits with status 99 at the named point when the
 * environment says MIGDIR_FAULT=NAME (or NAME:N for the Nth time the
 * point is reached); with a "+sigint" suffix it raises SIGINT there
 * instead, a Ctrl-C at that instant.  In migdir itself fault_point does
 * nothing.
 *
 * Points: apply_after_commit, apply_between_renames, apply_after_renames,
 * rollback_after_commit, rollback_between_renames, rollback_after_renames,
 * after_index_write, before_statement (each statement of a file run
 * without a transaction), baseline_after_commit.
 */
#ifndef MIGDIR_FAULT_H
#define MIGDIR_FAULT_H

void fault_point(const char *name);

#endif
