-- kind: incremental
-- partition_by: order_date
-- start: 2026-10-01
-- end: 2026-11-01
-- owner: finance
-- tags: finance, daily
-- check: unique(order_id)
-- check: relationships(order_id, staging.stg_orders.order_id)
-- check: expression(captured_amount <= gross_amount)
-- check warn: row_count_change(max_pct=60)
-- Daily order facts: each order with what the processor captured for it.
with payments as (
    select order_id,
           sum(amount) filter (where status = 'captured') as captured,
           sum(processor_fee) filter (where status = 'captured') as fees
    from staging.stg_payments
    where payment_date >= {{ start }} and payment_date < {{ end }}
    group by order_id
)
select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.currency,
    o.status,
    o.amount as gross_amount,
    coalesce(p.captured, 0) as captured_amount,
    coalesce(p.fees, 0) as processor_fees,
    o.status = 'completed' and p.captured is not null as is_paid
from staging.stg_orders as o
left join payments as p using (order_id)
where o.order_date >= {{ start }} and o.order_date < {{ end }}
