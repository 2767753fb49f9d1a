-- Migration: Index support tickets by status and creation time
-- Serves the agents' queue ("open tickets, oldest first"), which now scans
-- the whole table. support_tickets is large and written to all day, and a
-- plain CREATE INDEX would block every write to it until the build is done,
-- so the index is built CONCURRENTLY. That cannot run inside a transaction
-- block, so this file holds this single statement and no transaction wrapper;
-- migdir runs it outside a transaction.
-- If a concurrent build fails it leaves an INVALID index behind, which
-- IF NOT EXISTS would then silently keep: run the rollback before retrying.
-- Rollback: 20230705_rollback_index_tickets_by_status.sql

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_support_tickets_status_created ON support_tickets (status, created_at);
