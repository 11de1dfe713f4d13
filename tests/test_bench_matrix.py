"""The benchmark matrix measures what it says: every shape has its advertised properties, and
the DuckDB query gives seatcalc's numbers on every shape (eager frame and Parquet file).

A ratio to DuckDB means nothing if the peer answers another question, so the same check the
matrix runs at 2M and 10M events runs here at 2,000.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import polars as pl
import pytest

from benchmarks.bench_matrix import compare_frames
from benchmarks.shapes import SCHEDULE, SHAPES, periods
from seatcalc import billable_seats, effective_events

pytest.importorskip("duckdb")

N = 2_000


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return {name: shape.build(N, 5) for name, shape in SHAPES.items()}


@pytest.mark.parametrize("name", list(SHAPES))
def test_duckdb_peer_gives_seatcalc_numbers(frames: dict[str, pl.DataFrame], name: str) -> None:
    from benchmarks.duckdb_peer import duckdb_billable_seats

    events = frames[name]
    ours = billable_seats(events, SCHEDULE)
    assert ours.height > 100  # many keys and periods, not a trivial frame
    assert compare_frames(ours, duckdb_billable_seats(events, periods())) is None


def test_duckdb_peer_reads_parquet(frames: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    """The scan_parquet rows of the matrix: DuckDB reads the file itself, seatcalc scans it."""
    from benchmarks.duckdb_peer import duckdb_billable_seats

    for name in ("accounts", "no_event_id"):
        path = tmp_path / f"{name}.parquet"
        frames[name].write_parquet(path)
        ours = billable_seats(pl.scan_parquet(path), SCHEDULE).collect(engine="in-memory")
        assert compare_frames(ours, duckdb_billable_seats(path, periods())) is None


def test_comparison_catches_a_difference(frames: dict[str, pl.DataFrame]) -> None:
    ours = billable_seats(frames["arrival"], SCHEDULE)
    off_by_one = ours.with_columns(pl.col("seatDays") + (pl.int_range(pl.len()) == 7))
    assert compare_frames(ours, off_by_one) is not None
    tiny = ours.with_columns(pl.col("averageSeats") * (1 + 1e-9))
    assert compare_frames(ours, tiny) is not None
    assert compare_frames(ours, ours.reverse()) is None  # row order is not a difference


def test_columns_and_sizes(frames: dict[str, pl.DataFrame]) -> None:
    base = {
        "customerEventId": pl.String(),
        "customerAlias": pl.String(),
        "seatType": pl.String(),
        "eventTimestamp": pl.Datetime("us", "UTC"),
        "total": pl.Int64(),
        "receivedSeq": pl.Int64(),
    }
    for name, events in frames.items():
        assert events.height == N, name
        expected = dict(base)
        if name == "no_event_id":
            del expected["customerEventId"]
        if name == "accounts":
            expected = {"sequenceAccountId": pl.String(), **expected}
        assert events.schema == pl.Schema(expected), name
        assert events["receivedSeq"].n_unique() == N, name
        assert events["total"].min() >= 0, name  # type: ignore[operator]
        assert events.null_count().sum_horizontal().item() == 0, name


def test_arrival_order_is_receipt_order_mostly_by_time(frames: dict[str, pl.DataFrame]) -> None:
    for name, events in frames.items():
        if name != "shuffled":
            assert events["receivedSeq"].to_list() == list(range(1, N + 1)), name
    arrival = frames["arrival"]
    # mostly time-ordered, with some late events (and superseding versions received later)
    earlier_than_before = (arrival["eventTimestamp"] < arrival["eventTimestamp"].cum_max().shift(1)).mean()
    assert 0.01 < earlier_than_before < 0.5  # type: ignore[operator]
    shuffled = frames["shuffled"]
    assert not shuffled["receivedSeq"].is_sorted()
    assert shuffled.sort("receivedSeq").equals(arrival)  # same events, another row order


def test_superseded_share_and_keys(frames: dict[str, pl.DataFrame]) -> None:
    def superseded(events: pl.DataFrame) -> float:
        return 1 - effective_events(events).height / events.height

    assert 0.03 <= superseded(frames["arrival"]) <= 0.06
    assert 0.22 <= superseded(frames["superseded_30"]) <= 0.31
    assert superseded(frames["no_event_id"]) == 0

    def keys(events: pl.DataFrame) -> int:
        return int(events.select(pl.struct("customerAlias", "seatType").n_unique()).item())

    assert keys(frames["arrival"]) == 30  # N / 200 customers × 3 seat types
    assert 150 <= keys(frames["many_keys"]) <= 200  # about N / 10 keys, a few without events
    big = SHAPES["few_keys"].build(20_000, 1)
    assert keys(big) == 1_000  # few keys with many events each


def test_versions_are_received_later(frames: dict[str, pl.DataFrame]) -> None:
    for name in ("arrival", "superseded_30", "uuid_ids"):
        events = frames[name]
        first = events.group_by("customerEventId").agg(pl.col("receivedSeq").min())
        later = events.join(first, on="customerEventId", suffix="First").filter(
            pl.col("receivedSeq") > pl.col("receivedSeqFirst")
        )
        assert later.height == events.height - events["customerEventId"].n_unique(), name


def test_long_ids_and_accounts(frames: dict[str, pl.DataFrame]) -> None:
    uuids = frames["uuid_ids"]
    assert uuids["customerEventId"].str.len_chars().unique().to_list() == [36]
    assert uuids["customerEventId"].str.contains(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-").all()
    assert uuids["customerAlias"].str.len_chars().unique().to_list() == [40]
    accounts = frames["accounts"]
    assert accounts["sequenceAccountId"].n_unique() >= 5
    # the same alias and the same event id live in several accounts: the account is in the key
    per_alias = accounts.group_by("customerAlias").agg(pl.col("sequenceAccountId").n_unique())
    assert per_alias["sequenceAccountId"].max() > 1  # type: ignore[operator]
    per_id = accounts.group_by("customerEventId").agg(pl.col("sequenceAccountId").n_unique())
    assert per_id["sequenceAccountId"].max() > 1  # type: ignore[operator]


def test_generation_is_seeded_and_cached(tmp_path: Path) -> None:
    from benchmarks.shapes import cached_path

    assert SHAPES["uuid_ids"].build(500, 3).equals(SHAPES["uuid_ids"].build(500, 3))
    assert not SHAPES["uuid_ids"].build(500, 3).equals(SHAPES["uuid_ids"].build(500, 4))
    path = cached_path("accounts", 500, 3, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert cached_path("accounts", 500, 3, tmp_path).stat().st_mtime_ns == stamp  # not rewritten
    assert pl.read_parquet(path).equals(SHAPES["accounts"].build(500, 3))


def test_profile_stages_plugs_in(
    frames: dict[str, pl.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once ``seatcalc.timeline.profile_stages`` exists, its seconds per stage reach the table."""
    from benchmarks import bench_matrix

    seen: dict[str, object] = {}

    def profile_stages(events: object, schedule: object, *, engine: str = "auto") -> dict[str, float]:
        seen.update(engine=engine, lazy=isinstance(events, pl.LazyFrame), schedule=schedule)
        return {name: 0.25 for name in bench_matrix.STAGES}

    module = types.ModuleType("seatcalc.timeline")
    module.profile_stages = profile_stages  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "seatcalc.timeline", module)
    path = tmp_path / "events.parquet"
    frames["arrival"].write_parquet(path)
    stages = bench_matrix._profile(bench_matrix.VARIANTS["sc-scan-mem"], path)
    assert stages == dict.fromkeys(bench_matrix.STAGES, 0.25)
    assert seen == {"engine": "in-memory", "lazy": True, "schedule": SCHEDULE}


def test_a_child_measures_one_run(frames: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    """The matrix's unit of work: one call in a fresh process, its time, rows and peak RSS."""
    from benchmarks.bench_matrix import spawn

    path = tmp_path / "events.parquet"
    frames["few_keys"].write_parquet(path)
    out = tmp_path / "result.parquet"
    spec = {"kind": "measure", "variant": "sc-eager-auto", "path": str(path), "threads": 2, "out": str(out)}
    report, peak = spawn(spec, threads=2)
    expected = billable_seats(frames["few_keys"], SCHEDULE)
    assert report["rows"] == expected.height
    assert 0 < report["seconds"] < 60
    assert peak > report["loaded"] > 0  # the peak of that process, input included
    assert compare_frames(expected, pl.read_parquet(out)) is None
