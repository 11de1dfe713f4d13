"""The ``seatcalc`` command.

``seatcalc demo`` bills a built-in sample; ``seatcalc bill EVENTS ...`` bills a file of
events (NDJSON as the API's JSON, CSV or Parquet); ``seatcalc import EVENTS --db FILE
--account ID`` stores a file of events in a ledger, and ``seatcalc bill --db FILE --account
ID ...`` bills what a ledger holds. A bad file, bad rows or bad options print one line on
stderr and exit with status 2; there is never a traceback for bad input.

``seatcalc charges EVENTS --prices PRICES.json ...`` (or ``--db FILE --account ID``) prints
the invoice lines of SPEC §6, then the totals per customer and currency.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from seatcalc.errors import SeatcalcError
from seatcalc.frames import EVENT_SCHEMA
from seatcalc.io import read_events
from seatcalc.ledger import SeatLedger
from seatcalc.measures import billable_seats
from seatcalc.periods import BillingSchedule
from seatcalc.pricing import (
    CURRENCY_MINOR_UNITS,
    ROUNDING_MODES,
    UNPRICED_POLICIES,
    load_prices,
    price_seats,
    unpriced_seat_types,
)
from seatcalc.server.cli import add_commands

__all__ = ["main"]

EXIT_BAD_INPUT = 2

Handler = Callable[[argparse.Namespace], int]


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _show(frame: pl.DataFrame, out: str | None) -> None:
    """Print ``frame`` as a table, or write it to ``out`` (.csv or .parquet)."""
    if out is None:
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            tbl_width_chars=250,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            float_precision=4,
        ):
            print(frame)
        return
    path = Path(out)
    if path.suffix.lower() == ".csv":
        frame.write_csv(path)
    elif path.suffix.lower() in (".parquet", ".pq"):
        frame.write_parquet(path)
    else:
        raise SeatcalcError(f"--out {out!r}: the file name must end in .csv or .parquet")
    print(f"wrote {frame.height} rows to {path}", file=sys.stderr)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def demo_events() -> tuple[pl.DataFrame, dict[str, BillingSchedule]]:
    """A small, realistic ledger: three customers, three seat types, corrections."""
    rows = [
        # acme-corp bills on the 31st (UTC): Jan 31 → Feb 29 → Mar 31 → Apr 30.
        ("acme-1", "acme-corp", "admin", _utc(2024, 1, 31), 2),
        ("acme-2", "acme-corp", "editor", _utc(2024, 1, 31), 10),
        ("acme-3", "acme-corp", "editor", _utc(2024, 2, 14, 9, 30), 14),
        ("acme-4", "acme-corp", "editor", _utc(2024, 3, 5, 16), 12),
        ("acme-4", "acme-corp", "editor", _utc(2024, 3, 5, 16), 11),  # same fact re-sent: 11 wins
        ("acme-5", "acme-corp", "admin", _utc(2024, 4, 2, 8), 3),
        # globex bills monthly in New York: March 2024 has the 23-hour day (Mar 10).
        ("glx-1", "globex", "viewer", _utc(2024, 2, 20, 15), 40),
        ("glx-2", "globex", "viewer", _utc(2024, 3, 10, 7), 55),
        ("glx-3", "globex", "viewer", _utc(2024, 3, 20, 12), 48),
        ("glx-3", "globex", "viewer", _utc(2024, 3, 22, 12), 45),  # a later version wins
        ("glx-4", "globex", "admin", _utc(2024, 3, 1, 5), 1),
        # initech bills monthly in London; a mistaken event moved to another seat type.
        ("ini-1", "initech", "editor", _utc(2024, 3, 1), 5),
        ("ini-2", "initech", "admin", _utc(2024, 3, 15), 9),
        ("ini-2", "initech", "editor", _utc(2024, 3, 15, 0, 0, 1), 9),  # moved: admin never had 9
        ("ini-3", "initech", "editor", _utc(2024, 4, 10), 0),
    ]
    frame = pl.DataFrame(
        rows,
        schema=EVENT_SCHEMA,
        orient="row",
    )
    schedules = {
        "acme-corp": BillingSchedule(date(2024, 1, 31), "1mo", end=date(2024, 4, 30)),
        "globex": BillingSchedule(date(2024, 2, 1), "1mo", "America/New_York", end=date(2024, 5, 1)),
        "initech": BillingSchedule(date(2024, 3, 1), "1mo", "Europe/London", end=date(2024, 5, 1)),
    }
    return frame, schedules


def _demo(args: argparse.Namespace) -> int:
    events, schedules = demo_events()
    print(f"{events.height} seat events (with corrections) for {len(schedules)} customers:")
    for alias, schedule in schedules.items():
        print(
            f"  {alias}: {schedule.interval} from {schedule.start} to {schedule.end} ({schedule.time_zone})"
        )
    seats = billable_seats(events, schedules)
    print("\nBillable seats per customer, seat type and period:")
    _show(seats.drop("seatMicroseconds"), None)
    return 0


def _schedule(args: argparse.Namespace) -> BillingSchedule:
    return BillingSchedule(args.start, args.interval, args.tz, args.end)


def _bill(args: argparse.Namespace) -> int:
    seats = billable_seats(
        _bill_events(args), _schedule(args), until=args.until, supersede_by=args.supersede_by
    )
    _show(seats, args.out)
    return 0


def _charges(args: argparse.Namespace) -> int:
    prices = load_prices(Path(args.prices))
    events, schedule = _bill_events(args), _schedule(args)
    if args.unpriced == "skip":  # say which seat types get no lines (with "error" price_seats raises)
        missing = unpriced_seat_types(
            events, schedule, prices, until=args.until, supersede_by=args.supersede_by
        ).select("customerAlias", "seatType")
        if missing.height:
            named = [f"{alias}/{seat}" for alias, seat in missing.rows()]
            shown = ", ".join(named[:5]) + (f", and {len(named) - 5} more" if len(named) > 5 else "")
            noun = "seat type" if len(named) == 1 else "seat types"
            warning = f"no price for {len(named)} {noun} with events: {shown}"
            print(f"seatcalc charges: warning: {warning}", file=sys.stderr)
    lines = price_seats(
        events,
        schedule,
        prices,
        until=args.until,
        supersede_by=args.supersede_by,
        rounding=args.rounding,
        unpriced=args.unpriced,
    )
    # on screen, each amount shows its own currency's minor unit (JPY 1500, KWD 1.250)
    minor = pl.col("currency").replace_strict(CURRENCY_MINOR_UNITS, return_dtype=pl.Int64)
    as_text = pl.coalesce(
        pl.when(minor == m).then(pl.col("amount").cast(pl.Decimal(38, m)).cast(pl.String))
        for m in sorted(set(CURRENCY_MINOR_UNITS.values()))
    )
    _show(lines if args.out else lines.with_columns(as_text.alias("amount")), args.out)
    customer = [c for c in ("sequenceAccountId", "customerAlias") if c in lines.columns]
    totals = (
        lines.group_by(*customer, "currency")
        .agg(pl.len().alias("lines"), pl.col("amount").sum())
        .sort(*customer, "currency")
        .with_columns(as_text.alias("amount"))
    )
    print("\nTotals per customer and currency:")
    _show(totals, None)
    return 0


def _bill_events(args: argparse.Namespace) -> pl.DataFrame:
    """The events to bill: from the EVENTS file, or from the ledger ``--db`` (one account)."""
    if (args.events is None) == (args.db is None):
        raise SeatcalcError("give an EVENTS file or --db FILE --account ID (exactly one of the two)")
    if args.db is None:
        if args.account is not None:
            raise SeatcalcError("--account goes with --db FILE; an EVENTS file is billed whole")
        return read_events(args.events)
    if args.account is None:
        raise SeatcalcError("--db needs --account ID: a ledger file may hold several accounts")
    with SeatLedger.open(args.db, account_id=args.account, create_missing=False) as ledger:
        events = ledger.events()
        if events.height == 0:
            known = ledger.accounts()
            shown = ", ".join(repr(a) for a in known[:5]) + (", …" if len(known) > 5 else "")
            raise SeatcalcError(
                f"account {args.account!r} has no events in {args.db}; accounts there: {shown or 'none'}"
            )
    return events


class _ProgressBar:
    """A plain-text bar on one stderr line, redrawn with ``\r``; only for large batches."""

    def __init__(self, label: str, min_rows: int = 50_000, width: int = 30) -> None:
        self.label, self.min_rows, self.width, self.drawn = label, min_rows, width, False

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_rows:
            return
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {100 * done // total:3d}% {done:,}/{total:,} rows")
        sys.stderr.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


def _import(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    bar = _ProgressBar(f"importing {Path(args.events).name}")
    with SeatLedger.open(args.db, account_id=args.account) as ledger:
        try:
            result = ledger.create_many(
                args.events,
                on_error="skip" if args.skip_bad else "raise",
                chunk_rows=args.chunk_rows,
                progress=bar,
            )
        finally:
            bar.finish()
        stored = len(ledger)
    seconds = time.perf_counter() - started
    print(
        f"imported {result.created:,} events into {args.db} (account {args.account!r}) in "
        f"{seconds:.1f} s; {result.rejected:,} rows rejected; the account holds {stored:,} events"
    )
    if result.rejected:
        shown = "; ".join(str(p) for p in result.problems[:5])
        more = f"; and {len(result.problems) - 5} more" if len(result.problems) > 5 else ""
        print(f"seatcalc import: skipped {result.rejected:,} bad rows: {shown}{more}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seatcalc", description="Seat events in, billable seats and exact charges out."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="bill a built-in sample and print the table")
    demo.set_defaults(handler=_demo)

    bill = commands.add_parser("bill", help="billable seats per customer, seat type and period")
    _billing_options(bill, "bill")
    bill.add_argument("--out", help="write .csv or .parquet instead of printing a table")
    bill.set_defaults(handler=_bill)

    charges = commands.add_parser("charges", help="invoice lines: billable seats priced (SPEC §6)")
    _billing_options(charges, "price")
    charges.add_argument(
        "--prices",
        required=True,
        help='JSON file: a list of seat prices for every customer, or {"customerAlias": [prices], …}',
    )
    charges.add_argument(
        "--unpriced",
        choices=UNPRICED_POLICIES,
        default="skip",
        help="a seat type with events but no price: skip it with a warning (default) or fail",
    )
    charges.add_argument(
        "--rounding",
        choices=ROUNDING_MODES,
        default="ROUND_HALF_UP",
        help="decimal rounding mode, applied once per line (default ROUND_HALF_UP)",
    )
    charges.add_argument("--out", help="write the lines to .csv or .parquet instead of printing them")
    charges.set_defaults(handler=_charges)

    load = commands.add_parser("import", help="store a file of seat events in a ledger (SQLite)")
    load.add_argument("events", help="events file: .ndjson, .jsonl, .csv or .parquet")
    load.add_argument("--db", required=True, help="ledger file (SQLite), created if missing")
    load.add_argument("--account", required=True, help="sequenceAccountId the events belong to")
    load.add_argument(
        "--skip-bad",
        action="store_true",
        help="store the good rows and list the bad ones (default: any bad row stores nothing)",
    )
    load.add_argument(
        "--chunk-rows",
        type=int,
        metavar="N",
        help="commit every N rows, e.g. 50000 (default: the whole file in one transaction)",
    )
    load.set_defaults(handler=_import)
    add_commands(commands)
    return parser


def _billing_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """What to bill (an EVENTS file or a ledger account) and on which schedule."""
    parser.add_argument(
        "events", nargs="?", help="events file: .ndjson (one API JSON object per line), .csv or .parquet"
    )
    parser.add_argument("--db", help=f"{verb} the events of a ledger file instead of an EVENTS file")
    parser.add_argument("--account", help=f"the account to {verb} in the --db ledger")
    parser.add_argument("--start", type=_date, required=True, help="first period start (YYYY-MM-DD)")
    parser.add_argument("--interval", default="1mo", help="1mo, 3mo, 6mo, 1y, Nd or Nw (default 1mo)")
    parser.add_argument("--end", type=_date, help="exclusive end date; must be a period boundary")
    parser.add_argument("--until", type=_date, help="keep periods that start before this date")
    parser.add_argument("--tz", default="UTC", help="IANA time zone of the period boundaries")
    parser.add_argument(
        "--supersede-by",
        choices=("eventTimestamp", "received"),
        default="eventTimestamp",
        help="which version of an event wins (default: latest eventTimestamp)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SeatcalcError as error:
        print(f"seatcalc {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, pl.exceptions.PolarsError) as error:
        print(f"seatcalc {args.command}: cannot read input: {error}".splitlines()[0], file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
