-- kind: incremental
-- partition_by: order_date
-- grain: day
-- start: 2026-10-01
-- end: 2026-11-01
-- owner: data-platform
-- tags: staging, daily
-- check: not_null(order_id, order_date, amount)
-- check: unique(order_id)
-- check: accepted_values(currency, 'USD', 'EUR')
-- check: accepted_values(status, 'completed', 'cancelled')
-- check: row_count(min=1)
-- Orders, typed and cleaned, one partition per order day.
select
    cast(order_id as bigint) as order_id,
    cast(customer_id as bigint) as customer_id,
    cast(order_ts as timestamp) as ordered_at,
    cast(order_ts as date) as order_date,
    cast(amount as decimal(18, 2)) as amount,
    upper(currency) as currency,
    status
from raw.orders
where cast(order_ts as date) >= {{ start }}
  and cast(order_ts as date) < {{ end }}
