-- Migration: Add new table for tracking email templates
-- Reusable email templates for customer communication. Written in the older
-- self-recording style: the file inserts its own schema_versions row.
-- Rollback: 20230601_rollback_add_email_templates.sql
BEGIN;

-- Record this migration
INSERT INTO schema_versions (version, description)
VALUES ('20230601_add_email_templates', 'Add email templates table');

-- Create the templates table
CREATE TABLE email_templates (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

COMMIT;
