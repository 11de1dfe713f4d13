"""Storage of seat events (SPEC §7): :class:`SeatLedger`, in memory or in an SQLite file.

The ledger is an adapter around the core: it stores what the wire models accept, and hands
its events to the same functions as any frame (``events()`` → ``billable_seats``).
"""

from __future__ import annotations

from seatcalc.ledger.bulk import CreateManyResult
from seatcalc.ledger.errors import InvalidLedgerArgument
from seatcalc.ledger.ledger import EVENT_COLUMNS, SeatLedger
from seatcalc.ledger.pages import Pagination, SeatEventPage

__all__ = [
    "EVENT_COLUMNS",
    "CreateManyResult",
    "InvalidLedgerArgument",
    "Pagination",
    "SeatEventPage",
    "SeatLedger",
]
