"""Which version of a seat event counts (SPEC §2), and the seat log (SPEC §3).

Versions share a ``customerEventId`` (within one ``sequenceAccountId`` when the frame has
that column). With ``supersede_by="eventTimestamp"`` the latest ``eventTimestamp`` wins and
equal timestamps go to the version received later; with ``supersede_by="received"`` the
version received last wins whatever its timestamp. Receipt order is ``receivedSeq`` when
present, else the input row order. A null ``customerEventId`` is a fact of its own.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from seatcalc.errors import InvalidArgument
from seatcalc.frames import (
    EVENT_ID,
    RECEIVED,
    TIMESTAMP,
    TOTAL,
    EventRanges,
    FrameT,
    checked_events,
    eager_or_lazy,
    fact_columns,
    key_columns,
)

__all__ = ["SupersedeBy", "effective_events", "seat_log"]

SupersedeBy = Literal["eventTimestamp", "received"]

SEQ = "__seq"
"""Receipt order as used internally: ``receivedSeq``, or the input row position."""


def with_receipt_order(events: pl.LazyFrame) -> tuple[pl.LazyFrame, EventRanges]:
    """Validate ``events`` and add the internal receipt order column ``__seq``."""
    events, ranges = checked_events(events)
    if RECEIVED in events.collect_schema().names():
        return events.with_columns(pl.col(RECEIVED).alias(SEQ)), ranges
    return events.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64)), ranges


POLICIES: tuple[SupersedeBy, ...] = ("eventTimestamp", "received")


def check_policy(supersede_by: object) -> None:
    """Raise :class:`InvalidArgument` unless ``supersede_by`` names a policy of SPEC §2."""
    if not isinstance(supersede_by, str) or supersede_by not in POLICIES:
        rule = "must be 'eventTimestamp' or 'received'"
        raise InvalidArgument.for_value("supersede_by", supersede_by, rule)


def resolve(events: pl.LazyFrame, supersede_by: SupersedeBy) -> pl.LazyFrame:
    """Keep the effective version of every fact (input must carry ``__seq``).

    Most facts have one version. Rows whose fact (account?, ``customerEventId``) has a
    64-bit hash that another row also has *may* share a fact; only those are resolved, by the exact ids (a
    hash collision only makes a few more candidates, never a wrong winner). The repeated
    hashes are found by sorting the hashes (several times cheaper than grouping by them).
    """
    check_policy(supersede_by)
    names = events.collect_schema().names()
    if EVENT_ID not in names:  # every event a fact of its own
        return events
    fact = fact_columns(names)
    frame = events.collect()
    ids = frame.get_column(EVENT_ID)
    # the whole fact is hashed: ids that repeat across accounts are no candidates
    hashed = frame.select(pl.struct(fact).hash(seed=0)).to_series() if len(fact) > 1 else ids.hash(seed=0)
    ordered = hashed.filter(ids.is_not_null()).sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    candidate = ids.is_not_null() & hashed.is_in(repeated.implode())
    versions = frame.filter(candidate)
    latest = pl.col(SEQ)  # receipts are unique: one winner per fact
    if supersede_by == "eventTimestamp" and versions.height:
        # (instant, receipt) as one Int128: one window instead of two. Instants span less
        # than 2^58 µs and receipts less than 2^64, so the pair fits.
        micros = pl.col(TIMESTAMP).dt.epoch("us")
        first_micros, first_seq = versions.select(micros.min(), pl.col(SEQ).min()).row(0)
        instant = (micros - first_micros).cast(pl.Int128)
        latest = instant * pl.lit(1 << 64, pl.Int128) + (pl.col(SEQ).cast(pl.Int128) - first_seq)
    winners = versions.lazy().filter(latest == latest.max().over(fact))
    return pl.concat([frame.filter(~candidate).lazy(), winners])


def collapse_instants(events: pl.LazyFrame) -> pl.LazyFrame:
    """Of several effective events of one key at one instant keep the last received."""
    same_instant = [*key_columns(events), TIMESTAMP]
    return events.filter(pl.col(SEQ) == pl.col(SEQ).max().over(same_instant))


def effective_events(events: FrameT, *, supersede_by: SupersedeBy = "eventTimestamp") -> FrameT:
    """The winning version of every seat event, all input columns kept.

    Sorted by key (account?, customerAlias, seatType), eventTimestamp, then receipt order.

    >>> from datetime import datetime, UTC
    >>> t = datetime(2025, 1, 1, tzinfo=UTC)
    >>> events = pl.DataFrame({"customerEventId": ["e1", "e1"], "customerAlias": ["acme"] * 2,
    ...     "seatType": ["admin"] * 2, "eventTimestamp": [t, t], "total": [3, 5]})
    >>> effective_events(events)["total"].to_list()  # same timestamp: received later wins
    [5]
    """

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        frame = resolve(with_receipt_order(frame)[0], supersede_by)
        return frame.sort([*key_columns(frame), TIMESTAMP, SEQ]).drop(SEQ)

    check_policy(supersede_by)
    return eager_or_lazy(events, compute)


def seat_log(events: FrameT, *, supersede_by: SupersedeBy = "eventTimestamp") -> FrameT:
    """Effective events in order with the seats each one ``added`` and ``removed``.

    ``added = max(0, total − b(t⁻))`` and ``removed = max(0, b(t⁻) − total)``, where
    ``b(t⁻)`` is the balance just before the event's instant (0 before the first event).
    Of several events at one instant only the last received appears.

    >>> from datetime import datetime, UTC
    >>> events = pl.DataFrame({"customerAlias": ["acme"] * 3, "seatType": ["admin"] * 3,
    ...     "eventTimestamp": [datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
    ...     "total": [3, 5, 1]})
    >>> seat_log(events).select("total", "added", "removed").rows()
    [(3, 3, 0), (5, 2, 0), (1, 0, 4)]
    """

    def compute(frame: pl.LazyFrame) -> pl.LazyFrame:
        frame = collapse_instants(resolve(with_receipt_order(frame)[0], supersede_by))
        keys: list[str] = key_columns(frame)
        before = pl.col(TOTAL).shift(1, fill_value=0).over(keys, order_by=TIMESTAMP)
        return (
            frame.with_columns(
                added=(pl.col(TOTAL) - before).clip(lower_bound=0),
                removed=(before - pl.col(TOTAL)).clip(lower_bound=0),
            )
            .sort([*keys, TIMESTAMP])
            .drop(SEQ)
        )

    check_policy(supersede_by)
    return eager_or_lazy(events, compute)
