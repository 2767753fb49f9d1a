-- Rollback: Create the support_tickets table
-- Undoes 20230315_create_support_tickets.sql in reverse order: trigger,
-- index, then the table (all tickets are lost).
BEGIN;

DROP TRIGGER IF EXISTS support_tickets_set_updated_at ON support_tickets;

DROP INDEX IF EXISTS idx_support_tickets_customer_id;

DROP TABLE IF EXISTS support_tickets;

COMMIT;
