-- Migration: Add contact communication preferences
-- Preferences (preferred channel, language, opt-outs, quiet hours, ...) vary
-- by integration and change often, so they live in one JSONB column rather
-- than in dedicated columns (hybrid storage model). The CHECK keeps it a JSON
-- object so that key lookups always work. The constant default adds the
-- column without rewriting the table. The partial index serves campaign
-- sends, which exclude contacts who opted out of email.
-- Rollback: 20230712_rollback_add_contact_preferences.sql

ALTER TABLE contacts ADD COLUMN preferences JSONB NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE contacts ADD CONSTRAINT contacts_preferences_is_object
  CHECK (jsonb_typeof(preferences) = 'object');

CREATE INDEX idx_contacts_email_opt_out ON contacts (customer_id)
  WHERE preferences @> '{"email_opt_out": true}'::jsonb;
