"""What a day range produced, as a person reads it after the main job."""

from __future__ import annotations

import datetime as dt

import psycopg


def summarize(conninfo: str, start: dt.date, end: dt.date, lake_uri: str) -> str:
    lo, hi = (
        dt.datetime.combine(start, dt.time()),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
    )
    with psycopg.connect(conninfo) as conn:
        per_day = conn.execute(
            """SELECT transaction_date::date, count(*) FROM transactions
                WHERE transaction_date >= %s AND transaction_date < %s GROUP BY 1 ORDER BY 1""",
            (lo, hi),
        ).fetchall()
        quarantined = conn.execute(
            "SELECT count(*) FROM transactions_quarantine WHERE partition_date BETWEEN %s AND %s",
            (start, end),
        ).fetchone()[0]
        customers = conn.execute(
            "SELECT count(*) FROM customers WHERE feed_date BETWEEN %s AND %s", (start, end)
        ).fetchone()[0]
        levels = dict(
            conn.execute(
                """SELECT risk_level, count(*) FROM fraud_alerts
                    WHERE transaction_date >= %s AND transaction_date < %s GROUP BY 1""",
                (lo, hi),
            ).fetchall()
        )
        rules = conn.execute(
            """SELECT r, count(*) FROM fraud_alerts, unnest(rules_triggered) r
                WHERE transaction_date >= %s AND transaction_date < %s GROUP BY 1 ORDER BY 2 DESC, 1""",
            (lo, hi),
        ).fetchall()
        top = conn.execute(
            """SELECT transaction_id, fraud_score, risk_level, description FROM fraud_alerts
                WHERE transaction_date >= %s AND transaction_date < %s
                ORDER BY fraud_score DESC, transaction_id LIMIT 3""",
            (lo, hi),
        ).fetchall()
    lines = [f"Days {start} .. {end}"]
    lines += [f"  {day}: {n:,} transactions" for day, n in per_day]
    lines.append(
        f"Transactions: {sum(n for _, n in per_day):,} loaded, {quarantined:,} quarantined"
    )
    lines.append(f"Customers: {customers:,} upserted from the customers feed")
    lines.append(
        "Alerts by risk level: "
        + ", ".join(f"{lvl} {levels.get(lvl, 0):,}" for lvl in ("CRITICAL", "HIGH", "MEDIUM"))
    )
    lines.append("Top rules: " + ", ".join(f"{r} {n:,}" for r, n in rules[:5]))
    lines.append("Highest-scored alerts:")
    lines += [f"  {tid} {score} {lvl}: {desc}" for tid, score, lvl, desc in top]
    lines.append(f"Lake: {lake_uri}")
    return "\n".join(lines)
