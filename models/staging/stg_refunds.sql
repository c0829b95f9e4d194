-- kind: incremental
-- partition_by: refund_date
-- start: 2026-10-01
-- end: 2026-11-01
-- owner: payments
-- tags: staging, daily
-- check: not_null(refund_id, order_id, amount)
-- check: expression(amount > 0)
select
    cast(refund_id as bigint) as refund_id,
    cast(order_id as bigint) as order_id,
    cast(refund_date as date) as refund_date,
    cast(amount as decimal(18, 2)) as amount,
    reason
from raw.refunds
where cast(refund_date as date) >= {{ start }}
  and cast(refund_date as date) < {{ end }}
