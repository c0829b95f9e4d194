-- model: marts.revenue_daily
-- description: a day's order revenue must equal what the order facts captured that day.
-- Custom checks return the rows that violate them; {{ start }} and {{ end }} are the partition
-- being built, and the model's name reads the data about to be published.
select r.revenue_date, r.order_revenue, f.captured
from marts.revenue_daily as r
join (
    select order_date, sum(captured_amount) as captured
    from marts.fct_orders
    where order_date >= {{ start }} and order_date < {{ end }}
    group by order_date
) as f on f.order_date = r.revenue_date
where r.revenue_date >= {{ start }} and r.revenue_date < {{ end }}
  and r.order_revenue <> f.captured
