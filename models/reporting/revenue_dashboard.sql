-- kind: table
-- owner: finance
-- tags: finance, dashboard
-- check: unique(revenue_date)
-- check: not_null(net_revenue)
-- What the revenue dashboard reads: one row per day with running figures.
select
    revenue_date,
    paid_orders,
    net_revenue,
    sum(net_revenue) over (
        partition by date_trunc('month', revenue_date) order by revenue_date
    ) as month_to_date,
    avg(net_revenue) over (
        order by revenue_date rows between 6 preceding and current row
    ) as rolling_7d_avg
from marts.revenue_daily
order by revenue_date
