-- kind: view
-- owner: finance
-- tags: finance, dashboard
select *
from reporting.revenue_dashboard
qualify row_number() over (order by revenue_date desc) = 1
