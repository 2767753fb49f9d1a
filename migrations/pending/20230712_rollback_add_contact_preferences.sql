-- Rollback: Add contact communication preferences
-- Undoes 20230712_add_contact_preferences.sql in reverse order: the partial
-- index, the CHECK constraint, then the column. Stored preferences are lost.

DROP INDEX IF EXISTS idx_contacts_email_opt_out;

ALTER TABLE contacts DROP CONSTRAINT IF EXISTS contacts_preferences_is_object;

ALTER TABLE contacts DROP COLUMN IF EXISTS preferences;
