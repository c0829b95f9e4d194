-- kind: incremental
-- partition_by: revenue_date
-- start: 2026-10-01
-- end: 2026-11-01
-- owner: finance
-- tags: finance, daily
-- check: row_count(min=1, max=1)
-- check: not_null(net_revenue, order_revenue)
-- check: columns(revenue_date DATE, net_revenue DECIMAL(18,2))
-- Revenue per day: captured order revenue minus refunds plus the day's share of subscriptions.
with orders as (
    select order_date as revenue_date,
           count(*) filter (where is_paid) as paid_orders,
           sum(captured_amount) as order_revenue,
           sum(processor_fees) as processor_fees
    from fct_orders
    where order_date >= {{ start }} and order_date < {{ end }}
    group by all
),
refunds as (
    select refund_date as revenue_date, count(*) as refunds, sum(amount) as refunded
    from staging.stg_refunds
    where refund_date >= {{ start }} and refund_date < {{ end }}
    group by all
),
subscriptions as (
    -- per day of the window (a backfill batch is many days): the subscriptions active that day
    select o.revenue_date,
           count(s.subscription_id) as active_subscriptions,
           sum(s.monthly_price) * 12 / 365 as subscription_revenue
    from orders as o
    left join staging.stg_subscriptions as s
        on s.started_on <= o.revenue_date
        and (s.cancelled_on is null or s.cancelled_on >= o.revenue_date)
    group by o.revenue_date
)
select
    o.revenue_date,
    o.paid_orders,
    coalesce(r.refunds, 0) as refunds,
    s.active_subscriptions,
    o.order_revenue,
    coalesce(r.refunded, 0) as refunded,
    o.processor_fees,
    cast(s.subscription_revenue as decimal(18, 2)) as subscription_revenue,
    cast(o.order_revenue - coalesce(r.refunded, 0) - o.processor_fees
         + s.subscription_revenue as decimal(18, 2)) as net_revenue
from orders as o
left join refunds as r using (revenue_date)
left join subscriptions as s using (revenue_date)
