-- Consolidated schema of the CRM database
-- The baseline a new environment starts from: the schema as it stands after
-- every migration in migrations/archive/ (20230103_create_customers,
-- 20230110_create_contacts, 20230201_add_pipeline_statuses), including the
-- seed rows of pipeline_statuses, followed by the schema_versions table with
-- the archived versions recorded. The migrations in migrations/applied/ and
-- migrations/pending/ then run on top of it, in version order.
-- Load it into an EMPTY database only (psql -f, or as one multi-statement
-- query); an existing database is changed through migrations, never by this
-- file.

-- Generic trigger function keeping updated_at current
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := NOW();
  RETURN NEW;
END;
$$;

-- Sales pipeline stages (lookup table)
CREATE TABLE pipeline_statuses (
  code TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  position INTEGER NOT NULL,
  is_closed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT pipeline_statuses_position_key UNIQUE (position)
);

INSERT INTO pipeline_statuses (code, label, position, is_closed) VALUES
  ('lead',        'Lead',        10, FALSE),
  ('qualified',   'Qualified',   20, FALSE),
  ('proposal',    'Proposal',    30, FALSE),
  ('negotiation', 'Negotiation', 40, FALSE),
  ('won',         'Closed won',  50, TRUE),
  ('lost',        'Closed lost', 60, TRUE);

-- Customers: core columns plus a JSONB metadata column (hybrid storage model)
CREATE TABLE customers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT,
  pipeline_stage TEXT,
  metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT customers_email_key UNIQUE (email),
  CONSTRAINT customers_pipeline_stage_fkey FOREIGN KEY (pipeline_stage)
    REFERENCES pipeline_statuses (code) ON UPDATE CASCADE
);

CREATE INDEX idx_customers_pipeline_stage ON customers (pipeline_stage);

CREATE TRIGGER customers_set_updated_at
BEFORE UPDATE ON customers
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Contacts: people at a customer, deleted with it
CREATE TABLE contacts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id UUID NOT NULL,
  first_name TEXT NOT NULL,
  last_name TEXT,
  email TEXT,
  phone TEXT,
  job_title TEXT,
  is_primary BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT contacts_customer_id_fkey FOREIGN KEY (customer_id)
    REFERENCES customers (id) ON DELETE CASCADE
);

CREATE INDEX idx_contacts_customer_id ON contacts (customer_id);

CREATE TRIGGER contacts_set_updated_at
BEFORE UPDATE ON contacts
FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Migration bookkeeping
CREATE TABLE IF NOT EXISTS schema_versions (
  id SERIAL PRIMARY KEY,
  version TEXT NOT NULL UNIQUE,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  description TEXT,
  is_active BOOLEAN DEFAULT TRUE,
  rolled_back_at TIMESTAMP WITH TIME ZONE
);

INSERT INTO schema_versions (version, description) VALUES ('20230103_create_customers', 'Create the customers table') ON CONFLICT (version) DO NOTHING;
INSERT INTO schema_versions (version, description) VALUES ('20230110_create_contacts', 'Create the contacts table') ON CONFLICT (version) DO NOTHING;
INSERT INTO schema_versions (version, description) VALUES ('20230201_add_pipeline_statuses', 'Add the pipeline_statuses lookup table') ON CONFLICT (version) DO NOTHING;
