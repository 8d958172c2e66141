-- Products as items of the Iterable catalog `products` (stream
-- analytics-iterable_products -> catalog-products): item_id becomes the itemId, every
-- other column an item field.
select
    p.sku as item_id,
    p.name,
    p.description,
    p.price,
    p.stock,
    p.stock > 0 as in_stock,
    p.colors,
    p.launched_on
from {{ source('shop', 'products') }} as p
