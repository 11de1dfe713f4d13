"""seatcalc: seat events in, billable seats and exact charges out."""

from __future__ import annotations

# Errors
from seatcalc.errors import (
    FrameSchemaError,
    InvalidEventFrame,
    InvalidPrice,
    InvalidSchedule,
    InvalidSeatEvent,
    LedgerError,
    SeatcalcError,
    SeatEventNotFound,
)

# Wire models
from seatcalc.events import CreateSeatEventRequest, SeatEvent
from seatcalc.measures import billable_seats, seat_balances

# Billing schedules
from seatcalc.periods import BillingSchedule, billing_periods

# Supersession and balances
from seatcalc.supersession import effective_events, seat_log

__all__ = [
    "BillingSchedule",
    "CreateSeatEventRequest",
    "FrameSchemaError",
    "InvalidEventFrame",
    "InvalidPrice",
    "InvalidSchedule",
    "InvalidSeatEvent",
    "LedgerError",
    "SeatEvent",
    "SeatEventNotFound",
    "SeatcalcError",
    "billable_seats",
    "billing_periods",
    "effective_events",
    "seat_balances",
    "seat_log",
]

__version__ = "0.1.0"
