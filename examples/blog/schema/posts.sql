CREATE TABLE posts (
  id integer PRIMARY KEY AUTOINCREMENT,
  author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title text NOT NULL,
  slug text NOT NULL,
  body text NOT NULL DEFAULT '',
  published_at text,
  UNIQUE (author_id, slug)
);

CREATE INDEX posts_published_idx ON posts (published_at DESC) WHERE published_at IS NOT NULL;
