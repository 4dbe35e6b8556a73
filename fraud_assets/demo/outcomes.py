"""What happens after the transactions: chargeback reports (a landing feed) and the
ground-truth labels (never under landing). Gathered day by day, written at the end."""

from __future__ import annotations

import datetime as dt
import pathlib
from dataclasses import dataclass, field

import numpy as np

from fraud_assets.demo.daily import DayFeed
from fraud_assets.demo.feeds import (
    CHARGEBACK_COLUMNS,
    LABEL_COLUMNS,
    TransactionText,
    chargeback_lines,
    label_lines,
)
from fraud_assets.demo.reference import SCENARIOS
from fraud_assets.demo.rows import LEGIT
from fraud_assets.demo.writer import body, write_atomic

DAY_SECONDS = 86_400
CHARGEBACK_SHARE = 0.8  # of fraudulent transactions, 2-20 days later
FALSE_REPORT_SHARE = 0.01  # of legit transactions, reversed 2-8 days after the report


@dataclass
class Outcomes:
    report_ids: list[np.ndarray] = field(default_factory=list)
    report_fraud: list[np.ndarray] = field(default_factory=list)
    report_at: list[np.ndarray] = field(default_factory=list)
    labels: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    def add_day(self, rng: np.random.Generator, feed: DayFeed) -> None:
        rows = feed.rows
        n = len(rows)
        fraud = rows.scenario != LEGIT
        at = feed.epoch + rows.sec
        reported = fraud & (rng.random(n) < CHARGEBACK_SHARE)
        false = ~fraud & (rng.random(n) < FALSE_REPORT_SHARE)
        first = at + rng.integers(2 * DAY_SECONDS, 20 * DAY_SECONDS, n)
        reversal = first + rng.integers(2 * DAY_SECONDS, 8 * DAY_SECONDS, n)
        report = reported | false
        self.report_ids += [feed.ids[report], feed.ids[false]]
        self.report_fraud += [np.ones(int(report.sum()), bool), np.zeros(int(false.sum()), bool)]
        self.report_at += [first[report], reversal[false]]

        index = np.flatnonzero(fraud)
        index = index[np.argsort(feed.seq[index])]  # (time, id) order
        self.labels.append(
            (
                feed.ids[index],
                at[index],
                rows.cust[index],
                rows.merch[index],
                rows.scenario[index].astype(np.int64),
            )
        )

    def by_scenario(self) -> dict[str, int]:
        scenario = np.concatenate([label[4] for label in self.labels] or [np.empty(0, np.int64)])
        counts = np.bincount(scenario, minlength=len(SCENARIOS))
        return {name: int(counts[i]) for i, name in enumerate(SCENARIOS)}

    def write_chargebacks(self, root: pathlib.Path) -> int:
        """`<root>/date=YYYY-MM-DD/chargebacks.csv` by the UTC day each report arrived."""
        if not self.report_at:
            return 0
        ids = np.concatenate(self.report_ids)
        is_fraud = np.concatenate(self.report_fraud)
        at = np.concatenate(self.report_at)
        order = np.lexsort((is_fraud, ids.view(f"S{ids.shape[1]}").ravel(), at))
        ids, is_fraud, at = ids[order], is_fraud[order], at[order]
        day = at // DAY_SECONDS
        starts = np.flatnonzero(np.concatenate(([True], day[1:] != day[:-1])))
        ends = np.append(starts[1:], len(day))
        for a, b in zip(starts, ends, strict=True):
            date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day[a]))
            write_atomic(
                root / f"date={date.isoformat()}" / "chargebacks.csv",
                CHARGEBACK_COLUMNS,
                [body(chargeback_lines(ids[a:b], is_fraud[a:b], at[a:b]))],
            )
        return len(at)

    def write_labels(self, path: pathlib.Path, text: TransactionText) -> int:
        columns = [np.concatenate(column) for column in zip(*self.labels, strict=True)]
        write_atomic(path, LABEL_COLUMNS, [body(label_lines(text, *columns))])
        return len(columns[0])
