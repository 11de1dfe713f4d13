"""Seeded event sets for the benchmark matrix, one function per shape (written apart from
``benchmarks/generate.py`` on purpose: a second, independent picture of real data).

Every shape is built from one vectorised core (numpy and polars, no Python loop per event)
and takes the number of rows ``n`` (superseding versions included) and a ``seed``:

* keys are (customer, seat type) with seat types ``admin``/``editor``/``viewer``; facts fall
  on keys uniformly at random; each key's ``total`` is a random walk clipped at 0 with rare
  resets to 0; timestamps are to the millisecond, uniform over 2023-12-01 … 2025-01-08
  (carry-in before the 2024 schedule, a few events after its end), about 2% exactly at a UTC
  midnight (so some fall on period boundaries) and about 1% at the instant of the key's
  previous event (ties resolved by receipt order);
* each fact *arrives* a little after its instant (exponential, mean 20 s), 4% of them late
  (1 hour to 10 days); ``receivedSeq`` (Int64, 1..n, unique) is the rank of the arrival;
* a share of the rows are superseding versions of an earlier fact, always received later
  (1 minute to 30 days after it): half keep the instant (a corrected total), 30% move it
  later, 20% earlier (and so lose under the default policy), 3% move to another seat type;
* the rows come in arrival order (ascending ``receivedSeq``), as a ledger export or an
  event log gives them, except in :func:`shuffled`.

Columns: ``customerEventId``, ``customerAlias``, ``seatType``, ``eventTimestamp``
(Datetime(µs, UTC)), ``total`` (Int64 ≥ 0), ``receivedSeq`` (Int64), and
``sequenceAccountId`` first in :func:`accounts`. The schedule is monthly, UTC, over 2024.

Generated sets are cached as Parquet (``benchmarks/.cache/`` by default) so that reruns skip
the generation: :func:`cached_path`.
"""

from __future__ import annotations

import binascii
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from seatcalc import BillingSchedule

__all__ = [
    "CACHE_DIR",
    "SCHEDULE",
    "SHAPES",
    "Shape",
    "accounts",
    "arrival",
    "cached_path",
    "few_keys",
    "many_keys",
    "no_event_id",
    "periods",
    "shuffled",
    "superseded_30",
    "uuid_ids",
]

GENERATOR_VERSION: Final = 2  # bump when the data a seed gives changes (invalidates the cache)
CACHE_DIR: Final = Path(__file__).resolve().parent / ".cache"
SCHEDULE: Final = BillingSchedule(date(2024, 1, 1), "1mo", end=date(2025, 1, 1))

SEAT_TYPES: Final = ("admin", "editor", "viewer")
US_PER_MS: Final = 1_000
US_PER_MINUTE: Final = 60_000_000
US_PER_HOUR: Final = 60 * US_PER_MINUTE
US_PER_DAY: Final = 24 * US_PER_HOUR


def _us(day: date) -> int:
    """Epoch microseconds of a UTC midnight."""
    return (day - date(1970, 1, 1)).days * US_PER_DAY


SPAN_FIRST_US: Final = _us(date(2023, 12, 1))
SPAN_LAST_US: Final = _us(date(2025, 1, 8))
INSTANT: Final = pl.Datetime("us", "UTC")


def periods() -> pl.DataFrame:
    """The schedule's periods for the DuckDB peer: ``periodStart``, ``periodEnd``, ``days``
    (calendar months of 2024 in UTC, half-open)."""
    starts = [datetime(2024 + m // 12, m % 12 + 1, 1, tzinfo=UTC) for m in range(13)]
    return pl.DataFrame(
        {
            "periodStart": pl.Series(starts[:-1], dtype=INSTANT),
            "periodEnd": pl.Series(starts[1:], dtype=INSTANT),
            "days": pl.Series([(b - a).days for a, b in itertools.pairwise(starts)], dtype=pl.Int32),
        }
    )


def _hex(rng: np.random.Generator, count: int, digits: int) -> np.ndarray:
    """``count`` random lower-case hex strings of ``digits`` (even) characters, as a numpy
    unicode array (one hexlify of one buffer: no loop per string)."""
    raw = rng.integers(0, 256, size=count * digits // 2, dtype=np.uint8).tobytes()
    return np.frombuffer(binascii.hexlify(raw), dtype=f"S{digits}").astype(f"U{digits}")


def _uuid4_text(hex32: pl.Expr) -> pl.Expr:
    """A 32-hex-digit string as UUID text (36 characters: 8-4-4-4-12, version 4)."""
    part = hex32.str.slice
    text: pl.Expr = (
        part(0, 8) + "-" + part(8, 4) + "-4" + part(13, 3) + "-a" + part(17, 3) + "-" + part(20, 12)
    )
    return text


def _digits(number: pl.Expr, width: int) -> pl.Expr:
    """``number`` (0 ≤ number < 10**width) as exactly ``width`` decimal digits."""
    offset: int = 10**width
    return (number + offset).cast(pl.String).str.slice(1)


def _arg_sort(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The permutation sorting by ``first`` then ``second`` (polars: multithreaded)."""
    frame = pl.DataFrame({"a": first, "b": second})
    return frame.select(pl.arg_sort_by("a", "b")).to_series().to_numpy()


def _within_group(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random numbering 0, 1, … of the rows inside each group (group ids 0..G-1)."""
    order = np.lexsort((rng.random(groups.size), groups))
    counts = np.bincount(groups)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size, dtype=np.int64) - starts
    return rank


def _events(
    n: int,
    *,
    keys: int,
    seed: int,
    superseding: float = 0.05,
    long_ids: bool = False,
    account_count: int = 0,
    with_ids: bool = True,
) -> pl.DataFrame:
    """``n`` rows in arrival order over ``keys`` (customer, seat type) keys; see the module
    docstring for the shape of the data."""
    rng = np.random.default_rng(seed)
    n_versions = round(n * superseding) if with_ids else 0
    n_facts = n - n_versions
    keys = max(1, keys)

    # facts: a key, an instant (ms; some at midnight, some tied to the key's previous one)
    fact_key = rng.integers(0, keys, size=n_facts, dtype=np.int64)
    ts = rng.integers(SPAN_FIRST_US, SPAN_LAST_US, size=n_facts, dtype=np.int64) // US_PER_MS * US_PER_MS
    midnight = rng.random(n_facts) < 0.02
    ts[midnight] = ts[midnight] // US_PER_DAY * US_PER_DAY
    order = _arg_sort(fact_key, ts)
    fact_key, ts = fact_key[order], ts[order]
    first_of_key = np.ones(n_facts, dtype=bool)
    first_of_key[1:] = fact_key[1:] != fact_key[:-1]
    tie = ~first_of_key & (rng.random(n_facts) < 0.01)
    ts[1:] = np.where(tie[1:], ts[:-1], ts[1:])  # still sorted: the previous instant is ≤

    # totals: a random walk per key from a heavy-tailed level, clipped at 0, rare resets
    level = np.minimum(np.rint(rng.lognormal(2.5, 1.0, size=keys)), 100_000).astype(np.int64)
    steps = rng.integers(-3, 4, size=n_facts, dtype=np.int64)
    walk = np.cumsum(steps)
    key_start = np.flatnonzero(first_of_key)
    walk -= np.repeat(walk[key_start] - steps[key_start], np.diff(np.append(key_start, n_facts)))
    total = np.maximum(level[fact_key] + walk, 0)
    total[rng.random(n_facts) < 0.005] = 0

    # arrival: shortly after the instant, some late
    delay = rng.exponential(20e6, size=n_facts).astype(np.int64)
    late = rng.random(n_facts) < 0.04
    delay[late] = rng.integers(US_PER_HOUR, 10 * US_PER_DAY, size=int(late.sum()), dtype=np.int64)
    arrived = ts + delay

    # superseding versions of random facts, received later
    source = rng.integers(0, n_facts, size=n_versions, dtype=np.int64)
    move = rng.random(n_versions)
    shift = rng.integers(US_PER_MINUTE, 3 * US_PER_DAY, size=n_versions, dtype=np.int64)
    shift = np.where(move < 0.5, 0, np.where(move < 0.8, shift, -(shift % US_PER_DAY)))
    version_ts = (ts[source] + shift) // US_PER_MS * US_PER_MS
    version_key = fact_key[source].copy()
    retype = rng.random(n_versions) < 0.03
    other = version_key // 3 * 3 + (version_key % 3 + 1) % 3  # the customer's next seat type,
    other = np.where(other < keys, other, version_key // 3 * 3)  # among the ``keys`` keys
    version_key[retype] = other[retype]
    version_total = np.maximum(total[source] + rng.integers(-5, 6, size=n_versions, dtype=np.int64), 0)
    version_arrived = arrived[source] + rng.integers(
        US_PER_MINUTE, 30 * US_PER_DAY, size=n_versions, dtype=np.int64
    )

    fact = np.concatenate([np.arange(n_facts, dtype=np.int64), source])
    key = np.concatenate([fact_key, version_key])
    instant = np.concatenate([ts, version_ts])
    seats = np.concatenate([total, version_total])
    arrival_us = np.concatenate([arrived, version_arrived])
    by_arrival = _arg_sort(arrival_us, rng.integers(0, 1 << 62, size=n))  # equal arrivals: random order
    fact, key, instant, seats = fact[by_arrival], key[by_arrival], instant[by_arrival], seats[by_arrival]

    customer = key // 3
    frame = pl.DataFrame(
        {
            "fact": fact,
            "customer": customer,
            "seatType": pl.Series(SEAT_TYPES).gather(pl.Series(key % 3)),
            "eventTimestamp": pl.Series(instant).cast(INSTANT),
            "total": seats,
            "receivedSeq": np.arange(1, n + 1, dtype=np.int64),
        }
    )
    customers = (keys + len(SEAT_TYPES) - 1) // len(SEAT_TYPES)
    if account_count:
        account = np.arange(customers, dtype=np.int64) % account_count
        # aliases and event ids are per account: the same texts recur in other accounts
        fact_number = _within_group(account[fact_key // 3], rng)[fact]
        frame = frame.with_columns(
            sequenceAccountId="acct-" + _digits(pl.lit(pl.Series(account[customer])), 3),
            alias_number=pl.Series(customer // account_count),
            fact=pl.Series(fact_number),
        )
    else:
        fact_number = rng.permutation(n_facts)[fact]
        frame = frame.with_columns(alias_number=pl.col("customer"), fact=pl.Series(fact_number))
    if long_ids:
        aliases = pl.Series(_hex(rng, customers, 40))
        event_hex = pl.Series(_hex(rng, n_facts, 32))
        frame = frame.with_columns(
            customerAlias=aliases.gather(frame["customer"]),
            customerEventId=_uuid4_text(pl.lit(event_hex.gather(frame["fact"]))),
        )
    else:
        frame = frame.with_columns(
            customerAlias="cust-" + _digits(pl.col("alias_number"), 7),
            customerEventId="evt-" + _digits(pl.col("fact"), 9),
        )
    columns = ["customerEventId", "customerAlias", "seatType", "eventTimestamp", "total", "receivedSeq"]
    if not with_ids:
        columns.remove("customerEventId")
    if account_count:
        columns.insert(0, "sequenceAccountId")
    return frame.select(columns)


def arrival(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape: ``n / 200`` customers × 3 seat types, 5% superseding versions, rows in
    arrival order (ascending ``receivedSeq``)."""
    return _events(n, keys=3 * max(1, n // 200), seed=seed)


def shuffled(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape's rows in a random order (same events as :func:`arrival`)."""
    events = arrival(n, seed)
    return events[np.random.default_rng([seed, 1]).permutation(events.height)]


def many_keys(n: int, seed: int = 0) -> pl.DataFrame:
    """Many keys with few events: ``n / 10`` keys, about 10 events each."""
    return _events(n, keys=max(1, n // 10), seed=seed)


def few_keys(n: int, seed: int = 0) -> pl.DataFrame:
    """Few keys with many events: 1,000 keys (334 customers), ``n / 1000`` events each."""
    return _events(n, keys=1_000, seed=seed)


def uuid_ids(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape with 36-character UUID ``customerEventId`` and 40-character aliases."""
    return _events(n, keys=3 * max(1, n // 200), seed=seed, long_ids=True)


def superseded_30(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape with 30% of the rows superseding versions."""
    return _events(n, keys=3 * max(1, n // 200), seed=seed, superseding=0.30)


def no_event_id(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape without a ``customerEventId`` column (every row a fact of its own)."""
    return _events(n, keys=3 * max(1, n // 200), seed=seed, with_ids=False)


def accounts(n: int, seed: int = 0) -> pl.DataFrame:
    """The base shape spread over 20 accounts (``sequenceAccountId`` first); aliases and
    event ids are numbered per account, so the same texts recur in several accounts."""
    return _events(n, keys=3 * max(1, n // 200), seed=seed, account_count=20)


@dataclass(frozen=True)
class Shape:
    """A named event set: ``build(n, seed)`` gives ``n`` rows."""

    name: str
    build: Callable[[int, int], pl.DataFrame]

    @property
    def description(self) -> str:
        doc = self.build.__doc__ or self.name
        text = " ".join(doc.split("\n\n")[0].split())
        return text.replace(":func:", "").replace("``", "`")  # Markdown, not reST


SHAPES: Final[dict[str, Shape]] = {
    shape.name: shape
    for shape in (
        Shape("arrival", arrival),
        Shape("shuffled", shuffled),
        Shape("many_keys", many_keys),
        Shape("few_keys", few_keys),
        Shape("uuid_ids", uuid_ids),
        Shape("superseded_30", superseded_30),
        Shape("no_event_id", no_event_id),
        Shape("accounts", accounts),
    )
}


def cached_path(name: str, n: int, seed: int = 0, cache_dir: Path | None = None) -> Path:
    """The Parquet file of shape ``name`` at ``n`` rows, generated on the first call.

    Files are named by shape, size, seed and generator version, written to a temporary name
    and renamed, so an interrupted run never leaves a half file behind.
    """
    folder = CACHE_DIR if cache_dir is None else cache_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{n}-s{seed}-g{GENERATOR_VERSION}.parquet"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.partial")
        SHAPES[name].build(n, seed).write_parquet(partial)
        partial.replace(path)
    return path
