-- Every kind of column real customer tables hold, and what each becomes in Iterable
-- (docs/postgresql.md, "How PostgreSQL types arrive in Iterable"); the table of
-- tests/pipelines/test_postgres_columns.py, which sends it through tap-postgres and
-- target-iterable and checks every field.
--
--   psql -q "$DATABASE_URL" -v ON_ERROR_STOP=1 -f demo/postgres/column_types.sql
--
-- Row 1 holds a value of every type, among them what Iterable cannot take as is: a
-- numeric(20,0) beyond 2**53 and a numeric(38,10) of 20 digits (Iterable stores
-- decimals as doubles), JSON keys and a column name with periods (Iterable reads a
-- period as nesting), NULLs inside arrays. Row 2 is NULL in every column but its key.
-- Row 3 holds a text over Iterable's limit of about 32,000 characters per field value.
--
-- Re-running this file starts over: it drops and re-creates the table and its type.

\set ON_ERROR_STOP on
SET client_encoding = 'UTF8';
SET TIME ZONE 'UTC';
SET client_min_messages = warning;

BEGIN;

DROP TABLE IF EXISTS column_types;
DROP TYPE IF EXISTS mood;
CREATE TYPE mood AS ENUM ('happy', 'sad', 'ok');

CREATE TABLE column_types (
    id            bigint PRIMARY KEY,
    email         text,
    small         smallint,
    big           bigint,
    exact_20      numeric(20, 0),
    precise       numeric(38, 10),
    amount        numeric(10, 2),
    ratio         double precision,
    price         money,
    token         uuid,
    feeling       mood,
    address       inet,
    raw           bytea,
    active        boolean,
    doc           json,
    docb          jsonb,
    tags          text[],
    counts        integer[],
    holidays      date[],
    seen_at       timestamptz[],
    born_on       date,
    created_at    timestamptz,
    local_at      timestamp,
    notes         text,
    "a.b"         text,
    updated_at    timestamptz NOT NULL DEFAULT '2024-11-04 00:00:00+00'
);

INSERT INTO column_types VALUES
(
    1, 'ada@example.com', -32768, 9223372036854775807,
    9007199254740993,                      -- 2**53 + 1: no double holds it
    1234567890.1234567890,                 -- 20 significant digits
    1249.50, 0.1, 12.34,
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '192.168.0.1/24', '\xdeadbeef', true,
    '{"k.v": 1, "nested": {"x.y": "z"}, "list": [1, null]}',
    '{"plain": true, "a.b.c": [{"d.e": 2}]}',
    ARRAY['a', NULL, 'b'],                 -- {a,NULL,b}
    ARRAY[1, NULL, 3],
    ARRAY['2024-12-25'::date, NULL],
    ARRAY['2024-11-02 10:15:00+01'::timestamptz, '2024-02-29 12:00:00-03:30'],
    '1815-12-10',
    '2024-02-29 12:00:00-03:30',           -- 15:30 UTC
    '2024-11-01 18:45:10',                 -- no time zone: taken as UTC
    'short',
    'dotted column',
    '2024-11-02 10:15:00+01'
),
(
    2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    '2024-11-03 00:00:00+00'
),
(
    3, 'long@example.com', 1, 2, 3, 4, 5, 6, 7, 'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12',
    'ok', '::1', '\x00', false, '[]', '{}', '{}', '{}', '{}', '{}', '2000-01-01',
    '2024-01-01 00:00:00+00', '2024-01-01 00:00:00',
    repeat('x', 40000),                    -- over Iterable's ~32,000 characters
    NULL,
    '2024-11-04 00:00:00+00'
);

COMMIT;
