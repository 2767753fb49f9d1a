-- Rollback: Add new table for tracking email templates
-- Undoes 20230601_add_email_templates.sql. Self-recording style: marks its
-- own schema_versions row as rolled back, then drops the table.
BEGIN;

-- Mark migration as rolled back
UPDATE schema_versions
SET is_active = FALSE, rolled_back_at = NOW()
WHERE version = '20230601_add_email_templates';

-- Drop the templates table
DROP TABLE IF EXISTS email_templates;

COMMIT;
