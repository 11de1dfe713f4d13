"""JSON shapes of responses: frames and models out as the wire expects them."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from seatcalc.events import SeatEvent, format_timestamp
from seatcalc.ledger.store import SEGMENT_COLUMNS, from_micros

__all__ = ["customer_balances", "dump", "event_json", "frame_items", "stored_events"]


def dump(value: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def event_json(event: SeatEvent) -> dict[str, Any]:
    """A seat event as its wire dict (camelCase, ``Z`` timestamps)."""
    wire: dict[str, Any] = event.model_dump(by_alias=True, mode="json")
    return wire


def stored_events(
    conn: sqlite3.Connection, account_key: int, account_id: str, first: int, last: int
) -> list[dict[str, Any]]:
    """The events ``first..last`` (receipt order) of an account, read inside a transaction."""
    rows = conn.execute(
        f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM seat_events WHERE accountKey = ? "
        "AND receivedSeq BETWEEN ? AND ? ORDER BY receivedSeq",
        (account_key, first, last),
    ).fetchall()
    return [
        {
            "id": row[1],
            "customerEventId": row[2],
            "customerAlias": row[3],
            "seatType": row[4],
            "sequenceAccountId": account_id,
            "eventTimestamp": format_timestamp(from_micros(int(row[5]))),
            "total": int(row[6]),
        }
        for row in rows
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def frame_items(frame: pl.DataFrame, *, as_text: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts: instants as ``Z`` strings, decimals (and ``as_text``
    columns, e.g. exact integers past 2⁵³) as decimal strings."""
    frame = frame.with_columns(pl.col(name).cast(pl.String) for name in as_text if name in frame.columns)
    return [{key: _cell(value) for key, value in row.items()} for row in frame.iter_rows(named=True)]


def customer_balances(balances: pl.DataFrame, *, exclude_zero: bool) -> list[dict[str, Any]]:
    """The reference's ``CustomerSeatBalances``: one item per customer (its alias is its id
    and name), its seat types' balances, their sum and the latest change."""
    items: list[dict[str, Any]] = []
    frame = balances.sort("customerAlias", "seatType")
    for (alias,), group in frame.group_by("customerAlias", maintain_order=True):
        rows = list(group.iter_rows(named=True))
        total = sum(int(row["total"]) for row in rows)
        if exclude_zero and total == 0:
            continue
        items.append(
            {
                "id": alias,
                "sequenceAccountId": rows[0]["sequenceAccountId"],
                "legalName": alias,
                "customerAliases": [alias],
                "total": total,
                "changeTimestamp": format_timestamp(max(row["changeTimestamp"] for row in rows)),
                "balances": [
                    {
                        "seatType": row["seatType"],
                        "total": int(row["total"]),
                        "changeTimestamp": format_timestamp(row["changeTimestamp"]),
                    }
                    for row in rows
                ],
            }
        )
    return items
