-- kind: incremental
-- partition_by: month
-- grain: month
-- start: 2026-10
-- end: 2026-11
-- owner: finance
-- tags: finance, monthly
-- A month partition reads the month's daily partitions: it waits until all of them are built.
select
    cast(date_trunc('month', revenue_date) as date) as month,
    sum(paid_orders) as paid_orders,
    sum(refunds) as refunds,
    sum(order_revenue) as order_revenue,
    sum(refunded) as refunded,
    sum(net_revenue) as net_revenue
from marts.revenue_daily
where revenue_date >= {{ start }} and revenue_date < {{ end }}
group by all
