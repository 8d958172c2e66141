-- Sample shop schema for the "Syncing from PostgreSQL" recipe (docs/postgresql.md)
-- and its integration test (tests/pipelines/test_postgres_pipeline.py).
--
--   psql -q "$DATABASE_URL" -v ON_ERROR_STOP=1 -f demo/postgres/seed.sql
--
-- Three tables, each with a primary key and an `updated_at timestamptz` column
-- that tap-postgres uses as its replication key. A trigger bumps updated_at on
-- every UPDATE, as an application would, so changed rows are picked up by the
-- next incremental run. The rows cover what a real warehouse holds: NULLs,
-- numerics, timestamps in several time zones and without one, dates, JSONB
-- objects and arrays, text and integer arrays, unicode.
--
-- Re-running this file starts over: it drops and re-creates the three tables.

\set ON_ERROR_STOP on
SET client_encoding = 'UTF8';
SET TIME ZONE 'UTC';
SET client_min_messages = warning;

BEGIN;

DROP TABLE IF EXISTS orders, customers, products;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- customers -> Iterable users (userId = id, email = email)
CREATE TABLE customers (
    id              bigint PRIMARY KEY,
    email           text UNIQUE,                -- NULL: the user is known by userId only
    first_name      text NOT NULL,
    last_name       text,
    plan            text,
    lifetime_value  numeric(12, 2),
    loyalty_points  integer,
    score           double precision,
    is_active       boolean NOT NULL DEFAULT true,
    birth_date      date,
    signed_up_at    timestamptz NOT NULL,
    last_login_at   timestamp,                  -- without time zone: read as UTC
    preferences     jsonb,
    tags            text[],
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- orders -> Iterable custom events "order" (id = 'order-' || id, userId = customer_id)
CREATE TABLE orders (
    id              bigint PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    status          text NOT NULL,
    total           numeric(10, 2) NOT NULL,
    discount        numeric,                    -- unconstrained numeric
    currency        char(3) NOT NULL DEFAULT 'EUR',
    shipping        jsonb,                      -- a JSON object
    line_items      jsonb NOT NULL DEFAULT '[]', -- a JSON array of objects
    coupon_codes    text[],
    placed_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- products -> items of the Iterable catalog "products" (itemId = sku)
CREATE TABLE products (
    sku             text PRIMARY KEY,           -- letters, digits and dashes: a valid itemId
    name            text NOT NULL,
    description     text,
    price           numeric(10, 2) NOT NULL,
    weight_kg       real,
    stock           integer NOT NULL,
    attributes      jsonb,
    colors          text[],
    sizes           integer[],
    launched_on     date,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER customers_updated_at BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER products_updated_at BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO customers (id, email, first_name, last_name, plan, lifetime_value, loyalty_points,
                       score, is_active, birth_date, signed_up_at, last_login_at, preferences,
                       tags, updated_at) VALUES
(1001, 'ada.lovelace@example.com', 'Ada', 'Lovelace', 'pro', 1249.50, 1200,
 0.875, true, '1815-12-10', '2024-01-15 09:30:00+00', '2024-11-01 18:45:10',
 '{"newsletter": true, "channels": ["email", "sms"], "address": {"city": "London", "country": "GB"}}',
 '{vip,newsletter}', '2024-11-02 10:15:00+01'),
(1002, 'grace.hopper@example.com', 'Grace', 'Hopper', 'enterprise', 8800.00, 5400,
 0.9, true, '1906-12-09', '2023-11-03 14:20:00-05', NULL,
 '{"newsletter": false, "channels": [], "address": {"city": "Arlington", "country": "US"}}',
 '{enterprise}', '2024-11-03 14:20:00-05'),
(1003, 'zoe.angstrom@example.com', 'Zoë', 'Ångström', 'free', 0.00, 0,
 NULL, true, NULL, '2024-03-22 08:00:00+01', '2024-10-28 07:00:00',
 '{"language": "sv", "greeting": "Hej då! 👋"}',
 '{}', '2024-10-28 08:00:00+01'),
(1004, 'lukasz.zolc@example.com', 'Łukasz', 'Żółć', NULL, 12.34, NULL,
 -1.5, false, '1990-02-28', '2024-06-30 23:59:59+02', NULL,
 NULL,
 NULL, '2024-10-30 12:00:00+00'),
(1005, NULL, '山田', '太郎', 'pro', 99999999.99, 2147483647,
 1e-3, true, '2000-01-01', '2024-07-04 12:00:00+09', '2024-11-04 03:00:00',
 '{"nested": {"deeper": {"deepest": ["一", "二", "三"]}}, "empty": {}}',
 '{日本,"with space","with,comma"}', '2024-11-04 09:00:00+09'),
(1006, 'renee.dupont@example.com', 'Renée', 'Dupont-Lefèvre', 'pro', 310.10, 75,
 3.14159, true, '1985-07-14', '2024-02-29 12:00:00-03:30', '2024-11-03 23:30:00',
 '{"newsletter": true, "score": 4.5, "optIn": null}',
 '{"café","crème brûlée"}', '2024-11-04 00:30:00+00');

INSERT INTO orders (id, customer_id, status, total, discount, currency, shipping, line_items,
                    coupon_codes, placed_at, updated_at) VALUES
(5001, 1001, 'placed',    59.00,  NULL,   'GBP', '{"method": "standard", "address": {"city": "London"}}',
 '[{"sku": "SKU-001", "quantity": 1, "price": 19.0}, {"sku": "SKU-010", "quantity": 2, "price": 20.0}]',
 '{WELCOME10}', '2024-11-01 08:00:00+00', '2024-11-01 08:00:00+00'),
(5002, 1001, 'shipped',   19.50,  2.5,    'GBP', '{"method": "express", "trackingNumbers": ["1Z999", "1Z998"]}',
 '[{"sku": "SKU-001", "quantity": 1, "price": 19.5}]',
 '{}', '2024-11-01 09:30:00+01', '2024-11-02 10:00:00+00'),
(5003, 1002, 'delivered', 4800.00, 480.125, 'USD', '{"method": "freight", "insured": true, "weightKg": 12.75}',
 '[]',
 NULL, '2024-10-15 12:00:00-04', '2024-10-20 16:00:00-04'),
(5004, 1003, 'placed',    0.99,   0,      'SEK', NULL,
 '[{"sku": "SKU-011", "quantity": 1, "price": 0.99, "gift": true}]',
 '{GRATIS,"MED MELLANSLAG"}', '2024-10-28 21:15:00+01', '2024-10-28 21:15:00+01'),
(5005, 1005, 'cancelled', 123456.78, NULL, 'JPY', '{"method": "配達", "note": "置き配 OK"}',
 '[{"sku": "SKU-011", "quantity": 80, "price": 1543.21}]',
 NULL, '2024-11-03 18:00:00+09', '2024-11-04 08:00:00+09'),
(5006, 1006, 'placed',    42.00,  1,      'EUR', '{"method": "pickup", "store": {"id": 7, "name": "Paris Bastille"}}',
 '[{"sku": "SKU-012", "quantity": 1, "price": 42.0}]',
 '{"été-2024"}', '2024-11-03 22:00:00+00', '2024-11-03 22:00:00+00');

INSERT INTO products (sku, name, description, price, weight_kg, stock, attributes, colors, sizes,
                      launched_on, updated_at) VALUES
('SKU-001', 'Starter plan (monthly)', NULL, 19.00, NULL, 1000,
 '{"billing": "monthly", "seats": 1}', NULL, NULL, '2023-01-01', '2024-10-01 00:00:00+00'),
('SKU-002', 'Pro plan (monthly)', 'Everything in Starter, plus “priority” support', 49.00, NULL, 1000,
 '{"billing": "monthly", "seats": 5, "features": ["sso", "audit-log"]}', NULL, NULL, '2023-06-15',
 '2024-10-01 00:00:00+00'),
('SKU-010', 'Tasse à café ☕', 'Porcelaine de Limoges', 24.90, 0.35, 42,
 '{"material": "porcelain", "dishwasherSafe": true, "dimensions": {"heightCm": 9.5, "diameterCm": 8}}',
 '{blanc,"bleu nuit"}', '{250,350}', '2024-03-01', '2024-10-20 09:00:00+02'),
('SKU-011', '手ぬぐい (tenugui)', NULL, 1500.00, 0.05, 0,
 '{"origin": "日本", "pattern": null}', '{藍}', NULL, NULL, '2024-10-22 10:00:00+09'),
('SKU-012', 'T-shirt "Ünïcödé"', 'Organic cotton', 29.99, 0.2, 7,
 '{}', '{black,white,"heather grey"}', '{1,2,3,4,5}', '2024-09-09', '2024-10-25 12:00:00+00');

COMMIT;
