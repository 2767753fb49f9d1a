-- Rollback: Create the customers table
-- Undoes 20230103_create_customers.sql in reverse order: the trigger, the
-- set_updated_at() function, then the table (and all customer data with it).

DROP TRIGGER IF EXISTS customers_set_updated_at ON customers;

DROP FUNCTION IF EXISTS set_updated_at();

DROP TABLE IF EXISTS customers;
