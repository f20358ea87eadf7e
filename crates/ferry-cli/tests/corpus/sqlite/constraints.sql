-- Composite keys, named constraints, foreign keys with actions, indexes.
CREATE TABLE authors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE books (
  id INTEGER NOT NULL,
  edition INTEGER NOT NULL DEFAULT 1,
  author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  co_author_id INTEGER REFERENCES authors ON DELETE SET NULL ON UPDATE CASCADE,
  isbn TEXT,
  title TEXT NOT NULL,
  price NUMERIC CHECK (price > 0),
  CONSTRAINT books_pk PRIMARY KEY (id, edition),
  CONSTRAINT books_isbn_unique UNIQUE (isbn),
  CHECK (length(title) > 0)
);

CREATE TABLE reviews (
  book_id INTEGER NOT NULL,
  book_edition INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  body TEXT,
  FOREIGN KEY (book_id, book_edition) REFERENCES books (id, edition) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX books_author_idx ON books (author_id);
CREATE UNIQUE INDEX books_title_author ON books (title COLLATE NOCASE, author_id DESC);
CREATE INDEX reviews_recent ON reviews (book_id) WHERE stars >= 4;
CREATE INDEX books_lower_title ON books (lower(title));
