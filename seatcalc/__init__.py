"""seatcalc: seat events in, billable seats and exact charges out."""

from __future__ import annotations

# Errors
from seatcalc.errors import (
    FrameSchemaError,
    InvalidArgument,
    InvalidEventFrame,
    InvalidPrice,
    InvalidSchedule,
    InvalidSeatEvent,
    LedgerError,
    SeatcalcError,
    SeatEventNotFound,
    SeatsNotFound,
)

# Wire models
from seatcalc.events import CreateSeatEventRequest, SeatEvent

# Explanations and restatements
from seatcalc.explain import Explanation, explain

# Storage
from seatcalc.ledger import SeatLedger
from seatcalc.measures import billable_seats, seat_balances

# Billing schedules
from seatcalc.periods import BillingSchedule, billing_periods

# Prices and charges
from seatcalc.pricing import (
    BillingType,
    LineType,
    ProrationStrategy,
    SeatPrice,
    SeatUsageTier,
    TierMode,
    price_seats,
)
from seatcalc.restate import restate

# Supersession and balances
from seatcalc.supersession import effective_events, seat_log

__all__ = [
    "BillingSchedule",
    "BillingType",
    "CreateSeatEventRequest",
    "Explanation",
    "FrameSchemaError",
    "InvalidArgument",
    "InvalidEventFrame",
    "InvalidPrice",
    "InvalidSchedule",
    "InvalidSeatEvent",
    "LedgerError",
    "LineType",
    "ProrationStrategy",
    "SeatEvent",
    "SeatEventNotFound",
    "SeatLedger",
    "SeatPrice",
    "SeatUsageTier",
    "SeatcalcError",
    "SeatsNotFound",
    "TierMode",
    "billable_seats",
    "billing_periods",
    "effective_events",
    "explain",
    "price_seats",
    "restate",
    "seat_balances",
    "seat_log",
]

__version__ = "0.1.0"
