"""The ``seatcalc`` command.

``seatcalc demo`` bills a built-in sample; ``seatcalc bill EVENTS ...`` bills a file of
events (NDJSON as the API's JSON, CSV or Parquet). A bad file, bad rows or bad options
print one line on stderr and exit with status 2; there is never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from seatcalc.errors import SeatcalcError
from seatcalc.io import read_events
from seatcalc.measures import billable_seats
from seatcalc.periods import BillingSchedule

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
        schema={
            "customerEventId": pl.String,
            "customerAlias": pl.String,
            "seatType": pl.String,
            "eventTimestamp": pl.Datetime("us", "UTC"),
            "total": pl.Int64,
        },
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


def _bill(args: argparse.Namespace) -> int:
    schedule = BillingSchedule(args.start, args.interval, args.tz, args.end)
    events = read_events(args.events)
    seats = billable_seats(events, schedule, until=args.until, supersede_by=args.supersede_by)
    _show(seats, args.out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seatcalc", description="Seat events in, billable seats and exact charges out."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="bill a built-in sample and print the table")
    demo.set_defaults(handler=_demo)

    bill = commands.add_parser("bill", help="billable seats per customer, seat type and period")
    bill.add_argument("events", help="events file: .ndjson (one API JSON object per line), .csv or .parquet")
    _schedule_options(bill)
    bill.add_argument("--out", help="write .csv or .parquet instead of printing a table")
    bill.set_defaults(handler=_bill)
    return parser


def _schedule_options(parser: argparse.ArgumentParser) -> None:
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
