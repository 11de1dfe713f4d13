"""The README's Python examples run as written, in order, in one namespace."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)  # the ledger example writes ledger.sqlite here
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    seats = namespace["seats"]
    for block in blocks[1:]:
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out
    # the numbers the README promises in its comments
    assert seats.select("startSeats", "endSeats", "minSeats", "maxSeats", "days", "seatDays").row(0) == (  # type: ignore[attr-defined]
        2,
        5,
        2,
        5,
        31,
        125,
    )
    assert seats["averageSeats"][0] == pytest.approx((2 * 10.5 + 5 * 20.5) / 31, rel=1e-15)  # type: ignore[index]
    lines = namespace["lines"]
    assert lines["amount"].to_list() == [Decimal("12.50")]  # type: ignore[index]
    why = namespace["why"]
    assert why.lines["arithmetic"].to_list() == ["3.10 × 125 / 31 = 12.50"]  # type: ignore[attr-defined]
    assert "3.10 × 125 / 31 = 12.50" in printed
    assert "[4, 5] 3" in printed and "[3]" in printed and "[4]" in printed
