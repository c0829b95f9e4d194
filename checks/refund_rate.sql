-- model: marts.revenue_daily
-- severity: warn
-- description: more than a fifth of a day's order revenue refunded deserves a look.
select revenue_date, order_revenue, refunded
from marts.revenue_daily
where revenue_date >= {{ start }} and revenue_date < {{ end }}
  and refunded > 0.2 * order_revenue
