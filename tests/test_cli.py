"""The `seatcalc` command: demo, bill from NDJSON / CSV / Parquet, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

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
