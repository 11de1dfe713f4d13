"""Seeded, vectorised generator of realistic raw seat events (SPEC §1 columns + ``receivedSeq``).

The shape of the data, so a benchmark exercises every rule of SPEC §2–§5:

* customers have heavy-tailed activity (a few big accounts, a long tail of small ones) and
  onboard at different times, some before the span's start (carry-in), some during it;
* each customer uses 1..``seat_types`` seat types, the first names most often;
* ``total`` is a random walk per (customer, seat type), reflected at 0, with rare resets to 0
  (churn) after which the walk goes on from 0; a few keys start at 0;
* timestamps are mostly to the second or the microsecond; about 5% sit at exact UTC midnights
  (so some land on period boundaries) and about 4% repeat the instant of the key's previous
  event (ties, resolved by receipt order);
* about ``superseded_share`` of the rows are later *versions* of an earlier fact: same
  ``customerEventId``, a different ``total``, half of them with the timestamp moved earlier or
  later, a few moved to another seat type, always received later (larger ``receivedSeq``);
* the rows are shuffled with the seed, so nothing can rely on input order.

No Python loop runs per event: 10M rows take a few seconds and well under 3 GB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

__all__ = ["SEAT_TYPE_NAMES", "generate_events", "monthly_periods"]

SEAT_TYPE_NAMES = (
    "editor",
    "viewer",
    "admin",
    "guest",
    "developer",
    "analyst",
    "designer",
    "manager",
    "support",
    "contractor",
)

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
MAX_TOTAL = 2_147_483_647
CARRY_IN_DAYS = 90  # the earliest customers onboard this long before the span's start

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError(f"start must be timezone-aware, got {instant!r}")
    return (instant - _EPOCH) // timedelta(microseconds=1)


def _seat_type_names(seat_types: int) -> list[str]:
    names = list(SEAT_TYPE_NAMES[:seat_types])
    names += [f"type-{i}" for i in range(len(names), seat_types)]
    return names


def generate_events(
    n_events: int,
    *,
    customers: int,
    seat_types: int = 3,
    superseded_share: float = 0.05,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    span_days: int = 365,
    seed: int = 0,
) -> pl.DataFrame:
    """``n_events`` raw seat events (superseded versions included), shuffled, reproducible.

    Columns: ``customerEventId`` (String, ``"evt-<n>"``), ``customerAlias`` (``"cust-000123"``),
    ``seatType`` (String), ``eventTimestamp`` (Datetime(us, UTC)), ``total`` (Int64, 0 ≤ total
    ≤ 2³¹−1) and ``receivedSeq`` (Int64, unique, 1..n_events, the receipt order).
    """
    if n_events < 0 or customers < 1 or seat_types < 1:
        raise ValueError("need n_events >= 0, customers >= 1, seat_types >= 1")
    if not 0.0 <= superseded_share < 1.0:
        raise ValueError(f"superseded_share must be in [0, 1), got {superseded_share}")
    rng = np.random.default_rng(seed)
    n_ver = round(n_events * superseded_share) if n_events > 1 else 0
    n_base = n_events - n_ver

    start_us = _epoch_us(start)
    span_us = span_days * US_PER_DAY
    end_us = start_us + span_us
    earliest_us = start_us - CARRY_IN_DAYS * US_PER_DAY

    # -- customers: heavy-tailed activity, staggered onboarding, 1..seat_types types used ----
    activity = rng.lognormal(0.0, 1.0, customers)
    activity /= activity.sum()
    # ~40% onboard before the span (carry-in), the rest over the first 80% of it.
    onboard = earliest_us + (rng.random(customers) ** 1.5 * 0.8 * (end_us - earliest_us)).astype(np.int64)
    types_used = 1 + np.floor(rng.random(customers) ** 1.3 * seat_types).astype(np.int64)
    types_used = np.minimum(types_used, seat_types)

    # -- base facts, generated grouped by customer (a multinomial draw, no per-event choice) ---
    per_customer = rng.multinomial(n_base, activity)
    cust = np.repeat(np.arange(customers, dtype=np.int64), per_customer)
    key = cust * seat_types + np.floor(rng.random(n_base) ** 1.7 * types_used[cust]).astype(np.int64)

    ts = onboard[cust] + (rng.random(n_base) * (end_us - onboard[cust])).astype(np.int64)
    precision = rng.random(n_base)
    to_second = precision < 0.45
    ts[to_second] -= ts[to_second] % US_PER_SECOND
    midnight = precision > 0.95
    ts[midnight] -= ts[midnight] % US_PER_DAY
    del precision, to_second, midnight

    # receipt: shortly after the event, a few arrive hours or days late (backfills)
    delay = rng.exponential(30 * US_PER_SECOND, n_base)
    late = rng.random(n_base) < 0.02
    delay[late] += rng.exponential(2 * US_PER_DAY, int(late.sum()))
    recv = ts + 1 + delay.astype(np.int64)
    del delay, late, cust

    # order by (key, instant, receipt): ties are placed and the balance walked in this order.
    # Arrays are sized for every row; the versions fill the tail later.
    order = (
        pl.DataFrame({"key": key, "ts": ts, "recv": recv})
        .select(pl.arg_sort_by(["key", "ts", "recv"]))
        .to_series()
        .to_numpy()
    )
    all_key = np.empty(n_events, dtype=np.int64)
    all_ts = np.empty(n_events, dtype=np.int64)
    all_recv = np.empty(n_events, dtype=np.int64)
    all_key[:n_base], all_ts[:n_base], all_recv[:n_base] = key[order], ts[order], recv[order]
    del order
    key, ts, recv = all_key[:n_base], all_ts[:n_base], all_recv[:n_base]  # views
    first_of_key = np.ones(n_base, dtype=bool)
    first_of_key[1:] = key[1:] != key[:-1]
    tie_idx = np.flatnonzero((rng.random(n_base) < 0.04) & ~first_of_key)
    ts[tie_idx] = ts[tie_idx - 1]  # the previous event's instant (still sorted by ts)
    recv[tie_idx] = np.maximum(recv[tie_idx], recv[tie_idx - 1] + 1)
    del tie_idx

    # -- totals: a reflected random walk per key ------------------------------------------------
    n_keys = customers * seat_types
    level = np.ceil(rng.lognormal(2.3, 1.4, n_keys)).astype(np.int64)
    level[rng.random(n_keys) < 0.02] = 0
    scale = np.maximum(1, (level * rng.uniform(0.02, 0.15, n_keys)).astype(np.int64))
    step = np.rint(rng.standard_normal(n_base) * scale[key]).astype(np.int64)
    step[rng.random(n_base) < 0.35] = 0  # many events re-state the same balance
    step[rng.random(n_base) < 0.01] = -(1 << 40)  # churn: back to 0, the walk goes on from 0
    step[first_of_key] = level[key[first_of_key]]
    del first_of_key
    all_total = np.empty(n_events, dtype=np.int64)
    all_total[:n_base] = (
        pl.DataFrame({"key": key, "step": step})
        .lazy()
        .with_columns(s=pl.col("step").cum_sum().over("key"))
        # Lindley: W_t = max(0, W_{t-1} + X_t) = S_t - min(0, min_{u<=t} S_u)
        .select(pl.col("s") - pl.min_horizontal(pl.col("s").cum_min().over("key"), 0))
        .collect()
        .to_series()
        .to_numpy()
    )
    del step
    total = all_total[:n_base]
    np.minimum(total, MAX_TOTAL, out=total)
    all_fact = np.empty(n_events, dtype=np.int64)
    all_fact[:n_base] = rng.permutation(n_base)  # fact ids not in time order

    # -- later versions of earlier facts ------------------------------------------------------
    src = rng.integers(0, n_base, n_ver) if n_base else np.zeros(0, dtype=np.int64)
    all_fact[n_base:] = all_fact[src]
    v_ts = all_ts[n_base:]
    v_ts[:] = ts[src]
    shift = rng.random(n_ver)
    moved = np.flatnonzero(shift < 0.5)  # half move in time: a quarter earlier, a quarter later
    v_ts[moved] += np.where(shift[moved] < 0.25, -1, 1) * rng.exponential(US_PER_DAY, moved.size).astype(
        np.int64
    )
    v_ts[moved] -= v_ts[moved] % US_PER_SECOND
    src_key = key[src]
    delta = rng.integers(1, 6, n_ver) * np.where(rng.random(n_ver) < 0.5, -1, 1) * scale[src_key]
    v_total = np.clip(total[src] + delta, 0, MAX_TOTAL)
    all_total[n_base:] = np.where(v_total == total[src], total[src] + 1, v_total)
    retyped = np.flatnonzero(rng.random(n_ver) < 0.05)  # a few move to another seat type
    if seat_types > 1:
        src_stype = src_key[retyped] % seat_types
        new_stype = (src_stype + rng.integers(1, seat_types, retyped.size)) % seat_types
        src_key[retyped] += new_stype - src_stype
    all_key[n_base:] = src_key
    all_recv[n_base:] = recv[src] + 1 + rng.exponential(2 * US_PER_DAY, n_ver).astype(np.int64)
    del src, src_key, delta, v_total, shift, moved, retyped

    # receipt order → receivedSeq 1..n, then shuffle the rows
    received_seq = np.empty(n_events, dtype=np.int64)
    received_seq[np.argsort(all_recv, kind="stable")] = np.arange(1, n_events + 1)
    del all_recv
    shuffle = pl.Series(rng.permutation(n_events))
    aliases = pl.Series([f"cust-{c:06d}" for c in range(customers)], dtype=pl.String)
    types = pl.Series(_seat_type_names(seat_types), dtype=pl.String)
    return (
        pl.DataFrame(
            {
                "fact": all_fact,
                "key": all_key,
                "ts": all_ts,
                "total": all_total,
                "receivedSeq": received_seq,
            }
        )
        .lazy()
        .select(pl.all().gather(shuffle))
        .select(
            customerEventId=pl.concat_str(pl.lit("evt-"), pl.col("fact").cast(pl.String)),
            customerAlias=pl.lit(aliases).gather(pl.col("key") // seat_types),
            seatType=pl.lit(types).gather(pl.col("key") % seat_types),
            eventTimestamp=pl.col("ts").cast(pl.Datetime("us", "UTC")),
            total=pl.col("total"),
            receivedSeq=pl.col("receivedSeq"),
        )
        .collect()
    )


def monthly_periods(start: datetime, months: int) -> pl.DataFrame:
    """Contiguous UTC calendar months from ``start`` (a UTC midnight on day 1): the peers' input.

    Columns ``periodStart``, ``periodEnd`` (Datetime(us, UTC)) and ``days`` (Int32).
    """
    starts = [
        datetime(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1, tzinfo=UTC)
        for i in range(months + 1)
    ]
    return pl.DataFrame(
        {"periodStart": starts[:-1], "periodEnd": starts[1:]},
        schema={"periodStart": pl.Datetime("us", "UTC"), "periodEnd": pl.Datetime("us", "UTC")},
    ).with_columns(days=((pl.col("periodEnd") - pl.col("periodStart")).dt.total_days()).cast(pl.Int32))
