"""Keys are numbered exactly (no hash): key codes sort as the key texts do."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

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
