-- Migration: Add ringcentral_tokens for the RingCentral integration
-- Stores each CRM user's RingCentral OAuth tokens (one row per user) so the
-- app can place calls and log them against customers. A background job
-- refreshes tokens shortly before expires_at, hence the index on it.
-- Tokens are stored as received; encryption at rest is the application's job.
-- Rollback: 20230512_rollback_add_ringcentral_tokens.sql

CREATE TABLE ringcentral_tokens (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL,
  account_id TEXT,
  extension_id TEXT,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  token_type TEXT NOT NULL DEFAULT 'bearer',
  scope TEXT,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
  refresh_token_expires_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT ringcentral_tokens_user_id_key UNIQUE (user_id)
);

CREATE INDEX idx_ringcentral_tokens_expires_at ON ringcentral_tokens (expires_at);

CREATE TRIGGER ringcentral_tokens_set_updated_at
BEFORE UPDATE ON ringcentral_tokens
FOR EACH ROW EXECUTE FUNCTION set_updated_at();
