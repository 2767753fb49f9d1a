-- Migration: Create the support_tickets table
-- Support tickets raised by (or for) a customer. status and priority are
-- dedicated columns with CHECK constraints because every ticket list filters
-- on them; per-team extra fields go in custom_fields (hybrid storage model).
-- Tickets are deleted with their customer.
-- Rollback: 20230315_rollback_create_support_tickets.sql
BEGIN;

CREATE TABLE support_tickets (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id UUID NOT NULL,
  subject TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL DEFAULT 'open',
  priority TEXT NOT NULL DEFAULT 'normal',
  custom_fields JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  resolved_at TIMESTAMP WITH TIME ZONE,
  CONSTRAINT support_tickets_customer_id_fkey FOREIGN KEY (customer_id)
    REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT support_tickets_status_check
    CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
  CONSTRAINT support_tickets_priority_check
    CHECK (priority IN ('low', 'normal', 'high', 'urgent'))
);

CREATE INDEX idx_support_tickets_customer_id ON support_tickets (customer_id);

CREATE TRIGGER support_tickets_set_updated_at
BEFORE UPDATE ON support_tickets
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMIT;
