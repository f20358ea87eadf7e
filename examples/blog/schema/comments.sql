-- Files load in any order: comments reference posts and users declared elsewhere.
CREATE TABLE comments (
  id integer PRIMARY KEY,
  post_id integer NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id integer REFERENCES users (id) ON DELETE SET NULL,
  body text NOT NULL,
  created_at text NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX comments_post_idx ON comments (post_id, created_at);
