-- Migration: Add customer satisfaction tracking
-- After a ticket is resolved the customer rates it 1-5 (satisfaction_score,
-- a dedicated column for reporting; NULL = not rated yet) and may fill in a
-- survey whose questions change over time (satisfaction_survey, JSONB).
-- Both columns are nullable without a default, so adding them rewrites no rows.
-- Rollback: 20230615_rollback_add_customer_satisfaction.sql
BEGIN;

-- Add satisfaction_score column to support_tickets
ALTER TABLE support_tickets ADD COLUMN satisfaction_score INTEGER
  CONSTRAINT support_tickets_satisfaction_score_check
  CHECK (satisfaction_score IS NULL OR satisfaction_score BETWEEN 1 AND 5);

-- Add satisfaction_survey JSONB field for detailed feedback
ALTER TABLE support_tickets ADD COLUMN satisfaction_survey JSONB;

-- Create index for querying by satisfaction score
CREATE INDEX idx_support_tickets_satisfaction_score
ON support_tickets(satisfaction_score);

COMMIT;
