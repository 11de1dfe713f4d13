"""One rule per input: every path gives the same value the same verdict (and instant).

A fuzzed corpus of timestamps, texts and totals goes through the scalar rule, the wire
models (from a dict and from JSON text), wire records, NDJSON, JSON-array and CSV files,
frames of strings, and the ledger (``create`` and ``create_many``); each path must accept
exactly the values the others accept, read the same instant, and give the same reason.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seatcalc import CreateSeatEventRequest, InvalidSeatEvent, SeatcalcError, SeatLedger, effective_events
from seatcalc.errors import Problem
from seatcalc.io import load_events
from seatcalc.wire import parse_timestamp

BASE = {"customerEventId": "e-1", "customerAlias": "acme", "seatType": "admin", "total": 1}
Verdict = tuple[bool, datetime | None, str | None]  # accepted, instant, reason


def _digits(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: str(n).zfill(width))


OFFSETS = st.one_of(
    st.sampled_from(["Z", "z", "+00:00", "-00:00", "+05:30", "-23:59", "+23:59", "+24:00", "-12:60"]),
    st.sampled_from(["+01", "-0130", "+01:00:00", "", " Z", "+1:00", "UTC", "GMT+1"]),
    st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), _digits(0, 30, 2), _digits(0, 70, 2)),
)
FRACTIONS = st.one_of(
    st.just(""),
    st.integers(1, 9).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)).map(lambda f: "." + f),
    st.sampled_from([".", ",5", ".٥", ".0000000", ".1234567"]),
)
STRUCTURED = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, off: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{off}",
    st.one_of(
        _digits(1960, 2100, 4), _digits(0, 99999, 4), st.sampled_from(["+2025", "-0001", "9999", "0000"])
    ),
    _digits(0, 13, 2),
    _digits(0, 32, 2),
    st.sampled_from(["T", "t", " ", "_"]),
    _digits(0, 25, 2),
    _digits(0, 60, 2),
    _digits(0, 61, 2),
    FRACTIONS,
    OFFSETS,
)
TIMESTAMPS = st.one_of(
    STRUCTURED,
    STRUCTURED.map(lambda t: t.replace("2", "٢")),
    STRUCTURED.map(lambda t: " " + t),
    st.sampled_from(
        [
            "2016-12-31T23:59:60Z",
            "2025-01-01",
            "2025-01-01T00:00",
            "2025-01-01T00:00:00",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:00:00-01:00",
            "1970-01-01T00:00:00+00:01",
            "1970-01-01T00:30:00+00:30",
            "2024-02-29T12:00:00Z",
            "2025-02-29T12:00:00Z",
            "0000-01-01T00:00:00Z",
            "0000-02-30T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "2025-01-01T00:00:00Z\n",
            "2025-01-01\n",
            "2025-01-01T00:00:00\n",
        ]
    ),
    st.text(string.printable, max_size=30),
)


def _scalar(text: str) -> Verdict:
    try:
        return True, parse_timestamp(text), None
    except InvalidSeatEvent as error:
        return False, None, str(error)


def _model(text: str) -> Verdict:
    try:
        request = CreateSeatEventRequest.model_validate({**BASE, "eventTimestamp": text})
        return True, request.event_timestamp, None
    except InvalidSeatEvent as error:
        return False, None, error.problems[0].reason


def _model_json(text: str) -> Verdict:
    try:
        request = CreateSeatEventRequest.model_validate_json(json.dumps({**BASE, "eventTimestamp": text}))
        return True, request.event_timestamp, None
    except InvalidSeatEvent as error:
        return False, None, error.problems[0].reason


def _batch_verdicts(good: pl.DataFrame, problems: list[Problem], count: int) -> list[Verdict]:
    instants = dict(zip(good["sourceRow"].to_list(), good["eventTimestamp"].to_list(), strict=True))
    reasons = {p.row: p.reason for p in problems if p.field == "eventTimestamp"}
    return [(row in instants, instants.get(row), reasons.get(row)) for row in range(count)]


def _records(texts: list[str], _: Path) -> list[Verdict]:
    good, problems = load_events([{**BASE, "eventTimestamp": t} for t in texts])
    return _batch_verdicts(good, problems, len(texts))


def _ndjson(texts: list[str], folder: Path) -> list[Verdict]:
    path = folder / "events.ndjson"
    path.write_text(
        "".join(json.dumps({**BASE, "eventTimestamp": t}) + "\n" for t in texts), encoding="utf-8"
    )
    return _batch_verdicts(*load_events(path), len(texts))


def _json_array(texts: list[str], folder: Path) -> list[Verdict]:
    path = folder / "events.json"
    path.write_text(json.dumps([{**BASE, "eventTimestamp": t} for t in texts]), encoding="utf-8")
    return _batch_verdicts(*load_events(path), len(texts))


def _csv(texts: list[str], folder: Path) -> list[Verdict]:
    path = folder / "events.csv"
    pl.DataFrame({**{k: [v] * len(texts) for k, v in BASE.items()}, "eventTimestamp": texts}).write_csv(path)
    return _batch_verdicts(*load_events(path), len(texts))


def _frame(texts: list[str], _: Path) -> list[Verdict]:
    """A frame of strings given straight to the core: all accepted, or the bad rows named."""
    frame = pl.DataFrame({**{k: [v] * len(texts) for k, v in BASE.items()}, "eventTimestamp": texts})
    frame = frame.with_columns(pl.Series("customerEventId", [f"e-{i}" for i in range(len(texts))]))
    try:
        effective = effective_events(frame).sort("customerEventId")
    except InvalidSeatEvent as error:
        bad = {p.row: p.reason for p in error.problems}
        if len(bad) < len(texts) and len(error.problems) < len(texts):
            # only the first rows are quoted: check those, the rest by the scalar rule
            return [(False, None, bad[i]) if i in bad else _scalar(t) for i, t in enumerate(texts)]
        return [(False, None, bad.get(i)) for i in range(len(texts))]
    by_id = dict(
        zip(effective["customerEventId"].to_list(), effective["eventTimestamp"].to_list(), strict=True)
    )
    return [(True, by_id[f"e-{i}"], None) for i in range(len(texts))]


def _ledger(texts: list[str], _: Path) -> list[Verdict]:
    with SeatLedger.open(account_id="acct") as ledger:
        result = ledger.create_many([{**BASE, "eventTimestamp": t} for t in texts], on_error="skip")
        stored = ledger.events()
    instants = dict(zip(result.ids["receivedSeq"].to_list(), result.ids["sourceRow"].to_list(), strict=True))
    at = {instants[seq]: ts for seq, ts in zip(stored["receivedSeq"], stored["eventTimestamp"], strict=True)}
    reasons = {p.row: p.reason for p in result.problems if p.field == "eventTimestamp"}
    return [(i in at, at.get(i), reasons.get(i)) for i in range(len(texts))]


BATCH_PATHS: dict[str, Callable[[list[str], Path], list[Verdict]]] = {
    "records": _records,
    "ndjson": _ndjson,
    "json-array": _json_array,
    "csv": _csv,
    "frame": _frame,
    "ledger.create_many": _ledger,
}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(TIMESTAMPS, min_size=1, max_size=60))
def test_every_path_gives_a_timestamp_the_same_verdict_and_instant(texts: list[str], tmp_path: Path) -> None:
    expected = [_scalar(t) for t in texts]
    for text, verdict in zip(texts, expected, strict=True):
        assert _model(text) == verdict, text
        assert _model_json(text) == verdict, text
    for name, path in BATCH_PATHS.items():
        got = path(texts, tmp_path)
        for text, want, have in zip(texts, expected, got, strict=True):
            if name == "csv" and text == "":
                assert have[0] is False  # CSV has no empty string: it reads back as missing
                continue
            assert have == want, (name, text)


@settings(max_examples=200)
@given(text=TIMESTAMPS)
def test_ledger_create_agrees_with_the_rule(text: str) -> None:
    accepted, instant, _ = _scalar(text)
    with SeatLedger.open(account_id="acct") as ledger:
        try:
            event = ledger.create({**BASE, "eventTimestamp": text})
        except InvalidSeatEvent:
            assert not accepted, text
            assert len(ledger) == 0
        else:
            assert accepted and event.event_timestamp == instant
            assert ledger.get(event.id).event_timestamp == instant


def test_the_rule_by_hand() -> None:
    utc = datetime(2022, 10, 1, tzinfo=UTC)
    assert parse_timestamp("2022-10-01T02:00:00+02:00") == utc
    assert parse_timestamp("2022-10-01t00:00:00z") == utc
    assert parse_timestamp("2022-09-30T23:30:00.000001-00:30") == utc.replace(microsecond=1)
    refusals = {
        "2016-12-31T23:59:60Z": "leap second",
        "2022-10-01T00:00:00.1234567Z": "more than 6 fractional digits",
        "2022-10-01T00:00:00.123456789Z": "more than 6 fractional digits",
        "+2025-01-01T00:00:00Z": "signed or 5-digit year",
        "12025-01-01T00:00:00Z": "signed or 5-digit year",
        "2025-01-01T00:00:00+01": "not written ±hh:mm",
        "2025-01-01T00:00:00+0100": "not written ±hh:mm",
        "2025-01-01T00:00:00+24:00": "outside ±23:59",
        "2025-02-29T00:00:00Z": "does not exist",
        "2025-01-01": "date only",
        "2025-01-01T00:00:00": "no UTC offset",
        "2025-01-01 00:00:00Z": "not an RFC 3339",
        "２０２５-01-01T00:00:00Z": "not an RFC 3339",
        "1969-12-31T23:59:59.999999Z": "outside 1970",
        "9999-12-31T23:59:59-00:01": "outside 1970",
    }
    for text, reason in refusals.items():
        with pytest.raises(InvalidSeatEvent, match=reason):
            parse_timestamp(text)


TEXTS = st.one_of(
    st.text(max_size=8),
    st.text(min_size=250, max_size=260),
    st.sampled_from(["", "a\x00b", "\x7f", "\x85", "\u200b", "\ud800", "x\udfff", "é" * 256, "é" * 257, " "]),
)


def _text_verdicts(aliases: list[str], folder: Path) -> dict[str, list[bool]]:
    rows = [{**BASE, "eventTimestamp": "2025-01-01T00:00:00Z", "customerAlias": a} for a in aliases]
    verdicts: dict[str, list[bool]] = {}
    good, _ = load_events(rows)
    verdicts["records"] = [i in set(good["sourceRow"].to_list()) for i in range(len(rows))]
    path = folder / "texts.ndjson"
    path.write_bytes(b"".join(json.dumps(row).encode() + b"\n" for row in rows))  # \ud800 stays escaped
    good, _ = load_events(path)
    verdicts["ndjson"] = [i in set(good["sourceRow"].to_list()) for i in range(len(rows))]
    with SeatLedger.open(account_id="acct") as ledger:
        result = ledger.create_many(rows, on_error="skip")
        verdicts["ledger"] = [i in set(result.ids["sourceRow"].to_list()) for i in range(len(rows))]
    model = []
    for row in rows:
        try:
            CreateSeatEventRequest.model_validate(row)
            model.append(True)
        except InvalidSeatEvent:
            model.append(False)
    verdicts["model"] = model
    return verdicts


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(aliases=st.lists(TEXTS, min_size=1, max_size=30))
def test_every_path_gives_a_text_the_same_verdict(aliases: list[str], tmp_path: Path) -> None:
    verdicts = _text_verdicts(aliases, tmp_path)
    for index, alias in enumerate(aliases):
        expected = (
            0 < len(alias) <= 256
            and all(not ("\x00" <= c <= "\x1f" or "\x7f" <= c <= "\x9f") for c in alias)
            and not any("\ud800" <= c <= "\udfff" for c in alias)
        )
        for name, got in verdicts.items():
            assert got[index] is expected, (name, alias)


JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=300)
@given(total=JSON_VALUES)
def test_every_path_gives_a_total_the_same_verdict(total: Any) -> None:
    row = {**BASE, "eventTimestamp": "2025-01-01T00:00:00Z", "total": total}
    expected = type(total) is int and 0 <= total <= 2_147_483_647
    try:
        CreateSeatEventRequest.model_validate(row)
        assert expected
    except InvalidSeatEvent:
        assert not expected
    text = json.dumps(row)
    try:
        CreateSeatEventRequest.model_validate_json(text)
        assert expected
    except InvalidSeatEvent:
        assert not expected
    good, problems = load_events([row])
    assert (good.height == 1) is expected
    assert all(p.field == "total" for p in problems)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"customerAlias": "a", "customerAlias": "b"}', "appears twice"),
        ('{"customerAlias": "\\ud800"}', "lone surrogate"),
        ("[" * 10_000 + "]" * 10_000, "nesting"),
        ('{"total": ' + "9" * 5000 + "}", "too long"),
        ('{"total": NaN}', "not a JSON number"),
        ("\xff\xfe{", "not JSON"),
        ("", "not JSON"),
    ],
)
def test_json_text_rules_hold_for_the_model(text: str, reason: str) -> None:
    with pytest.raises(InvalidSeatEvent, match=reason) as error:
        CreateSeatEventRequest.model_validate_json(text)
    assert isinstance(error.value, SeatcalcError) and isinstance(error.value, ValueError)


def test_ndjson_lines_that_break_json_rules_are_named_rows(tmp_path: Path) -> None:
    good = json.dumps({**BASE, "eventTimestamp": "2025-01-01T00:00:00Z"})
    path = tmp_path / "events.ndjson"
    path.write_bytes(
        (good + "\n" + '{"customerAlias": "a", "customerAlias": "b"}\n' + good + "\n").encode()
        + b"\xff\xfe garbage\n"
        + ('{"total": ' + "9" * 5000 + "}\n").encode()
    )
    rows, problems = load_events(path)
    assert rows["sourceRow"].to_list() == [0, 2]
    by_row = {p.row: p.reason for p in problems}
    assert "appears twice" in by_row[1] and "UTF-8" in by_row[3] and "too long" in by_row[4]


@pytest.mark.parametrize(
    "text",
    [
        "0000-01-01T00:00:00Z",
        "0000-02-30T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-00:01",
        "2025-01-01T00:00:00Z\n",
        "2025-01-01\n",
        "2025-01-01T00:00:00\n",
        "2025-01-01T00:00:00.Z",
        "2025-01-01T00:00:00+01:00:00",
    ],
)
def test_edge_timestamps_get_one_verdict_per_value_and_per_batch(text: str, tmp_path: Path) -> None:
    """The rule is evaluated per value (Python) and per batch (polars): the same answer."""
    assert _records([text], tmp_path) == [_scalar(text)] == _frame([text], tmp_path)
