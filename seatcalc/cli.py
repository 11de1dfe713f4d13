"""The ``seatcalc`` command.

``seatcalc demo`` bills a built-in sample; ``seatcalc bill EVENTS ...`` bills a file of
events (NDJSON as the API's JSON, a JSON array, CSV or Parquet; ``-`` reads stdin);
``seatcalc import EVENTS --db FILE --account ID`` stores a file of events in a ledger, and
``seatcalc bill --db FILE --account ID ...`` bills what a ledger holds. Each customer may
have its own schedule (``--schedules FILE``). ``bill`` reads a Parquet folder, a glob, a
large Parquet file or any Parquet file given with ``--memory-limit`` out of core
(:mod:`seatcalc.partitioned`, progress on stderr); ``--out FILE.parquet`` is then written
without the seats being printed or converted.

``seatcalc charges EVENTS --prices PRICES.json ...`` (or ``--db FILE --account ID``) prints
the invoice lines of SPEC §6, then the totals per customer and currency.

Exit status: 0 done; 2 bad input, bad options or an output that cannot be written (one
line on stderr, never a traceback); 130 interrupted (Ctrl-C); 141 stdout closed early (as
in ``seatcalc demo | head -1``; nothing is printed); 1 an unexpected error, which is a bug
(one line; ``SEATCALC_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import IO, Any, NoReturn, TextIO

import polars as pl

from seatcalc import __version__
from seatcalc.errors import InvalidArgument, InvalidJson, InvalidSchedule, SeatcalcError
from seatcalc.explain import explain
from seatcalc.frames import EVENT_SCHEMA
from seatcalc.io import read_events
from seatcalc.ledger import SeatLedger
from seatcalc.measures import billable_seats
from seatcalc.periods import BillingSchedule
from seatcalc.pricing import (
    CURRENCY_MINOR_UNITS,
    ROUNDING_MODES,
    UNPRICED_POLICIES,
    describe_unpriced,
    load_prices,
    price_seats,
    price_seats_and_unpriced,
)
from seatcalc.restate import read_billed, restate
from seatcalc.schedules import Schedules
from seatcalc.server.cli import add_commands
from seatcalc.wire import format_timestamp, loads_json

__all__ = ["main"]

EXIT_BUG = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that stopped early
SHOWN_ROWS = 50
"""Rows of a printed table; ``--out FILE`` writes them all."""
STREAM_FORMATS = ("ndjson", "csv", "json", "parquet")
_OUT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
_OUT_SUFFIXES |= {".ndjson": "ndjson", ".jsonl": "ndjson"}
_SCHEDULE_FIELDS = ("customerAlias", "start", "interval", "timeZone", "end")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Handler = Callable[[argparse.Namespace], int]


class _UsageError(Exception):
    """A command line argparse refuses; shown as one line, not argparse's usage block."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: {message} (see {prog} --help)")


class _CannotWrite(SeatcalcError, OSError):
    """The ``--out`` file cannot be written; nothing is left at its path."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(self.prog, message)


@dataclass(frozen=True)
class _Output:
    """How results leave this run: the zone printed instants are shown in, the format of
    ``--out -``, and the real stdout (human text goes to stderr while data goes there)."""

    zone: str | None = None
    stream_format: str = "ndjson"
    stdout: TextIO | None = None


_OUTPUT: ContextVar[_Output | None] = ContextVar("seatcalc_cli_output", default=None)


def _date(text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _whole_number(text: str) -> int:
    """A whole number of at most 18 digits (the ledger names one out of its range)."""
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of rows, e.g. 50000")
    return int(text)


# -- output ------------------------------------------------------------------------------------


def _show(frame: pl.DataFrame, out: str | None) -> None:
    """Print ``frame`` as a table (the first :data:`SHOWN_ROWS` rows), or write all of it to
    ``out``: a file named ``.csv``, ``.parquet``, ``.json`` or ``.ndjson``, or ``-`` (stdout) or
    a device or pipe, in the ``--format`` given."""
    output = _OUTPUT.get() or _Output()
    if out is None:
        shown = _local_instants(frame.head(SHOWN_ROWS), output.zone)
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            tbl_width_chars=250,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
            float_precision=4,
        ):
            print(shown)
        if frame.height > SHOWN_ROWS:
            print(f"… and {frame.height - SHOWN_ROWS:,} more rows; use --out FILE for all")
        return
    if out == "-":
        stdout = output.stdout or sys.stdout
        stdout.flush()
        _encode(frame, output.stream_format, stdout.buffer)
        stdout.buffer.flush()
        return
    path = Path(out)
    if path.is_dir():
        raise _CannotWrite(f"cannot write {out!r}: it is a directory; give a file name")
    special = path.exists() and not path.is_file()  # a device or a pipe: written in --format
    kind = output.stream_format if special else _OUT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InvalidArgument.for_value(
            "--out", out, "the file name must end in .csv, .parquet, .json or .ndjson (or be - for stdout)"
        )
    _write_file(frame, path, kind)
    print(f"wrote {frame.height} rows to {path}", file=sys.stderr)


def _local_instants(frame: pl.DataFrame, zone: str | None) -> pl.DataFrame:
    """Instants as local RFC 3339 text with their offset (``2024-03-01T00:00:00-05:00``)."""
    if zone is None:
        return frame
    instants = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    return frame.with_columns(
        pl.col(instants).dt.convert_time_zone(zone).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    )


def _write_file(frame: pl.DataFrame, path: Path, kind: str) -> None:
    """Write to a new file next to ``path``, then rename it over ``path``: a failure (a full
    disk, a missing folder) leaves no empty or partial file behind. A device or a pipe
    (``/dev/stdout``) is written in place."""
    where = repr(str(path))
    try:
        if path.is_dir():
            raise _CannotWrite(f"cannot write {where}: it is a directory; give a file name")
        if path.exists() and not path.is_file():
            with path.open("wb") as handle:
                _encode(frame, kind, handle)
            return
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            with temporary.open("xb") as handle:
                _encode(frame, kind, handle)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        if isinstance(error, _CannotWrite):
            raise
        raise _CannotWrite(f"cannot write {where}: {error.strerror or error}") from None
    except pl.exceptions.PolarsError as error:
        raise _CannotWrite(f"cannot write {where}: {_first_line(str(error))}") from None


def _encode(frame: pl.DataFrame, kind: str, handle: IO[bytes]) -> None:
    """``frame`` as bytes: CSV and JSON with instants as RFC 3339 UTC text (``…Z``); JSON
    keeps integers exact (Int128 included) and writes decimal amounts as strings."""
    if kind == "parquet":
        frame.write_parquet(handle)
    elif kind == "csv":
        instants = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
        frame.with_columns(
            pl.col(instants).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
        ).write_csv(handle)
    elif kind == "json":
        rows = [_json_row(row) for row in frame.iter_rows(named=True)]
        handle.write(json.dumps(rows, ensure_ascii=False, indent=1).encode() + b"\n")
    else:
        for row in frame.iter_rows(named=True):
            handle.write(json.dumps(_json_row(row), ensure_ascii=False).encode() + b"\n")


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _json_value(value) for name, value in row.items()}


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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


def _schedule(args: argparse.Namespace) -> Schedules:
    """One schedule from ``--start/--interval/--tz/--end``, or one per customer from
    ``--schedules FILE``; each checked to stay within the calendar up to ``--until``."""
    flags = {"--start": args.start, "--interval": args.interval, "--tz": args.tz, "--end": args.end}
    if args.schedules is not None:
        given = [flag for flag, value in flags.items() if value is not None]
        if given:
            raise InvalidArgument(
                f"--schedules gives every customer its own schedule; drop {', '.join(given)}"
            )
        return _read_schedules(args.schedules)
    if args.start is None:
        raise InvalidArgument(
            "give --start YYYY-MM-DD (with --interval, --tz, --end as needed) or --schedules FILE"
        )
    return BillingSchedule(args.start, args.interval or "1mo", args.tz or "UTC", args.end)


def _read_schedules(name: str) -> dict[str, BillingSchedule]:
    """Per-customer schedules from a ``.csv`` (a header row) or ``.json`` file (an array of
    objects), with fields customerAlias, start and optionally interval (``1mo``), timeZone
    (``UTC``) and end."""
    path = Path(name)
    where = f"--schedules {name!r}"
    if path.is_dir():
        raise InvalidSchedule(f"{where} is a directory; give a .csv or .json file")
    if not path.is_file():
        raise InvalidSchedule(f"{where}: no such file")
    suffix = path.suffix.lower()
    records: list[object]
    if suffix == ".json":
        try:
            data = loads_json(path.read_bytes())
        except InvalidJson as error:
            raise InvalidSchedule(f"{where} {error}") from None
        if not isinstance(data, list):
            raise InvalidSchedule(f"{where} is not a JSON array of schedule objects")
        records = data
    elif suffix == ".csv":
        try:
            frame = pl.read_csv(path, infer_schema=False, raise_if_empty=False, encoding="utf8")
        except pl.exceptions.PolarsError as error:
            raise InvalidSchedule(f"cannot read {where} as CSV: {_first_line(str(error))}") from None
        records = list(frame.iter_rows(named=True))
    else:
        raise InvalidSchedule(f"{where}: the file name must end in .csv or .json")
    return _schedules_from_records(records, where)


def _schedules_from_records(records: Sequence[object], where: str) -> dict[str, BillingSchedule]:
    schedules: dict[str, BillingSchedule] = {}
    problems: list[str] = []
    for index, record in enumerate(records):
        try:
            alias, schedule = _schedule_record(record)
        except InvalidSchedule as error:
            problems.append(f"row {index}: {error}")
            continue
        if alias in schedules:
            problems.append(f"row {index}: customerAlias {alias!r} already has a schedule")
        schedules[alias] = schedule
    if not records:
        problems.append("no schedules (give one row per customer)")
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise InvalidSchedule(f"{len(problems)} {noun} in {where}: {'; '.join(problems[:5])}{more}")
    return schedules


def _schedule_record(record: object) -> tuple[str, BillingSchedule]:
    if not isinstance(record, dict):
        raise InvalidSchedule(f"is not an object with fields {', '.join(_SCHEDULE_FIELDS)}")
    unknown = [str(key) for key in record if key not in _SCHEDULE_FIELDS]
    if unknown:
        raise InvalidSchedule(f"unknown fields {unknown[:5]}; the fields are {', '.join(_SCHEDULE_FIELDS)}")
    alias, start, end = record.get("customerAlias"), record.get("start"), record.get("end")
    interval, zone = record.get("interval") or "1mo", record.get("timeZone") or "UTC"
    if not isinstance(alias, str) or not alias:
        raise InvalidSchedule(f"customerAlias must be a non-empty text, got {alias!r}")
    for field_name, value in (("interval", interval), ("timeZone", zone)):
        if not isinstance(value, str):
            raise InvalidSchedule(f"{field_name} must be a text, got {value!r}")
    try:
        return alias, BillingSchedule(_record_date("start", start), interval, zone, _optional_date(end))
    except InvalidSchedule as error:
        raise InvalidSchedule(f"the schedule of {alias!r}: {error}") from None


def _record_date(field_name: str, value: object) -> date:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    raise InvalidSchedule(f"{field_name} must be a date YYYY-MM-DD, got {value!r}")


def _optional_date(value: object) -> date | None:
    return None if value is None or value == "" else _record_date("end", value)


_OUT_OF_CORE_FILE_BYTES = 64 << 20
"""A Parquet EVENTS file larger than this is billed out of core."""


def _out_of_core(args: argparse.Namespace) -> bool:
    """Bill EVENTS with :mod:`seatcalc.partitioned`: a Parquet folder or glob, a large
    Parquet file, or any Parquet file with ``--memory-limit``."""
    if args.events is None or args.db is not None or args.events == "-":
        return False
    path = Path(args.events)
    if path.is_dir():
        return True
    if path.suffix.lower() not in (".parquet", ".pq"):
        return False
    if any(c in args.events for c in "*?[") and not path.exists():
        return True  # a glob of Parquet files
    if not path.is_file():
        return False
    return args.memory_limit is not None or path.stat().st_size > _OUT_OF_CORE_FILE_BYTES


def _bill(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        schedule = _schedule(args)
        with _on_spark(args) as (spark, events):
            seats = spark.to_polars(
                spark.billable_seats(events, schedule, until=args.until, supersede_by=args.supersede_by)
            )
        _show(seats, args.out)
        return 0
    if args.memory_limit is not None and not _out_of_core(args):
        raise InvalidArgument("--memory-limit goes with Parquet EVENTS (a file, a folder or a glob)")
    if _out_of_core(args):
        from seatcalc.partitioned import partitioned_billable_seats

        def say(line: str) -> None:
            print(f"seatcalc bill: {line}", file=sys.stderr, flush=True)

        parquet_out = args.out is not None and Path(args.out).suffix.lower() in (".parquet", ".pq")
        found = partitioned_billable_seats(
            args.events,
            _schedule(args),
            until=args.until,
            supersede_by=args.supersede_by,
            memory_limit=args.memory_limit,
            out=args.out if parquet_out else None,
            progress=say,
        )
        if found is not None:
            _show(found, args.out)
        return 0
    seats = billable_seats(
        _bill_events(args), _schedule(args), until=args.until, supersede_by=args.supersede_by
    )
    _show(seats, args.out)
    return 0


_SIZE = re.compile(r"(?i)\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)i?b?\s*")


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _bytes(text: str) -> int:
    """``4G``, ``512M`` (powers of 1024), ``3e9`` or a plain number of bytes."""
    match = _SIZE.fullmatch(text)
    try:
        value = float(match.group(1)) * _UNITS[match.group(2).lower()] if match else float(text)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value < 1:
        raise argparse.ArgumentTypeError(
            f"not a number of bytes: {text!r} (give e.g. 4G, 512M or 3000000000)"
        )
    return int(value)


def _spark_module() -> ModuleType:
    try:
        return importlib.import_module("seatcalc.spark")
    except ImportError:
        raise InvalidArgument(
            "--engine spark needs pyspark>=4 (and Java 17): pip install 'seatcalc[spark]'"
        ) from None


@contextlib.contextmanager
def _on_spark(args: argparse.Namespace) -> Iterator[tuple[ModuleType, Any]]:
    """The events as a Spark frame, on a session at ``--spark-master`` (default ``local[2]``).

    The file (or ledger account) is read by seatcalc's reader in this process, so its row
    order is the receipt order when it has no ``receivedSeq``; Spark computes. A session
    already running in this process is used as it is and left running; one started here is
    stopped at the end.
    """
    spark = _spark_module()
    events = _bill_events(args)
    if "receivedSeq" not in events.columns:
        events = events.with_row_index("receivedSeq").with_columns(pl.col("receivedSeq").cast(pl.Int64))
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    session = running if running is not None else spark.spark_session(args.spark_master)
    try:
        yield spark, session.createDataFrame(events.to_arrow())
    finally:
        if running is None:
            session.stop()


def _charges(args: argparse.Namespace) -> int:
    prices = load_prices(Path(args.prices))
    if args.engine == "spark":  # no warning for seat types without a price: they get no lines
        schedule = _schedule(args)
        with _on_spark(args) as (spark, frame):
            lines = spark.to_polars(
                spark.price_seats(
                    frame,
                    schedule,
                    prices,
                    until=args.until,
                    supersede_by=args.supersede_by,
                    rounding=args.rounding,
                    unpriced=args.unpriced,
                )
            )
        _show_lines(args, lines)
        return 0
    events, schedule = _bill_events(args), _schedule(args)
    if args.unpriced == "skip":  # price once, and say which seat types get no lines
        lines, missing = price_seats_and_unpriced(
            events, schedule, prices, until=args.until, supersede_by=args.supersede_by, rounding=args.rounding
        )
        if missing.height:
            print(f"seatcalc charges: warning: {describe_unpriced(missing)}", file=sys.stderr)
    else:  # "error": price_seats raises naming them
        lines = price_seats(
            events,
            schedule,
            prices,
            until=args.until,
            supersede_by=args.supersede_by,
            rounding=args.rounding,
            unpriced=args.unpriced,
        )
    _show_lines(args, lines)
    return 0


def _show_lines(args: argparse.Namespace, lines: pl.DataFrame) -> None:
    """The lines (all to ``--out``, or the first on screen) and totals per customer."""
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


def _explain_command(args: argparse.Namespace) -> int:
    if args.start is None and args.schedules is None:
        args.start = args.period  # by default the schedule starts with the period explained
    prices = None if args.prices is None else load_prices(Path(args.prices))
    why = explain(
        _bill_events(args),
        _schedule(args),
        args.customer,
        args.seat_type,
        args.period,
        prices=prices,
        account_id=args.account,
        supersede_by=args.supersede_by,
        rounding=args.rounding,
    )
    print(why.text(), end="")
    if args.plot is not None:
        print(f"wrote the plot to {why.plot(args.plot)}", file=sys.stderr)
    return 0


def _restate_command(args: argparse.Namespace) -> int:
    billed = read_billed(args.billed)
    prices = None if args.prices is None else load_prices(Path(args.prices))
    changes = restate(
        billed,
        _bill_events(args),
        _schedule(args),
        prices=prices,
        supersede_by=args.supersede_by,
        rounding=args.rounding,
    )
    if changes.height == 0 and args.out is None:
        print(f"nothing changed: the {billed.height} billed rows are what the events give today")
        return 0
    if args.out is not None:
        _show(changes.with_columns(pl.col("events").list.join("; ")), args.out)
        return 0
    # on screen: one row per changed figure (key, period, figure, billed, now, delta, events)
    keys = [c for c in changes.columns if not c.endswith(("Billed", "Now", "Delta")) and c != "events"]
    figures = [c.removesuffix("Delta") for c in changes.columns if c.endswith("Delta")]
    rows = [
        {**{k: row[k] for k in keys}, "figure": name, "billed": str(row[f"{name}Billed"]),
         "now": str(row[f"{name}Now"]), "delta": str(row[f"{name}Delta"]),
         "events": ", ".join(label.split(":")[0] for label in row["events"])}
        for row in changes.iter_rows(named=True)
        for name in figures
        if row[f"{name}Delta"] != 0
    ]  # fmt: skip
    texts = dict.fromkeys(("figure", "billed", "now", "delta", "events"), pl.String)
    _show(pl.DataFrame(rows, schema={**changes.select(keys).schema, **texts}), None)
    print("\nThe events (customerEventId#receivedSeq):")
    for label in sorted(
        set(changes["events"].explode().drop_nulls().to_list()), key=lambda t: t.split(":")[0]
    ):
        print(f"  {label}")
    return 0


def _bill_events(args: argparse.Namespace) -> pl.DataFrame:
    """The events to bill: from the EVENTS file, or from the ledger ``--db`` (one account)."""
    if (args.events is None) == (args.db is None):
        raise InvalidArgument("give an EVENTS file or --db FILE --account ID (exactly one of the two)")
    if args.db is None:
        if args.account is not None:
            raise InvalidArgument("--account goes with --db FILE; an EVENTS file is billed whole")
        return read_events(args.events)
    if args.account is None:
        raise InvalidArgument("--db needs --account ID: a ledger file may hold several accounts")
    with SeatLedger.open(args.db, account_id=args.account, create_missing=False) as ledger:
        events = ledger.events()
        if events.height == 0:
            known = ledger.accounts()
            shown = ", ".join(repr(a) for a in known[:5]) + (", …" if len(known) > 5 else "")
            raise InvalidArgument(
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

    def finish(self, *, done: bool = True) -> None:
        """End the bar's line; when the batch failed, erase it (the error is the one line)."""
        if self.drawn:
            sys.stderr.write("\n" if done else "\r\033[K")
            sys.stderr.flush()
            self.drawn = False


def _import(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    label = "stdin" if args.stdin else Path(args.events).name
    bar = _ProgressBar(f"importing {label}")
    created_here = not os.path.lexists(args.db)
    try:
        with SeatLedger.open(args.db, account_id=args.account) as ledger:
            try:
                result = ledger.create_many(
                    args.events,
                    on_error="skip" if args.skip_bad else "raise",
                    chunk_rows=args.chunk_rows,
                    progress=bar,
                )
            except BaseException:
                bar.finish(done=False)
                raise
            bar.finish()
            stored = len(ledger)
    except BaseException:
        if created_here:
            _remove_if_empty(args.db, args.account)
        raise
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


def _remove_if_empty(db: str, account: str) -> None:
    """A ledger file this run created and a failed import left empty is removed again."""
    with contextlib.suppress(Exception):
        with SeatLedger.open(db, account_id=account, create_missing=False) as ledger:
            if ledger.accounts():
                return
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(db + suffix).unlink(missing_ok=True)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seatcalc", description="Seat events in, billable seats and exact charges out.")
    parser.add_argument("--version", action="version", version=f"seatcalc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="bill a built-in sample and print the table")
    demo.set_defaults(handler=_demo)

    bill = commands.add_parser("bill", help="billable seats per customer, seat type and period")
    _billing_options(bill, "bill")
    _out_option(bill, "the seats")
    bill.add_argument(
        "--memory-limit",
        type=_bytes,
        metavar="BYTES",
        help="bill Parquet EVENTS out of core within about this much memory (4G, 512M; "
        "default for a folder, a glob or a file over 64 MB: a quarter of the machine's memory)",
    )
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
    _out_option(charges, "the lines")
    charges.set_defaults(handler=_charges)

    why = commands.add_parser("explain", help="one customer, seat type and period taken apart")
    _billing_options(why, "explain")
    why.add_argument("--customer", required=True, help="the customerAlias")
    why.add_argument("--seat-type", required=True, help="the seatType")
    why.add_argument("--period", required=True, type=_date, help="the period's first day (YYYY-MM-DD)")
    _pricing_options(why, required=False)
    why.add_argument("--plot", metavar="FILE.png", help="also write the balance as a step chart (PNG)")
    why.set_defaults(handler=_explain_command)

    late = commands.add_parser("restate", help="what today's events change in a billed frame")
    _billing_options(late, "restate")
    late.add_argument("--billed", required=True, help="the bill or charges --out file (.csv, .json, …)")
    _pricing_options(late, required=False)
    _out_option(late, "the changed rows")
    late.set_defaults(handler=_restate_command)

    load = commands.add_parser("import", help="store a file of seat events in a ledger (SQLite)")
    load.add_argument("events", help="events file: .ndjson, .jsonl, .json, .csv or .parquet; - reads stdin")
    _format_option(load, "EVENTS given as - (stdin)")
    load.add_argument("--db", required=True, help="ledger file (SQLite), created if missing")
    load.add_argument("--account", required=True, help="sequenceAccountId the events belong to")
    load.add_argument(
        "--skip-bad",
        action="store_true",
        help="store the good rows and list the bad ones (default: any bad row stores nothing)",
    )
    load.add_argument(
        "--chunk-rows",
        type=_whole_number,
        metavar="N",
        help="commit every N rows, e.g. 50000 (default: the whole file in one transaction)",
    )
    load.set_defaults(handler=_import)
    add_commands(commands)
    return parser


def _pricing_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--prices", required=required, help="JSON file of seat prices (as for charges)")
    parser.add_argument(
        "--rounding", choices=ROUNDING_MODES, default="ROUND_HALF_UP", help="rounding per line"
    )


def _out_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--out",
        metavar="FILE",
        help=f"write all {what} to FILE (.csv, .parquet, .json or .ndjson; - for stdout in --format) "
        f"instead of printing the first {SHOWN_ROWS} as a table",
    )


def _format_option(parser: argparse.ArgumentParser, streams: str) -> None:
    parser.add_argument(
        "--format",
        choices=STREAM_FORMATS,
        default="ndjson",
        help=f"format of {streams}; default ndjson",
    )


def _billing_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """What to bill (an EVENTS file or a ledger account) and on which schedule."""
    parser.add_argument(
        "events",
        nargs="?",
        help="events file: .ndjson (one API JSON object per line), .json, .csv or .parquet; - reads stdin",
    )
    _format_option(parser, "EVENTS given as - (stdin) and of --out - (stdout) or a device")
    parser.add_argument("--db", help=f"{verb} the events of a ledger file instead of an EVENTS file")
    parser.add_argument("--account", help=f"the account to {verb} in the --db ledger")
    parser.add_argument("--start", type=_date, help="first period start (YYYY-MM-DD)")
    parser.add_argument("--interval", help="1mo, 3mo, 6mo, 1y, Nd or Nw (default 1mo)")
    parser.add_argument("--end", type=_date, help="exclusive end date; must be a period boundary")
    parser.add_argument("--until", type=_date, help="keep periods that start before this date")
    parser.add_argument(
        "--tz",
        help="IANA time zone of the period boundaries (default UTC); printed instants are shown in it",
    )
    parser.add_argument(
        "--schedules",
        metavar="FILE",
        help="one schedule per customer instead of --start/--interval/--tz/--end: .csv or .json "
        "with customerAlias, start, interval, timeZone, end",
    )
    parser.add_argument(
        "--engine",
        choices=("polars", "spark"),
        default="polars",
        help="polars (default: in memory, this process) or spark (extra seatcalc[spark])",
    )
    parser.add_argument(
        "--spark-master",
        default="local[2]",
        metavar="URL",
        help="with --engine spark: the Spark master (default local[2])",
    )
    parser.add_argument(
        "--supersede-by",
        choices=("eventTimestamp", "received"),
        default="eventTimestamp",
        help="which version of an event wins (default: latest eventTimestamp)",
    )


# -- running -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring).

    As argparse does, a command line it refuses raises ``SystemExit(2)`` (after one line on
    stderr) and ``--help``/``--version`` raise ``SystemExit(0)``. Run as the process itself
    (``argv`` is ``None``), a late Ctrl-C or a resource closed while unwinding after one
    prints nothing more.
    """
    debug = os.environ.get("SEATCALC_DEBUG") == "1"
    as_process = argv is None
    if as_process and not debug:
        sys.unraisablehook = _ignore_unraisable
    try:
        return _main(argv, debug)
    finally:
        if as_process and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the work is done; exit with its status


def _main(argv: Sequence[str] | None, debug: bool) -> int:
    prog = "seatcalc"
    try:
        args = _parser().parse_args(argv)
        prog = f"seatcalc {args.command}"
        return _run(args)
    except _UsageError as error:
        _say(str(error))
        raise SystemExit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt as error:
        _release(error)
        _say(f"{prog}: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError as error:
        _release(error)
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as error:  # every failure becomes one line
        if debug:
            raise
        _release(error)
        status, message = _explain(error)
        _say(f"{prog}: {message}")
        return status


def _ignore_unraisable(unraisable: Any) -> None:
    """Errors Python cannot raise (a generator closed late) stay quiet in the command."""


def _release(error: BaseException) -> None:
    """Let go of the frames an error holds now, quietly: a ledger transaction interrupted
    mid-way is cleaned up here, not later as an "Exception ignored" traceback."""
    saved = sys.unraisablehook
    sys.unraisablehook = _ignore_unraisable
    try:
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            current = current.__context__
        gc.collect()
    finally:
        sys.unraisablehook = saved


def _run(args: argparse.Namespace) -> int:
    """Run the command's handler with stdin as EVENTS (``-``) and stdout as ``--out -``."""
    handler: Handler = args.handler
    events = getattr(args, "events", None)
    stream_format = getattr(args, "format", "ndjson")
    args.stdin = events == "-"
    with contextlib.ExitStack() as stack:
        if args.stdin:
            args.events = stack.enter_context(_stdin_file(stream_format))
        token = _OUTPUT.set(_Output(getattr(args, "tz", None), stream_format, sys.stdout))
        stack.callback(_OUTPUT.reset, token)
        if getattr(args, "out", None) == "-":
            stack.enter_context(contextlib.redirect_stdout(sys.stderr))  # only data on stdout
        return handler(args)


@contextlib.contextmanager
def _stdin_file(stream_format: str) -> Iterator[str]:
    """Stdin copied to a temporary file named for its format (files are read whole anyway)."""
    with tempfile.TemporaryDirectory(prefix="seatcalc-") as folder:
        path = Path(folder) / f"stdin.{stream_format}"
        stdin = sys.stdin
        with path.open("wb") as copy:
            if stdin is not None and hasattr(stdin, "buffer"):
                shutil.copyfileobj(stdin.buffer, copy)
            elif stdin is not None:
                copy.write(stdin.read().encode("utf-8", "surrogateescape"))
        yield str(path)


def _explain(error: Exception) -> tuple[int, str]:
    """Exit status and message of a failure: bad input is 2, anything else a bug (1)."""
    if isinstance(error, SeatcalcError):
        return EXIT_BAD_INPUT, str(error)
    if isinstance(error, (MemoryError, RecursionError)):
        kind = type(error).__name__
        return EXIT_BAD_INPUT, f"the input is too large or too deeply nested to process ({kind})"
    if isinstance(error, UnicodeError):
        return EXIT_BAD_INPUT, f"the input is not UTF-8 text: {error}"
    if isinstance(error, OSError):
        where = f" {str(error.filename)!r}" if error.filename is not None else " input"
        return EXIT_BAD_INPUT, f"cannot read{where}: {error.strerror or error}"
    if isinstance(error, pl.exceptions.PolarsError):
        return EXIT_BAD_INPUT, f"cannot read input: {error}"
    if isinstance(error, OverflowError):
        return EXIT_BAD_INPUT, f"a date or number is out of range: {error}"
    return EXIT_BUG, (
        f"unexpected {type(error).__name__}: {error} — this is a bug; SEATCALC_DEBUG=1 shows the traceback"
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _say(message: str) -> None:
    """One line on stderr: line breaks and other control characters escaped, text that
    is not Unicode (a lone surrogate) written as escapes, very long values cut."""
    line = "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in message)
    if len(line) > 2000:
        line = line[:2000] + "…"
    line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    with contextlib.suppress(Exception):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _silence_stdout() -> None:
    """After a reader closed stdout: point it at /dev/null so the interpreter's final flush
    does not complain (only when stdout is a real file descriptor)."""
    with contextlib.suppress(Exception):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


if __name__ == "__main__":
    sys.exit(main())
