-- kind: table
-- owner: billing
-- tags: staging
-- check: unique(subscription_id)
-- check: accepted_values(plan, 'starter', 'team', 'business')
select
    cast(subscription_id as bigint) as subscription_id,
    cast(customer_id as bigint) as customer_id,
    plan,
    cast(monthly_price as decimal(18, 2)) as monthly_price,
    cast(started_on as date) as started_on,
    cast(nullif(cast(cancelled_on as varchar), '') as date) as cancelled_on
from raw.subscriptions
