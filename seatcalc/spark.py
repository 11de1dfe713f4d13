"""Billable seats and charges of a Spark DataFrame (extra ``seatcalc[spark]``, pyspark ≥ 4).

The run makes the two passes of :mod:`seatcalc.buckets`, each a shuffle that puts whole
buckets in each Spark partition (``repartition(buckets, hash)``) followed by ``mapInArrow``:
a partition's rows go to a Python worker as Arrow batches, become one polars frame and run
the in-memory kernels, so no rule is written here. (``groupBy(bucket).applyInArrow`` would
do the same but also sorts every partition by the bucket in the JVM: 1.5–2× slower here.)

1. **Versions** in partitions by ``xxhash64(sequenceAccountId?, customerEventId)`` (a row with
   a null ``customerEventId`` is a fact of its own: bucketed by its ``receivedSeq``);
   :func:`~seatcalc.buckets.resolve_versions` keeps each fact's winner.
2. **Keys**: the effective events regrouped in partitions by
   ``xxhash64(sequenceAccountId?, customerAlias, seatType)``;
   :func:`~seatcalc.buckets.bill_effective` or :func:`~seatcalc.buckets.price_effective`.

Receipt order: a Spark DataFrame has no row order, so the input must carry ``receivedSeq``
(unique integers, larger = received later; SPEC §2). Without it the run raises
:class:`~seatcalc.errors.FrameSchemaError` with a hint.

Validation: the schema is checked on the driver; ``receivedSeq`` uniqueness with one Spark
aggregation over the whole input; every other row rule inside the pass-1 buckets, by the
in-memory checks. A bucket that finds bad rows computes nothing and returns its problems
instead; the driver raises the same exception the in-memory run raises, naming bad rows by
their ``receivedSeq`` (not by position). So the result is computed when the function is
called (held as a local checkpoint), and only then returned.

Types (:func:`spark_type`): Int128 becomes ``decimal(38,0)``, Decimal ``decimal(38, s)``,
UTC Datetime ``timestamp``; :func:`to_polars` turns a result back into the in-memory dtypes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

try:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.sql.pandas.types import to_arrow_schema
except ModuleNotFoundError as missing:  # pragma: no cover - depends on the environment
    raise ModuleNotFoundError(
        f"seatcalc.spark needs pyspark>=4 and pyarrow ({missing.name} is missing): "
        "pip install 'seatcalc[spark]'",
        name=missing.name,
    ) from None

from seatcalc import errors
from seatcalc.buckets import bill_effective, price_effective, resolve_versions
from seatcalc.errors import FrameSchemaError, InvalidArgument, InvalidEventFrame, Problem, SeatcalcError
from seatcalc.frames import (
    ACCOUNT,
    ALIAS,
    EVENT_ID,
    RECEIVED,
    SEAT_TYPE,
    TIMESTAMP,
    TOTAL,
    fact_columns,
    key_columns_of,
)
from seatcalc.periods import Until
from seatcalc.pricing import Prices
from seatcalc.schedules import PERIOD_START, Schedules
from seatcalc.supersession import SupersedeBy

__all__ = ["billable_seats", "price_seats", "spark_schema", "spark_type", "to_polars"]

ERROR = "__error"
"""A row that carries a bucket's error (JSON) instead of a result."""
_DTYPE = "seatcalc.dtype"
"""StructField metadata: the polars dtype a column had before it crossed to Spark."""
_INPUT = (EVENT_ID, ALIAS, SEAT_TYPE, TIMESTAMP, TOTAL, RECEIVED, ACCOUNT)
_ROWS_BY_SEQ = "events frame (rows named by receivedSeq)"
Kernel = Callable[[pl.DataFrame], pl.DataFrame]


# -- types -------------------------------------------------------------------------------------


def spark_type(dtype: pl.DataType) -> T.DataType:
    """The Spark type holding a polars dtype without loss.

    Int128 → ``decimal(38,0)``; Decimal → ``decimal(38, scale)``; Datetime with a zone →
    ``timestamp`` (an instant), naive → ``timestamp_ntz``; unsigned integers go to the next
    wider signed type (UInt64 → ``decimal(20,0)``).

    >>> spark_type(pl.Int128()).simpleString()
    'decimal(38,0)'
    """
    simple: dict[type[pl.DataType], T.DataType] = {
        pl.Int8: T.ByteType(),
        pl.Int16: T.ShortType(),
        pl.Int32: T.IntegerType(),
        pl.Int64: T.LongType(),
        pl.Int128: T.DecimalType(38, 0),
        pl.UInt8: T.ShortType(),
        pl.UInt16: T.IntegerType(),
        pl.UInt32: T.LongType(),
        pl.UInt64: T.DecimalType(20, 0),
        pl.Float32: T.FloatType(),
        pl.Float64: T.DoubleType(),
        pl.String: T.StringType(),
        pl.Boolean: T.BooleanType(),
        pl.Date: T.DateType(),
    }
    if isinstance(dtype, pl.Decimal):
        return T.DecimalType(38, dtype.scale)
    if isinstance(dtype, pl.Datetime):
        return T.TimestampType() if dtype.time_zone is not None else T.TimestampNTZType()
    for kind, spark in simple.items():
        if dtype == kind:
            return spark
    raise FrameSchemaError(f"a column of dtype {dtype} has no Spark type seatcalc maps it to")


def _transported(dtype: pl.DataType) -> pl.DataType:
    """The polars dtype a column is cast to before it goes to Arrow and Spark."""
    spark = spark_type(dtype)
    if isinstance(spark, T.DecimalType) and not isinstance(dtype, pl.Decimal):
        return pl.Decimal(spark.precision, spark.scale)
    if isinstance(dtype, pl.Datetime):
        return pl.Datetime("us", dtype.time_zone and "UTC")
    wider: dict[pl.DataType, pl.DataType] = {
        pl.UInt8(): pl.Int16(),
        pl.UInt16(): pl.Int32(),
        pl.UInt32(): pl.Int64(),
    }
    return wider.get(dtype, dtype)


def spark_schema(schema: pl.Schema) -> T.StructType:
    """The Spark schema of a polars schema (:func:`spark_type` per column); a column whose
    dtype changes on the way records the polars dtype in its metadata for :func:`to_polars`."""
    fields = []
    for name, dtype in schema.items():
        changed = _transported(dtype) != dtype or dtype == pl.Int128
        metadata = {_DTYPE: str(dtype)} if changed else {}
        fields.append(T.StructField(name, spark_type(dtype), True, metadata))
    return T.StructType(fields)


def to_polars(frame: DataFrame) -> pl.DataFrame:
    """Collect a Spark result into a polars frame with the in-memory dtypes (a
    ``decimal(38,0)`` that was Int128 becomes Int128 again)."""
    collected = pl.from_arrow(frame.toArrow())
    assert isinstance(collected, pl.DataFrame)
    back = {"Int128": pl.Int128()}
    casts = [
        pl.col(field.name).cast(back[field.metadata[_DTYPE]])
        for field in frame.schema.fields
        if field.metadata.get(_DTYPE) in back
    ]
    return collected.with_columns(casts)


def _arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of exactly ``schema`` (the declared Spark schema)."""
    casts = [pl.col(name).cast(_transported(dtype)) for name, dtype in frame.schema.items()]
    table = frame.with_columns(casts).select(schema.names).to_arrow()
    return table.cast(schema)


# -- the session -------------------------------------------------------------------------------


def spark_session(master: str = "local[2]", **conf: str) -> SparkSession:
    """A SparkSession for seatcalc on this machine: ``master`` (``local[N]``), session time zone
    UTC, no UI, few shuffle partitions, Python workers on this interpreter; ``conf`` adds or
    overrides settings (dots written as ``_``: ``spark_driver_memory="4g"``)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # larger Arrow batches to and from the Python workers: fewer round trips
        "spark.sql.execution.arrow.maxRecordsPerBatch": "100000",
        # Parquet instants as UTC microseconds (not the legacy INT96): polars reads them back exactly
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.showConsoleProgress": "false",
    }
    settings.update({key.replace("_", "."): value for key, value in conf.items()})
    builder = SparkSession.builder.master(master).appName("seatcalc")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# -- errors crossing from the workers ----------------------------------------------------------


def _error_payload(error: SeatcalcError, frame: pl.DataFrame) -> str:
    """A bucket's error as JSON; rows of an :class:`InvalidEventFrame` become receivedSeqs."""
    payload: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, InvalidEventFrame) and RECEIVED in frame.columns:
        seqs = frame.get_column(RECEIVED).to_list()
        head = str(error).split(" ", 1)[0]
        payload["count"] = int(head) if head.isdigit() else len(error.problems)
        # repeated receipts are counted globally (_repeated_receipts), not per bucket
        payload["repeated"] = frame.height - frame.get_column(RECEIVED).n_unique()
        payload["problems"] = [
            [seqs[p.row] if p.row is not None and p.row < len(seqs) else None, p.field, p.reason, p.value]
            for p in error.problems
        ]
    return json.dumps(payload, default=str)


def _error_table(payload: str, schema: pa.Schema) -> pa.Table:
    columns = [
        pa.array([payload] if name == ERROR else [None], type=schema.field(name).type)
        for name in schema.names
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _raise_errors(payloads: list[str]) -> None:
    """Raise what the in-memory run raises: bad rows of every bucket merged (counted in all,
    the first by receivedSeq shown); otherwise the first bucket's error, of its own type."""
    if not payloads:
        return
    found = [json.loads(text) for text in payloads]
    rows = [item for item in found if "problems" in item]
    if rows:
        problems = sorted(
            (
                Problem(
                    None if row is None else int(row),
                    field,
                    reason,
                    int(value) if reason == _REPEATED else value,
                )
                for item in rows
                for row, field, reason, value in item["problems"]
                if reason != _REPEATED or "repeated" not in item
            ),
            key=lambda p: (p.row is not None, p.row if p.row is not None else 0),
        )
        count = sum(int(item["count"]) - int(item.get("repeated", 0)) for item in rows)
        raise InvalidEventFrame.from_problems(problems, what=_ROWS_BY_SEQ, count=count)
    first = min(found, key=lambda item: str(item["message"]))
    kind = getattr(errors, str(first["type"]), SeatcalcError)
    if not (isinstance(kind, type) and issubclass(kind, SeatcalcError)):
        kind = SeatcalcError
    raise kind(first["message"])


# -- the run -----------------------------------------------------------------------------------


def _polars_schema(frame: DataFrame) -> pl.DataFrame:
    """An empty polars frame with the dtypes a worker sees for ``frame``'s columns."""
    empty = pl.from_arrow(to_arrow_schema(frame.schema, timezone="UTC").empty_table())
    assert isinstance(empty, pl.DataFrame)
    return empty


_REPEATED = "is not unique"


def _repeated_receipts(events: DataFrame, schema: T.StructType) -> DataFrame:
    """Error rows (``schema``) for every ``receivedSeq`` held by several rows of the input:
    uniqueness is a global rule, counted by one Spark aggregation in the same job."""
    repeated = events.where(F.col(RECEIVED).isNotNull()).groupBy(RECEIVED).count().where(F.col("count") > 1)
    payload = F.to_json(
        F.struct(
            F.lit("InvalidEventFrame").alias("type"),
            F.lit("").alias("message"),
            (F.col("count") - 1).alias("count"),
            F.array(
                F.array(
                    F.col(RECEIVED).cast("string"),
                    F.lit(RECEIVED),
                    F.lit(_REPEATED),
                    F.col(RECEIVED).cast("string"),
                )
            ).alias("problems"),
        )
    )
    columns = [
        payload.alias(ERROR) if f.name == ERROR else F.lit(None).cast(f.dataType).alias(f.name)
        for f in schema.fields
    ]
    return repeated.select(*columns)


def _bucket_frame(batches: Iterator[pa.RecordBatch]) -> pl.DataFrame | None:
    """The rows of one partition (whole buckets) as one polars frame; None when empty."""
    listed = [batch for batch in batches if batch.num_rows]
    if not listed:
        return None
    table = pa.Table.from_batches(listed)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _default_buckets(session: SparkSession) -> int:
    return max(1, int(session.conf.get("spark.sql.shuffle.partitions") or 8))


def _run(
    df: DataFrame, supersede_by: SupersedeBy, kernel: Kernel, order: list[str], buckets: int | None
) -> DataFrame:
    if not isinstance(df, DataFrame):
        raise FrameSchemaError(f"expected a pyspark.sql.DataFrame of seat events, got {type(df).__name__}")
    if buckets is not None and (isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1):
        raise InvalidArgument.for_value("buckets", buckets, "must be a whole number ≥ 1")
    count = buckets if buckets is not None else _default_buckets(df.sparkSession)
    if RECEIVED not in df.columns:
        raise FrameSchemaError(
            f"a Spark events frame needs a {RECEIVED} column (receipt order: unique integers, "
            "larger = received later), since a Spark DataFrame has no row order; number the rows "
            f"where their order is known. Columns present: {df.columns}"
        )
    events = df.select(*[name for name in _INPUT if name in df.columns])
    # on the driver: schema problems, policy, schedule and price arguments, output schemas
    versions_empty = resolve_versions(_polars_schema(events), supersede_by)
    result_empty = kernel(versions_empty)
    versions_spark = spark_schema(versions_empty.schema).add(ERROR, T.StringType())
    result_spark = spark_schema(result_empty.schema).add(ERROR, T.StringType())
    versions_arrow = to_arrow_schema(versions_spark, timezone="UTC")
    result_arrow = to_arrow_schema(result_spark, timezone="UTC")

    def versions(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        frame = _bucket_frame(batches)
        if frame is None:
            return
        frame = frame.sort(RECEIVED, nulls_last=False)  # a problem's row is then its receivedSeq
        try:
            won = resolve_versions(frame, supersede_by)
        except SeatcalcError as error:
            yield from _error_table(_error_payload(error, frame), versions_arrow).to_batches()
            return
        yield from _arrow(won.with_columns(pl.lit(None, pl.String).alias(ERROR)), versions_arrow).to_batches()

    def results(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        frame = _bucket_frame(batches)
        if frame is None:
            return
        failed = frame.get_column(ERROR).drop_nulls()
        if failed.len():  # bad rows upstream: compute nothing, pass their problems on
            for payload in failed:
                yield from _error_table(payload, result_arrow).to_batches()
            return
        try:
            done = kernel(frame.drop(ERROR))
        except SeatcalcError as error:
            yield from _error_table(_error_payload(error, frame), result_arrow).to_batches()
            return
        yield from _arrow(done.with_columns(pl.lit(None, pl.String).alias(ERROR)), result_arrow).to_batches()

    names = events.columns
    by_receipt = F.xxhash64(RECEIVED)
    by_fact = F.when(F.col(EVENT_ID).isNull(), by_receipt).otherwise(F.xxhash64(*fact_columns(names)))
    keys = key_columns_of(names)
    # each partition holds whole buckets (all versions of a fact; then all events of a key)
    effective = events.repartition(count, by_fact if EVENT_ID in names else by_receipt).mapInArrow(
        versions, versions_spark
    )
    lines = effective.repartition(count, F.xxhash64(*keys)).mapInArrow(results, result_spark)
    computed = lines.unionByName(_repeated_receipts(events, result_spark)).localCheckpoint(eager=True)
    _raise_errors([row[0] for row in computed.where(F.col(ERROR).isNotNull()).select(ERROR).collect()])
    ordered: list[Column] = [F.col(name) for name in [*keys, *order]]
    return computed.where(F.col(ERROR).isNull()).drop(ERROR).orderBy(*ordered)


def billable_seats(
    df: DataFrame,
    schedule: Schedules,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    buckets: int | None = None,
) -> DataFrame:
    """:func:`seatcalc.billable_seats` of a Spark DataFrame of raw events (with
    ``receivedSeq``): the same rows and columns, ``seatMicroseconds`` as ``decimal(38,0)``,
    ordered by key and ``periodStart``. ``buckets`` (default: the session's
    ``spark.sql.shuffle.partitions``) is the number of partitions of each pass; a partition
    (whole facts, then whole keys) must fit in a Python worker's memory. Raises what the
    in-memory function raises."""

    def kernel(effective: pl.DataFrame) -> pl.DataFrame:
        return bill_effective(effective, schedule, until=until)

    return _run(df, supersede_by, kernel, [PERIOD_START], buckets)


def price_seats(
    df: DataFrame,
    schedule: Schedules,
    prices: Prices,
    *,
    until: Until = None,
    supersede_by: SupersedeBy = "eventTimestamp",
    rounding: str = "ROUND_HALF_UP",
    unpriced: str = "skip",
    buckets: int | None = None,
) -> DataFrame:
    """:func:`seatcalc.price_seats` of a Spark DataFrame of raw events (with ``receivedSeq``):
    the same invoice lines, money as ``decimal(38, s)``, ordered by key, ``periodStart`` and
    ``lineType``. With ``unpriced="error"`` the message names the unpriced seat types of one
    bucket (the in-memory one names them all)."""

    def kernel(effective: pl.DataFrame) -> pl.DataFrame:
        return price_effective(effective, schedule, prices, until=until, rounding=rounding, unpriced=unpriced)

    return _run(df, supersede_by, kernel, [PERIOD_START, "lineType"], buckets)
