"""The `seatcalc` command: demo, bill from NDJSON / CSV / Parquet, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import seatcalc
from seatcalc.cli import demo_events, main

SEED_EVENT = {
    "customerEventId": "event-id-H4twuTWpYx1rkd8OMTki2hTUcZ",
    "customerAlias": "customer-id-2H4u5BBwBWsS5V2sroRFqJfTXpW",
    "seatType": "admin",
    "eventTimestamp": "2022-10-01T00:00:00Z",
    "total": 1,
}
EVENTS = [
    SEED_EVENT,
    {**SEED_EVENT, "customerEventId": "e-2", "eventTimestamp": "2022-10-11T12:00:00+02:00", "total": 4},
    {**SEED_EVENT, "customerEventId": "e-2", "eventTimestamp": "2022-10-11T10:00:00Z", "total": 3},
]
BILL = ["--start", "2022-10-01", "--interval", "1mo", "--end", "2022-12-01"]


def _write_ndjson(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_demo_runs_as_the_installed_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seatcalc.cli", "demo"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "acme-corp" in result.stdout and "America/New_York" in result.stdout


def test_demo_bills_the_jan_31_anchor_by_hand() -> None:
    from seatcalc import billable_seats

    events, schedules = demo_events()
    seats = billable_seats(events, schedules)
    editor = seats.filter((pl.col("customerAlias") == "acme-corp") & (pl.col("seatType") == "editor"))
    # Jan 31 → Feb 29 (29 days): 10 seats Jan 31–Feb 13 (14 days), 14 from Feb 14 (15 days)
    assert editor["days"].to_list() == [29, 31, 30]
    assert editor["seatDays"][0] == 14 * 10 + 15 * 14
    # acme-4 was sent twice at one instant: the later receipt (11) wins
    assert editor["endSeats"].to_list() == [14, 11, 11]
    # initech's ini-2 moved from admin to editor: admin has no rows at all
    assert seats.filter(pl.col("customerAlias") == "initech")["seatType"].unique().to_list() == ["editor"]


@pytest.mark.parametrize("kind", ["ndjson", "csv", "parquet"])
def test_bill_reads_every_format_the_same(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    if kind != "ndjson":
        frame = pl.read_ndjson(source, schema={name: pl.String for name in SEED_EVENT} | {"total": pl.Int64})
        source = tmp_path / f"events.{kind}"
        frame.write_csv(source) if kind == "csv" else frame.write_parquet(source)
    out = tmp_path / "seats.parquet"
    assert main(["bill", str(source), *BILL, "--out", str(out)]) == 0
    seats = pl.read_parquet(out)
    # e-2: both versions at 10:00Z; the later receipt (3) wins. October: 1 seat for 10.5
    # days then 3; seatDays = 10·1 + 21·3 = 73; November holds 3 all month.
    assert seats["seatDays"].to_list() == [73, 90]
    assert seats["endSeats"].to_list() == [3, 3]
    assert "wrote 2 rows" in capsys.readouterr().err


def test_bill_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    assert main(["bill", str(source), *BILL]) == 0
    printed = capsys.readouterr().out
    assert "seatDays" in printed and "73" in printed


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{"customerAlias": "a", "seatType": "x", "eventTimestamp": "2022-10-01", "total": 1}\n',
            "date only",
        ),
        (
            '{"customerAlias": "a", "seatType": "x", "eventTimestamp": "2022-10-01T00:00Z", "total": 1.5}\n',
            "JSON integer",
        ),
        ("not json\n", "not JSON"),
    ],
)
def test_bad_rows_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text(content)
    assert main(["bill", str(source), *BILL]) == 2
    error = capsys.readouterr().err
    assert expected in error and "row 0" in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bill", "missing.ndjson", *BILL], "no such file"),
        (["bill", "events.txt", *BILL], "must end in"),
        (["bill", "events.ndjson", "--start", "2022-10-31", "--end", "2022-12-30"], "not a period boundary"),
        (
            ["bill", "events.ndjson", "--start", "2022-10-01", "--interval", "2mo", "--end", "2022-12-01"],
            "interval",
        ),
        (["bill", "events.ndjson", *BILL, "--out", "seats.txt"], "must end in .csv, .parquet"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    (tmp_path / "events.txt").write_text("")
    assert main(args) == 2
    error = capsys.readouterr().err
    assert expected in error
    assert len(error.strip().splitlines()) == 1


# -- new options: --version, python -m seatcalc, stdin, --out formats, capped tables, --tz ----------


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"seatcalc {seatcalc.__version__}\n" == "seatcalc 0.1.0\n"


def test_python_m_seatcalc_runs_the_command(tmp_path: Path) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    result = subprocess.run(
        [sys.executable, "-m", "seatcalc", "bill", str(source), *BILL, "--out", "-", "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert pl.read_csv(io.StringIO(result.stdout))["seatDays"].to_list() == [73, 90]
    assert result.stderr == ""


@pytest.mark.parametrize("kind", ["ndjson", "json", "csv", "parquet"])
def test_events_from_stdin_in_each_format(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    frame = pl.DataFrame(EVENTS, schema={name: pl.String for name in SEED_EVENT} | {"total": pl.Int64})
    if kind == "ndjson":
        data = "".join(json.dumps(row) + "\n" for row in EVENTS).encode()
    elif kind == "json":
        data = json.dumps(EVENTS).encode()
    else:
        buffer = io.BytesIO()
        frame.write_csv(buffer) if kind == "csv" else frame.write_parquet(buffer)
        data = buffer.getvalue()
    _stdin(monkeypatch, data)
    format_option = [] if kind == "ndjson" else ["--format", kind]  # NDJSON is the default
    out = tmp_path / "seats.csv"
    assert main(["bill", "-", *format_option, *BILL, "--out", str(out)]) == 0, capsys.readouterr().err
    assert pl.read_csv(out)["seatDays"].to_list() == [73, 90]


def test_import_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _stdin(monkeypatch, "".join(json.dumps(row) + "\n" for row in EVENTS).encode())
    db = tmp_path / "ledger.db"
    assert main(["import", "-", "--db", str(db), "--account", "acct"]) == 0, capsys.readouterr().err
    assert "imported 3 events" in capsys.readouterr().out
    assert main(["bill", "--db", str(db), "--account", "acct", *BILL, "--out", str(tmp_path / "s.csv")]) == 0
    assert pl.read_csv(tmp_path / "s.csv")["seatDays"].to_list() == [73, 90]


# October 2022, key (customer, admin): 1 seat from Oct 1, 3 from Oct 11 10:00Z; November: 3 all month.
OCTOBER_MICROSECONDS = (10 * 86_400 + 10 * 3_600) * 10**6 * 1 + (21 * 86_400 - 10 * 3_600) * 10**6 * 3


def test_out_json_keeps_instants_as_utc_text_and_integers_exact(tmp_path: Path) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    out = tmp_path / "seats.json"
    assert main(["bill", str(source), *BILL, "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [row["periodStart"] for row in rows] == ["2022-10-01T00:00:00Z", "2022-11-01T00:00:00Z"]
    assert rows[0]["periodEnd"] == "2022-11-01T00:00:00Z"
    assert rows[0]["seatMicroseconds"] == OCTOBER_MICROSECONDS
    assert rows[1]["seatMicroseconds"] == 3 * 30 * 86_400 * 10**6
    assert [row["seatDays"] for row in rows] == [73, 90]


def test_out_ndjson_and_csv_hold_the_same_rows(tmp_path: Path) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    assert main(["bill", str(source), *BILL, "--out", str(tmp_path / "s.ndjson")]) == 0
    assert main(["bill", str(source), *BILL, "--out", str(tmp_path / "s.csv")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "s.ndjson").read_text().splitlines()]
    assert [line["seatMicroseconds"] for line in lines] == [OCTOBER_MICROSECONDS, 3 * 30 * 86_400 * 10**6]
    table = pl.read_csv(tmp_path / "s.csv", infer_schema=False)
    assert table["periodStart"].to_list() == ["2022-10-01T00:00:00Z", "2022-11-01T00:00:00Z"]
    assert table["seatMicroseconds"].to_list() == [str(line["seatMicroseconds"]) for line in lines]


def test_charges_out_json_writes_money_as_exact_text(tmp_path: Path) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            [
                {
                    "seatType": "admin",
                    "currency": "USD",
                    "pricePerSeat": "0.10",
                    "prorationStrategy": "USE_MAXIMUM",
                }
            ]
        )
    )
    out = tmp_path / "lines.json"
    assert main(["charges", str(source), *BILL, "--prices", str(prices), "--out", str(out)]) == 0
    rows = json.loads(out.read_text(), parse_float=lambda text: pytest.fail(f"a float: {text}"))
    # USE_MAXIMUM: the period's maximum (3 seats) × 0.10, both months
    assert [row["amount"] for row in rows] == ["0.30", "0.30"]
    assert {row["currency"] for row in rows} == {"USD"}


def test_out_dash_writes_stdout_in_the_format_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    assert main(["bill", str(source), *BILL, "--out", "-"]) == 0  # NDJSON by default
    captured = capsys.readouterr()
    assert [json.loads(line)["seatDays"] for line in captured.out.splitlines()] == [73, 90]
    assert captured.err == ""
    assert main(["bill", str(source), *BILL, "--out", "-", "--format", "json"]) == 0
    assert [row["endSeats"] for row in json.loads(capsys.readouterr().out)] == [3, 3]


def test_printed_table_is_capped_and_out_writes_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**SEED_EVENT, "customerAlias": f"c{i:03d}", "customerEventId": f"e{i}"} for i in range(63)]
    source = _write_ndjson(tmp_path / "events.ndjson", rows)
    one_month = ["--start", "2022-10-01", "--end", "2022-11-01"]
    assert main(["bill", str(source), *one_month]) == 0
    printed = capsys.readouterr().out
    assert "c049" in printed and "c050" not in printed
    assert printed.rstrip().endswith("… and 13 more rows; use --out FILE for all")
    assert main(["bill", str(source), *one_month, "--out", str(tmp_path / "all.csv")]) == 0
    assert pl.read_csv(tmp_path / "all.csv").height == 63


def test_tz_shows_local_instants_but_files_keep_utc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", EVENTS)
    new_york = ["--start", "2022-10-01", "--end", "2022-12-01", "--tz", "America/New_York"]
    assert main(["bill", str(source), *new_york]) == 0
    printed = capsys.readouterr().out
    # November 1 in New York is still summer time (-04:00); December 1 is winter time (-05:00)
    assert "2022-10-01T00:00:00-04:00" in printed and "2022-12-01T00:00:00-05:00" in printed
    out = tmp_path / "seats.json"
    assert main(["bill", str(source), *new_york, "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [row["periodStart"] for row in rows] == ["2022-10-01T04:00:00Z", "2022-11-01T04:00:00Z"]
    assert rows[-1]["periodEnd"] == "2022-12-01T05:00:00Z"


# -- per-customer schedules -------------------------------------------------------------------------

TWO_CUSTOMERS = [
    {**SEED_EVENT, "customerAlias": "acme", "customerEventId": "a1", "total": 2},
    {**SEED_EVENT, "customerAlias": "globex", "customerEventId": "g1", "total": 5},
]
SCHEDULE_ROWS = [
    {
        "customerAlias": "acme",
        "start": "2022-10-01",
        "interval": "1mo",
        "timeZone": "UTC",
        "end": "2022-12-01",
    },
    {
        "customerAlias": "globex",
        "start": "2022-09-15",
        "interval": "2w",
        "timeZone": "Asia/Tokyo",
        "end": "2022-10-27",
    },
]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_schedules_file_bills_each_customer_on_its_own_schedule(tmp_path: Path, kind: str) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", TWO_CUSTOMERS)
    schedules = tmp_path / f"schedules.{kind}"
    if kind == "csv":
        pl.DataFrame(SCHEDULE_ROWS).write_csv(schedules)
    else:
        schedules.write_text(json.dumps(SCHEDULE_ROWS))
    out = tmp_path / "seats.json"
    assert main(["bill", str(source), "--schedules", str(schedules), "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    rows = [(r["customerAlias"], r["periodStart"], r["days"], r["seatDays"]) for r in written]
    assert rows == [
        ("acme", "2022-10-01T00:00:00Z", 31, 62),
        ("acme", "2022-11-01T00:00:00Z", 30, 60),
        # Tokyo is UTC+9, periods Sep 29 – Oct 13 – Oct 27 local: the event at Oct 1 00:00Z is
        # Oct 1 09:00 local, so Sep 29 and 30 hold 0 and Oct 1–12 hold 5
        ("globex", "2022-09-28T15:00:00Z", 14, 5 * 12),
        ("globex", "2022-10-12T15:00:00Z", 14, 5 * 14),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("customerAlias,interval\nacme,1mo\n", "start must be a date"),
        ("customerAlias,start\nacme,2022-10-01\nacme,2022-11-01\n", "already has a schedule"),
        ("customerAlias,start,timeZone\nacme,2022-10-01,Mars/Base\n", "not an IANA time zone"),
        ("customerAlias,start,interval\nacme,2022-13-01,1mo\n", "start must be a date"),
        ("customerAlias,start,interval\nacme,2022-10-01,fortnightly\n", "interval"),
        ("customerAlias,start,colour\nacme,2022-10-01,red\n", "unknown fields"),
        ("customerAlias,start\n", "no schedules"),
        ("", "no schedules"),
        ("customerAlias,start,end\nacme,2022-10-01,2022-10-15\n", "not a period boundary"),
    ],
)
def test_bad_schedules_files_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", TWO_CUSTOMERS)
    schedules = tmp_path / "schedules.csv"
    schedules.write_text(content)
    assert main(["bill", str(source), "--schedules", str(schedules), "--until", "2023-01-01"]) == 2
    error = capsys.readouterr().err
    assert expected in error, error
    assert error.count("\n") == 1 and error.startswith("seatcalc bill: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"customerAlias": "acme"}', "not a JSON array"),
        ('[{"customerAlias": "acme", "start": "2022-10-01", "start": "2022-11-01"}]', "appears twice"),
        ('[{"customerAlias": ["acme"], "start": "2022-10-01"}]', "customerAlias must be"),
        ('[{"customerAlias": "acme", "start": 20221001}]', "start must be a date"),
        ('[{"customerAlias": "acme", "start": "2022-10-01", "interval": 1}]', "interval must be a text"),
        ("[1, 2]", "is not an object"),
        ("\xff\xfe garbage", "not"),
    ],
)
def test_bad_schedules_json_gives_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", TWO_CUSTOMERS)
    schedules = tmp_path / "schedules.json"
    schedules.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    assert main(["bill", str(source), "--schedules", str(schedules), "--until", "2023-01-01"]) == 2
    error = capsys.readouterr().err
    assert expected in error, error
    assert error.count("\n") == 1


def test_schedules_replace_the_single_schedule_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_ndjson(tmp_path / "events.ndjson", TWO_CUSTOMERS)
    schedules = tmp_path / "schedules.json"
    schedules.write_text(json.dumps(SCHEDULE_ROWS[:1]))
    assert main(["bill", str(source), "--schedules", str(schedules), "--tz", "UTC"]) == 2
    assert "drop --tz" in capsys.readouterr().err
    assert main(["bill", str(source), "--schedules", str(schedules)]) == 2  # globex has none
    assert "globex" in capsys.readouterr().err
    assert main(["bill", str(source)]) == 2
    assert "--schedules FILE" in capsys.readouterr().err
