"""Hostile input to the pricing entry points, and per-customer prices (SPEC §6).

Every bad value must end as an ``InvalidPrice`` (or ``InvalidArgument`` for an argument)
naming the field, never a polars, pydantic, OS or decoding error; amounts are worked out by
hand beside each test. January 2025 has D = 31 days.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatcalc import BillingSchedule, InvalidPrice, SeatcalcError, SeatPrice, price_seats
from seatcalc.errors import InvalidArgument
from seatcalc.events import MAX_TOTAL
from seatcalc.pricing import load_prices, unpriced_seat_types

JANUARY = BillingSchedule(date(2025, 1, 1), "1mo", end=date(2025, 2, 1))


def ts(m: int, d: int, y: int = 2025) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def events(*rows: tuple[str, str, datetime, int]) -> pl.DataFrame:
    """Rows of (customerAlias, seatType, eventTimestamp, total)."""
    return pl.DataFrame(
        rows,
        schema={
            "customerAlias": pl.String,
            "seatType": pl.String,
            "eventTimestamp": pl.Datetime("us", "UTC"),
            "total": pl.Int64,
        },
        orient="row",
    )


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seatType": "editor",
        "currency": "GBP",
        "pricePerSeat": "3.10",
        "prorationStrategy": "USE_MAXIMUM",
    }
    return base | changes


def price(**changes: Any) -> SeatPrice:
    return SeatPrice.model_validate(fields(**changes))


def tiered(bound: object) -> dict[str, Any]:
    return fields(tiers=[{"upperBound": bound, "price": "1"}, {"price": "2"}])


# acme 10 editors and 1 viewer, globex 4 editors, initech 2 editors, all of January.
SEATS = events(
    ("acme", "editor", ts(1, 1), 10),
    ("acme", "viewer", ts(1, 1), 1),
    ("globex", "editor", ts(1, 1), 4),
    ("initech", "editor", ts(1, 1), 2),
)


def amounts(result: pl.DataFrame) -> list[tuple[Any, ...]]:
    return result.select("customerAlias", "seatType", "lineType", "amount", "currency").rows()


# --- 1. arguments outside their domain --------------------------------------------------------


@pytest.mark.parametrize("rounding", ["ROUND_BANKERS", "HALF_UP", "round_half_up", "", None, 3, ["ROUND_UP"]])
def test_unknown_rounding_is_invalid_argument(rounding: Any) -> None:
    with pytest.raises(InvalidArgument) as raised:
        price_seats(SEATS, JANUARY, [price()], rounding=rounding)
    message = str(raised.value)
    assert message.startswith(f"rounding={rounding!r}: ") and "ROUND_HALF_EVEN" in message
    assert "ROUND_05UP" in message and isinstance(raised.value, ValueError)


@pytest.mark.parametrize("policy", ["latest", "EVENTTIMESTAMP", "", None, 0, ["received"]])
def test_unknown_supersede_by_is_invalid_argument(policy: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"^supersede_by=.*'eventTimestamp' or 'received'"):
        price_seats(SEATS, JANUARY, [price()], supersede_by=policy)
    with pytest.raises(InvalidArgument, match="supersede_by"):
        unpriced_seat_types(SEATS, JANUARY, [price()], supersede_by=policy)


@pytest.mark.parametrize("policy", ["ignore", "raise", None, True])
def test_unknown_unpriced_policy_is_invalid_argument(policy: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"^unpriced=.*'skip' or 'error'"):
        price_seats(SEATS, JANUARY, [price()], unpriced=policy)


# --- 2. numbers a price must refuse --------------------------------------------------------------


@pytest.mark.parametrize("bound", [2**70, 2**63, 2**62, MAX_TOTAL + 1])
def test_upper_bound_above_the_largest_count(bound: int) -> None:
    # 2**70 used to pass the model and then break the Int64 price table inside polars.
    with pytest.raises(InvalidPrice, match=rf"tiers\.0\.upperBound: is above {MAX_TOTAL}") as raised:
        SeatPrice.model_validate(tiered(bound))
    assert f"(got {bound})" in str(raised.value)
    with pytest.raises(InvalidPrice, match="upperBound"):
        price_seats(SEATS, JANUARY, [tiered(bound)])


def test_upper_bound_at_the_largest_count_prices_exactly() -> None:
    # MAX_TOTAL seats all January: every seat is in the first tier at 1 → 2,147,483,647.00.
    frame = events(("acme", "editor", ts(1, 1), MAX_TOTAL))
    result = price_seats(frame, JANUARY, [tiered(MAX_TOTAL)])
    assert amounts(result) == [("acme", "editor", "ARREARS", Decimal("2147483647.00"), "GBP")]


@pytest.mark.parametrize(
    "bound", ["10", "１０", "١٠", " 10", "1e1", True, False, 10.0, Decimal(10), [10], {"n": 10}]
)
def test_upper_bound_is_a_json_integer(bound: object) -> None:
    with pytest.raises(InvalidPrice, match=r"tiers\.0\.upperBound: must be a whole number"):
        SeatPrice.model_validate(tiered(bound))


@pytest.mark.parametrize("minimum", ["10", "１０", "١٠", True, 10.0, Decimal(3), 2**70, -1, None])
def test_contracted_minimum_is_a_json_integer(minimum: object) -> None:
    with pytest.raises(InvalidPrice, match="contractedMinimumSeats"):
        price(contractedMinimumSeats=minimum)


@pytest.mark.parametrize(
    "money",
    [
        "１０",  # fullwidth digits: Decimal() reads them, the wire must not
        "١٠.5",  # Arabic-Indic digits
        "1_000",  # Decimal() reads underscores too
        "1e999999",  # the exactness check used to build 10**999999 from it
        "0E-999999999",  # an exponent of more than three digits
        "1E+99",
        "0x10",
        "10 GBP",
        pytest.param("5" * 5000, id="5000 digits"),
        pytest.param("0." + "1" * 5000, id="5000 decimals"),
        pytest.param(10**5000, id="int of 5001 digits"),
        2**200,
        Decimal("1E+999999999"),
        Decimal((0, (1,), 999_999_999)),
        Decimal("1" * 60),
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-Infinity"),
        "Infinity",
        "-nan",
        b"10",
        None,
        [1],
    ],
)
@pytest.mark.parametrize("field", ["pricePerSeat", "price", "fee"])
def test_money_refuses_what_is_not_an_ascii_decimal(money: object, field: str) -> None:
    changes = (
        {field: money} if field == "pricePerSeat" else {"tiers": [{"price": 1, "fee": 0} | {field: money}]}
    )
    with pytest.raises(InvalidPrice) as raised:
        price(**changes)
    assert (field if field == "pricePerSeat" else f"tiers.0.{field}") in str(raised.value)
    assert len(str(raised.value)) < 1000  # a 5000-digit value is not echoed whole


@pytest.mark.parametrize(
    ("money", "value"),
    [(Decimal("0E-999999999"), "0"), (Decimal("-0"), "0"), ("+1.50", "1.50"),
     ("2.", "2"), (".5", "0.5"), ("25E-1", "2.5")],
)  # fmt: skip
def test_money_zero_with_a_huge_exponent_is_zero(money: object, value: str) -> None:
    # a zero is stored as 0, so no huge exponent reaches the exact integer arithmetic
    assert price(pricePerSeat=money).price_per_seat == Decimal(value)


# --- 3. load_prices on files that are not price lists -------------------------------------------


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "prices.json"
    path.write_bytes(data)
    return path


ONE = json.dumps([fields()])

BAD_FILES: list[tuple[str, bytes, str]] = [
    ("binary garbage", b"\x00\xff\xfe\x89PNG\r\n", "not UTF-8"),
    ("UTF-16", ONE.encode("utf-16"), "not UTF-8"),
    ("duplicate key", b'[{"seatType": "a", "seatType": "b"}]', "appears twice"),
    ("a 5000-digit number", b'[{"pricePerSeat": ' + b"9" * 5000 + b"}]", "too long"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "nesting"),
    ("NaN", b'[{"pricePerSeat": NaN}]', "NaN"),
    ("lone surrogate", b'[{"seatType": "\\ud800"}]', "surrogate"),
    ("not JSON", b"seatType,currency\neditor,GBP\n", "not valid JSON"),
    ("empty", b"", "not valid JSON"),
    ("a number", b"3", "not a JSON number"),
    ("a string", b'"prices"', "not a JSON string"),
    ("null", b"null", "not a JSON null"),
    ("a bool", b"true", "not a JSON bool"),
    ("one price object", ONE[1:-1].encode(), "write a list"),
    ("a list of lists", b"[[]]", "price 0 is not a JSON object"),
    ("customer not a list", b'{"acme": {"seatType": "a"}}', "customer 'acme': prices must be a list"),
    ("bad price for a customer", json.dumps({"acme": [fields(currency="gbp")]}).encode(),
     "customer 'acme': price 0: 1 problem in seat price: currency"),
    ("two prices for one seat type", json.dumps({"acme": [fields(), fields()]}).encode(),
     "customer 'acme': prices 0 and 1 are both for seatType 'editor'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_load_prices_refuses_bad_files(tmp_path: Path, case: str, data: bytes, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InvalidPrice) as raised:
        load_prices(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value), str(raised.value)
    with pytest.raises(InvalidPrice, match="(?s).*".join(message.split("(")[:1])):
        load_prices(data)  # the same text given directly


def test_load_prices_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidPrice, match=r"cannot read the prices file .*missing\.json: No such file"):
        load_prices(tmp_path / "missing.json")
    with pytest.raises(InvalidPrice, match=f"cannot read the prices file {tmp_path}: Is a directory"):
        load_prices(tmp_path)


def test_load_prices_text_that_looks_like_a_path() -> None:
    with pytest.raises(InvalidPrice, match=r"to read a file, pass a pathlib\.Path"):
        load_prices("prices.json")
    with pytest.raises(InvalidPrice, match="prices must be a Path or JSON text, not int"):
        load_prices(3)  # type: ignore[arg-type]


def test_load_prices_reads_both_shapes(tmp_path: Path) -> None:
    listed = load_prices(_write(tmp_path, ("\ufeff" + ONE).encode()))  # a UTF-8 BOM is fine
    assert listed == [price()]
    per_customer = json.dumps({"acme": [fields()], "*": [fields(currency="EUR"), fields(seatType="viewer")]})
    assert load_prices(_write(tmp_path, per_customer.encode())) == {
        "acme": [price()],
        "*": [price(currency="EUR"), price(seatType="viewer")],
    }
    assert load_prices("{}") == {}


# --- 4. per-customer prices -----------------------------------------------------------------------

ACME = [price()]  # editor GBP 3.10 × 10 = 31.00
GLOBEX = [price(currency="EUR", pricePerSeat="1.25")]  # editor EUR 1.25 × 4 = 5.00
EVERYONE = [
    price(currency="JPY", pricePerSeat="100"),
    price(seatType="viewer", currency="JPY", pricePerSeat=7),
]

ACME_LINE = ("acme", "editor", "ARREARS", Decimal("31.00"), "GBP")
GLOBEX_LINE = ("globex", "editor", "ARREARS", Decimal("5.00"), "EUR")


def test_per_customer_mapping_prices_each_by_its_own_list() -> None:
    # acme's viewer has no price in acme's list, initech has no list: no lines for either.
    result = price_seats(SEATS, JANUARY, {"acme": ACME, "globex": GLOBEX})
    assert amounts(result) == [ACME_LINE, GLOBEX_LINE]


def test_the_star_list_prices_every_customer_not_named() -> None:
    # initech: ¥100 × 2 = ¥200. acme is named, so its viewer stays unpriced (no fallback to "*").
    result = price_seats(SEATS, JANUARY, {"acme": ACME, "globex": GLOBEX, "*": EVERYONE})
    assert amounts(result) == [
        ACME_LINE,
        GLOBEX_LINE,
        ("initech", "editor", "ARREARS", Decimal("200.00"), "JPY"),
    ]
    # without named customers, "*" is the list for everyone: acme's viewer ¥7, editors ¥100 each
    everyone = price_seats(SEATS, JANUARY, {"*": EVERYONE})
    assert amounts(everyone) == amounts(price_seats(SEATS, JANUARY, EVERYONE))
    assert amounts(everyone)[1] == ("acme", "viewer", "ARREARS", Decimal("7"), "JPY")


def test_per_customer_frame_matches_the_mapping() -> None:
    frame = pl.DataFrame(
        {
            "customerAlias": ["acme", "globex"],
            "seatType": ["editor", "editor"],
            "currency": ["GBP", "EUR"],
            "pricePerSeat": [Decimal("3.10"), Decimal("1.25")],
            "prorationStrategy": ["USE_MAXIMUM", "USE_MAXIMUM"],
            "billingType": [None, "IN_ARREARS"],  # null takes the default
        }
    )
    assert amounts(price_seats(SEATS, JANUARY, frame)) == [ACME_LINE, GLOBEX_LINE]
    lazy = price_seats(SEATS.lazy(), JANUARY, frame)
    assert isinstance(lazy, pl.LazyFrame) and amounts(lazy.collect()) == [ACME_LINE, GLOBEX_LINE]


def test_per_customer_file_through_load_prices(tmp_path: Path) -> None:
    data = {"acme": [fields()], "globex": [fields(currency="EUR", pricePerSeat=1.25)]}
    prices = load_prices(_write(tmp_path, json.dumps(data).encode()))
    assert amounts(price_seats(SEATS, JANUARY, prices)) == [ACME_LINE, GLOBEX_LINE]


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ({"acme": price()}, "customer 'acme': prices must be a list of SeatPrice"),
        ({"acme": "editor"}, "customer 'acme': prices must be a list"),
        ({"": ACME}, "the customerAlias '' is empty"),
        ({"a\x00": ACME}, "contains a control character"),
        ({3: ACME}, "the customerAlias 3 must be a string"),
        ({"acme": [fields(), fields(currency="EUR")]}, "customer 'acme': prices 0 and 1 are both"),
        ({"acme": [fields(pricePerSeat=0.5)]}, "customer 'acme': price 0: 1 problem in seat price: pricePer"),
        ({"acme": [3]}, "customer 'acme': price 0 is not a JSON object"),
        (pl.DataFrame({"seatType": ["editor"]}), "a prices frame needs a customerAlias column"),
        (pl.DataFrame({"customerAlias": [None], "seatType": ["e"]}), "customerAlias must be a string"),
        (pl.DataFrame({"customerAlias": ["acme"], "seatType": ["editor"], "currency": ["GBP"],
                       "pricePerSeat": [3.1], "prorationStrategy": ["USE_MAXIMUM"]}), "is a float"),
        (price(), "prices must be a list of SeatPrice"),
        ("editor", "prices must be a list of SeatPrice"),
        (3, "prices must be a list of SeatPrice"),
    ],
)  # fmt: skip
def test_bad_per_customer_prices(prices: Any, message: str) -> None:
    with pytest.raises(InvalidPrice) as raised:
        price_seats(SEATS, JANUARY, prices)
    assert message in str(raised.value), str(raised.value)


# --- 5. unpriced seat types -----------------------------------------------------------------------


def test_unpriced_error_names_the_customers_and_seat_types() -> None:
    with pytest.raises(InvalidPrice) as raised:
        price_seats(SEATS, JANUARY, {"acme": ACME, "globex": GLOBEX}, unpriced="error")
    assert str(raised.value).startswith(
        "no price for 2 seat types with events (customerAlias/seatType): acme/viewer, initech/editor; "
    )
    with pytest.raises(InvalidPrice, match="no price for 2 seat types"):  # lazy in: checked at once
        price_seats(SEATS.lazy(), JANUARY, {"acme": ACME, "globex": GLOBEX}, unpriced="error")


def test_unpriced_error_shows_the_first_five_and_a_count() -> None:
    many = events(*((f"c{i}", "editor", ts(1, 1), 1) for i in range(8)))
    with pytest.raises(
        InvalidPrice, match=r"no price for 8 seat types .*: c0/editor, .*c4/editor, and 3 more;"
    ):
        price_seats(many, JANUARY, [price(seatType="viewer")], unpriced="error")


def test_unpriced_error_when_everything_is_priced_gives_the_lines() -> None:
    prices = {"acme": [*ACME, price(seatType="viewer")], "globex": GLOBEX, "*": EVERYONE}
    assert amounts(price_seats(SEATS, JANUARY, prices, unpriced="error")) == amounts(
        price_seats(SEATS, JANUARY, prices)
    )
    lazy = price_seats(SEATS.lazy(), JANUARY, prices, unpriced="error")
    assert isinstance(lazy, pl.LazyFrame) and lazy.collect().height == 4


def test_events_outside_the_schedule_are_not_unpriced() -> None:
    # a seat type first seen after the schedule's end has no period, so no line is missing
    late = pl.concat(
        [SEATS.filter(pl.col("customerAlias") == "acme"), events(("acme", "admin", ts(3, 1), 1))]
    )
    assert price_seats(late, JANUARY, [price(), price(seatType="viewer")], unpriced="error").height == 2


def test_unpriced_seat_types_lists_the_keys() -> None:
    missing = unpriced_seat_types(SEATS, JANUARY, {"acme": ACME, "globex": GLOBEX})
    assert missing.rows() == [("acme", "viewer"), ("initech", "editor")]
    assert missing.columns == ["customerAlias", "seatType"]
    assert unpriced_seat_types(SEATS.lazy(), JANUARY, {"*": EVERYONE}).height == 0


# --- 5. the command line ------------------------------------------------------------------------------

EVENTS_NDJSON = "\n".join(
    json.dumps(
        {
            "customerEventId": f"e{i}",
            "customerAlias": alias,
            "seatType": seat,
            "eventTimestamp": "2025-01-01T00:00:00Z",
            "total": total,
        }
    )
    for i, (alias, seat, _, total) in enumerate(SEATS.rows())
)


def _cli(tmp_path: Path, prices: object, *extra: str) -> list[str]:
    (tmp_path / "events.ndjson").write_text(EVENTS_NDJSON)
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    return [
        "charges", str(tmp_path / "events.ndjson"), "--prices", str(tmp_path / "prices.json"),
        "--start", "2025-01-01", "--end", "2025-02-01", *extra,
    ]  # fmt: skip


def test_cli_warns_once_about_unpriced_seat_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    assert (
        main(_cli(tmp_path, {"acme": [fields()], "globex": [fields(currency="EUR", pricePerSeat="1.25")]}))
        == 0
    )
    captured = capsys.readouterr()
    assert captured.err == (
        "seatcalc charges: warning: no price for 2 seat types with events: acme/viewer, initech/editor\n"
    )
    assert "31.00" in captured.out and "5.00" in captured.out and "initech" not in captured.out


def test_cli_is_quiet_when_everything_is_priced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    prices = [fields(), fields(seatType="viewer")]
    assert main(_cli(tmp_path, prices, "--unpriced", "error")) == 0
    assert capsys.readouterr().err == ""


def test_cli_unpriced_error_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from seatcalc.cli import main

    assert main(_cli(tmp_path, {"*": [fields()]}, "--unpriced", "error")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "seatcalc charges: no price for 1 seat type with events (customerAlias/seatType): acme/viewer"
    )


def test_cli_bad_unpriced_option(tmp_path: Path) -> None:
    from seatcalc.cli import main

    with pytest.raises(SystemExit) as raised:
        main(_cli(tmp_path, [fields()], "--unpriced", "ignore"))
    assert raised.value.code == 2


# --- 6. fuzz: a valid price or an InvalidPrice naming the field ----------------------------------

FIELDS = ("seatType", "currency", "pricePerSeat", "prorationStrategy", "billingType",
          "contractedMinimumSeats", "tiers", "tierMode")  # fmt: skip
TIER_FIELDS = ("upperBound", "price", "fee")

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.integers(4400, 5000).map(lambda n: 10**n),
    st.floats(),
    st.decimals(),
    st.builds(lambda d, e: Decimal((0, tuple(d), e)), st.lists(st.integers(0, 9), max_size=50),
              st.integers(-(10**9), 10**9)),
    st.text(max_size=12),
    st.text(alphabet="0123456789.eE+-_ １０١٠", max_size=20),
    st.sampled_from(["GBP", "JPY", "editor", "USE_MAXIMUM", "IN_ADVANCE", "VOLUME", "1.5", "NaN", "1e99"]),
)  # fmt: skip
_json_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*FIELDS, *TIER_FIELDS, "x"]), inner, max_size=4),
    ),
    max_leaves=8,
)
_tier = st.dictionaries(st.sampled_from([*TIER_FIELDS, "isPricePercentage"]), _json_like, max_size=3)
_price_dict = st.builds(
    lambda base, extra: base | extra,
    st.just(fields()),
    st.dictionaries(
        st.sampled_from(FIELDS),
        st.one_of(_json_like, st.lists(_tier, max_size=3)),
        max_size=3,
    ),
)


def _names_a_field(error: InvalidPrice) -> bool:
    message = str(error)
    return any(name in message for name in (*FIELDS, *TIER_FIELDS, "(price)", "seat price"))


@given(data=st.one_of(_price_dict, _json_like))
@settings(max_examples=300)
def test_fuzz_model_validate_gives_a_price_or_invalid_price(data: Any) -> None:
    try:
        result = SeatPrice.model_validate(data)
    except InvalidPrice as error:
        assert isinstance(error, ValueError) and isinstance(error, SeatcalcError)
        assert _names_a_field(error), str(error)
        assert len(str(error)) < 3000
        return
    assert isinstance(result, SeatPrice)
    # a valid price survives its own wire form
    assert SeatPrice.model_validate(result.model_dump(by_alias=True, mode="json")) == result


@given(data=_price_dict)
@settings(max_examples=200)
def test_fuzz_constructor_gives_a_price_or_invalid_price(data: dict[str, Any]) -> None:
    try:
        SeatPrice(**data)
    except InvalidPrice as error:
        assert _names_a_field(error), str(error)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


@given(
    value=st.one_of(
        st.lists(_price_dict, max_size=3),
        st.dictionaries(st.text(max_size=5), st.lists(_price_dict, max_size=2), max_size=2),
        _json_like,
    )
)
@settings(max_examples=200)
def test_fuzz_load_prices_on_json(value: Any) -> None:
    try:
        text = _dumps(value)
    except ValueError:  # a 5000-digit int has no str
        return
    try:
        loaded = load_prices(text)
    except InvalidPrice:
        return
    assert isinstance(loaded, list | dict)


@given(data=st.binary(max_size=64))
@settings(max_examples=200)
def test_fuzz_load_prices_on_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "prices.json"
    path.write_bytes(data)
    for source in (data, path):
        try:
            loaded = load_prices(source)
        except InvalidPrice:
            continue
        assert isinstance(loaded, list | dict)
