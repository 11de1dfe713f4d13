"""The explanation page, ``GET /customers/{customerAlias}/explain``, in a real headless
browser (Debian's Chromium driven by playwright): it loads without console errors, shows
the worked example's totals, and renders a non-blank screenshot. One browser and the one
session server (``tests/server_fixtures.py``) serve every test here."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.server_fixtures import Session, live, make_key  # noqa: F401 (the session fixture)

CHROMIUM = Path("/usr/bin/chromium")
PRICES = [
    {
        "seatType": "admin",
        "currency": "GBP",
        "pricePerSeat": "3.10",
        "prorationStrategy": "PRORATE_INCREMENTS",
    }
]
EVENTS = [  # the README's worked example: 10 seats from December, 12 from Jan 6, 4 from Jan 11 noon
    ("dec", "2024-12-10T00:00:00Z", 10),
    ("jan6", "2025-01-06T00:00:00Z", 12),
    ("jan11", "2025-01-11T12:00:00Z", 3),
    ("jan11", "2025-01-11T12:00:00Z", 4),
]
VIEWPORT = {"width": 1100, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skipped only where it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: apt-get install -y chromium (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def account(live: Session) -> tuple[str, str]:
    """A key of an account of its own, holding the worked example's events."""
    key = make_key(live.server.db, "acct-explain")
    with live.server.client(key) as client:
        for event_id, stamp, total in EVENTS:
            body = {"customerEventId": event_id, "customerAlias": "acme", "seatType": "admin",
                    "eventTimestamp": stamp, "total": total}  # fmt: skip
            assert client.post("/seat-events", json=body).status_code == 201
    return key


def _url(live: Session, **query: str) -> str:
    return f"{live.server.url}/customers/acme/explain?{urlencode(query)}"


def _open(browser: Any, live: Session, key: tuple[str, str], url: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(
        http_credentials={"username": key[0], "password": key[1]}, viewport=VIEWPORT
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(url)
    assert response is not None and response.status == 200
    return context, page, problems


def test_the_page_shows_the_worked_totals(browser: Any, live: Session, account: tuple[str, str]) -> None:
    url = _url(live, seatType="admin", periodStart="2025-01-01", prices=json.dumps(PRICES))
    context, page, problems = _open(browser, live, account, url)
    try:
        assert page.title() == "Explanation: acme / admin"
        assert page.locator("svg polyline.balance").count() == 1
        assert page.locator("svg line.day").count() == 31
        assert page.locator("svg text.event-label").all_text_contents() == [
            "dec #1: 10",
            "jan6 #2: 12",
            "jan11 #4: 4",
        ]
        lines = page.locator("table.lines tbody tr td").all_inner_texts()
        assert lines == ["ARREARS", "11.677419", "36.20", "GBP", "3.10 × 362 / 31 = 36.20"]
        measures = dict(
            zip(*[iter(page.locator("table.measures tbody td").all_inner_texts())] * 2, strict=True)
        )
        assert measures["seatDays"] == measures["Σ dayMax"] == "202"
        assert measures["incrementSeatDays"] == measures["Σ runMax"] == "362"
        assert page.locator("table.days tbody tr").count() == 31
        assert page.locator("p.total").inner_text() == "Total: 36.20"
        assert problems == []
    finally:
        context.close()


def _png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and distinct colours of an 8-bit RGB(A) PNG, decoded by hand."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6)
    chunks, position = b"", 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            chunks += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(chunks)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    # unfiltered colours are enough to count: sample the filter-0/1 rows' bytes as they are
    seen = {raw[row * (stride + 1) + 1 + i : row * (stride + 1) + 1 + i + 3] for row in range(0, height, 7)
            for i in range(0, stride, channels * 5)}  # fmt: skip
    return width, height, len(seen)


def test_screenshot_is_a_drawn_page(browser: Any, live: Session, account: tuple[str, str]) -> None:
    url = _url(live, seatType="admin", periodStart="2025-01-01")
    context, page, problems = _open(browser, live, account, url)
    try:
        shot = page.screenshot()
        width, height, colours = _png_size_and_colours(shot)
        assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
        assert colours >= 5  # a blank page has one
        chart = page.locator("#chart svg").screenshot()
        chart_width, chart_height, _ = _png_size_and_colours(chart)
        assert (
            chart_width == 900 and 360 <= chart_height <= 361
        )  # the SVG's size (a subpixel offset may add a row)
        assert problems == []
    finally:
        context.close()


def test_unknown_customer_and_bad_period_are_json_errors(live: Session, account: tuple[str, str]) -> None:
    with live.server.client(account) as client:
        missing = client.get(
            "/customers/acmee/explain", params={"seatType": "admin", "periodStart": "2025-01-01"}
        )
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "SeatsNotFound"
        assert "did you mean ['acme']" in missing.json()["error"]["message"]
        bad = client.get(
            "/customers/acme/explain",
            params={"seatType": "admin", "periodStart": "2025-01-15", "start": "2025-01-01"},
        )
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "InvalidArgument"
        assert "nearest period starts: 2025-01-01, 2025-02-01" in bad.json()["error"]["message"]
    with live.server.client(None) as anonymous:
        assert (
            anonymous.get("/customers/acme/explain?seatType=admin&periodStart=2025-01-01").status_code == 401
        )
