-- Column types as SQLite keeps them, defaults, generated columns, table options.
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name varchar(100) DEFAULT 'anonymous',
  age int CHECK (age >= 0),
  score REAL DEFAULT 0.0,
  balance NUMERIC(10, 2) NOT NULL DEFAULT 0,
  avatar BLOB,
  active boolean NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT (datetime('now')),
  email_lower TEXT GENERATED ALWAYS AS (lower(email)) VIRTUAL,
  name_len INTEGER GENERATED ALWAYS AS (length(name)) STORED,
  untyped
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE measurements (
  id INTEGER PRIMARY KEY,
  sensor TEXT NOT NULL,
  value REAL NOT NULL,
  taken_at INTEGER NOT NULL
) STRICT;
