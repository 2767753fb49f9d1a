-- Rollback: Add customer satisfaction tracking
-- Undoes 20230615_add_customer_satisfaction.sql in reverse order: the index,
-- the survey column, then the score column (its CHECK goes with it).
-- Collected scores and surveys are lost.
BEGIN;

DROP INDEX IF EXISTS idx_support_tickets_satisfaction_score;

ALTER TABLE support_tickets DROP COLUMN IF EXISTS satisfaction_survey;

ALTER TABLE support_tickets DROP COLUMN IF EXISTS satisfaction_score;

COMMIT;
