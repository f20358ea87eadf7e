-- Indexes: unique, partial, expression, methods, INCLUDE, ordering, NULLS, opclass.
CREATE TABLE documents (
  id bigint PRIMARY KEY,
  owner_id bigint NOT NULL,
  title text NOT NULL,
  slug text,
  body text,
  tags text[],
  data jsonb,
  created_at timestamptz NOT NULL,
  deleted_at timestamptz,
  location point
);

CREATE UNIQUE INDEX documents_slug_key ON documents (slug) WHERE deleted_at IS NULL;
CREATE INDEX documents_owner_created_idx ON documents (owner_id, created_at DESC NULLS LAST);
CREATE INDEX documents_title_lower_idx ON documents (lower(title));
CREATE INDEX documents_tags_idx ON documents USING gin (tags);
CREATE INDEX documents_data_idx ON documents USING gin (data jsonb_path_ops);
CREATE INDEX documents_created_brin ON documents USING brin (created_at);
CREATE INDEX documents_slug_hash ON documents USING hash (slug);
CREATE INDEX documents_owner_incl ON documents (owner_id) INCLUDE (title, slug);
CREATE INDEX documents_title_pattern ON documents (title text_pattern_ops);
CREATE INDEX documents_title_c ON documents (title COLLATE "C");
CREATE INDEX documents_deleted_first ON documents (deleted_at NULLS FIRST);
CREATE INDEX documents_location ON documents USING gist (location);
CREATE UNIQUE INDEX documents_owner_title_nnd ON documents (owner_id, title) NULLS NOT DISTINCT;
CREATE INDEX ON documents (owner_id, slug);
CREATE INDEX ON documents (lower(slug)) INCLUDE (title);
