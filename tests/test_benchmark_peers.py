"""The benchmark's peers (the DuckDB query, the plain Python loop) compute what seatcalc does.

A benchmark ratio means nothing if the peer answers another question, so the same check the
benchmark runs at every size runs here on a small seeded event set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from benchmarks.bench_matrix import compare_frames
from benchmarks.generate import generate_events, monthly_periods
from benchmarks.python_loop import python_billable_seats
from seatcalc import BillingSchedule, billable_seats

SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))
PERIODS = monthly_periods(datetime(2025, 1, 1, tzinfo=UTC), 12)


def same_numbers(ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    assert compare_frames(ours, theirs.select(ours.columns)) is None


pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return generate_events(4_000, customers=40, seed=11)


def test_duckdb_query_gives_seatcalc_numbers(events: pl.DataFrame) -> None:
    from benchmarks.duckdb_peer import duckdb_billable_seats

    ours = billable_seats(events, SCHEDULE)
    assert ours.height > 100  # the data really spans many keys and periods
    same_numbers(ours, duckdb_billable_seats(events, PERIODS))


def test_python_loop_gives_seatcalc_numbers(events: pl.DataFrame) -> None:
    ours = billable_seats(events, SCHEDULE)
    periods = list(PERIODS.select("periodStart", "periodEnd").iter_rows())
    loop = pl.DataFrame(python_billable_seats(events.to_dicts(), periods))
    same_numbers(ours, loop)


def test_generator_is_seeded() -> None:
    first = generate_events(1_000, customers=10, seed=3)
    assert first.equals(generate_events(1_000, customers=10, seed=3))
    assert not first.equals(generate_events(1_000, customers=10, seed=4))
    assert first["eventTimestamp"].min() < datetime(2025, 1, 1, tzinfo=UTC)  # carry-in events
