"""The Spark path equals the in-memory path, row for row, dtype for dtype.

One local SparkSession (``local[2]``) for the whole test session; every Spark run costs
about a second, so the properties draw few examples.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from seatcalc import BillingSchedule, SeatPrice, billable_seats, price_seats
from seatcalc import spark as on_spark
from seatcalc.cli import main
from seatcalc.errors import (
    FrameSchemaError,
    InvalidArgument,
    InvalidEventFrame,
    InvalidPrice,
    InvalidSchedule,
)
from tests.strategies import Case, cases
from tests.test_pricing_properties import price_lists

FEW = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
UTC_JAN = [datetime(2025, 1, d, tzinfo=UTC) for d in range(1, 32)]
SCHEDULE = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 3, 1))


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = on_spark.spark_session(
        "local[2]",
        spark_sql_shuffle_partitions="4",
        spark_ui_enabled="false",
        spark_sql_execution_arrow_pyspark_enabled="true",
        spark_driver_host="127.0.0.1",
        spark_driver_bindAddress="127.0.0.1",
    )
    yield session
    session.stop()


def with_receipts(frame: pl.DataFrame) -> pl.DataFrame:
    """Receipt order made explicit (row order), as a Spark frame needs it."""
    if "receivedSeq" in frame.columns:
        return frame
    return frame.with_row_index("receivedSeq").with_columns(pl.col("receivedSeq").cast(pl.Int64))


def to_spark(session: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """The same events as a Spark frame: Spark has no unsigned integers and keeps instants
    to the microsecond, so those columns are widened or rescaled (values unchanged)."""
    casts = [
        pl.col(name).cast(pl.Int64)
        for name, dtype in frame.schema.items()
        if dtype in (pl.UInt32, pl.UInt64, pl.Int32)
    ]
    if isinstance(frame.schema.get("eventTimestamp"), pl.Datetime):
        casts.append(pl.col("eventTimestamp").dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
    return session.createDataFrame(frame.with_columns(casts).to_arrow())


def spark_bill(session: SparkSession, frame: pl.DataFrame, *args: Any, **kwargs: Any) -> pl.DataFrame:
    return on_spark.to_polars(on_spark.billable_seats(to_spark(session, frame), *args, **kwargs))


def spark_price(session: SparkSession, frame: pl.DataFrame, *args: Any, **kwargs: Any) -> pl.DataFrame:
    return on_spark.to_polars(on_spark.price_seats(to_spark(session, frame), *args, **kwargs))


def event(
    alias: str,
    day: int,
    total: int,
    seq: int,
    eid: str | None = None,
    seat: str = "admin",
    account: str = "a1",
) -> dict[str, Any]:
    return {
        "customerEventId": eid,
        "customerAlias": alias,
        "seatType": seat,
        "eventTimestamp": UTC_JAN[day - 1],
        "total": total,
        "receivedSeq": seq,
        "sequenceAccountId": account,
    }


def frame_of(rows: list[dict[str, Any]], accounts: bool = False) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema_overrides={"customerEventId": pl.String})
    return frame if accounts else frame.drop("sequenceAccountId")


PRICE = SeatPrice(
    seatType="admin", currency="GBP", pricePerSeat="31.00", prorationStrategy="PRORATE_ALL_CHANGES",
    billingType="IN_ADVANCE",
)  # fmt: skip


# -- the type mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "spark_type"),
    [
        (pl.Int128(), T.DecimalType(38, 0)),
        (pl.Decimal(38, 3), T.DecimalType(38, 3)),
        (pl.Decimal(12, 2), T.DecimalType(38, 2)),
        (pl.Datetime("us", "UTC"), T.TimestampType()),
        (pl.Datetime("us"), T.TimestampNTZType()),
        (pl.Int32(), T.IntegerType()),
        (pl.Int64(), T.LongType()),
        (pl.UInt32(), T.LongType()),
        (pl.UInt64(), T.DecimalType(20, 0)),
        (pl.Float64(), T.DoubleType()),
        (pl.String(), T.StringType()),
    ],
)
def test_each_dtype_maps_to_a_spark_type_without_loss(dtype: pl.DataType, spark_type: T.DataType) -> None:
    assert on_spark.spark_type(dtype) == spark_type


def test_a_dtype_without_a_spark_type_is_a_schema_error() -> None:
    with pytest.raises(FrameSchemaError, match="List"):
        on_spark.spark_type(pl.List(pl.Int64))


def test_the_result_schema_records_int128_for_the_way_back() -> None:
    schema = on_spark.spark_schema(pl.Schema({"seatMicroseconds": pl.Int128(), "days": pl.Int32()}))
    assert schema["seatMicroseconds"].dataType == T.DecimalType(38, 0)
    assert schema["seatMicroseconds"].metadata == {"seatcalc.dtype": "Int128"}
    assert schema["days"].metadata == {}


# -- properties ----------------------------------------------------------------------------------


@FEW
@given(case=cases(), buckets=st.sampled_from((1, 3, 7)))
def test_billable_seats_on_spark_equal_the_in_memory_run(
    spark: SparkSession, case: Case, buckets: int
) -> None:
    frame = with_receipts(case.events.frame())
    expected = billable_seats(frame, case.plan.schedule, until=case.plan.until, supersede_by=case.policy)
    actual = spark_bill(
        spark, frame, case.plan.schedule, until=case.plan.until, supersede_by=case.policy, buckets=buckets
    )
    assert_frame_equal(actual, expected)


@FEW
@given(case=cases(), prices=price_lists(), per_customer=st.booleans())
def test_price_seats_on_spark_equal_the_in_memory_run(
    spark: SparkSession, case: Case, prices: list[SeatPrice], per_customer: bool
) -> None:
    frame = with_receipts(case.events.frame())
    book: Any = {"acme": prices, "*": prices[:1]} if per_customer else prices
    expected = price_seats(frame, case.plan.schedule, book, until=case.plan.until, supersede_by=case.policy)
    actual = spark_price(
        spark, frame, case.plan.schedule, book, until=case.plan.until, supersede_by=case.policy
    )
    assert_frame_equal(actual, expected)


# -- fixed cases ---------------------------------------------------------------------------------


def many_facts() -> pl.DataFrame:
    """Versions that move between customers and seat types (so between key buckets), null
    ids, and two accounts sharing customerEventIds."""
    rows = []
    seq = 0
    for account in ("a1", "a2"):
        for i in range(12):
            alias, seat = ("acme", "beta", "gamma")[i % 3], ("admin", "std")[i % 2]
            seq += 1
            rows.append(event(alias, 1 + i, 10 + i, seq, f"e{i}", seat, account))
        for i in range(0, 12, 2):  # a later version moves e{i} to another key
            seq += 1
            rows.append(
                event(("beta", "gamma", "acme")[i % 3], 20 + i // 2, 3 * i, seq, f"e{i}", "std", account)
            )
        for day in (3, 3, 9):  # facts of their own, two at one instant: the later received counts
            seq += 1
            rows.append(event("acme", day, seq, seq, None, "admin", account))
    return frame_of(rows, accounts=True)


@pytest.mark.parametrize("buckets", [1, 5])
def test_versions_moving_between_keys_null_ids_and_accounts(spark: SparkSession, buckets: int) -> None:
    frame = many_facts()
    expected = billable_seats(frame, SCHEDULE)
    actual = spark_bill(spark, frame, SCHEDULE, buckets=buckets)
    assert_frame_equal(actual, expected)
    assert actual.columns[0] == "sequenceAccountId"
    assert actual.height == expected.height > 10


def test_per_customer_schedules_and_prices(spark: SparkSession) -> None:
    frame = many_facts()
    schedules = {
        "acme": SCHEDULE,
        "beta": BillingSchedule(date(2025, 1, 1), "1w", end=date(2025, 2, 26)),
        "gamma": BillingSchedule(
            date(2024, 12, 15), "1mo", time_zone="America/New_York", end=date(2025, 3, 15)
        ),
    }
    kwd = SeatPrice(
        seatType="std", currency="KWD", pricePerSeat="7.125", prorationStrategy="USE_MAXIMUM",
        billingType="IN_ARREARS",
    )  # fmt: skip
    prices = {"acme": [PRICE], "*": [kwd]}
    assert_frame_equal(spark_bill(spark, frame, schedules), billable_seats(frame, schedules))
    expected = price_seats(frame, schedules, prices)
    actual = spark_price(spark, frame, schedules, prices, buckets=3)
    assert_frame_equal(actual, expected)
    assert actual.schema["amount"] == pl.Decimal(38, 3)
    assert set(actual.get_column("lineType")) == {"ADVANCE", "TRUE_UP", "ARREARS"}


def test_money_and_integrals_arrive_as_spark_decimals(spark: SparkSession) -> None:
    frame = frame_of([event("acme", 1, 2, 1), event("acme", 11, 5, 2)])
    seats = on_spark.billable_seats(to_spark(spark, frame), SCHEDULE)
    assert seats.schema["seatMicroseconds"].dataType == T.DecimalType(38, 0)
    assert seats.schema["periodStart"].dataType == T.TimestampType()
    first = seats.first()
    assert first is not None
    # 2 seats for 10 days, then 5 for 21 days: (2·10 + 5·21) days of seats
    assert first["seatMicroseconds"] == Decimal((2 * 10 + 5 * 21) * 86_400_000_000)
    lines = on_spark.price_seats(to_spark(spark, frame), SCHEDULE, [PRICE])
    assert lines.schema["amount"].dataType == T.DecimalType(38, 2)
    advance = lines.first()
    assert advance is not None
    assert (advance["lineType"], advance["amount"]) == ("ADVANCE", Decimal("62.00"))


# -- bad input raises what the in-memory run raises ----------------------------------------------


def test_bad_rows_in_several_buckets_are_counted_and_named_by_receipt(spark: SparkSession) -> None:
    rows = [event("acme", 1 + i, -1 if i in (3, 17) else 1, 100 + i, f"e{i}") for i in range(20)]
    rows[8]["customerAlias"] = None
    frame = frame_of(rows)
    with pytest.raises(InvalidEventFrame) as memory:
        billable_seats(frame, SCHEDULE)
    assert str(memory.value).startswith("3 problems in events frame: row 3: total: is negative")
    with pytest.raises(InvalidEventFrame) as raised:
        spark_bill(spark, frame, SCHEDULE, buckets=4)
    assert str(raised.value) == (
        "3 problems in events frame (rows named by receivedSeq): row 103: total: is negative (got -1); "
        "row 108: customerAlias: is null; row 117: total: is negative (got -1)"
    )


def test_a_repeated_receipt_anywhere_is_an_error(spark: SparkSession) -> None:
    frame = frame_of(
        [event("acme", 1, 1, 5, "e1"), event("beta", 2, 1, 6, "e2"), event("gamma", 3, 1, 5, "e3")]
    )
    with pytest.raises(InvalidEventFrame, match=r"1 problem .*row 5: receivedSeq: is not unique"):
        spark_bill(spark, frame, SCHEDULE)


def test_schema_errors_are_raised_on_the_driver(spark: SparkSession) -> None:
    frame = frame_of([event("acme", 1, 1, 1)])
    with pytest.raises(FrameSchemaError, match="needs a receivedSeq column"):
        on_spark.billable_seats(to_spark(spark, frame.drop("receivedSeq")), SCHEDULE)
    with pytest.raises(FrameSchemaError, match="total: is missing"):
        on_spark.billable_seats(to_spark(spark, frame.drop("total")), SCHEDULE)
    naive = to_spark(spark, frame).withColumn("eventTimestamp", F.col("eventTimestamp").cast("timestamp_ntz"))
    with pytest.raises(FrameSchemaError, match="naive Datetime"):
        on_spark.billable_seats(naive, SCHEDULE)
    with pytest.raises(InvalidArgument, match="supersede_by"):
        on_spark.billable_seats(to_spark(spark, frame), SCHEDULE, supersede_by="latest")  # type: ignore[arg-type]
    with pytest.raises(FrameSchemaError, match=r"pyspark\.sql\.DataFrame"):
        on_spark.billable_seats(frame, SCHEDULE)  # type: ignore[arg-type]


def test_a_customer_without_a_schedule_or_a_price(spark: SparkSession) -> None:
    frame = frame_of([event("acme", 1, 1, 1), event("beta", 2, 1, 2)])
    with pytest.raises(InvalidSchedule, match="beta"):
        billable_seats(frame, {"acme": SCHEDULE})
    with pytest.raises(InvalidSchedule, match="beta"):
        spark_bill(spark, frame, {"acme": SCHEDULE})
    with pytest.raises(InvalidPrice, match="beta/admin") as memory:
        price_seats(frame, SCHEDULE, {"acme": [PRICE]}, unpriced="error")
    with pytest.raises(InvalidPrice) as raised:
        spark_price(spark, frame, SCHEDULE, {"acme": [PRICE]}, unpriced="error")
    assert str(raised.value) == str(memory.value)


def test_the_readme_spark_example_runs(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [block] = re.findall(r"```python spark\n(.*?)```", readme, flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out == "2 5 125\n[('ARREARS', Decimal('125.00'))]\n"
    assert pl.read_parquet(tmp_path / "billable-seats" / "*.parquet").get_column("seatDays").to_list() == [
        125
    ]


# -- the command line ----------------------------------------------------------------------------


def test_cli_bill_on_spark_writes_what_the_polars_engine_writes(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.parquet"
    many_facts().drop("receivedSeq").write_parquet(events)
    common = [str(events), "--start", "2025-01-01", "--end", "2025-03-01"]
    assert main(["bill", *common, "--out", str(tmp_path / "polars.parquet")]) == 0
    spark_args = ["--engine", "spark", "--spark-master", "local[2]", "--out", str(tmp_path / "spark.parquet")]
    assert main(["bill", *common, *spark_args]) == 0
    assert_frame_equal(
        pl.read_parquet(tmp_path / "spark.parquet"), pl.read_parquet(tmp_path / "polars.parquet")
    )
    prices = tmp_path / "prices.json"
    prices.write_text(f"[{PRICE.model_dump_json(by_alias=True)}]")
    charges = ["charges", *common, "--prices", str(prices)]
    assert main([*charges, "--out", str(tmp_path / "lines-polars.parquet")]) == 0
    assert main([*charges, "--engine", "spark", "--out", str(tmp_path / "lines-spark.parquet")]) == 0
    assert_frame_equal(
        pl.read_parquet(tmp_path / "lines-spark.parquet"), pl.read_parquet(tmp_path / "lines-polars.parquet")
    )
    assert spark.sparkContext._jsc is not None  # the shared session is still running
    capsys.readouterr()


def test_cli_without_pyspark_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "seatcalc.spark", None)
    events = tmp_path / "events.parquet"
    many_facts().write_parquet(events)
    status = main(["bill", str(events), "--start", "2025-01-01", "--end", "2025-03-01", "--engine", "spark"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert "pip install 'seatcalc[spark]'" in err
