-- One row per customer, shaped for Iterable's user profiles (stream
-- analytics-iterable_users -> users): user_id becomes the profile's userId, email its
-- email, every other column a profile field under its own name.
--
-- No column changes unless the data does (no run timestamp): change detection then
-- sends only the profiles whose row changed. Numeric aggregates are cast to the type
-- Iterable should lock for the field: count -> integer (Iterable: long), sums ->
-- numeric (JSON number -> double).
with orders as (
    select
        customer_id,
        count(*) as order_count,
        sum(total) as lifetime_value,
        max(placed_at) as last_order_at
    from {{ source('shop', 'orders') }}
    where status <> 'cancelled'
    group by customer_id
)

select
    c.id::text as user_id,
    c.email,
    c.first_name,
    c.last_name,
    coalesce(c.plan, 'free') as plan,
    c.is_active,
    c.signed_up_at,
    coalesce(o.order_count, 0)::integer as order_count,
    coalesce(o.lifetime_value, 0)::numeric(12, 2) as lifetime_value,
    o.last_order_at
from {{ source('shop', 'customers') }} as c
left join orders as o on o.customer_id = c.id
