"""What the ledger raises, and how SQLite's errors become messages people can act on.

Bad arguments raise :class:`InvalidLedgerArgument` (a ``ValueError``). Every
``sqlite3.Error`` is caught at the store's boundary and re-raised as a
:class:`~seatcalc.errors.LedgerError` that says what is wrong with the file and what to do:
a caller never sees a raw ``sqlite3`` traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from seatcalc.errors import InvalidArgument, LedgerError

__all__ = ["InvalidLedgerArgument", "LedgerError", "translating"]


class InvalidLedgerArgument(InvalidArgument):
    """A ledger call with an argument out of its range: ``limit``, ``sort_order``, a cursor
    this ledger did not issue, both cursors at once, too many seat types, a bad account id."""


def _where(path: Path | None) -> str:
    return "the in-memory ledger" if path is None else f"ledger file {str(path)!r}"


def locked(path: Path | None, busy_timeout: float) -> LedgerError:
    return LedgerError(
        f"{_where(path)} is locked: another connection held its write lock for more than "
        f"busy_timeout={busy_timeout:g} s; retry later, or open the ledger with a longer busy_timeout"
    )


def corrupt(path: Path | None, detail: str) -> LedgerError:
    return LedgerError(
        f"{_where(path)} is not a readable SQLite database ({detail}); it is corrupt or not a "
        "ledger at all: restore it from a backup, or pass the path of a new file"
    )


def foreign(path: Path | None, tables: Sequence[str], application_id: int) -> LedgerError:
    what = f"tables {', '.join(sorted(tables))}" if tables else f"application_id {application_id:#x}"
    return LedgerError(
        f"{_where(path)} is an SQLite database of another application ({what}), not a seatcalc "
        "ledger; it was left untouched: pass the path of a new file or of an existing ledger"
    )


def version_mismatch(path: Path | None, found: int, expected: int) -> LedgerError:
    hint = "upgrade seatcalc" if found > expected else "it was written by an older seatcalc"
    return LedgerError(
        f"{_where(path)} has ledger schema version {found}; this seatcalc reads version {expected} ({hint})"
    )


def missing_file(path: Path) -> LedgerError:
    return LedgerError(
        f"no ledger file at {str(path)!r}; create one with `seatcalc import` or SeatLedger.open"
    )


def closed(path: Path | None) -> LedgerError:
    return LedgerError(f"{_where(path)} is closed; open it again with SeatLedger.open")


def from_sqlite(error: sqlite3.Error, path: Path | None, busy_timeout: float) -> LedgerError:
    """One clear :class:`LedgerError` for any ``sqlite3`` error, by its result code."""
    name = getattr(error, "sqlite_errorname", "") or ""
    detail = str(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in detail:
        return locked(path, busy_timeout)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in detail:
        return corrupt(path, detail)
    where = _where(path)
    if name.startswith("SQLITE_CANTOPEN"):
        return LedgerError(
            f"cannot open {where} ({detail}): does its directory exist, and may you write there?"
        )
    if name.startswith("SQLITE_READONLY"):
        return LedgerError(
            f"{where} is read-only ({detail}); a ledger needs write access to its file and directory"
        )
    if name.startswith("SQLITE_FULL"):
        return LedgerError(f"{where}: the disk is full ({detail}); the failed call wrote nothing")
    if name.startswith("SQLITE_IOERR"):
        return LedgerError(f"{where}: disk I/O error ({detail}); the failed call wrote nothing")
    return LedgerError(f"{where}: SQLite error {name or type(error).__name__} ({detail})")


@contextmanager
def translating(path: Path | None, busy_timeout: float) -> Iterator[None]:
    """Re-raise any ``sqlite3.Error`` inside the block as a :class:`LedgerError`, and a
    value SQLite cannot take (text with a lone surrogate, an integer beyond 64 bits) as an
    :class:`InvalidLedgerArgument`; the store checks its arguments first, this is the net."""
    try:
        yield
    except sqlite3.Error as error:
        raise from_sqlite(error, path, busy_timeout) from None
    except UnicodeEncodeError as error:
        bad = error.object[error.start : error.end]
        raise InvalidLedgerArgument(
            f"a text argument contains {bad!r}, which is not valid Unicode (a lone surrogate); "
            f"{_where(path)} stores UTF-8 text"
        ) from None
    except OverflowError as error:
        raise InvalidLedgerArgument(
            f"a number out of range reached {_where(path)} ({error}); integers are stored in 64 bits"
        ) from None
