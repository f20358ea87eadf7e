-- People who write posts and comments.
CREATE TABLE users (
  id integer PRIMARY KEY AUTOINCREMENT,
  email text NOT NULL UNIQUE,
  display_name text NOT NULL,
  bio text,
  created_at text NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK (length(email) > 3)
);
