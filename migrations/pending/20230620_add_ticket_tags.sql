-- Migration: Add tags for support tickets
-- Agents label tickets with free-form tags ("billing", "onboarding", ...).
-- Tag names are unique regardless of case; ticket_tags is the many-to-many
-- join table, cleaned up when either side is deleted. Its primary key
-- covers lookups by ticket; the extra index covers lookups by tag.
-- Rollback: 20230620_rollback_add_ticket_tags.sql

CREATE TABLE tags (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  color TEXT,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT tags_color_check CHECK (color IS NULL OR color ~ '^#[0-9a-f]{6}$')
);

CREATE UNIQUE INDEX idx_tags_name_lower ON tags (lower(name));

CREATE TABLE ticket_tags (
  ticket_id UUID NOT NULL,
  tag_id UUID NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  CONSTRAINT ticket_tags_pkey PRIMARY KEY (ticket_id, tag_id),
  CONSTRAINT ticket_tags_ticket_id_fkey FOREIGN KEY (ticket_id)
    REFERENCES support_tickets (id) ON DELETE CASCADE,
  CONSTRAINT ticket_tags_tag_id_fkey FOREIGN KEY (tag_id)
    REFERENCES tags (id) ON DELETE CASCADE
);

CREATE INDEX idx_ticket_tags_tag_id ON ticket_tags (tag_id);
