-- Migration: Add the pipeline_statuses lookup table
-- customers.pipeline_stage was free text and collected spelling variants.
-- The allowed stages now live in a lookup table (seeded below) and
-- customers.pipeline_stage references it. Adding the foreign key fails if a
-- customer carries a stage not in the list: fix the data first.
-- Rollback: 20230201_rollback_add_pipeline_statuses.sql

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

ALTER TABLE customers
  ADD CONSTRAINT customers_pipeline_stage_fkey FOREIGN KEY (pipeline_stage)
  REFERENCES pipeline_statuses (code) ON UPDATE CASCADE;

CREATE INDEX idx_customers_pipeline_stage ON customers (pipeline_stage);
