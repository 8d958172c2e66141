-- Changes to demo/postgres/seed.sql for trying an incremental run (docs/postgresql.md)
-- and for the second run of tests/pipelines/test_postgres_pipeline.py.
--
--   psql -q "$DATABASE_URL" -v ON_ERROR_STOP=1 -f demo/postgres/changes.sql
--
-- The tables' trigger sets updated_at to now() on every UPDATE, and new rows take
-- now() by default, so the next `meltano run` reads exactly these rows (plus the
-- rows whose updated_at equals the bookmark: the tap reads updated_at >= bookmark).

\set ON_ERROR_STOP on
SET client_encoding = 'UTF8';
SET client_min_messages = warning;

BEGIN;

-- Two users change; one of them loses its last name (NULL: Iterable removes the field).
UPDATE customers
   SET plan = 'enterprise', lifetime_value = 1349.75, tags = tags || '{upgraded}'::text[]
 WHERE id = 1001;
UPDATE customers
   SET last_name = NULL, score = 0.5, preferences = preferences || '{"language": "de"}'
 WHERE id = 1003;
-- A new user.
INSERT INTO customers (id, email, first_name, last_name, plan, lifetime_value, loyalty_points,
                       score, is_active, birth_date, signed_up_at, last_login_at, preferences, tags)
VALUES (1007, 'soren.kierkegaard@example.com', 'Søren', 'Kierkegaard', 'free', 0, 10,
        NULL, true, '1813-05-05', '2024-11-05 09:00:00+01', NULL, '{"newsletter": true}', '{new}');

-- An order is delivered (its event is replaced: same id), a new one is placed.
UPDATE orders
   SET status = 'delivered', shipping = shipping || '{"deliveredBy": "Royal Mail"}'
 WHERE id = 5001;
INSERT INTO orders (id, customer_id, status, total, discount, currency, shipping, coupon_codes,
                    placed_at)
VALUES (5007, 1007, 'placed', 15.50, NULL, 'DKK', '{"method": "standard"}', '{}',
        '2024-11-05 10:00:00+01');

-- A price drops, a product is added.
UPDATE products SET price = 22.50, stock = stock - 1 WHERE sku = 'SKU-010';
INSERT INTO products (sku, name, description, price, weight_kg, stock, attributes, colors, sizes,
                      launched_on)
VALUES ('SKU-013', 'Bol à soupe 🍜', NULL, 18.00, 0.4, 12, '{"material": "stoneware"}', '{vert}',
        NULL, '2024-11-05');

COMMIT;
