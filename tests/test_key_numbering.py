"""Keys are matched through a 64-bit hash; a collision must fall back to the key text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import seatcalc.timeline as timeline
from seatcalc import BillingSchedule, billable_seats


def _events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customerAlias": ["acme", "acme", "beta", "beta"],
            "seatType": ["admin", "viewer", "admin", "admin"],
            "eventTimestamp": [
                datetime(2025, 1, 1, tzinfo=UTC),
                datetime(2025, 1, 5, tzinfo=UTC),
                datetime(2025, 1, 10, tzinfo=UTC),
                datetime(2025, 1, 20, tzinfo=UTC),
            ],
            "total": [3, 7, 2, 9],
        }
    )


def test_every_key_colliding_gives_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))
    expected = billable_seats(_events(), schedule)
    # Hand check of the untouched path: beta/admin holds 0 for 9 days, 2 for 10, 9 for 12.
    beta = expected.filter(pl.col("customerAlias") == "beta")
    assert beta["seatDays"].to_list() == [9 * 0 + 10 * 2 + 12 * 9]

    monkeypatch.setattr(timeline, "key_hash", lambda keys: pl.lit(0, dtype=pl.UInt64))
    assert_frame_equal(billable_seats(_events(), schedule), expected)
