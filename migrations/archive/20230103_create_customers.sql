-- Migration: Create the customers table
-- Customers are the core CRM entity. Core, frequently queried fields are
-- dedicated columns; anything variable goes in the metadata JSONB column
-- (hybrid storage model). set_updated_at() is a generic trigger function
-- that later tables reuse to keep updated_at current.
-- Rollback: 20230103_rollback_create_customers.sql

CREATE TABLE customers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT,
  pipeline_stage TEXT,
  metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := NOW();
  RETURN NEW;
END;
$$;

CREATE TRIGGER customers_set_updated_at
BEFORE UPDATE ON customers
FOR EACH ROW EXECUTE FUNCTION set_updated_at();
