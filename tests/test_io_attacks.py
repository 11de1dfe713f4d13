"""Garbage files through the one event loader: a SeatcalcError leaf naming the file or row,
never a raw polars, Unicode or OS error, and nothing read from a bad row."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seatcalc import SeatcalcError, SeatLedger
from seatcalc.errors import InvalidEventFrame, InvalidSeatEvent
from seatcalc.io import load_events, read_events

EVENT = {"customerAlias": "a", "seatType": "x", "eventTimestamp": "2025-01-01T00:00:00Z", "total": 1}


def _refused(path: Path) -> SeatcalcError:
    with pytest.raises(SeatcalcError) as error:
        read_events(path)
    assert isinstance(error.value, ValueError | TypeError)
    return error.value


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "ragged.csv",
            b"customerAlias,seatType,eventTimestamp,total\na,x,2025-01-01T00:00:00Z,1,9\nb\n",
            "CSV",
        ),
        ("empty.csv", b"", "is missing"),
        ("garbage.parquet", b"PAR1 this is not parquet", "PARQUET"),
        ("utf16.ndjson", json.dumps(EVENT).encode("utf-16"), "UTF-8"),
        ("bytes.ndjson", bytes(range(256)), "row"),
        ("nested.json", b"[" * 100_000 + b"]" * 100_000, "nesting"),
        ("object.json", b'{"x": [1, 2]}', "is not a field"),
        ("array-field.ndjson", json.dumps({**EVENT, "customerAlias": ["a"]}).encode(), "must be a string"),
        ("object-field.ndjson", json.dumps({**EVENT, "total": {"n": 1}}).encode(), "JSON integer"),
        ("surrogate.ndjson", b'{"customerAlias": "\\ud800", "seatType": "x"}', "surrogate"),
        ("events.txt", b"", "must end in"),
    ],
)
def test_a_garbage_file_is_refused_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert reason in str(_refused(path))


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    assert "is a directory" in str(_refused(tmp_path))


def test_a_json_array_file_reads_like_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps([EVENT, {**EVENT, "total": 3}]))
    assert read_events(path)["total"].to_list() == [1, 3]


def test_an_export_of_stored_events_bills_and_imports(tmp_path: Path) -> None:
    with SeatLedger.open(account_id="acct") as ledger:
        created = ledger.create(EVENT)
        export = tmp_path / "export.ndjson"
        export.write_text(created.to_json() + "\n")
        stored = ledger.events()
    # read for billing: the account and id ride along
    frame = read_events(export)
    assert frame["sequenceAccountId"].to_list() == ["acct"] and frame["id"].to_list() == [created.id]
    stored.write_parquet(tmp_path / "export.parquet")
    assert read_events(tmp_path / "export.parquet")["receivedSeq"].to_list() == [1]
    with SeatLedger.open(account_id="acct") as other:
        assert other.create_many(export).created == 1
    with (
        SeatLedger.open(account_id="elsewhere") as other,
        pytest.raises(InvalidSeatEvent, match="another account"),
    ):
        other.create_many(export)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".ndjson", ".json", ".csv", ".parquet"]))
def test_random_bytes_never_escape_as_a_raw_error(tmp_path: Path, content: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(content)
    try:
        good, problems = load_events(path)
    except SeatcalcError as error:
        assert isinstance(error, ValueError | TypeError) and str(error)
        return
    assert isinstance(good, pl.DataFrame)
    assert {p.row for p in problems}.isdisjoint(good["sourceRow"].to_list())


@settings(max_examples=150)
@given(
    records=st.lists(
        st.one_of(
            st.dictionaries(
                st.sampled_from(sorted(EVENT)) | st.text(max_size=3), st.none() | st.integers() | st.text()
            ),
            st.none(),
            st.integers(),
            st.lists(st.integers(), max_size=2),
        ),
        max_size=5,
    )
)
def test_random_records_never_escape_as_a_raw_error(records: list[object]) -> None:
    try:
        good, problems = load_events(records)  # type: ignore[arg-type]
    except InvalidEventFrame:
        return
    rejected = {p.row for p in problems}
    assert set(good["sourceRow"].to_list()) | rejected == set(range(len(records)))
