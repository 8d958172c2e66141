-- Orders as Iterable custom events `order_placed` (stream analytics-iterable_events ->
-- events). event_id is stable, derived from the order's key: a re-run, or an order
-- whose status changes, updates the same event in Iterable instead of adding one.
select
    'order_placed-' || o.id::text as event_id,
    'order_placed'::text as event_name,
    o.customer_id::text as user_id,
    o.placed_at as created_at,
    o.id as order_id,
    o.status,
    o.total,
    o.currency,
    jsonb_array_length(o.line_items)::integer as item_count
from {{ source('shop', 'orders') }} as o
