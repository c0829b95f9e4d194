-- kind: incremental
-- partition_by: payment_date
-- start: 2026-10-01
-- end: 2026-11-01
-- owner: payments
-- tags: staging, daily
-- check: unique(payment_id)
-- check: accepted_values(status, 'captured', 'failed')
-- check: expression(processor_fee >= 0 and amount > 0)
select
    cast(payment_id as bigint) as payment_id,
    cast(order_id as bigint) as order_id,
    cast(payment_date as date) as payment_date,
    cast(amount as decimal(18, 2)) as amount,
    cast(processor_fee as decimal(18, 2)) as processor_fee,
    status
from raw.payments
where cast(payment_date as date) >= {{ start }}
  and cast(payment_date as date) < {{ end }}
