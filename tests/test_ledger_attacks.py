"""Attacks on the ledger's edges: racing opens, odd paths and arguments, text SQLite cannot
take, places that cannot hold a file. Every failure is a SeatcalcError leaf that is also
the builtin a caller would catch, with the argument or the file named; never a raw error."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import LedgerError, SeatcalcError, SeatEventNotFound, SeatLedger
from seatcalc.events import CreateSeatEventRequest
from seatcalc.ledger import InvalidLedgerArgument, SeatEventPage
from seatcalc.ledger import ledger as ledger_module
from seatcalc.ledger.pages import ListQuery
from seatcalc.ledger.store import APPLICATION_ID, SCHEMA_VERSION, LedgerStore
from tests import ledger_worker
from tests.test_ledger import T0, wire
from tests.test_ledger_processes import raw

ROOT = Path(__file__).parent.parent
BUILTINS = (ValueError, TypeError, LookupError, OSError)
OPEN_ARGUMENTS = ("path", "account_id", "busy_timeout", "create_missing")
LIST_ARGUMENTS = (
    "customer_alias",
    "seat_type",
    "customer_event_id",
    "event_timestamp_before",
    "event_timestamp_after",
    "sort_order",
    "limit",
    "after",
    "before",
)
MAX_BUSY_TIMEOUT = 2_147_483  # seconds: 2**31 - 1 ms, SQLite's C int, rounded down


def assert_is_a_ledger(path: Path) -> None:
    assert raw(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(path, "PRAGMA integrity_check") == [("ok",)]
    tables = raw(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    assert tables == [("accounts",), ("seat_event_segments",), ("seat_events",)]


def assert_refusal(error: BaseException, names: tuple[str, ...]) -> None:
    """A SeatcalcError leaf that is also a builtin; an argument error names its argument."""
    assert isinstance(error, SeatcalcError) and isinstance(error, BUILTINS), repr(error)
    if isinstance(error, InvalidLedgerArgument):
        assert any(name in str(error) for name in names), str(error)
    assert error.__cause__ is None


# -- 1. processes opening one new file at once -------------------------------------------------


@pytest.mark.slow
def test_processes_opening_one_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """12 processes open the same new path at the same instant, 30 times over: each open
    succeeds (none takes the half-initialised file for a foreign one) and each file is a
    ledger afterwards."""
    processes, rounds = 12, 30
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes, timeout=60)
    results = context.Queue()
    workers = [
        context.Process(target=ledger_worker.open_rounds, args=(str(tmp_path), rounds, barrier, results, n))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=60) for _ in range(processes * rounds)]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
        results.close()
        results.join_thread()
    failures = [outcome for outcome in outcomes if outcome[2] != "ok"]
    assert failures == []
    assert [worker.exitcode for worker in workers] == [0] * processes
    for number in range(rounds):
        assert_is_a_ledger(tmp_path / f"round{number}.sqlite")


def test_an_empty_file_is_a_new_ledger(tmp_path: Path) -> None:
    """A 0-byte file (what another process's open has just created) is set up, not refused."""
    path = tmp_path / "empty.sqlite"
    path.touch()
    with SeatLedger.open(path, account_id="a") as ledger:
        ledger.create(wire(1))
    assert_is_a_ledger(path)


# -- 2. busy_timeout beyond what SQLite can hold -----------------------------------------------


@pytest.mark.parametrize("timeout", [1e7, 2_147_484, 10**400, 1e300, MAX_BUSY_TIMEOUT + 0.001])
def test_a_busy_timeout_sqlite_cannot_hold_is_refused(tmp_path: Path, timeout: float) -> None:
    """SQLite keeps the timeout in milliseconds in a C int: 1e7 s used to wrap around and
    stop waiting at once. Anything above the maximum is refused, naming it."""
    with pytest.raises(InvalidLedgerArgument, match=r"busy_timeout=.*at most 2147483 s") as caught:
        SeatLedger.open(tmp_path / "x.sqlite", account_id="a", busy_timeout=timeout)
    assert_refusal(caught.value, ("busy_timeout",))
    assert not (tmp_path / "x.sqlite").exists()


def test_the_largest_busy_timeout_is_kept_whole(tmp_path: Path) -> None:
    assert ledger_module.MAX_BUSY_TIMEOUT == MAX_BUSY_TIMEOUT
    with SeatLedger.open(tmp_path / "x.sqlite", account_id="a", busy_timeout=MAX_BUSY_TIMEOUT) as ledger:
        conn = ledger._store._conn
        assert conn is not None
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (2_147_483_000,)
        assert ledger.create(wire(1)).total == 1
    with SeatLedger.open(None, account_id="a", busy_timeout=0) as ledger:
        assert len(ledger) == 0


# -- 3. a path is a file name, never an SQLite URI ---------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "file:foo?immutable=1",
        "file::memory:",
        "file:bar.sqlite?mode=ro",
        "file:x%20y.sqlite",
        "file:passwd?mode=ro&vfs=unix-none",
        "a#b?c=d.sqlite",
        "100%.sqlite",
    ],
)
def test_uri_looking_paths_are_plain_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with SeatLedger.open(name, account_id="a") as ledger:
        ledger.create(wire(1))
    assert (tmp_path / name).is_file()
    assert_is_a_ledger(tmp_path / name)
    with SeatLedger.open(name, account_id="a", create_missing=False) as ledger:
        assert ledger.events()["total"].to_list() == [1]
        ledger.create(wire(2))
    with SeatLedger.open(tmp_path / name, account_id="a") as ledger:
        assert ledger.events()["total"].to_list() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == [name]  # nothing else, no -wal left behind


def test_the_name_memory_still_means_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SeatLedger.open(":memory:", account_id="a") as ledger:
        assert ledger.path is None
        ledger.create(wire(1))
    assert list(tmp_path.iterdir()) == []


# -- 4. open: argument types and values --------------------------------------------------------


class BytesPath:
    def __fspath__(self) -> bytes:
        return b"x.sqlite"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (b"x.sqlite", "path=b'x.sqlite'"),
        (7, "path=7"),
        (1.5, "path=1.5"),
        (["x"], r"path=\['x'\]"),
        (BytesPath(), "path=.*BytesPath"),
        ("", "path='': "),
        ("a\x00b.sqlite", r"path='a\\x00b.sqlite': .*NUL"),
        ("bad-\ud800.sqlite", "path=.*cannot be encoded"),
    ],
)
def test_open_refuses_what_is_not_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: object, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidLedgerArgument, match=message) as caught:
        SeatLedger.open(path, account_id="a")  # type: ignore[arg-type]
    assert_refusal(caught.value, ("path",))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"account_id": "\ud800"}, "account_id=.*lone surrogate"),
        ({"account_id": "a\udfffb"}, "account_id=.*lone surrogate"),
        ({"account_id": "x" * 257}, "account_id=.*1 to 256 characters"),
        ({"account_id": b"a"}, "account_id=b'a'"),
        ({"account_id": None}, "account_id=None"),
        ({"account_id": "a\x7f"}, "account_id=.*control character"),
        ({"busy_timeout": True}, "busy_timeout=True"),
        ({"busy_timeout": float("inf")}, "busy_timeout=inf"),
        ({"busy_timeout": "5"}, "busy_timeout='5'"),
        ({"busy_timeout": -0.5}, "busy_timeout=-0.5"),
        ({"create_missing": "no"}, "create_missing='no': must be True or False"),
        ({"create_missing": 0}, "create_missing=0"),
        ({"create_missing": None}, "create_missing=None"),
    ],
)
def test_open_refuses_bad_options(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"account_id": "a", **options}
    with pytest.raises(InvalidLedgerArgument, match=message) as caught:
        SeatLedger.open(tmp_path / "x.sqlite", **arguments)
    assert_refusal(caught.value, OPEN_ARGUMENTS)
    assert not (tmp_path / "x.sqlite").exists()


def test_a_directory_is_not_a_ledger(tmp_path: Path) -> None:
    for where in (tmp_path, str(tmp_path) + "/", tmp_path / "."):
        with pytest.raises(LedgerError, match="is a directory; a ledger is a file") as caught:
            SeatLedger.open(where, account_id="a")
        assert_refusal(caught.value, ())
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="seatcalc-open-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


_NAMES = st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=20).filter(
    lambda name: name not in (".", "..")
)
_ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["\ud800", "a\udc80", "a\x00", "\t", " ", "x" * 257, "x" * 256]),
)
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(
    path=st.one_of(
        st.none(),
        st.just(":memory:"),
        _NAMES.map(lambda name: ("dir", name)),
        st.sampled_from(["\ud800", "a\x00", "", "file:x?mode=ro"]).map(lambda name: ("dir", name)),
        _JUNK,
    ),
    account_id=st.one_of(_ODD_TEXT, _JUNK),
    busy_timeout=st.one_of(
        st.floats(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.booleans(),
        st.text(max_size=3),
        st.none(),
    ),
    create_missing=st.one_of(st.booleans(), _JUNK, st.text(max_size=3)),
)
def test_open_fuzz_opens_or_refuses_cleanly(
    scratch: Path, path: object, account_id: object, busy_timeout: object, create_missing: object
) -> None:
    where = scratch / path[1] if isinstance(path, tuple) else path
    if isinstance(path, tuple) and path[1] in ("\ud800", "a\x00", ""):
        where = str(scratch) + "/" + path[1] if path[1] else ""
    try:
        ledger = SeatLedger.open(
            where,  # type: ignore[arg-type]
            account_id=account_id,  # type: ignore[arg-type]
            busy_timeout=busy_timeout,  # type: ignore[arg-type]
            create_missing=create_missing,  # type: ignore[arg-type]
        )
    except SeatcalcError as error:
        assert_refusal(error, OPEN_ARGUMENTS)
        return
    with ledger:
        assert ledger.account_id == account_id
        assert len(ledger) >= 0
        ledger.create(wire(1))
        assert ledger.list(limit=1).items[0].total == 1


# -- 5. list, balances and get check every argument --------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SeatLedger]:
    path = None if request.param == "memory" else tmp_path / "ledger.sqlite"
    with SeatLedger.open(path, account_id="acct") as opened:
        opened.create_many([wire(i) for i in range(5)])
        yield opened


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seat_type": [None]}, r"seat_type=None: must be a string of 1 to 256 characters"),
        ({"seat_type": ["admin", None]}, r"seat_type=None"),
        ({"seat_type": [""]}, r"seat_type='': must be a string of 1 to 256 characters"),
        ({"seat_type": ["a\n"]}, r"seat_type='a\\n': .*control character"),
        ({"seat_type": ["x" * 257]}, r"seat_type='x.*1 to 256 characters"),
        ({"seat_type": ["\ud800"]}, r"seat_type='\\ud800': .*lone surrogate"),
        ({"seat_type": 5}, r"seat_type=5: must be a seat type or a list of 1 to 25"),
        ({"seat_type": b"admin"}, r"seat_type=b'admin'"),
        ({"seat_type": {"admin"}}, r"seat_type=\{'admin'\}"),
        ({"seat_type": {"admin": 1}}, r"seat_type=\{'admin': 1\}"),
        ({"customer_alias": "\ud800"}, r"customer_alias='\\ud800': .*lone surrogate"),
        ({"customer_alias": "a\x00"}, r"customer_alias='a\\x00': .*control character"),
        ({"customer_alias": 5}, r"customer_alias=5: must be a string of 1 to 256 characters"),
        ({"customer_alias": "x" * 257}, r"customer_alias=.*1 to 256 characters"),
        ({"customer_event_id": ["e"]}, r"customer_event_id=\['e'\]"),
        ({"customer_event_id": "\udfff"}, r"customer_event_id=.*lone surrogate"),
        ({"limit": 1.0}, r"limit=1.0: must be an integer from 1 to 100"),
        ({"limit": "5"}, r"limit='5'"),
        ({"limit": False}, r"limit=False"),
        ({"limit": 0}, r"limit=0"),
        ({"limit": 10**30}, r"limit=10+"),
        ({"sort_order": "asc"}, r"sort_order='asc': must be 'ASC' or 'DESC'"),
        ({"sort_order": "ASC "}, r"sort_order='ASC '"),
        ({"sort_order": None}, r"sort_order=None"),
        ({"sort_order": 1}, r"sort_order=1"),
        ({"after": 5}, r"after=5: a cursor is a non-empty string"),
        ({"before": b"abc"}, r"before=b'abc'"),
        ({"after": "\ud800"}, r"after='\\ud800'"),
        ({"event_timestamp_after": 5}, r"event_timestamp_after=5"),
        ({"event_timestamp_after": date(2025, 1, 1)}, r"event_timestamp_after=datetime.date"),
        ({"event_timestamp_before": "garbage"}, r"event_timestamp_before='garbage': is not an RFC 3339"),
        ({"event_timestamp_before": datetime(2025, 1, 1)}, r"event_timestamp_before=.*naive"),
        ({"event_timestamp_before": "\ud800"}, r"event_timestamp_before="),
    ],
)
def test_list_checks_every_argument(ledger: SeatLedger, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidLedgerArgument, match=message) as caught:
        ledger.list(**arguments)
    assert_refusal(caught.value, LIST_ARGUMENTS)


def test_list_takes_good_arguments_of_every_form(ledger: SeatLedger) -> None:
    assert [e.total for e in ledger.list(seat_type="admin", sort_order="ASC").items] == [0, 2, 4]
    assert [e.total for e in ledger.list(seat_type=("admin", "editor"), limit=2).items] == [4, 3]
    assert [e.total for e in ledger.list(seat_type=["x" * 256]).items] == []
    window = ledger.list(
        event_timestamp_after=T0 + timedelta(hours=1), event_timestamp_before="2025-01-01T03:00:00Z"
    )
    assert [e.total for e in window.items] == [2, 1]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (datetime(2025, 1, 1), r"at=datetime.datetime\(2025, 1, 1, 0, 0\): is a naive"),
        (5, r"at=5: must be an RFC 3339"),
        (date(2025, 1, 1), r"at=datetime.date\(2025, 1, 1\)"),
        ("garbage", r"at='garbage': is not an RFC 3339"),
        ("2025-01-01", r"at='2025-01-01': is a date only"),
        ("\ud800", r"at='\\ud800'"),
    ],
)
def test_balances_checks_its_instant(ledger: SeatLedger, at: object, message: str) -> None:
    with pytest.raises(InvalidLedgerArgument, match=message) as caught:
        ledger.balances(at)  # type: ignore[arg-type]
    assert_refusal(caught.value, ("at",))
    assert ledger.balances("2025-01-01T01:00:00Z")["total"].to_list() == [0, 1]


@pytest.mark.parametrize("event_id", [5, None, b"abc", "\ud800", "a\udc80", "", "x" * 10_000, "a\x00"])
def test_get_of_anything_but_a_stored_id_is_not_found(ledger: SeatLedger, event_id: object) -> None:
    with pytest.raises(SeatEventNotFound, match="no seat event with id") as caught:
        ledger.get(event_id)  # type: ignore[arg-type]
    assert isinstance(caught.value, LookupError)


_TEXTY = st.one_of(st.none(), _ODD_TEXT, st.sampled_from(["admin", "cust-1", "evt-2"]), _JUNK)
_INSTANTS = st.one_of(
    st.none(),
    st.datetimes(timezones=st.sampled_from([UTC, None])),
    st.sampled_from(["2025-01-01T02:00:00Z", "2025-01-01", "garbage", "\ud800"]),
    _JUNK,
)


@pytest.fixture(scope="module")
def fuzzed_ledgers(scratch: Path) -> Iterator[list[SeatLedger]]:
    ledgers = [
        SeatLedger.open(None, account_id="acct"),
        SeatLedger.open(scratch / "list.sqlite", account_id="acct"),
    ]
    for ledger in ledgers:
        ledger.create_many([wire(i) for i in range(5)])
    yield ledgers
    for ledger in ledgers:
        ledger.close()


@settings(max_examples=200, deadline=None)
@given(
    backend=st.sampled_from([0, 1]),
    customer_alias=_TEXTY,
    seat_type=st.one_of(_TEXTY, st.lists(_TEXTY, max_size=3)),
    customer_event_id=_TEXTY,
    event_timestamp_before=_INSTANTS,
    event_timestamp_after=_INSTANTS,
    sort_order=st.one_of(st.sampled_from(["ASC", "DESC", "asc"]), _JUNK),
    limit=st.one_of(st.integers(min_value=-2, max_value=102), _JUNK),
    after=st.one_of(st.none(), _ODD_TEXT, _JUNK),
    at=_INSTANTS,
)
def test_list_fuzz_gives_a_page_or_a_clean_refusal(
    fuzzed_ledgers: list[SeatLedger], backend: int, at: object, **arguments: Any
) -> None:
    ledger = fuzzed_ledgers[backend]
    try:
        page = ledger.list(**arguments)
    except SeatcalcError as error:
        assert_refusal(error, LIST_ARGUMENTS)
    else:
        assert isinstance(page, SeatEventPage)
        assert len(page.items) <= arguments["limit"]
    try:
        balances = ledger.balances(at)  # type: ignore[arg-type]
    except SeatcalcError as error:
        assert_refusal(error, ("at",))
    else:
        assert balances["total"].sum() <= 0 + 1 + 2 + 3 + 4


# -- 6. text SQLite cannot encode never escapes as a raw error ---------------------------------


def test_lone_surrogates_reaching_the_store_are_refused(ledger: SeatLedger) -> None:
    store = ledger._store
    assert store.get("\ud800") is None
    with pytest.raises(InvalidLedgerArgument, match=r"customerAlias.*lone surrogate") as caught:
        store.append_one("0190-id", "evt", "\ud800", "admin", 0, 1)
    assert_refusal(caught.value, ("customerAlias",))
    query = ListQuery(
        customer_alias="a\udc80",
        seat_types=("\ud800",),
        customer_event_id=None,
        after_instant=None,
        before_instant=None,
        sort_order="ASC",
        limit=5,
        after=None,
        before=None,
    )
    with pytest.raises(InvalidLedgerArgument, match="lone surrogate"):
        store.page(query)
    with pytest.raises(InvalidLedgerArgument, match=r"account_id=.*lone surrogate"):
        LedgerStore(store.path, "\ud800", busy_timeout=1.0, create_missing=True)
    assert len(ledger) == 5


@pytest.mark.parametrize("field", ["customerEventId", "customerAlias", "seatType"])
def test_a_lone_surrogate_in_a_request_stores_nothing(ledger: SeatLedger, field: str) -> None:
    for request in (
        wire(9, **{field: "bad\ud800"}),
        CreateSeatEventRequest.model_construct(
            **CreateSeatEventRequest.model_validate(wire(9)).__dict__
        ).model_copy(update={field_name(field): "bad\ud800"}),
    ):
        with pytest.raises(SeatcalcError) as caught:
            ledger.create(request)
        assert isinstance(caught.value, ValueError)
        assert "surrogate" in str(caught.value) or field in str(caught.value)
    assert len(ledger) == 5


def field_name(wire_name: str) -> str:
    return {
        "customerEventId": "customer_event_id",
        "customerAlias": "customer_alias",
        "seatType": "seat_type",
    }[wire_name]


# -- 7. places that cannot hold a ledger -------------------------------------------------------


def test_a_path_under_a_regular_file_gives_a_ledger_error(tmp_path: Path) -> None:
    regular = tmp_path / "regular"
    regular.write_text("not a directory")
    for path in (regular / "ledger.sqlite", regular / "sub" / "ledger.sqlite"):
        with pytest.raises(LedgerError, match=r"cannot open ledger file .*may you write there") as caught:
            SeatLedger.open(path, account_id="a")
        assert_refusal(caught.value, ())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regular"]
    assert regular.read_text() == "not a directory"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_directory_nothing_can_be_created_in_gives_a_ledger_error() -> None:
    path = Path("/proc/seatcalc-ledger.sqlite")
    with pytest.raises(
        LedgerError, match=r"cannot open ledger file '/proc/seatcalc-ledger.sqlite'"
    ) as caught:
        SeatLedger.open(path, account_id="a")
    assert_refusal(caught.value, ())
    assert not path.exists()
    assert not Path("/proc/seatcalc-ledger.sqlite-wal").exists()


_FULL_DISK = """
import resource, signal, sys
from seatcalc import LedgerError, SeatLedger
db, limit = sys.argv[1], int(sys.argv[2])
ledger = SeatLedger.open(db, account_id="a")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))  # the disk is full
rows = [{"customerEventId": f"big-{i}", "customerAlias": "acme", "seatType": "admin",
         "eventTimestamp": "2025-01-01T00:00:00Z", "total": i} for i in range(20_000)]
for attempt in ("create_many", "create"):
    try:
        if attempt == "create_many":
            ledger.create_many(rows)
        else:
            for row in rows:
                ledger.create(row)
        print(attempt, "succeeded")
    except LedgerError as error:
        print(attempt, "LedgerError", error.__cause__ is None, error)
ledger.close()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE stands in for a full disk on Linux")
def test_a_full_disk_gives_a_ledger_error_and_writes_nothing(tmp_path: Path) -> None:
    """A process whose file writes stop at 256 KiB (RLIMIT_FSIZE: writes fail as on a full
    disk): a batch fails whole with a LedgerError, the single creates until the limit are
    kept, and the file stays sound."""
    path = tmp_path / "ledger.sqlite"
    with SeatLedger.open(path, account_id="a") as ledger:
        ledger.create_many([wire(i) for i in range(10)])
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path), str(256 * 1024)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    for line, attempt in zip(lines, ("create_many", "create"), strict=True):
        assert line.startswith(f"{attempt} LedgerError True "), line
        assert "the disk is full" in line or "disk I/O error" in line, line
        assert "the failed call wrote nothing" in line
    assert raw(path, "PRAGMA integrity_check") == [("ok",)]
    with SeatLedger.open(path, account_id="a") as ledger:
        frame = ledger.events()
    assert frame["receivedSeq"].to_list() == list(range(1, frame.height + 1))
    assert frame.height > 10  # the creates before the limit are kept …
    assert frame.filter(frame["customerEventId"].str.starts_with("big-"))["total"].to_list() == list(
        range(frame.height - 10)
    )  # … in order, and none of the failed batch
