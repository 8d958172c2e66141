-- Iterable accepts an itemId of letters, digits and dashes, at most 255 characters:
-- any other SKU would be rejected item by item, so it stops the build instead.
select item_id
from {{ ref('iterable_products') }}
where item_id !~ '^[A-Za-z0-9-]{1,255}$'
