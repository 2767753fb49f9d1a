-- Rollback: Create the contacts table
-- Undoes 20230110_create_contacts.sql in reverse order: trigger, index, table.

DROP TRIGGER IF EXISTS contacts_set_updated_at ON contacts;

DROP INDEX IF EXISTS idx_contacts_customer_id;

DROP TABLE IF EXISTS contacts;
