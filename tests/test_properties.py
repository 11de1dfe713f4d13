"""Property tests: seatcalc against the plain-Python reference, and the laws of STYLE.md.

In the manner of polars' ``test_rolling_parametric``: hypothesis draws small event frames
and schedules (``tests/strategies.py``), ``tests/reference.py`` computes the expected
answer row by row, and every output column is compared exactly, on every polars path: a
LazyFrame collected with the in-memory engine and with the streaming engine, and a
DataFrame (the eager wrapper); the paths must agree bit for bit. Each call of seatcalc
costs milliseconds whatever the frame, so a property that needs the same call checks all it
can on that one result. Run with ``HYPOTHESIS_PROFILE=ci`` for the CI budget.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeAlias, cast
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from seatcalc import (
    BillingSchedule,
    InvalidSchedule,
    billable_seats,
    billing_periods,
    effective_events,
    seat_balances,
    seat_log,
)
from tests.reference import (
    Row,
    ref_billable_seats,
    ref_effective_events,
    ref_periods,
    ref_seat_balances,
    ref_seat_log,
)
from tests.strategies import (
    DST_ZONES,
    SEQ_STEP,
    SKIPPING_INTERVALS,
    SKIPPING_ZONES,
    TOTALS,
    Case,
    Events,
    Plan,
    at_most,
    boundary,
    cases,
    instant_pools,
    plans,
)

Compute: TypeAlias = Callable[[Any], pl.DataFrame | pl.LazyFrame]
"""A seatcalc function on a DataFrame (eager result) or a LazyFrame (lazy result)."""
Schedules: TypeAlias = BillingSchedule | Mapping[str, BillingSchedule] | pl.DataFrame

ENGINES: tuple[Literal["in-memory", "streaming"], ...] = ("in-memory", "streaming")
"""Both polars engines; ``"eager"`` (a DataFrame in, through the wrapper) is a third path."""
INSTANT = pl.Datetime("us", "UTC")
CANONICAL: dict[str, pl.DataType] = {
    "customerEventId": pl.String(),
    "customerAlias": pl.String(),
    "seatType": pl.String(),
    "eventTimestamp": INSTANT,
    "total": pl.Int64(),
    "receivedSeq": pl.Int64(),
    "sequenceAccountId": pl.String(),
    "note": pl.String(),
}
MEASURES: dict[str, pl.DataType] = {
    "periodStart": INSTANT,
    "periodEnd": INSTANT,
    "startSeats": pl.Int64(),
    "endSeats": pl.Int64(),
    "minSeats": pl.Int64(),
    "maxSeats": pl.Int64(),
    "averageSeats": pl.Float64(),
    "days": pl.Int32(),
    "seatDays": pl.Int64(),
    "incrementSeatDays": pl.Int64(),
    "seatMicroseconds": pl.Int128(),
}


# ---------------------------------------------------------------------------
# Running seatcalc on every path
# ---------------------------------------------------------------------------


def lazy(compute: Compute, frame: pl.DataFrame) -> pl.LazyFrame:
    """``compute`` on ``frame`` as a LazyFrame: the result must be lazy too."""
    result = compute(frame.lazy())
    assert isinstance(result, pl.LazyFrame), "LazyFrame in, LazyFrame out"
    return result


def run(
    computations: Sequence[Compute], frame: pl.DataFrame, *, eager: bool = True
) -> dict[str, list[pl.DataFrame]]:
    """Every computation on ``frame``, per path: ``"in-memory"`` and ``"streaming"`` (one
    LazyFrame each, collected by that engine) and, with ``eager``, ``"eager"`` (the
    DataFrame in, through the eager wrapper)."""
    lazies = [lazy(compute, frame) for compute in computations]
    out: dict[str, list[pl.DataFrame]] = {e: pl.collect_all(lazies, engine=e) for e in ENGINES}
    if eager:
        eagers = [compute(frame) for compute in computations]
        assert all(isinstance(result, pl.DataFrame) for result in eagers), "DataFrame in, DataFrame out"
        out["eager"] = cast(list[pl.DataFrame], eagers)
    return out


def assert_unchanged(case: Case, changed: Events) -> None:
    """Every function gives bit-for-bit the same frame on ``changed`` (on both engines) as
    on the case's own events (in memory; that the engines agree is a law of its own)."""
    functions = every_function(case)
    before = pl.collect_all([lazy(compute, case.events.frame()) for compute in functions])
    after = [lazy(compute, changed.frame()) for compute in functions]
    for engine in ENGINES:
        results = pl.collect_all(after, engine=engine)
        for name, got, want in zip(FUNCTIONS, results, before, strict=True):
            with shown_on_failure(f"{engine}, {name}", after=got, before=want):
                assert_frame_equal(got, want, check_exact=True)


def billable(case: Case) -> Compute:
    plan = case.plan
    return lambda frame: billable_seats(frame, plan.schedule, until=plan.until, supersede_by=case.policy)


FUNCTIONS = ("billable_seats", "effective_events", "seat_log", "seat_balances")


def every_function(case: Case, at: datetime | None = None) -> list[Compute]:
    """billable_seats, effective_events, seat_log and seat_balances on one case."""
    policy = case.policy
    return [
        billable(case),
        lambda frame: effective_events(frame, supersede_by=policy),
        lambda frame: seat_log(frame, supersede_by=policy),
        lambda frame: seat_balances(frame, at, supersede_by=policy),
    ]


# ---------------------------------------------------------------------------
# Expected frames from the reference
# ---------------------------------------------------------------------------


def frame_of(rows: list[Row], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(
        [pl.Series(name, [row[name] for row in rows], dtype=dtype) for name, dtype in schema.items()]
    )


def key_schema(events: Events) -> dict[str, pl.DataType]:
    key = ["sequenceAccountId"] if events.with_account else []
    return {name: CANONICAL[name] for name in [*key, "customerAlias", "seatType"]}


def event_schema(events: Events) -> dict[str, pl.DataType]:
    """Validated events keep their columns (canonical dtypes); an absent
    ``customerEventId`` comes back as a null column at the end."""
    names = events.columns + ([] if events.with_event_id else ["customerEventId"])
    return {name: CANONICAL[name] for name in names}


def balance_key(row: Row) -> tuple[Any, ...]:
    account = (row["sequenceAccountId"],) if "sequenceAccountId" in row else ()
    return (*account, row["customerAlias"], row["seatType"])


def expected_billable(case: Case, plan: Plan | None = None) -> pl.DataFrame:
    plan = plan or case.plan
    rows = ref_billable_seats(case.events.ref_rows, **plan.ref_args(), supersede_by=case.policy)
    return frame_of(rows, key_schema(case.events) | MEASURES)


def expected_effective(case: Case) -> pl.DataFrame:
    rows = ref_effective_events(case.events.ref_rows, case.policy)  # in receipt order
    rows.sort(key=lambda row: (balance_key(row), row["eventTimestamp"]))  # stable: then receipt
    return frame_of(rows, event_schema(case.events))


def expected_log(case: Case) -> pl.DataFrame:
    rows = ref_seat_log(case.events.ref_rows, case.policy)
    return frame_of(rows, event_schema(case.events) | {"added": pl.Int64(), "removed": pl.Int64()})


def expected_balances(case: Case, at: datetime | None) -> pl.DataFrame:
    rows = ref_seat_balances(case.events.ref_rows, at, case.policy)
    return frame_of(rows, key_schema(case.events) | {"total": pl.Int64(), "changeTimestamp": INSTANT})


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------


@contextmanager
def shown_on_failure(title: str, **frames: pl.DataFrame) -> Iterator[None]:
    """Re-raise an assertion error with ``frames`` printed in full (formatted on failure only)."""
    try:
        yield
    except AssertionError as error:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=300, fmt_str_lengths=40, fmt_float="full"):
            shown = "\n".join(f"{name}:\n{frame}" for name, frame in frames.items())
        raise AssertionError(f"{title}: {error}\n{shown}") from None


def assert_equal(actual: pl.DataFrame, expected: pl.DataFrame, path: str) -> None:
    """Same columns, dtypes and rows, exactly; ``averageSeats`` within 1e-12 relative."""
    with shown_on_failure(path, actual=actual, expected=expected):
        assert actual.schema == expected.schema
        assert actual.height == expected.height, "row counts differ"
        if "averageSeats" in expected.columns:
            pairs = zip(actual["averageSeats"], expected["averageSeats"], strict=True)
            for got, want in pairs:
                assert math.isclose(got, want, rel_tol=1e-12, abs_tol=0.0), f"averageSeats {got} != {want}"
            actual, expected = actual.drop("averageSeats"), expected.drop("averageSeats")
        assert_frame_equal(actual, expected, check_exact=True)


def assert_paths_agree(results: dict[str, list[pl.DataFrame]], names: Sequence[str]) -> None:
    """Every path gives the in-memory engine's frames bit for bit (floats too)."""
    for path, frames in results.items():
        for name, got, want in zip(names, frames, results["in-memory"], strict=True):
            with shown_on_failure(f"{path}, {name}", got=got, in_memory=want):
                assert_frame_equal(got, want, check_exact=True)


def assert_measures_bounded(frame: pl.DataFrame) -> None:
    """The laws of every billable_seats row: minSeats ≤ averageSeats ≤ maxSeats;
    minSeats ≤ startSeats, endSeats ≤ maxSeats; minSeats·length ≤ seatMicroseconds ≤
    maxSeats·length; minSeats·days ≤ seatDays ≤ incrementSeatDays ≤ maxSeats·days (a running
    max is at least the day's max and at most the period's max)."""
    with shown_on_failure("laws", billable_seats=frame):
        for row in frame.iter_rows(named=True):
            low, high = row["minSeats"], row["maxSeats"]
            length = (row["periodEnd"] - row["periodStart"]) // timedelta(microseconds=1)
            assert low <= row["averageSeats"] <= high
            assert low <= row["startSeats"] <= high
            assert low <= row["endSeats"] <= high
            assert low * length <= row["seatMicroseconds"] <= high * length
            assert low * row["days"] <= row["seatDays"]
            assert row["seatDays"] <= row["incrementSeatDays"] <= high * row["days"]


def instants_near(case: Case) -> st.SearchStrategy[datetime | None]:
    """None, or an instant near the case's events (at, or 1µs off), in some zone."""
    stamps = [row["eventTimestamp"] for row in case.events.rows]
    nearby = st.sampled_from(stamps) if stamps else st.nothing()
    instant = st.one_of(nearby, instant_pools(case.plan, 1, 1).map(lambda pool: pool[0]))
    shifted = st.builds(
        lambda t, d: t + d,
        instant,
        st.sampled_from((timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1))),
    )
    zoned = st.builds(
        lambda t, zone: t.astimezone(ZoneInfo(zone)), shifted, st.sampled_from(("UTC", case.plan.time_zone))
    )
    return st.none() | zoned


# ---------------------------------------------------------------------------
# seatcalc = the reference
# ---------------------------------------------------------------------------


SCHEDULE_FORMS = ("one", "one", "mapping", "frame")


def schedules_frame(plans: dict[str, Plan]) -> pl.DataFrame:
    """Schedules by customerAlias, in the frame form billable_seats accepts."""
    return pl.DataFrame(
        {
            "customerAlias": list(plans),
            "start": [plan.start for plan in plans.values()],
            "interval": [plan.interval for plan in plans.values()],
            "timeZone": [plan.time_zone for plan in plans.values()],
            "end": pl.Series([plan.end for plan in plans.values()], dtype=pl.Date),
        }
    )


@given(cases(), st.data())
def test_billable_seats_matches_reference(case: Case, data: st.DataObject) -> None:
    """One schedule for everyone, or (a mapping or a frame) one per customer: "beta" may
    have a schedule of its own, billed as the reference bills it alone. Every path gives
    the same frame bit for bit, and its rows obey the laws of ``assert_measures_bounded``."""
    plan = case.plan
    form = data.draw(st.sampled_from(SCHEDULE_FORMS), label="schedule form")
    if form == "one":
        schedule: Schedules = plan.schedule
        expected = expected_billable(case)
    else:
        other = plan if data.draw(st.booleans(), label="same plan") else data.draw(plans(need_end=True))
        other = replace(other, until=plan.until)
        by_alias = {"acme": plan, "beta": other}
        if form == "mapping":
            schedule = {alias: each.schedule for alias, each in by_alias.items()}
        else:
            schedule = schedules_frame(by_alias)
        expected = pl.concat(
            expected_billable(case, each).filter(pl.col("customerAlias") == alias)
            for alias, each in by_alias.items()
        ).sort(*key_schema(case.events), "periodStart")
    compute: Compute = lambda frame: billable_seats(  # noqa: E731
        frame, schedule, until=plan.until, supersede_by=case.policy
    )
    results = run([compute], case.events.frame())
    assert_paths_agree(results, ["billable_seats"])
    [actual] = results["in-memory"]
    assert_equal(actual, expected, "every path")
    assert_measures_bounded(actual)


@given(cases(), st.data())
def test_effective_events_seat_log_and_balances_match_reference(case: Case, data: st.DataObject) -> None:
    """effective_events (sorted by key, instant, receipt), seat_log and seat_balances (at
    the end, or at an instant on, just before or just after an event); every path gives
    the same frames bit for bit."""
    at = data.draw(instants_near(case), label="at")
    expected = [expected_effective(case), expected_log(case), expected_balances(case, at)]
    results = run(every_function(case, at)[1:], case.events.frame())
    assert_paths_agree(results, FUNCTIONS[1:])
    for name, actual, want in zip(FUNCTIONS[1:], results["in-memory"], expected, strict=True):
        assert_equal(actual, want, f"every path, {name}")


@given(plans(), st.data())
def test_billing_periods_matches_reference(plan: Plan, data: st.DataObject) -> None:
    """Same periods, and the same ends rejected (an end off the schedule's boundaries)."""
    if data.draw(st.booleans(), label="any end"):
        k, nudge = data.draw(st.integers(0, 3), label="k"), data.draw(st.sampled_from((-1, 0, 0, 1)))
        plan = replace(plan, end=boundary(plan.start, plan.interval, k) + timedelta(days=nudge))
    try:
        periods = ref_periods(**plan.ref_args())
    except ValueError:
        with pytest.raises(InvalidSchedule):
            billing_periods(plan.schedule, plan.until)
        return
    expected = pl.DataFrame(
        {
            "periodStart": pl.Series([p[0] for p in periods], dtype=INSTANT),
            "periodEnd": pl.Series([p[1] for p in periods], dtype=INSTANT),
            "days": pl.Series([p[2] for p in periods], dtype=pl.Int32),
        }
    )
    assert_equal(billing_periods(plan.schedule, plan.until), expected, "eager")


@settings(max_examples=100)
@given(cases(intervals=SKIPPING_INTERVALS, zones=SKIPPING_ZONES), st.data())
def test_skipped_dates_match_reference(case: Case, data: st.DataObject) -> None:
    """Around a local date that never existed (Pacific/Apia's 2011-12-30, …): the same
    periods, days and seat-days as the reference, which counts the skipped date nowhere."""
    plan = case.plan
    periods = ref_periods(**plan.ref_args())
    listed = billing_periods(plan.schedule, plan.until)
    assert listed.rows() == [(p[0], p[1], p[2]) for p in periods]
    assert all(start < end and days >= 1 for start, end, days in listed.rows())
    for path, [actual] in run([billable(case)], case.events.frame()).items():
        assert_equal(actual, expected_billable(case), path)


# ---------------------------------------------------------------------------
# Laws
# ---------------------------------------------------------------------------


SHUFFLABLE = st.one_of(
    cases(with_seq=True, min_rows=2),
    cases(with_seq=False, distinct_instants=True, policies=("eventTimestamp",), min_rows=2),
)


@settings(max_examples=at_most(250))  # every shuffle moves rows: more than the 207 of 500 that did
@given(SHUFFLABLE, st.data())
def test_shuffling_rows_changes_nothing(case: Case, data: st.DataObject) -> None:
    """Row order is the receipt order only when ``receivedSeq`` is absent. With it, a
    shuffle changes nothing (any instants, either policy). Without it, rows at distinct
    instants under the default policy never tie, no receipt decides: nothing changes.

    Every shuffle moves a row (two rows at least; the identity becomes a rotation): more
    than half of the drawn shuffles used to leave the frame as it was."""
    rows = case.events.rows
    order = data.draw(st.permutations(range(len(rows))), label="order")
    if order == sorted(order):
        order = order[1:] + order[:1]
    assert_unchanged(case, case.events.with_rows([rows[i] for i in order]))


@settings(max_examples=at_most(300))  # eight seatcalc calls per example
@given(cases(min_rows=2, event_ids=(None, "e1", "e1", "e2")), st.data())
def test_resending_a_superseded_version_changes_nothing(case: Case, data: st.DataObject) -> None:
    """A copy of a losing version, received before the winner, loses again.

    Under either policy a winner beats every version received before it at an earlier or
    equal ``eventTimestamp`` (the winner's own instant is the latest of its fact under
    ``"eventTimestamp"``). A copy received *after* the winner would win under
    ``"received"`` (and on a tie of instants under ``"eventTimestamp"``): that is a new
    correction, not a re-send.
    """
    rows = [{**row, "__row": i} for i, row in enumerate(case.events.rows)]
    winners = {row["__row"] for row in ref_effective_events(rows, case.policy)}
    losers = [row for row in rows if row["__row"] not in winners]
    assume(losers)
    loser = data.draw(st.sampled_from(losers), label="re-sent")

    def fact(row: Row) -> tuple[Any, ...]:
        return (row.get("sequenceAccountId"), row["customerEventId"])

    [winner] = [row for row in rows if row["__row"] in winners and fact(row) == fact(loser)]
    copy = {name: value for name, value in loser.items() if name != "__row"}
    resent = [dict(row) for row in case.events.rows]
    if case.events.with_seq:  # receipts are multiples of SEQ_STEP: slip in between
        earlier = [row["receivedSeq"] for row in rows if row["receivedSeq"] <= winner["receivedSeq"]]
        copy["receivedSeq"] = data.draw(st.sampled_from(earlier)) - SEQ_STEP // 2
        resent.insert(data.draw(st.integers(0, len(resent)), label="position"), copy)
    else:  # receipt is the row position
        resent.insert(data.draw(st.integers(0, winner["__row"]), label="position"), copy)
    assert_unchanged(case, case.events.with_rows(resent))


@settings(max_examples=at_most(300))  # two schedules per example
@given(st.sampled_from(("UTC", *DST_ZONES)).flatmap(lambda zone: cases(intervals=("1mo",), zones=(zone,))))
def test_splitting_a_period_adds_up(case: Case) -> None:
    """A month's seatDays and seatMicroseconds are the sums over its days (a "1d" schedule
    over the same days; days before the key's first event have no row and add 0); its
    maxSeats and endSeats are its days' max and last."""
    plan = case.plan
    last = plan.end or plan.horizon
    monthly = replace(plan, end=last, until=None)
    daily = replace(monthly, interval="1d")
    months = billing_periods(monthly.schedule).rows()
    computations = [billable(replace(case, plan=monthly)), billable(replace(case, plan=daily))]
    for path, [by_month, by_day] in run(computations, case.events.frame(), eager=False).items():
        with shown_on_failure(path, by_month=by_month, by_day=by_day):
            key = [name for name in by_month.columns if name not in MEASURES]
            sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for row in by_day.iter_rows(named=True):  # sorted by key, then periodStart
                [month] = [start for start, end, _ in months if start <= row["periodStart"] < end]
                total = sums[(*[row[name] for name in key], month)]
                total[0] += row["seatDays"]
                total[1] += row["seatMicroseconds"]
                total[2] = max(total[2], row["maxSeats"])
                total[3] = row["endSeats"]
            for month in by_month.iter_rows(named=True):
                expected = [month[name] for name in ("seatDays", "seatMicroseconds", "maxSeats", "endSeats")]
                assert sums[(*[month[name] for name in key], month["periodStart"])] == expected


@settings(max_examples=at_most(300))
@given(cases(), st.data())
def test_a_constant_balance_averages_to_itself(case: Case, data: st.DataObject) -> None:
    """Every version of a key's events holds one total c: from the key's first event on,
    every period has averageSeats == c exactly, and min = max = start = end = c."""
    constant: dict[tuple[Any, ...], int] = {}
    rows: list[Row] = []
    for row in case.events.rows:
        key = balance_key(row)
        if key not in constant:
            constant[key] = data.draw(TOTALS, label=f"total of {key}")
        rows.append({**row, "total": constant[key]})
    case = replace(case, events=case.events.with_rows(rows))
    firsts: dict[tuple[Any, ...], datetime] = {}
    for entry in ref_seat_log(case.events.ref_rows, case.policy):
        firsts.setdefault(balance_key(entry), entry["eventTimestamp"])
    for path, [frame] in run([billable(case)], case.events.frame(), eager=False).items():
        with shown_on_failure(path, billable_seats=frame):
            for row in frame.iter_rows(named=True):
                key = balance_key(row)
                if row["periodStart"] < firsts[key]:
                    continue
                c = constant[key]
                length = (row["periodEnd"] - row["periodStart"]) // timedelta(microseconds=1)
                assert row["averageSeats"] == c
                assert row["minSeats"] == row["maxSeats"] == row["startSeats"] == row["endSeats"] == c
                assert row["seatDays"] == row["incrementSeatDays"] == c * row["days"]
                assert row["seatMicroseconds"] == c * length
