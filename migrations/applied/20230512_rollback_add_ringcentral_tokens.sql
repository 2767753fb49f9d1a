-- Rollback: Add ringcentral_tokens for the RingCentral integration
-- Undoes 20230512_add_ringcentral_tokens.sql in reverse order: trigger,
-- index, table. Users have to reconnect RingCentral afterwards.

DROP TRIGGER IF EXISTS ringcentral_tokens_set_updated_at ON ringcentral_tokens;

DROP INDEX IF EXISTS idx_ringcentral_tokens_expires_at;

DROP TABLE IF EXISTS ringcentral_tokens;
