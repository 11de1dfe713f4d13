"""Time ``price_seats`` against ``billable_seats`` on the same generated events.

Run from the repo root: ``.venv/bin/python -m benchmarks.bench_pricing [--events N ...]``.

For each size, the seeded generator (``benchmarks/generate.py``: heavy-tailed customers,
carry-in, ties, ~5% superseded versions, shuffled rows) makes raw events over 2025 for
three seat types; everything is billed monthly (UTC, 12 periods). Timed, best of
``--repeat`` runs, eager frames in and out (validation and supersession included):

* ``billable_seats`` — the §5 measures, the baseline;
* ``price_seats`` with a linear prorated price per seat type (PRORATE_INCREMENTS,
  PRORATE_ALL_CHANGES and USE_MAXIMUM, in arrears);
* ``price_seats`` with a graduated prorated price per seat type (three tiers with fees,
  a contracted minimum, PRORATE_ALL_CHANGES / PRORATE_INCREMENTS, in advance: two lines
  per period, one of them a true-up).

The target is pricing ≤ 2× ``billable_seats``; the table prints the ratio.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import SEAT_TYPE_NAMES, generate_events
from seatcalc import BillingSchedule, SeatPrice, billable_seats, price_seats

SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2026, 1, 1))
SEAT_TYPES = SEAT_TYPE_NAMES[:3]
STRATEGIES = ("PRORATE_INCREMENTS", "PRORATE_ALL_CHANGES", "USE_MAXIMUM")


def linear_prices() -> list[SeatPrice]:
    return [
        SeatPrice.model_validate(
            {
                "seatType": seat_type,
                "currency": "GBP",
                "pricePerSeat": "12.50",
                "prorationStrategy": strategy,
                "billingType": "IN_ARREARS",
            }
        )
        for seat_type, strategy in zip(SEAT_TYPES, STRATEGIES, strict=True)
    ]


def graduated_prices() -> list[SeatPrice]:
    tiers = [
        {"upperBound": 10, "price": "15.00", "fee": "20.00"},
        {"upperBound": 100, "price": "11.25", "fee": "10.00"},
        {"upperBound": None, "price": "8.125"},
    ]
    return [
        SeatPrice.model_validate(
            {
                "seatType": seat_type,
                "currency": currency,
                "pricePerSeat": "0",
                "prorationStrategy": strategy,
                "billingType": "IN_ADVANCE",
                "contractedMinimumSeats": 5,
                "tiers": tiers,
                "tierMode": "GRADUATED",
            }
        )
        for seat_type, strategy, currency in zip(
            SEAT_TYPES, ("PRORATE_ALL_CHANGES", "PRORATE_INCREMENTS", "PRORATE_ALL_CHANGES"),
            ("GBP", "KWD", "JPY"), strict=True,
        )
    ]  # fmt: skip


def best_of(repeat: int, run: Callable[[], pl.DataFrame]) -> tuple[float, pl.DataFrame]:
    best, result = float("inf"), pl.DataFrame()
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench(n_events: int, customers: int, repeat: int, seed: int) -> list[tuple[str, int, float, int]]:
    started = time.perf_counter()
    events = generate_events(n_events, customers=customers, seat_types=3, superseded_share=0.05, seed=seed)
    print(
        f"\n{n_events:,} events, {customers:,} customers, 3 seat types, 12 monthly periods "
        f"(generated in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    runs: list[tuple[str, Callable[[], pl.DataFrame]]] = [
        ("billable_seats", lambda: billable_seats(events, SCHEDULE)),
        ("price_seats linear (arrears)", lambda: price_seats(events, SCHEDULE, linear_prices())),
        ("price_seats graduated (advance)", lambda: price_seats(events, SCHEDULE, graduated_prices())),
    ]
    rows = []
    for label, run in runs:
        seconds, result = best_of(repeat, run)
        rows.append((label, n_events, seconds, result.height))
        print(f"  {label:<34} {seconds:8.2f} s  {result.height:>10,} rows", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000], help="sizes (default 1e6)")
    parser.add_argument("--customers", type=int, help="customers (default: events / 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"polars {pl.__version__}, {pl.thread_pool_size()} threads")

    table = []
    for n_events in args.events:
        table += bench(n_events, args.customers or max(1, n_events // 100), args.repeat, args.seed)

    print(f"\n| {'events':>12} | {'run':<34} | {'seconds':>8} | {'rows':>10} | {'× billable_seats':>16} |")
    print(f"|{'-' * 14}|{'-' * 36}|{'-' * 10}|{'-' * 12}|{'-' * 18}|")
    baseline = {n: s for label, n, s, _ in table if label == "billable_seats"}
    for label, n_events, seconds, height in table:
        ratio = seconds / baseline[n_events]
        print(f"| {n_events:>12,} | {label:<34} | {seconds:>8.2f} | {height:>10,} | {ratio:>15.2f}× |")


if __name__ == "__main__":
    main()
