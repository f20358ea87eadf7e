-- Names that need quotes in SQLite.
CREATE TABLE "order items" (
  "id" INTEGER PRIMARY KEY,
  "group" TEXT,
  "Quantity" INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX "order items by group" ON "order items" ("group");
