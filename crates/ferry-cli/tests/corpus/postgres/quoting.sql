-- Names that need quotes: mixed case, spaces, keywords.
CREATE TABLE "User Accounts" (
  "ID" integer PRIMARY KEY,
  "select" text,
  "Display Name" varchar(80) NOT NULL,
  "order" integer CHECK ("order" >= 0)
);

CREATE TABLE "group" (
  id integer PRIMARY KEY,
  owner integer REFERENCES "User Accounts" ("ID")
);

CREATE INDEX "Display Name Index" ON "User Accounts" ("Display Name");
