"""The `seatcalc` command under attack: every failure is one line on stderr and a status
(2 bad input, 130 Ctrl-C, 141 closed stdout, 1 a bug), never a traceback, never a partial
file, and a failed import leaves the ledger as it was."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seatcalc.cli
from seatcalc import SeatLedger
from seatcalc.cli import main

EVENT = {
    "customerEventId": "e-1",
    "customerAlias": "acme",
    "seatType": "admin",
    "eventTimestamp": "2022-10-01T00:00:00Z",
    "total": 1,
}
BILL = ["--start", "2022-10-01", "--end", "2022-12-01"]
PRICES = [
    {"seatType": "admin", "currency": "USD", "pricePerSeat": "1.50", "prorationStrategy": "USE_MAXIMUM"}
]


@pytest.fixture(autouse=True, scope="module")
def _heap_frozen() -> Iterator[None]:
    """Keep the objects that predate these tests out of garbage collections.

    A failed command lets go of its error's frames with a full ``gc.collect()``: over the
    test process's heap (pytest, hypothesis, polars, every test module: about 100,000
    objects) that took 30 ms or more per failed fuzz example, most of the fuzz time. Frozen,
    the older objects are skipped; whatever the command made is still collected.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """``main(argv)`` in-process: (status, stdout, stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _patched_stdin(stdin),
    ):
        try:
            status = main(argv)
        except SystemExit as done:  # argparse's way for a refused command line, --help, --version
            assert isinstance(done.code, int)
            status = done.code
    out.flush()
    assert isinstance(out.buffer, io.BytesIO)
    return status, out.buffer.getvalue().decode("utf-8", "replace"), err.getvalue()


@contextlib.contextmanager
def _patched_stdin(data: bytes) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        yield
    finally:
        sys.stdin = saved


def assert_one_line(status: int, err: str, expected: str = "") -> None:
    assert status == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert expected in err, err


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps(EVENT) + "\n")
    return path


# -- statuses: bug, memory, recursion, Ctrl-C, closed stdout ---------------------------------------


def test_an_unexpected_error_is_one_line_with_status_1(
    events: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(seatcalc.cli, "billable_seats", broken)
    monkeypatch.delenv("SEATCALC_DEBUG", raising=False)
    assert main(["bill", str(events), *BILL]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "RuntimeError" in error and "this is a bug" in error
    assert "Traceback" not in error
    monkeypatch.setenv("SEATCALC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="kaput"):
        main(["bill", str(events), *BILL])


@pytest.mark.parametrize("kind", [MemoryError, RecursionError])
def test_memory_and_recursion_errors_are_one_line_with_status_2(
    events: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: type[Exception]
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise kind()

    monkeypatch.setattr(seatcalc.cli, "read_events", exhausted)
    assert_one_line(main(["bill", str(events), *BILL]), capsys.readouterr().err, kind.__name__)


def test_ctrl_c_in_process_is_one_line_with_status_130(
    events: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(seatcalc.cli, "read_events", interrupted)
    assert main(["bill", str(events), *BILL]) == 130
    assert capsys.readouterr().err == "seatcalc bill: interrupted\n"


def _big_file(path: Path, rows: int) -> Path:
    with path.open("w") as handle:
        for i in range(rows):
            event = {**EVENT, "customerEventId": f"e{i}", "customerAlias": f"c{i % 50}", "total": i % 7}
            handle.write(json.dumps(event) + "\n")
    return path


@pytest.mark.parametrize("chunk", [None, 10_000])
def test_ctrl_c_during_import_leaves_a_consistent_ledger(tmp_path: Path, chunk: int | None) -> None:
    rows = 100_000
    source = _big_file(tmp_path / "big.ndjson", rows)
    db = tmp_path / "ledger.db"
    with SeatLedger.open(db, account_id="other") as ledger:
        ledger.create(EVENT)
    chunking = [] if chunk is None else ["--chunk-rows", str(chunk)]
    command = [sys.executable, "-m", "seatcalc", "import", str(source), "--db", str(db), "--account", "a"]
    process = subprocess.Popen(
        [*command, *chunking],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    if chunk is None:
        time.sleep(2.5)  # reading, checking or writing: any moment must be safe
    else:
        deadline = time.monotonic() + 60
        seen = b""
        while b"[" not in seen and time.monotonic() < deadline:  # the progress bar: chunks committed
            byte = process.stderr.read(1)
            if not byte:
                break
            seen += byte
    process.send_signal(signal.SIGINT)
    out, rest = process.communicate(timeout=60)
    error = (seen if chunk is not None else b"") + rest
    if process.returncode == 0:  # finished before the signal: nothing to check but the result
        assert f"imported {rows:,} events".encode() in out
        assert b"Traceback" not in error
    else:
        assert process.returncode == 130, error
        assert b"Traceback" not in error
        assert error.endswith(b"seatcalc import: interrupted\n") and error.count(b"\n") == 1, error
    with SeatLedger.open(db, account_id="a", create_missing=False) as ledger:
        stored = ledger.events()
    with SeatLedger.open(db, account_id="other", create_missing=False) as other:
        assert len(other) == 1
    if chunk is None:
        assert stored.height in (0, rows)
    else:
        assert stored.height % chunk == 0 or stored.height == rows
        # the committed chunks are the file's first rows, in order
        assert stored["customerEventId"].to_list() == [f"e{i}" for i in range(stored.height)]


@pytest.mark.parametrize(
    "argv", [["demo"], ["bill", "EVENTS", *BILL, "--out", "-"], ["bill", "EVENTS", *BILL]]
)
def test_a_closed_stdout_ends_quietly_with_status_141(events: Path, argv: list[str]) -> None:
    argv = [str(events) if arg == "EVENTS" else arg for arg in argv]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line, as with `| head -0`
    try:
        result = subprocess.run(
            [sys.executable, "-m", "seatcalc", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == b""


def test_demo_piped_into_head_prints_nothing_on_stderr() -> None:
    result = subprocess.run(
        f"{sys.executable} -m seatcalc demo | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and result.stderr == ""


# -- --out: cannot write, nothing left behind --------------------------------------------------------


@pytest.mark.parametrize("target", ["folder", "events.ndjson/seats.csv", "missing/seats.csv"])
def test_an_unwritable_out_says_cannot_write_and_leaves_nothing(
    events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    (tmp_path / "folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert_one_line(
        main(["bill", str(events), *BILL, "--out", str(tmp_path / target)]),
        capsys.readouterr().err,
        f"cannot write '{tmp_path / target}'",
    )
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("kind", ["csv", "json", "ndjson", "parquet"])
def test_a_full_disk_says_cannot_write(events: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    status = main(["bill", str(events), *BILL, "--out", "/dev/full", "--format", kind])
    assert_one_line(status, capsys.readouterr().err, "cannot write '/dev/full'")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial_one(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "seats.csv"
    out.write_text("the previous report\n")

    def disk_full(self: pl.DataFrame, file: object, **kwargs: object) -> None:
        if isinstance(file, (str, Path)):
            Path(file).write_text("customerAlias,seat")
        else:
            file.write(b"customerAlias,seat")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", disk_full)
    assert_one_line(
        main(["bill", str(events), *BILL, "--out", str(out)]),
        capsys.readouterr().err,
        "cannot write",
    )
    assert out.read_text() == "the previous report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["events.ndjson", "seats.csv"]


def test_a_directory_as_events_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line(main(["bill", str(tmp_path), *BILL]), capsys.readouterr().err, "is a directory")
    db = str(tmp_path / "l.db")
    status = main(["import", str(tmp_path), "--db", db, "--account", "a"])
    assert_one_line(status, capsys.readouterr().err, "is a directory")
    assert not Path(db).exists()  # a ledger this run created and left empty is removed


# -- options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--start", "2022-10-01", "--until", "9999-12-31"], "9999"),
        (["--start", "9999-12-01", "--interval", "30d", "--end", "9999-12-31"], ""),
        (["--start", "9999-12-01", "--interval", "1mo", "--until", "9999-12-31"], ""),
        (["--start", "9999-12-31", "--interval", "1y", "--until", "9999-12-31"], ""),
        (["--start", "0001-01-01", "--until", "0001-01-02", "--tz", "Pacific/Kiritimati"], ""),
        (["--start", "0001-01-01", "--until", "0001-01-02", "--tz", "America/Los_Angeles"], ""),
        (["--start", "2022-10-01", "--until", "10000-01-01"], "not a date"),
        (["--start", "garbage"], "argument --start: 'garbage' is not a date"),
        (["--start", "20221001", "--until", "2023-01-01"], "not a date"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--tz", "Mars/Olympus"], "IANA"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--tz", "../../etc/passwd"], "IANA"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--tz", "\x00"], "IANA"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--interval", "-1mo"], "interval"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--interval", "9" * 40 + "d"], "interval"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--format", "xml"], "--format"),
        (["--start", "2022-10-01", "--until", "2023-01-01", "--bogus"], "unrecognized"),
        (["--start", "2022-10-01"], "no end"),
    ],
)
def test_bad_options_are_one_line(events: Path, options: list[str], expected: str) -> None:
    status, _, err = run(["bill", str(events), *options])
    if status == 0:  # some extreme but valid calendars bill fine; none may crash
        assert expected == "" and err == ""
    else:
        assert_one_line(status, err, expected)


@pytest.mark.parametrize("chunk", ["0", "-1", "abc", "1.5", "", "9" * 30])
def test_bad_chunk_rows_are_one_line(events: Path, tmp_path: Path, chunk: str) -> None:
    db = tmp_path / "l.db"
    status, _, err = run(["import", str(events), "--db", str(db), "--account", "a", "--chunk-rows", chunk])
    assert_one_line(status, err, "chunk")  # --chunk-rows (not a number) or chunk_rows (out of range)
    assert not db.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read"), (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"), (b"[", "not valid JSON")],
)
def test_a_binary_or_missing_prices_file_is_one_line(
    events: Path, tmp_path: Path, content: bytes | None, expected: str
) -> None:
    prices = tmp_path / "prices.json"
    if content is not None:
        prices.write_bytes(content)
    status, _, err = run(["charges", str(events), *BILL, "--prices", str(prices)])
    assert_one_line(status, err, expected)
    if content is None:
        assert str(prices) in err


def test_usage_errors_are_one_line() -> None:
    for argv in ([], ["frobnicate"], ["bill", "--nope"], ["import", "x.ndjson"]):
        status, _, err = run(argv)
        assert_one_line(status, err, "--help")


def test_messages_with_control_characters_and_surrogates_stay_one_line(tmp_path: Path) -> None:
    status, _, err = run(["bill", str(tmp_path / "a\nb\x1b[2J.ndjson"), *BILL])
    assert_one_line(status, err, "no such file")
    assert "\x1b" not in err
    status, _, err = run(["bill", str(tmp_path / "x\ud800\r\n.ndjson"), *BILL])
    assert_one_line(status, err, "no such file")


# -- fuzz: every command with garbage files and garbage options ---------------------------------------

_VALID_LINE = json.dumps(EVENT)


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame([EVENT]).write_parquet(buffer)
    return buffer.getvalue()


_PARQUET = _parquet_bytes()

field_values = st.one_of(
    st.just("9" * 5000),
    st.just("-" + "9" * 5000),
    st.just("1e999999"),
    st.just("[1, 2]"),
    st.just('{"a": 1}'),
    st.just('"\\ud800"'),
    st.just('"\\udfff\\ud800x"'),
    st.just("null"),
    st.just("true"),
    st.just('"2022-10-01T00:00:00Z"'),
    st.just('""'),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=10).map(json.dumps),
)


@st.composite
def garbage_json_line(draw: st.DrawFn) -> str:
    fields = {name: draw(st.one_of(st.just(json.dumps(v)), field_values)) for name, v in EVENT.items()}
    dropped = draw(st.sets(st.sampled_from(sorted(fields)), max_size=2))
    body = ", ".join(f'"{name}": {value}' for name, value in fields.items() if name not in dropped)
    return "{" + body + "}"


@st.composite
def garbage_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, content): a file a user or an attacker could hand to the command."""
    kind = draw(
        st.sampled_from(
            ["bytes", "truncated", "utf16", "nested", "fields", "array", "csv", "parquet", "empty", "bom"]
        )
    )
    suffix = draw(st.sampled_from([".ndjson", ".json", ".csv", ".parquet", ".jsonl"]))
    if kind == "bytes":
        return suffix, draw(st.binary(max_size=200))
    if kind == "truncated":
        cut = draw(st.integers(min_value=0, max_value=len(_VALID_LINE)))
        return suffix, (_VALID_LINE[:cut] + "\n").encode()
    if kind == "utf16":
        return suffix, (_VALID_LINE + "\n").encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])))
    if kind == "nested":
        depth = draw(st.sampled_from([100, 1_000, 100_000]))
        opener = draw(st.sampled_from(["[", '{"a":']))
        return suffix, (opener * depth).encode()
    if kind == "fields":
        lines = draw(st.lists(garbage_json_line(), min_size=1, max_size=3))
        return suffix, "\n".join(lines).encode("utf-8", "surrogatepass")
    if kind == "array":
        lines = draw(st.lists(garbage_json_line(), max_size=3))
        return suffix, ("[" + ", ".join(lines) + "]").encode("utf-8", "surrogatepass")
    if kind == "csv":
        header = draw(st.sampled_from(["customerAlias,seatType,eventTimestamp,total", ",,", "a", ""]))
        rows = draw(
            st.lists(
                st.lists(
                    st.sampled_from(["acme", "", '"', "2022-10-01T00:00:00Z", "9" * 5000, "1", "x,y"]),
                    max_size=6,
                ).map(",".join),
                max_size=4,
            )
        )
        return suffix, "\n".join([header, *rows]).encode()
    if kind == "parquet":
        data = bytearray(_PARQUET)
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            data[draw(st.integers(min_value=0, max_value=len(data) - 1))] = draw(st.integers(0, 255))
        cut = draw(st.integers(min_value=0, max_value=len(data)))
        return suffix, bytes(data[: cut if draw(st.booleans()) else len(data)])
    if kind == "bom":
        return suffix, b"\xef\xbb\xbf" + _VALID_LINE.encode()
    return suffix, b""


garbage_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["9999-12-31", "0001-01-01", "2022-02-30", "-1", "0", "1e9", "\x00", "\ud800", "../x", "1mo", "UTC"]
    ),
)


@st.composite
def garbage_options(draw: st.DrawFn, command: str) -> list[str]:
    """A few options, each either sensible or garbage (command-specific ones included)."""
    choices = {
        "bill": ["--start", "--end", "--until", "--interval", "--tz", "--supersede-by", "--format", "--out"],
        "charges": ["--start", "--end", "--until", "--interval", "--tz", "--rounding", "--format"],
        "import": ["--chunk-rows", "--format", "--skip-bad"],
        "demo": ["--start", "--tz", "--out"],
    }[command]
    options: list[str] = []
    for flag in draw(st.lists(st.sampled_from(choices), max_size=3)):
        options.append(flag)
        if flag != "--skip-bad":
            options.append(draw(garbage_text))
    return options


def _ledger_state(db: Path) -> list[tuple[object, ...]]:
    with SeatLedger.open(db, account_id="acct", create_missing=False) as ledger:
        return [tuple(row) for row in ledger.events().rows()] + [tuple(ledger.accounts())]


@pytest.fixture(scope="module")
def seeded_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ledger") / "seed.db"
    with SeatLedger.open(db, account_id="acct") as ledger:
        ledger.create(EVENT)
    return db


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("command", ["bill", "charges", "import", "demo"])
def test_fuzz_every_command_fails_in_one_line(command: str, seeded_ledger: Path) -> None:
    @FUZZ
    @given(
        file=garbage_file(),
        options=garbage_options(command),
        use_stdin=st.booleans(),
        garbage_prices=st.booleans(),
        garbage_schedules=st.booleans(),
    )
    def attack(
        file: tuple[str, bytes],
        options: list[str],
        use_stdin: bool,
        garbage_prices: bool,
        garbage_schedules: bool,
    ) -> None:
        suffix, content = file
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"events{suffix}"
            path.write_bytes(content)
            source, stdin = (path.as_posix(), b"") if not use_stdin else ("-", content)
            if command == "demo":
                argv = ["demo", *options]
            elif command == "import":
                db = Path(folder) / "ledger.db"
                db.write_bytes(seeded_ledger.read_bytes())
                argv = ["import", source, "--db", str(db), "--account", "acct", *options]
            else:
                argv = [command, source, "--start", "2022-10-01", "--until", "2023-01-01", *options]
                if garbage_schedules:  # the same garbage as a schedules file instead of --start
                    schedules = Path(folder) / f"schedules{suffix}"
                    schedules.write_bytes(content)
                    argv = [command, source, "--schedules", str(schedules), "--until", "2023-01-01"]
                if command == "charges":
                    prices = Path(folder) / "prices.json"
                    prices.write_bytes(content if garbage_prices else json.dumps(PRICES).encode())
                    argv += ["--prices", str(prices)]
            before = _ledger_state(Path(folder) / "ledger.db") if command == "import" else None
            status, _, err = run(argv, stdin)
            assert status in (0, 2), err
            assert "Traceback" not in err
            if status == 2:
                assert err.count("\n") == 1 and err.endswith("\n"), err
                if command == "import":
                    assert _ledger_state(Path(folder) / "ledger.db") == before

    attack()


schedule_values = st.one_of(
    garbage_text,
    st.sampled_from(["acme", "2022-10-01", "2022-12-01", "9999-12-31", "1mo", "2w", "Asia/Tokyo", ""]),
    st.none(),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)


@FUZZ
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["customerAlias", "start", "interval", "timeZone", "end", "other"]),
            schedule_values,
            max_size=5,
        ),
        max_size=3,
    ),
    kind=st.sampled_from(["json", "csv"]),
)
def test_fuzz_schedules_files_bill_or_fail_in_one_line(rows: list[dict[str, object]], kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        events = Path(folder) / "events.ndjson"
        events.write_text(json.dumps(EVENT) + "\n")
        schedules = Path(folder) / f"schedules.{kind}"
        if kind == "json":
            schedules.write_text(json.dumps(rows))
        else:
            names = sorted({name for row in rows for name in row})
            lines = [",".join(names)] + [",".join(str(row.get(n, "")) for n in names) for row in rows]
            schedules.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        status, out, err = run(["bill", str(events), "--schedules", str(schedules), "--until", "2023-01-01"])
        assert status in (0, 2), err
        assert "Traceback" not in err
        if status == 2:
            assert err.count("\n") == 1, err
        else:
            assert "acme" in out
