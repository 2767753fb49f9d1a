-- Rollback: Index support tickets by status and creation time
-- Undoes 20230705_index_tickets_by_status.sql. Dropped CONCURRENTLY so that
-- writes to support_tickets are not blocked; like the build, this cannot run
-- inside a transaction block. Also removes an INVALID index left behind by a
-- failed build.

DROP INDEX CONCURRENTLY IF EXISTS idx_support_tickets_status_created;
