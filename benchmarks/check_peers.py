"""Check that the two benchmark peers agree: the DuckDB query and the plain-Python loop.

Run: ``python -m benchmarks.check_peers [--events 20000 --customers 300]`` from the repo root.

Compares every column exactly (``averageSeats`` to 1e-9 relative) on:

* generated data (monthly UTC periods over 2025, carry-in, ties, superseded versions);
* hand-made edge cases (same-instant events, events on period boundaries, a null
  ``customerEventId``, a key that starts mid-period, events after the schedule's end);
* the ``days`` path of the DuckDB peer: UTC days given as a frame must give the same frame as
  the arithmetic days, and monthly Europe/London periods (23- and 25-hour days) must agree
  with the loop walking the same local days;
* when ``tests/reference.py`` (the library's own slow oracle) imports, it as a third opinion.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from polars.testing import assert_frame_equal

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.duckdb_peer import BILLABLE_SEATS_SCHEMA, duckdb_billable_seats
from benchmarks.generate import generate_events, monthly_periods
from benchmarks.python_loop import python_billable_seats
from seatcalc.frames import EVENT_SCHEMA

START = datetime(2025, 1, 1, tzinfo=UTC)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=BILLABLE_SEATS_SCHEMA)


def _same(label: str, left: pl.DataFrame, right: pl.DataFrame) -> None:
    assert_frame_equal(left, right, check_exact=False, rel_tol=1e-9, abs_tol=0.0)
    exact = left.drop("averageSeats").equals(right.drop("averageSeats"))
    assert exact, label
    print(f"  ok  {label}: {left.height} rows agree")


def _periods_list(periods: pl.DataFrame) -> list[tuple[datetime, datetime]]:
    return list(periods.select("periodStart", "periodEnd").iter_rows())


def _local_days(first: date, last: date, zone: str) -> pl.DataFrame:
    """Local calendar days [first, last) of ``zone`` as UTC instants (midnight exists in London)."""
    tz = ZoneInfo(zone)
    starts = [
        datetime.combine(first + timedelta(days=i), datetime.min.time(), tz).astimezone(UTC)
        for i in range((last - first).days + 1)
    ]
    return pl.DataFrame(
        {"dayStart": starts[:-1], "dayEnd": starts[1:]},
        schema={"dayStart": pl.Datetime("us", "UTC"), "dayEnd": pl.Datetime("us", "UTC")},
    )


def _edge_cases() -> pl.DataFrame:
    t = START
    day, hour = timedelta(days=1), timedelta(hours=1)
    rows = [
        # key A: carry-in, then several events at one instant (last received wins), a
        # zero-length spike, an event exactly at a period start and one at a period end
        ("a1", "cust-A", "editor", t - 10 * day, 5, 1),
        ("a2", "cust-A", "editor", t + 3 * day + hour, 50, 2),
        ("a3", "cust-A", "editor", t + 3 * day + hour, 7, 3),
        ("a4", "cust-A", "editor", datetime(2025, 2, 1, tzinfo=UTC), 9, 4),
        ("a5", "cust-A", "editor", datetime(2025, 3, 1, tzinfo=UTC) - timedelta(microseconds=1), 0, 5),
        ("a6", "cust-A", "editor", datetime(2025, 3, 1, tzinfo=UTC), 4, 6),
        # a6 superseded by a later timestamp (wins) and an earlier one received later (loses)
        ("a6", "cust-A", "editor", datetime(2025, 3, 15, 12, tzinfo=UTC), 6, 7),
        ("a6", "cust-A", "editor", datetime(2025, 3, 2, tzinfo=UTC), 99, 8),
        # key B: starts mid-period with 0, a version moves a fact to another seat type
        ("b1", "cust-B", "viewer", datetime(2025, 4, 10, 8, tzinfo=UTC), 0, 9),
        ("b2", "cust-B", "viewer", datetime(2025, 4, 10, 9, tzinfo=UTC), 3, 10),
        ("b2", "cust-B", "admin", datetime(2025, 4, 10, 9, tzinfo=UTC), 3, 11),
        ("b3", "cust-B", "viewer", datetime(2025, 4, 12, tzinfo=UTC), 2, 12),
        # null ids: facts of their own, never superseded; same instant: receipt order decides
        (None, "cust-C", "editor", datetime(2025, 6, 1, 5, tzinfo=UTC), 8, 14),
        (None, "cust-C", "editor", datetime(2025, 6, 1, 5, tzinfo=UTC), 1, 13),
        # key D: only after the schedule's end → no rows; key E: only before its start
        ("d1", "cust-D", "editor", datetime(2026, 1, 1, tzinfo=UTC), 3, 15),
        ("e1", "cust-E", "editor", datetime(2020, 1, 1, tzinfo=UTC), 2_147_483_647, 16),
    ]
    return pl.DataFrame(
        rows,
        schema={**EVENT_SCHEMA, "receivedSeq": pl.Int64()},
        orient="row",
    )


def _reference() -> Any:
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests import reference
    except Exception as error:  # the oracle is optional here
        print(f"  --  tests/reference.py not usable ({error!r}); skipped")
        return None
    return reference


def check(n_events: int, customers: int, seed: int, *, with_reference: bool = True) -> None:
    periods = monthly_periods(START, 12)
    cases = {
        f"generated {n_events} events, {customers} customers": generate_events(
            n_events, customers=customers, seed=seed
        ),
        "edge cases": _edge_cases(),
    }
    reference = _reference() if with_reference else None
    for label, events in cases.items():
        rows = events.to_dicts()
        t0 = time.perf_counter()
        duck = duckdb_billable_seats(events, periods)
        t1 = time.perf_counter()
        loop = _frame(python_billable_seats(rows, _periods_list(periods)))
        t2 = time.perf_counter()
        print(f"{label}: duckdb {t1 - t0:.2f}s, python loop {t2 - t1:.2f}s")
        _same(f"{label}: duckdb == python loop", duck, loop)
        utc_days = _local_days(date(2025, 1, 1), date(2026, 1, 1), "UTC")
        _same(
            f"{label}: duckdb with a UTC days frame", duck, duckdb_billable_seats(events, periods, utc_days)
        )
        if reference is not None:
            ref = _frame(reference.ref_billable_seats(rows, date(2025, 1, 1), "1mo", end=date(2026, 1, 1)))
            _same(f"{label}: duckdb == tests/reference.py", duck, ref)

        # Europe/London: local midnights, 23- and 25-hour days
        london_days = _local_days(date(2025, 1, 1), date(2026, 1, 1), "Europe/London")
        first_of_month = [date(2025 + m // 12, m % 12 + 1, 1) for m in range(13)]
        london_periods = (
            london_days.filter(pl.col("dayStart").dt.convert_time_zone("Europe/London").dt.day() == 1)
            .select(periodStart="dayStart")
            .with_columns(
                periodEnd=pl.col("periodStart").shift(-1).fill_null(london_days["dayEnd"].max()),
                days=pl.Series(
                    [(b - a).days for a, b in itertools.pairwise(first_of_month)],
                    dtype=pl.Int32,
                ),
            )
        )
        duck_london = duckdb_billable_seats(events, london_periods, london_days)
        loop_london = _frame(
            python_billable_seats(rows, _periods_list(london_periods), list(london_days.iter_rows()))
        )
        _same(f"{label}: Europe/London days, duckdb == python loop", duck_london, loop_london)
        if reference is not None:
            ref = _frame(
                reference.ref_billable_seats(
                    rows, date(2025, 1, 1), "1mo", time_zone="Europe/London", end=date(2026, 1, 1)
                )
            )
            _same(f"{label}: Europe/London, duckdb == tests/reference.py", duck_london, ref)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-reference", action="store_true", help="skip tests/reference.py (slow on dense keys)"
    )
    args = parser.parse_args()
    check(args.events, args.customers, args.seed, with_reference=not args.no_reference)
    print("all peers agree")


if __name__ == "__main__":
    main()
