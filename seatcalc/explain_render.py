"""An :class:`~seatcalc.explain.Explanation` for people: plain text, a self-contained HTML
page (the step chart as inline SVG, no script) and a PNG step chart (matplotlib).

Every text that reaches the page goes through :func:`html.escape`. Instants are shown in
the schedule's time zone with their offset.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from seatcalc.errors import InvalidArgument

if TYPE_CHECKING:
    from seatcalc.explain import Explanation

__all__ = ["as_html", "as_text", "plot_png"]

_MEASURES = (
    "startSeats",
    "endSeats",
    "minSeats",
    "maxSeats",
    "averageSeats",
    "days",
    "seatDays",
    "incrementSeatDays",
    "seatMicroseconds",
)


def _local(value: datetime | None, zone: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def _label(row: dict[str, Any]) -> str:
    """``e2 #5`` (customerEventId and receivedSeq) for the event behind a step."""
    if row.get("receivedSeq") is None:
        return "no event yet"
    name = row.get("customerEventId") or row.get("id") or "event"
    return f"{name} #{row['receivedSeq']}"


def _superseded(row: dict[str, Any]) -> str:
    versions = row.get("superseded") or []
    return ", ".join(f"#{v['receivedSeq']} ({v['total']} seats)" for v in versions)


def _title(why: Explanation) -> str:
    zone = why.time_zone
    return (
        f"{why.customer_alias} / {why.seat_type}: period {_local(why.period_start, zone)} → "
        f"{_local(why.period_end, zone)} ({zone}, {why.measure['days']} days)"
    )


def _table(frame: pl.DataFrame) -> str:
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=250,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=200,
        float_precision=6,
    ):
        return str(frame)


def _segment_rows(why: Explanation) -> pl.DataFrame:
    zone = why.time_zone
    rows = why.segments.to_dicts()
    return pl.DataFrame(
        {
            "from": [_local(r["from"], zone) for r in rows],
            "to": [_local(r["to"], zone) for r in rows],
            "seats": [r["seats"] for r in rows],
            "event": [_label(r) for r in rows],
            "at": [_local(r["eventTimestamp"], zone) for r in rows],
            "superseded": [_superseded(r) for r in rows],
        },
        schema={
            "from": pl.String,
            "to": pl.String,
            "seats": pl.Int64,
            "event": pl.String,
            "at": pl.String,
            "superseded": pl.String,
        },
    )


def _day_rows(why: Explanation) -> pl.DataFrame:
    return why.days.select("day", "dayMax", "runMax", "useMaximum", "prorateIncrements", "prorateAllChanges")


def as_text(why: Explanation) -> str:
    """Steps, days, measures (with the sums that make them) and lines, as plain text."""
    measure = why.measure
    parts = [
        _title(why),
        "",
        "Balance b(t), step by step (each step set by the event named):",
        _table(_segment_rows(why)),
        "",
        "Days (dayMax: the day's max; runMax: the running max since the period's start; "
        f"strategy columns: the day's quantity after a minimum of {why.minimum}):",
        _table(_day_rows(why)),
        "",
        "Measures (SPEC §5):",
        *(f"  {name} = {measure[name]}" for name in _MEASURES),
        f"  seatDays = Σ dayMax = {why.days['dayMax'].sum()}",
        f"  incrementSeatDays = Σ runMax = {why.days['runMax'].sum()}",
        f"  maxSeats × days = {measure['maxSeats']} × {measure['days']} = "
        f"{measure['maxSeats'] * measure['days']}",
    ]
    if why.lines is not None:
        parts += ["", "Lines (SPEC §6):"]
        if why.lines.height == 0:
            parts.append("  none: no price for this seat type")
        for line in why.lines.iter_rows(named=True):
            parts.append(
                f"  {line['lineType']} {line['amount']} {line['currency']} (quantity {line['quantity']}): "
                f"{line['arithmetic']}"
            )
    return "\n".join(parts) + "\n"


# -- the step chart ----------------------------------------------------------------------------

_WIDTH, _HEIGHT = 900, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 30, 50


def _svg(why: Explanation) -> str:
    """The balance as an SVG step chart: day boundaries, the running max (dashed) and each
    event labelled at its step."""
    start = why.period_start.timestamp()
    span = max(why.period_end.timestamp() - start, 1.0)
    top = int(max([1, *why.segments["seats"].to_list(), *why.days["runMax"].to_list()]))
    width = _WIDTH - _LEFT - _RIGHT
    height = _HEIGHT - _TOP - _BOTTOM

    def x(moment: datetime) -> float:
        return float(_LEFT + width * (moment.timestamp() - start) / span)

    def y(seats: int) -> float:
        return _TOP + height * (1 - seats / (top * 1.1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="balance over the period">',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{_HEIGHT}" fill="#ffffff"/>',
    ]
    for day in why.days.iter_rows(named=True):
        left = x(day["dayStart"])
        parts.append(
            f'<line class="day" x1="{left:.1f}" y1="{_TOP}" x2="{left:.1f}" y2="{_TOP + height}" '
            'stroke="#e0e0e0" stroke-width="1"/>'
        )
    for seats in sorted({0, top}):
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y(seats) + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333">{seats}</text>'
        )
    run = []
    for day in why.days.iter_rows(named=True):
        run += [
            f"{x(day['dayStart']):.1f},{y(day['runMax']):.1f}",
            f"{x(day['dayEnd']):.1f},{y(day['runMax']):.1f}",
        ]
    parts.append(
        f'<polyline class="runmax" points="{" ".join(run)}" fill="none" stroke="#e07b00" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    steps = []
    for segment in why.segments.iter_rows(named=True):
        steps += [
            f"{x(segment['from']):.1f},{y(segment['seats']):.1f}",
            f"{x(segment['to']):.1f},{y(segment['seats']):.1f}",
        ]
    parts.append(
        f'<polyline class="balance" points="{" ".join(steps)}" fill="none" '
        'stroke="#1f5fbf" stroke-width="3"/>'
    )
    for segment in why.segments.iter_rows(named=True):
        if segment["receivedSeq"] is None:
            continue
        left, level = x(segment["from"]), y(segment["seats"])
        label = html.escape(f"{_label(segment)}: {segment['seats']}")
        parts.append(f'<circle class="event" cx="{left:.1f}" cy="{level:.1f}" r="4" fill="#1f5fbf"/>')
        parts.append(
            f'<text class="event-label" x="{left + 5:.1f}" y="{level - 8:.1f}" font-size="12" '
            f'fill="#102a55">{label}</text>'
        )
    axis = _TOP + height
    parts.append(f'<line x1="{_LEFT}" y1="{axis}" x2="{_LEFT + width}" y2="{axis}" stroke="#333"/>')
    zone = why.time_zone
    for moment, anchor in ((why.period_start, "start"), (why.period_end, "end")):
        parts.append(
            f'<text x="{x(moment):.1f}" y="{axis + 20}" text-anchor="{anchor}" font-size="12" '
            f'fill="#333">{html.escape(_local(moment, zone))}</text>'
        )
    parts.append(
        f'<text x="{_LEFT}" y="{_HEIGHT - 8}" font-size="12" fill="#333">— balance b(t)   '
        "- - running max   | day boundaries</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _html_table(frame: pl.DataFrame, css: str) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in frame.iter_rows()
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #111; background: #fafafa; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #eef2f8; }
.measures td:first-child, .lines td:last-child { text-align: left; }
"""


def as_html(why: Explanation) -> str:
    """A whole HTML page: title, step chart (inline SVG), steps, days, measures and lines."""
    measure = why.measure
    measures = pl.DataFrame(
        {
            "measure": [*_MEASURES, "Σ dayMax", "Σ runMax"],
            "value": [str(measure[m]) for m in _MEASURES]
            + [str(why.days["dayMax"].sum()), str(why.days["runMax"].sum())],
        }
    )
    sections = [
        f"<h1>{html.escape(_title(why))}</h1>",
        f'<figure id="chart">{_svg(why)}</figure>',
        "<h2>Balance steps</h2>",
        _html_table(_segment_rows(why), "segments"),
        "<h2>Measures</h2>",
        _html_table(measures, "measures"),
    ]
    if why.lines is not None:
        lines = why.lines.select(
            "lineType",
            pl.col("quantity").cast(pl.String),
            pl.col("amount").cast(pl.String),
            "currency",
            "arithmetic",
        )
        total = sum(why.lines["amount"].to_list(), start=0)
        sections += [
            "<h2>Lines</h2>",
            _html_table(lines, "lines"),
            f'<p class="total">Total: {html.escape(str(total))}</p>',
        ]
    sections += [
        f"<h2>Days (strategy columns after a minimum of {why.minimum})</h2>",
        _html_table(_day_rows(why).with_columns(pl.col("day").cast(pl.String)), "days"),
    ]
    title = html.escape(f"Explanation: {why.customer_alias} / {why.seat_type}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{title}</title><link rel="icon" href="data:,"><style>{_STYLE}</style></head>\n<body>\n'
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def plot_png(why: Explanation, path: Path) -> Path:
    """The balance as a step chart over the period, day boundaries marked, the running max
    dashed and each event labelled; written to ``path`` as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidArgument("the plot needs matplotlib: pip install 'seatcalc[plot]'") from None
    zone = ZoneInfo(why.time_zone)
    figure, axes = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        for day in why.days["dayStart"].to_list():
            axes.axvline(day.astimezone(zone), color="#dddddd", linewidth=0.8, zorder=0)
        segments = why.segments.to_dicts()
        xs = [s["from"].astimezone(zone) for s in segments] + [why.period_end.astimezone(zone)]
        ys = [s["seats"] for s in segments] + [segments[-1]["seats"] if segments else 0]
        axes.step(xs, ys, where="post", color="#1f5fbf", linewidth=2.5, label="balance b(t)")
        run_x = [d.astimezone(zone) for d in why.days["dayStart"].to_list()] + [
            why.period_end.astimezone(zone)
        ]
        run_y = [*why.days["runMax"].to_list(), why.days["runMax"][-1]]
        axes.step(
            run_x, run_y, where="post", color="#e07b00", linestyle="--", linewidth=1.5, label="running max"
        )
        for segment in segments:
            if segment["receivedSeq"] is None:
                continue
            at = segment["from"].astimezone(zone)
            axes.plot([at], [segment["seats"]], "o", color="#1f5fbf")
            axes.annotate(
                f"{_label(segment)}: {segment['seats']}",
                (at, segment["seats"]),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=8,
            )
        axes.set_ylim(bottom=0, top=max([1, *ys, *run_y]) * 1.2)
        axes.set_ylabel("seats")
        axes.set_title(_title(why), fontsize=9)
        axes.legend(loc="lower right", fontsize=8)
        figure.autofmt_xdate()
        figure.tight_layout()
        try:
            figure.savefig(path, format="png")
        except OSError as error:
            raise InvalidArgument(f"cannot write the plot {str(path)!r}: {error.strerror or error}") from None
    finally:
        plt.close(figure)
    return path
