"""A billing run split into independent buckets: the two passes that every path beyond one
in-memory frame (the partitioned run, Spark) makes, each bucket running the in-memory
kernels, so no rule is written twice.

1. **Versions.** All versions of one fact (``sequenceAccountId``?, ``customerEventId``)
   land in one bucket, ``version_bucket``; :func:`resolve_versions` keeps the winner of
   each fact (SPEC §2). A null ``customerEventId`` is a fact of its own and may land in
   any bucket. This pass comes first: a winning version may move an event to another
   customer or seat type.
2. **Keys.** The effective events of one key (``sequenceAccountId``?, ``customerAlias``,
   ``seatType``) land in one bucket, ``key_bucket``; :func:`bill_effective` and
   :func:`price_effective` compute that bucket's periods and lines.

Receipt order must be global: every row is validated and carries its ``receivedSeq``
before pass 1 (the caller numbers the rows of a source without one, in source order), and
pass 2 hands it to the kernels, which break same-instant ties by it. Bucket numbers are
``hash mod buckets`` of the fact or key columns; any hash works, as long as one run uses
one. :mod:`seatcalc.partitioned` runs the two passes on one machine.
"""

from __future__ import annotations

import polars as pl

from seatcalc.frames import EVENT_ID, RECEIVED, fact_columns, key_columns_of
from seatcalc.measures import billable_seats
from seatcalc.periods import Until
from seatcalc.pricing import Prices, price_seats, price_seats_and_unpriced
from seatcalc.schedules import Schedules
from seatcalc.supersession import SEQ, SupersedeBy, check_policy, resolve

__all__ = [
    "bill_effective",
    "key_bucket",
    "price_effective",
    "price_effective_and_unpriced",
    "resolve_versions",
    "version_bucket",
]


def version_bucket(names: list[str], buckets: int) -> pl.Expr:
    """Pass 1 bucket of each row: by fact; a row without ``customerEventId`` by its
    ``receivedSeq`` (it shares its fact with no other row)."""
    by_fact = pl.struct(fact_columns(names)).hash(seed=0)
    by_receipt = pl.col(RECEIVED).hash(seed=0)
    return (pl.when(pl.col(EVENT_ID).is_null()).then(by_receipt).otherwise(by_fact) % buckets).cast(pl.UInt32)


def key_bucket(names: list[str], buckets: int) -> pl.Expr:
    """Pass 2 bucket of each effective event: by key."""
    return (pl.struct(key_columns_of(names)).hash(seed=0) % buckets).cast(pl.UInt32)


def resolve_versions(events: pl.DataFrame, supersede_by: SupersedeBy = "eventTimestamp") -> pl.DataFrame:
    """The winning version of every fact in one pass-1 bucket (all columns kept, rows in no
    particular order). The rows are validated and carry the global ``receivedSeq``."""
    check_policy(supersede_by)
    ordered = events.lazy().with_columns(pl.col(RECEIVED).alias(SEQ))
    return resolve(ordered, supersede_by).drop(SEQ).collect()


def _as_facts(effective: pl.DataFrame) -> pl.DataFrame:
    """Effective events, each a fact of its own: the kernels resolve nothing again."""
    return effective.with_columns(pl.lit(None, dtype=pl.String).alias(EVENT_ID))


def bill_effective(effective: pl.DataFrame, schedule: Schedules, *, until: Until = None) -> pl.DataFrame:
    """``billable_seats`` of the effective events of whole keys (one pass-2 bucket)."""
    return billable_seats(_as_facts(effective), schedule, until=until)


def price_effective(
    effective: pl.DataFrame,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    rounding: str = "ROUND_HALF_UP",
    unpriced: str = "skip",
) -> pl.DataFrame:
    """``price_seats`` of the effective events of whole keys (one pass-2 bucket)."""
    facts = _as_facts(effective)
    return price_seats(facts, schedule, prices, until=until, rounding=rounding, unpriced=unpriced)


def price_effective_and_unpriced(
    effective: pl.DataFrame,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    rounding: str = "ROUND_HALF_UP",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``price_seats_and_unpriced`` of one pass-2 bucket: its lines (unpriced keys
    skipped) and its unpriced keys, so that a run can name all of them at once."""
    return price_seats_and_unpriced(_as_facts(effective), schedule, prices, until=until, rounding=rounding)
