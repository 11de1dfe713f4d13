"""The partitioned (out-of-core) run gives the in-memory result, row for row.

Runs are forced into several buckets (``buckets=``) or a tiny ``memory_limit``, so that
versions move between buckets, same-instant ties straddle nothing, and every bucket runs
the in-memory kernels on its keys only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from benchmarks.generate import generate_events
from seatcalc import (
    BillingSchedule,
    InvalidEventFrame,
    InvalidPrice,
    InvalidSchedule,
    SeatcalcError,
    SeatPrice,
    billable_seats,
    price_seats,
)
from seatcalc.partitioned import partitioned_billable_seats, partitioned_price_seats, plan_buckets
from tests.strategies import Case, cases
from tests.test_pricing_properties import price_lists

SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))


def _outcome(run: Callable[[], pl.DataFrame]) -> pl.DataFrame | tuple[type[BaseException], str]:
    """The frame a run gives, or the error it raises (its type and message)."""
    try:
        return run()
    except SeatcalcError as error:
        return type(error), str(error)


def _same(expected: pl.DataFrame | tuple[type[BaseException], str], got: Any) -> None:
    if isinstance(expected, pl.DataFrame):
        assert isinstance(got, pl.DataFrame), got
        assert_frame_equal(got, expected)
    else:
        assert got == expected


def _schedules(case: Case, per_customer: bool) -> Any:
    """The case's schedule for everyone, or per customer: ``beta`` on UTC boundaries."""
    if not per_customer:
        return case.plan.schedule
    plan = case.plan
    return {
        "acme": plan.schedule,
        "beta": BillingSchedule(plan.start, plan.interval, "UTC", plan.end),
    }


@settings(max_examples=100)
@given(case=cases(max_rows=10), buckets=st.integers(2, 5), per_customer=st.booleans(), parquet=st.booleans())
def test_billable_seats_partitioned_equals_in_memory(
    case: Case, buckets: int, per_customer: bool, parquet: bool
) -> None:
    frame, schedule = case.events.frame(), _schedules(case, per_customer)
    options = {"until": case.plan.until, "supersede_by": case.policy}
    expected = _outcome(lambda: billable_seats(frame, schedule, **options))
    with tempfile.TemporaryDirectory() as folder:
        source: Any = frame
        if parquet:
            source = str(Path(folder) / "events.parquet")
            frame.write_parquet(source)
        got = _outcome(lambda: partitioned_billable_seats(source, schedule, buckets=buckets, **options))
    _same(expected, got)


@settings(max_examples=100)
@given(
    case=cases(max_rows=10),
    prices=price_lists(),
    buckets=st.integers(2, 4),
    unpriced=st.sampled_from(("skip", "error")),
)
def test_price_seats_partitioned_equals_in_memory(
    case: Case, prices: list[SeatPrice], buckets: int, unpriced: str
) -> None:
    frame, schedule = case.events.frame(), case.plan.schedule
    options: dict[str, Any] = {"until": case.plan.until, "supersede_by": case.policy, "unpriced": unpriced}
    expected = _outcome(lambda: price_seats(frame, schedule, prices, **options))
    got = _outcome(lambda: partitioned_price_seats(frame, schedule, prices, buckets=buckets, **options))
    _same(expected, got)


def _generated(rows: int = 3000, *, accounts: bool = True) -> pl.DataFrame:
    """``benchmarks.generate`` events; with accounts, every third customer in ``acc2``."""
    events = generate_events(rows, customers=40, seed=7, superseded_share=0.2)
    if accounts:
        number = pl.col("customerAlias").str.slice(5).cast(pl.Int64)
        events = events.with_columns(
            pl.when(number % 3 == 0).then(pl.lit("acc2")).otherwise(pl.lit("acc1")).alias("sequenceAccountId")
        )
    return events


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    """3000 events (20% later versions) in three Parquet files of a hive-style folder."""
    events = _generated()
    folder = tmp_path / "events"
    for part in range(3):
        target = folder / f"part={part}"
        target.mkdir(parents=True)
        events.slice(part * 1000, 1000).write_parquet(target / "data.parquet")
    return folder


def test_a_tiny_memory_limit_splits_a_few_thousand_events(events_dir: Path) -> None:
    lines: list[str] = []
    got = partitioned_billable_seats(events_dir, SCHEDULE, memory_limit=100_000, progress=lines.append)
    source = pl.scan_parquet(events_dir)
    expected = billable_seats(source.collect(), SCHEDULE)
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(got, expected)
    assert expected["sequenceAccountId"].n_unique() == 2
    assert any("pass 2: key bucket 8/" in line for line in lines), lines  # many buckets
    # billable_seats itself takes the folder, and a LazyFrame with a memory_limit
    assert_frame_equal(billable_seats(events_dir, SCHEDULE, memory_limit=100_000), expected)
    lazy = billable_seats(source, SCHEDULE, memory_limit=100_000)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), expected)


def test_price_seats_out_of_core_writes_the_in_memory_lines(events_dir: Path, tmp_path: Path) -> None:
    prices = [
        SeatPrice(
            seatType="editor", currency="GBP", pricePerSeat="3.10", prorationStrategy="PRORATE_INCREMENTS"
        ),
        SeatPrice(
            seatType="viewer",
            currency="JPY",
            pricePerSeat="700",
            billingType="IN_ADVANCE",
            prorationStrategy="USE_MAXIMUM",
        ),
    ]
    out = tmp_path / "lines.parquet"
    assert partitioned_price_seats(events_dir, SCHEDULE, prices, memory_limit=100_000, out=out) is None
    expected = price_seats(pl.scan_parquet(events_dir).collect(), SCHEDULE, prices)
    assert expected.height > 100
    assert_frame_equal(pl.read_parquet(out), expected)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["events", "lines.parquet"]
    with pytest.raises(InvalidPrice) as in_memory:
        price_seats(pl.scan_parquet(events_dir).collect(), SCHEDULE, prices, unpriced="error")
    with pytest.raises(InvalidPrice, match="no price for 17 seat types with events") as partitioned:
        price_seats(events_dir, SCHEDULE, prices, unpriced="error", memory_limit=100_000)
    assert str(partitioned.value) == str(in_memory.value)


def test_no_receivedseq_means_the_position_in_the_source(events_dir: Path, tmp_path: Path) -> None:
    """Ties at one instant go to the row later in the source, across files and buckets."""
    at = datetime(2025, 3, 1, 12, tzinfo=UTC)
    rows = [("e1", "acme", 5), ("e1", "acme", 7), (None, "beta", 1), (None, "beta", 4), ("e2", "beta", 9)]
    folder = tmp_path / "ties"
    for number, (event_id, alias, total) in enumerate(rows):
        (folder / f"n={number}").mkdir(parents=True)
        pl.DataFrame(
            {
                "customerEventId": [event_id],
                "customerAlias": [alias],
                "seatType": ["editor"],
                "eventTimestamp": [at],
                "total": [total],
            },
            schema_overrides={"customerEventId": pl.String},
        ).write_parquet(folder / f"n={number}" / "data.parquet")
    got = partitioned_billable_seats(folder, SCHEDULE, buckets=3)
    assert isinstance(got, pl.DataFrame)
    assert got.filter(pl.col("periodStart").dt.month() == 3).select("customerAlias", "endSeats").rows() == [
        ("acme", 7),
        ("beta", 9),
    ]
    assert_frame_equal(got, billable_seats(pl.scan_parquet(folder).collect(), SCHEDULE))


def _bad_parts(tmp_path: Path, spoil: Callable[[pl.DataFrame], pl.DataFrame]) -> tuple[Path, pl.DataFrame]:
    events = _generated(accounts=False)
    events = pl.concat([events.head(2000), spoil(events.tail(1000))])
    folder = tmp_path / "bad"
    for part in range(3):
        (folder / f"part={part}").mkdir(parents=True)
        events.slice(part * 1000, 1000).write_parquet(folder / f"part={part}" / "data.parquet")
    return folder, events


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(
            lambda part: part.with_columns(
                pl.when(pl.int_range(pl.len()).is_in([3, 500]))
                .then(None)
                .otherwise(pl.col("total"))
                .alias("total")
            ),
            id="null-totals",
        ),
        pytest.param(
            lambda part: part.with_columns(
                pl.when(pl.int_range(pl.len()) == 7).then(-3).otherwise(pl.col("total")).alias("total"),
                pl.when(pl.int_range(pl.len()) < 4)
                .then(pl.lit(1))
                .otherwise(pl.col("receivedSeq"))
                .alias("receivedSeq"),
            ),
            id="duplicate-receivedseq-and-a-negative-total",
        ),
    ],
)
def test_bad_rows_in_one_partition_raise_the_in_memory_error(
    tmp_path: Path, spoil: Callable[[pl.DataFrame], pl.DataFrame]
) -> None:
    folder, events = _bad_parts(tmp_path, spoil)
    with pytest.raises(InvalidEventFrame) as in_memory:
        billable_seats(events, SCHEDULE)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InvalidEventFrame) as partitioned:
        partitioned_billable_seats(folder, SCHEDULE, buckets=4, temp_dir=work)
    assert str(partitioned.value) == str(in_memory.value)
    assert "row 2003" in str(partitioned.value)  # named by the position in the whole source
    assert list(work.iterdir()) == []


def test_the_temporary_directory_is_removed_on_error_and_interrupt(events_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    only_some = {"cust-000001": SCHEDULE}  # the others have events but no schedule
    with pytest.raises(InvalidSchedule, match="customers have events but no schedule"):
        partitioned_billable_seats(events_dir, only_some, buckets=4, temp_dir=work)
    assert list(work.iterdir()) == []

    def interrupt(line: str) -> None:
        if line.startswith("pass 2"):
            assert any(work.iterdir())  # the buckets are on disk at this point
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        partitioned_billable_seats(events_dir, SCHEDULE, buckets=4, temp_dir=work, progress=interrupt)
    assert list(work.iterdir()) == []


def test_the_unscheduled_customers_are_counted_over_all_buckets(events_dir: Path) -> None:
    only_some = {"cust-000001": SCHEDULE}
    events = pl.scan_parquet(events_dir).collect()
    with pytest.raises(InvalidSchedule) as in_memory:
        billable_seats(events, only_some)
    with pytest.raises(InvalidSchedule) as partitioned:
        partitioned_billable_seats(events_dir, only_some, buckets=5)
    assert str(partitioned.value) == str(in_memory.value)


def test_bucket_count_follows_the_memory_limit() -> None:
    assert plan_buckets(1_000, 100_000, 10**9) == 1
    assert plan_buckets(10**8, 8 * 10**9, 4 * 10**9) == 12  # 6 × 8 GB of work in 4 GB pieces
    assert plan_buckets(10, 10**6, 1) == 10  # never more buckets than rows


def test_an_unreadable_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidEventFrame, match=r"cannot read .*missing\.parquet"):
        billable_seats(str(tmp_path / "missing.parquet"), SCHEDULE)


def test_the_cli_bills_a_parquet_folder_out_of_core(events_dir: Path, tmp_path: Path, capsys: Any) -> None:
    from seatcalc.cli import main

    out = tmp_path / "seats.parquet"
    argv = ["bill", str(events_dir), "--start", "2025-01-01", "--end", "2026-01-01", "--out", str(out)]
    assert main([*argv, "--memory-limit", "100K"]) == 0
    said = capsys.readouterr().err
    assert "pass 2: key bucket 1/" in said
    assert f"wrote {pl.read_parquet(out).height:,} rows to {out}" in said
    assert_frame_equal(pl.read_parquet(out), billable_seats(pl.scan_parquet(events_dir).collect(), SCHEDULE))
