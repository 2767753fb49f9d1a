-- Rollback: Add the pipeline_statuses lookup table
-- Undoes 20230201_add_pipeline_statuses.sql in reverse order: the index, the
-- foreign key, then the lookup table with its seed rows. customers keeps its
-- pipeline_stage values as plain text.

DROP INDEX IF EXISTS idx_customers_pipeline_stage;

ALTER TABLE customers DROP CONSTRAINT IF EXISTS customers_pipeline_stage_fkey;

DROP TABLE IF EXISTS pipeline_statuses;
