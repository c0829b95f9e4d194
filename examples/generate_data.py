"""Regenerate the embedded example's raw files (deterministic: the same seed gives the same bytes).

The daily revenue example of our domain: orders, payment-processor records and refunds arrive as
one file per day; subscriptions as one snapshot file. Run from the repository root:

    python examples/generate_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

DATA = Path(__file__).parent / "data"
FIRST_DAY = date(2026, 10, 1)
DAYS = 31
CUSTOMERS = 400
PLANS = {"starter": "9.00", "team": "49.00", "business": "199.00"}


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(seed: int = 7) -> None:
    rng = random.Random(seed)
    order_id = 100000
    payment_id = 500000
    refund_id = 900000
    recent_orders: list[tuple[int, str, date]] = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        orders, payments, refunds = [], [], []
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(25, 35) if weekend else rng.randint(40, 60)):
            order_id += 1
            ts = datetime.combine(day, datetime.min.time()) + timedelta(
                seconds=rng.randint(0, 86399)
            )
            amount = f"{rng.uniform(12, 480):.2f}"
            currency = rng.choice(["usd", "usd", "usd", "eur"])
            status = rng.choices(["completed", "cancelled"], weights=[95, 5])[0]
            orders.append(
                [
                    order_id,
                    rng.randint(1, CUSTOMERS),
                    ts.isoformat(sep=" "),
                    amount,
                    currency,
                    status,
                ]
            )
            if status == "completed":
                payment_id += 1
                fee = f"{float(amount) * 0.029 + 0.30:.2f}"
                outcome = rng.choices(["captured", "failed"], weights=[97, 3])[0]
                payments.append([payment_id, order_id, day.isoformat(), amount, fee, outcome])
                if outcome == "captured":
                    recent_orders.append((order_id, amount, day))
        for order, amount, ordered in rng.sample(recent_orders[-400:], k=rng.randint(1, 4)):
            if ordered < day:
                refund_id += 1
                share = rng.choice([1.0, 0.5])
                refunds.append(
                    [
                        refund_id,
                        order,
                        day.isoformat(),
                        f"{float(amount) * share:.2f}",
                        rng.choice(["damaged", "late", "not_as_described"]),
                    ]
                )
        stamp = day.isoformat()
        _write(
            DATA / "orders" / f"orders_{stamp}.csv",
            ["order_id", "customer_id", "order_ts", "amount", "currency", "status"],
            orders,
        )
        _write(
            DATA / "payments" / f"payments_{stamp}.csv",
            ["payment_id", "order_id", "payment_date", "amount", "processor_fee", "status"],
            payments,
        )
        _write(
            DATA / "refunds" / f"refunds_{stamp}.csv",
            ["refund_id", "order_id", "refund_date", "amount", "reason"],
            refunds,
        )
    subscriptions = []
    for sub in range(1, 121):
        plan = rng.choice(list(PLANS))
        started = FIRST_DAY - timedelta(days=rng.randint(-25, 400))
        cancelled = ""
        if rng.random() < 0.15:
            cancelled = (started + timedelta(days=rng.randint(10, 300))).isoformat()
        subscriptions.append(
            [sub, rng.randint(1, CUSTOMERS), plan, PLANS[plan], started.isoformat(), cancelled]
        )
    _write(
        DATA / "subscriptions" / "subscriptions.csv",
        ["subscription_id", "customer_id", "plan", "monthly_price", "started_on", "cancelled_on"],
        subscriptions,
    )


if __name__ == "__main__":
    main()
