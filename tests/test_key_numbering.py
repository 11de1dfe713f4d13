"""Keys are numbered exactly (no hash): key codes sort as the key texts do."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import seatcalc.timeline as timeline
from seatcalc import BillingSchedule, billable_seats
from seatcalc.timeline import KeyCodes

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=4)


@given(st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=40))
def test_codes_sort_as_keys_and_decode_back(rows: list[tuple[str, str, str]]) -> None:
    keys = ["sequenceAccountId", "customerAlias", "seatType"]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(keys, pl.String), orient="row")
    codes = KeyCodes(keys, [frame.get_column(k).unique().sort() for k in keys])
    coded = frame.with_columns(codes.code().alias("__code"))
    # equal keys, equal codes; different keys, different codes; order of codes = order of keys
    by_key = coded.unique().sort(keys)
    assert by_key.get_column("__code").is_sorted()
    assert by_key.get_column("__code").n_unique() == by_key.height
    ordered = by_key.select(pl.col("__code"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("__kid")).select(
        "__kid", "__code"
    )
    assert codes.key_table(ordered).drop("__kid").rows() == by_key.select(keys).rows()


def test_aliases_that_share_prefixes_bill_in_key_order() -> None:
    aliases = ["b", "a", "ab", "a\u00e9", "B", "a b", "\u00e9"]
    events = pl.DataFrame(
        {
            "customerAlias": aliases,
            "seatType": ["admin"] * len(aliases),
            "eventTimestamp": [datetime(2025, 1, 1 + i, tzinfo=UTC) for i in range(len(aliases))],
            "total": list(range(1, len(aliases) + 1)),
        }
    )
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    seats = billable_seats(events, schedule)
    assert seats["customerAlias"].to_list() == sorted(aliases, key=lambda a: a.encode())
    # each key holds its total from its own day: 31 - i days of i + 1 seats
    by_alias = dict(zip(seats["customerAlias"], seats["seatDays"], strict=True))
    assert by_alias == {alias: (31 - i) * (i + 1) for i, alias in enumerate(aliases)}


def test_rows_cut_into_chunks_between_keys_give_the_same_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large inputs run as independent chunks of whole keys: the frames do not change."""
    from benchmarks.generate import generate_events
    from seatcalc import SeatPrice, price_seats

    events = generate_events(3_000, customers=40, seed=5)
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))
    prices = [
        SeatPrice(seatType=name, currency="GBP", pricePerSeat="3.10", prorationStrategy="PRORATE_INCREMENTS")
        for name in events["seatType"].unique().sort()
    ]
    whole = billable_seats(events, schedule), price_seats(events, schedule, prices)
    ordered_kids = pl.Series("__kid", [0, 0, 1, 1, 1, 2, 3, 3, 3, 3], dtype=pl.UInt32).to_frame()
    monkeypatch.setattr(timeline, "_CHUNK_ROWS", 2)
    monkeypatch.setattr(timeline.pl, "thread_pool_size", lambda: 3)
    chunks = timeline.key_chunks(ordered_kids)
    assert [chunk["__kid"].to_list() for chunk in chunks] == [[0, 0], [1, 1, 1, 2], [3, 3, 3, 3]]
    for engine in ("in-memory", "streaming"):
        seats = billable_seats(events.lazy(), schedule).collect(engine=engine)
        lines = price_seats(events.lazy(), schedule, prices).collect(engine=engine)
        assert_frame_equal(seats, whole[0])
        assert_frame_equal(lines, whole[1])


def test_instants_spanning_millennia_with_many_keys_sort_as_each_key_alone() -> None:
    """Many keys (7 code bits) and instants from 1971 to 9989 (58 bits) overflow the high
    sort word: the instant's low bits move to the low word. Each key billed alone (no key
    bits) must give the same rows, same-instant events included."""
    instants = [
        datetime(1971, 1, 1, tzinfo=UTC),
        datetime(9981, 3, 1, tzinfo=UTC),
        datetime(9989, 6, 1, 12, tzinfo=UTC),
    ]
    rows = [
        (f"c{key:03d}", instants[i % 3].replace(second=key % 60), (key * 7 + i) % 11)
        for key in range(100)
        for i in range(4)
    ]
    rows += [
        (alias, instant, total + 1) for alias, instant, total in rows[::5]
    ]  # same instants, received later
    events = pl.DataFrame(
        {
            "customerAlias": [alias for alias, _, _ in rows],
            "seatType": ["admin"] * len(rows),
            "eventTimestamp": [instant for _, instant, _ in rows],
            "total": [total for _, _, total in rows],
        }
    )
    schedule = BillingSchedule(date(9980, 1, 1), "1y", end=date(9990, 1, 1))
    together = billable_seats(events, schedule)
    alone = pl.concat(
        billable_seats(events.filter(pl.col("customerAlias") == alias), schedule)
        for alias in sorted(events["customerAlias"].unique())
    )
    assert together.height == 100 * 10
    assert_frame_equal(together, alone)
