-- Enums, standalone sequences (with OWNED BY), and a second schema.
CREATE SCHEMA billing;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE billing.plan AS ENUM ('free', 'pro', 'enterprise');

CREATE SEQUENCE invoice_numbers AS integer INCREMENT BY 5 START WITH 1000 MINVALUE 1000 MAXVALUE 99999999 CACHE 10;
CREATE SEQUENCE plain_counter;
CREATE SEQUENCE billing.ticket_seq START 42 CYCLE;

CREATE TABLE people (
  id serial PRIMARY KEY,
  current_mood mood NOT NULL DEFAULT 'ok',
  moods mood[]
);

CREATE TABLE billing.subscriptions (
  id bigserial PRIMARY KEY,
  person_id integer NOT NULL REFERENCES public.people (id),
  plan billing.plan NOT NULL DEFAULT 'free',
  invoice_no integer DEFAULT nextval('invoice_numbers'),
  ticket bigint
);

ALTER SEQUENCE billing.ticket_seq OWNED BY billing.subscriptions.ticket;
CREATE INDEX subscriptions_plan_idx ON billing.subscriptions (plan);
COMMENT ON TABLE billing.subscriptions IS 'One per paying person';
COMMENT ON TYPE mood IS 'How a person feels';
COMMENT ON SEQUENCE invoice_numbers IS 'Invoice numbers, in steps of five';
