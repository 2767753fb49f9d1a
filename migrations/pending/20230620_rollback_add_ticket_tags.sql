-- Rollback: Add tags for support tickets
-- Undoes 20230620_add_ticket_tags.sql in reverse order: the join table's
-- index and the join table, then the name index and the tags table.

DROP INDEX IF EXISTS idx_ticket_tags_tag_id;

DROP TABLE IF EXISTS ticket_tags;

DROP INDEX IF EXISTS idx_tags_name_lower;

DROP TABLE IF EXISTS tags;
