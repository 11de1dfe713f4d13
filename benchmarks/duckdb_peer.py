"""The DuckDB peer: SPEC §5 ``billable_seats`` as one SQL query a billing engineer would write.

One schedule for every customer, given as its periods. The query, step by step:

1. ``eff``: supersession (§2) with ``QUALIFY row_number()``: per ``customerEventId`` the latest
   ``eventTimestamp`` wins, ties by the larger ``receivedSeq``; a null id is a fact of its own.
2. ``cpd``: one window per key in balance order (instant, then receipt): ``LAG``/``LEAD`` give
   the balance before each event, the next event's instant and its day. An event followed by
   another at the same instant is a zero-length state (§3): it adds nothing to the integral
   and is left out of min/max.
3. ``cd``/``day_stats``: one row per *change day* (a day with at least one event): the balance
   at the day's start, min/max during the day, the exact seat·µs integral of the day (HUGEINT)
   and the balance at its end, which then holds until the next change day. The balance thus
   becomes a day-level step function; no per-day rows are ever produced.
4. ``seg``: a running ``MAX`` over the change days gives the running maximum of the balance
   since the period's start (values tagged with the period index, so it restarts with every
   period), the basis of ``incrementSeatDays``.
5. ``clipped``/``agg``: a range join of the change days (with their carried days) and the
   periods clips each to each period it overlaps; one ``GROUP BY`` per (key, period) gives the
   columns.

Periods are contiguous and start and end at day boundaries (SPEC §4). Days are UTC days
computed arithmetically from epoch microseconds, or the ``days`` frame (``dayStart``,
``dayEnd``, contiguous, covering the periods) for a schedule in another time zone.
"""

from __future__ import annotations

import os
from typing import Final

import duckdb
import polars as pl

__all__ = ["BILLABLE_SEATS_SCHEMA", "duckdb_billable_seats"]

US_PER_DAY: Final = 86_400_000_000
# Sentinels beyond any day number / instant (µs) a schedule can have.
DAY_MAX: Final = 1 << 40
TS_MAX: Final = 1 << 62
TS_MIN: Final = -(1 << 62)

BILLABLE_SEATS_SCHEMA: Final = pl.Schema(
    [  # SPEC §5 names and dtypes
        ("customerAlias", pl.String()),
        ("seatType", pl.String()),
        ("periodStart", pl.Datetime("us", "UTC")),
        ("periodEnd", pl.Datetime("us", "UTC")),
        ("startSeats", pl.Int64()),
        ("endSeats", pl.Int64()),
        ("minSeats", pl.Int64()),
        ("maxSeats", pl.Int64()),
        ("averageSeats", pl.Float64()),
        ("seatMicroseconds", pl.Int128()),
        ("days", pl.Int32()),
        ("seatDays", pl.Int64()),
        ("incrementSeatDays", pl.Int64()),
    ]
)

# The day of an instant: UTC days by arithmetic, or an ASOF join on the days table, where
# instants before the first day fall in day -1 and instants from the last day's end on in day N.
_UTC_DAYS = f"""
    SELECT k, ts, v, rs, day AS d, day * {US_PER_DAY} AS d0, (day + 1) * {US_PER_DAY} AS d1
    FROM (SELECT *, (ts - (ts % {US_PER_DAY} + {US_PER_DAY}) % {US_PER_DAY}) // {US_PER_DAY} AS day
          FROM ck)
"""
_TABLE_DAYS = f"""
    SELECT k, ts, v, rs,
           CASE WHEN t.i IS NULL THEN -1 WHEN ts >= t.de THEN t.n ELSE t.i END AS d,
           CASE WHEN t.i IS NULL THEN {TS_MIN} WHEN ts >= t.de THEN t.de ELSE t.ds END AS d0,
           CASE WHEN t.i IS NULL THEN (SELECT min(ds) FROM day_table)
                WHEN ts >= t.de THEN {TS_MAX} ELSE t.de END AS d1
    FROM ck ASOF LEFT JOIN day_table AS t ON ck.ts >= t.ds
"""

# §2 supersession. Most facts have one version: only the ids seen more than once go through
# the window that picks the winner (latest instant, then latest receipt); a null id is a
# fact of its own (it never joins). Without a customerEventId column every row is a fact.
_SUPERSEDE = """
dup AS (SELECT {a} id FROM src WHERE id IS NOT NULL GROUP BY ALL HAVING count(*) > 1),
eff AS (
    SELECT {a} c, s, ts, v, rs FROM src ANTI JOIN dup USING ({a} id)
    UNION ALL
    SELECT {a} c, s, ts, v, rs FROM src SEMI JOIN dup USING ({a} id)
    QUALIFY row_number() OVER (PARTITION BY {a} id ORDER BY ts DESC, rs DESC) = 1
),"""
_NO_IDS = """
eff AS (SELECT {a} c, s, ts, v, rs FROM src),"""

_QUERY = """
WITH
src AS (
    SELECT {src_columns}
    FROM {source}
),{supersede}
cp AS (SELECT * FROM eff WHERE ts < {end_us}),  -- nothing from the schedule's end on matters
-- the keys, numbered in output order: windows, groups and the final sort work on one integer
keys AS (SELECT {a} c, s, row_number() OVER (ORDER BY {a} c, s) AS k FROM (SELECT DISTINCT {a} c, s FROM cp)),
ck AS (SELECT k, ts, v, rs FROM cp JOIN keys USING ({a} c, s)),
cpday AS ({day_sql}),
cpd AS (  -- each key's events in balance order: by instant, then receipt (§3)
    SELECT k, ts, v, d, d0, d1,
           lag(v, 1, 0) OVER w AS pv,  -- the balance before this event (0 before the first)
           lag(ts) OVER w AS pts,
           lead(ts) OVER w AS nts,
           lead(d, 1, {day_max}) OVER w AS nd,  -- the day of the next event
           lead(d0, 1, {ts_max}) OVER w AS nd0  -- and its start
    FROM cpday
    WINDOW w AS (PARTITION BY k ORDER BY ts, rs)
),
cd AS (  -- one row per change day (a day with events); at one instant only the last counts
    SELECT k, d, any_value(d0) AS d0, any_value(d1) AS d1,
           min(ts) AS t1,
           -- the balance from the day's start to its first instant (arg_min skips NULLs)
           arg_min(CASE WHEN pts IS DISTINCT FROM ts THEN pv END, ts) AS lv,
           arg_min(CASE WHEN nts IS DISTINCT FROM ts THEN v END, ts) AS fv,
           arg_max(CASE WHEN nts IS DISTINCT FROM ts THEN v END, ts) AS ev,  -- at the day's end
           min(CASE WHEN nts IS DISTINCT FROM ts THEN v END) AS mn,
           max(CASE WHEN nts IS DISTINCT FROM ts THEN v END) AS mx,
           -- exact seat·µs from the first instant to the day's end (same-instant rows add 0)
           sum(v::HUGEINT * (least(coalesce(nts, d1), d1) - ts)) AS integ,
           max(nd) AS nd,  -- the next change day: ev holds over the days [d + 1, nd)
           max(nd0) AS carry_to
    FROM cpd
    GROUP BY k, d
),
day_stats AS (  -- the whole day, the part before its first instant included
    SELECT k, d, nd, d1 AS carry_from, carry_to, ev,
           CASE WHEN t1 > d0 THEN lv ELSE fv END AS sv,  -- b at the day's start
           CASE WHEN t1 > d0 THEN greatest(mx, lv) ELSE mx END AS dmax,
           CASE WHEN t1 > d0 THEN least(mn, lv) ELSE mn END AS dmin,
           integ + CASE WHEN t1 > d0 THEN lv::HUGEINT * (t1 - d0) ELSE 0 END AS dint,
           -- the day's max, counting lv whenever it held earlier in the same period
           CASE WHEN t1 > d0 OR d > pd.pa THEN greatest(mx, lv) ELSE mx END AS dmax_in_period,
           coalesce(pd.p, -1) AS dp  -- the period of the day (-1: outside the schedule)
    FROM cd LEFT JOIN period_days AS pd USING (d)
),
seg AS (
    SELECT *,
           -- running max of b from the period's start to the day's end: values tagged with
           -- the period index (totals < 2^32), so one running MAX restarts with every period
           max(dp * 4294967296 + dmax_in_period) OVER (PARTITION BY k ORDER BY d
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - dp * 4294967296 AS cm
    FROM day_stats
),
clipped AS (  -- each change day + carry clipped to each period it overlaps
    SELECT seg.k, p.p, p.pa, seg.d, seg.ev,
           seg.d >= p.pa AS in_p,  -- the change day itself lies in this period
           least(seg.nd, p.pb) - greatest(seg.d + 1, p.pa) AS carry_days,
           CASE WHEN seg.d >= p.pa THEN seg.sv ELSE seg.ev END AS row_start,
           CASE WHEN seg.d >= p.pa THEN seg.dmin ELSE seg.ev END AS row_min,
           CASE WHEN seg.d >= p.pa THEN seg.dmax ELSE seg.ev END AS row_max,
           CASE WHEN seg.d >= p.pa THEN seg.cm ELSE seg.ev END AS row_running_max,
           CASE WHEN seg.d >= p.pa THEN seg.dint ELSE 0 END
             + seg.ev::HUGEINT * greatest(0, least(seg.carry_to, p.pe)
                                             - greatest(seg.carry_from, p.ps)) AS row_integral
    FROM seg JOIN periods AS p ON seg.d < p.pb AND seg.nd > p.pa
),
agg AS (
    SELECT k, p,
           -- a key's first period may start before its first change day: b = 0 there
           CASE WHEN min(d) > any_value(pa) THEN 0 ELSE arg_min(row_start, d) END AS startSeats,
           arg_max(ev, d) AS endSeats,
           CASE WHEN min(d) > any_value(pa) THEN 0 ELSE min(row_min) END AS minSeats,
           max(row_max) AS maxSeats,
           sum(row_integral) AS seatMicroseconds,
           sum(CASE WHEN in_p THEN row_max ELSE 0 END + ev * carry_days) AS seatDays,
           -- carried days hold ev <= the running max, which they therefore keep
           sum(row_running_max * (in_p::BIGINT + carry_days)) AS incrementSeatDays
    FROM clipped
    GROUP BY k, p
)
SELECT {key_out}
       p.periodStart, p.periodEnd,
       startSeats, endSeats, minSeats, maxSeats,
       seatMicroseconds::DOUBLE / (p.pe - p.ps) AS averageSeats,
       seatMicroseconds,
       p.days,
       seatDays::BIGINT AS seatDays,
       incrementSeatDays::BIGINT AS incrementSeatDays
FROM agg JOIN periods AS p USING (p) JOIN keys USING (k)
ORDER BY k, p.periodStart
"""


def _period_table(
    periods: pl.DataFrame, days: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Periods with µs instants and first/last day numbers; the days table when one is given."""
    periods = periods.select(
        pl.col("periodStart").cast(pl.Datetime("us", "UTC")),
        pl.col("periodEnd").cast(pl.Datetime("us", "UTC")),
        pl.col("days").cast(pl.Int32),
    ).sort("periodStart")
    if periods.is_empty():
        raise ValueError("no periods")
    if not periods["periodEnd"][:-1].equals(periods["periodStart"][1:]):
        raise ValueError("periods must be contiguous: each periodEnd is the next periodStart")
    us = periods.with_columns(
        p=pl.int_range(pl.len(), dtype=pl.Int64),
        ps=pl.col("periodStart").dt.epoch("us"),
        pe=pl.col("periodEnd").dt.epoch("us"),
    )
    if days is None:
        if ((us["ps"] % US_PER_DAY != 0) | (us["pe"] % US_PER_DAY != 0)).any():
            raise ValueError("without a days frame, periods must start and end at UTC midnights")
        return us.with_columns(pa=pl.col("ps") // US_PER_DAY, pb=pl.col("pe") // US_PER_DAY), None
    day_table = (
        days.select(
            ds=pl.col("dayStart").cast(pl.Datetime("us", "UTC")).dt.epoch("us"),
            de=pl.col("dayEnd").cast(pl.Datetime("us", "UTC")).dt.epoch("us"),
        )
        .sort("ds")
        .with_columns(i=pl.int_range(pl.len(), dtype=pl.Int64), n=pl.len().cast(pl.Int64))
    )
    if not day_table["de"][:-1].equals(day_table["ds"][1:]):
        raise ValueError("days must be contiguous: each dayEnd is the next dayStart")
    boundaries = pl.concat([day_table.select(t="ds", i="i"), day_table.tail(1).select(t="de", i="n")])
    us = us.join(boundaries.rename({"t": "ps", "i": "pa"}), on="ps", how="left").join(
        boundaries.rename({"t": "pe", "i": "pb"}), on="pe", how="left"
    )
    if us["pa"].null_count() or us["pb"].null_count():
        raise ValueError("every period boundary must be a day boundary of the days frame")
    return us.sort("p"), day_table


def duckdb_billable_seats(
    events: pl.DataFrame | str | os.PathLike[str],
    periods: pl.DataFrame,
    days: pl.DataFrame | None = None,
    *,
    threads: int = 2,
) -> pl.DataFrame:
    """SPEC §5 ``billable_seats`` for one schedule, computed by DuckDB.

    Args:
        events: raw events (superseded versions included), as a polars frame (handed to
            DuckDB as Arrow, no copy) or the path of a Parquet file (read by DuckDB's
            ``read_parquet``): customerAlias, seatType, eventTimestamp, total; optionally
            customerEventId (absent: every row is a fact of its own), receivedSeq (absent:
            the row order is the receipt order) and sequenceAccountId (then part of every
            key, of supersession too, and the first output column).
        periods: periodStart, periodEnd (contiguous, half-open) and days (Int32).
        days: optional dayStart, dayEnd of the schedule's calendar days (contiguous, covering
            the periods); UTC days when omitted.
        threads: DuckDB's ``threads`` setting.

    Returns:
        One row per (sequenceAccountId?, customerAlias, seatType, period) whose end is after
        the key's first effective event, sorted by the key, then periodStart.
    """
    period_table, day_table = _period_table(periods, days)
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = false")  # the query sorts its output
        if isinstance(events, pl.DataFrame):
            if "receivedSeq" not in events.columns:
                events = events.with_row_index("receivedSeq")
            con.register("events", events.to_arrow())
            source, received = "events", "receivedSeq"
            names = set(events.columns)
        else:
            path = os.fspath(events).replace("'", "''")
            source = f"read_parquet('{path}', file_row_number = true)"
            names = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            received = "receivedSeq" if "receivedSeq" in names else "file_row_number"
        account = "sequenceAccountId" in names
        ids = "customerEventId" in names
        a = "a, " if account else ""
        src_columns = ", ".join(
            (["sequenceAccountId::VARCHAR AS a"] if account else [])
            + (["customerEventId::VARCHAR AS id"] if ids else [])
            + [
                "customerAlias::VARCHAR AS c",
                "seatType::VARCHAR AS s",
                "epoch_us(eventTimestamp) AS ts",
                "total::BIGINT AS v",
                f"{received}::BIGINT AS rs",
            ]
        )
        key_out = ("a AS sequenceAccountId, " if account else "") + "c AS customerAlias, s AS seatType,"
        query = _QUERY.format(
            src_columns=src_columns,
            source=source,
            supersede=(_SUPERSEDE if ids else _NO_IDS).format(a=a),
            a=a,
            key_out=key_out,
            end_us=int(period_table["pe"].max()),  # type: ignore[arg-type]
            day_sql=_UTC_DAYS if day_table is None else _TABLE_DAYS,
            day_max=DAY_MAX,
            ts_max=TS_MAX,
        )
        con.register("periods", period_table.to_arrow())
        con.register(
            "period_days",
            period_table.select("p", "pa", d=pl.int_ranges("pa", "pb")).explode("d").to_arrow(),
        )
        if day_table is not None:
            con.register("day_table", day_table.to_arrow())
        result = pl.from_arrow(con.sql(query).to_arrow_table())
    finally:
        con.close()
    assert isinstance(result, pl.DataFrame)
    schema = {"sequenceAccountId": pl.String(), **BILLABLE_SEATS_SCHEMA} if account else BILLABLE_SEATS_SCHEMA
    return result.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
