"""Numbers typed into the dashboard (data_layer.numbers.parse_typed, the parser the cost import uses): read the UI
language's way, never mangled — "12,5" is 12.5 in Russian (not 125), a minus is kept, "1e12" is 10¹² (not 112),
and what cannot be read is refused with a number.* sentence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_layer.numbers import NumberTextError, parse_number, parse_typed
from data_layer.userdata import MESSAGES, Problem
from presentation import fmt

# Kopeck amounts from 0 to just under 10^12 (a cost the UI might show), as Decimals.
amounts = st.integers(min_value=0, max_value=10**14 - 1).map(lambda k: Decimal(k).scaleb(-2))
SPACES = ("\u00a0", " ", "\u202f")


@pytest.mark.parametrize(("text", "lang", "value"), [
    ("12,5", "ru", "12.5"), ("12.5", "ru", "12.5"), ("12,500", "ru", "12.5"), ("0.125", "ru", "0.125"),
    ("1 234 567", "ru", "1234567"), ("1\u00a0234\u00a0567,50", "ru", "1234567.5"), ("1.234,5", "ru", "1234.5"),
    ("1e12", "ru", "1000000000000"), ("1,5e3", "ru", "1500"), ("−5", "ru", "-5"), ("-5", "ru", "-5"),
    ("1 234,50 ₽", "ru", "1234.5"), ("12.5", "en", "12.5"), ("1,234,567.5", "en", "1234567.5"),
    ("₽1,234.50", "en", "1234.5"), ("-₽1,234.50", "en", "-1234.5"), ("1e12", "en", "1000000000000"),
])
def test_typed_numbers_read_the_languages_way(text: str, lang: str, value: str) -> None:
    assert parse_typed(text, lang) == Decimal(value)


@pytest.mark.parametrize(("text", "lang", "code"), [
    ("1.000", "ru", "number.grouping"), ("12,5", "en", "number.format"), ("abc", "ru", "number.not_number"),
    ("", "ru", "number.not_number"), ("1 23", "ru", "number.groups"), ("nan", "ru", "number.not_finite"),
    ("1e999", "ru", "number.too_big"), ("1,2,3", "ru", "number.format"),
])
def test_unreadable_numbers_are_refused_with_a_sentence(text: str, lang: str, code: str) -> None:
    with pytest.raises(NumberTextError) as caught:
        parse_typed(text, lang)
    assert caught.value.code == code
    for ui in ("ru", "en"):  # the sentence exists in both languages and names no file format
        sentence = Problem(code, {**caught.value.params, "value": text}).text(ui)
        assert sentence != code and "файл" not in sentence and "file" not in sentence
        assert code in MESSAGES[ui]


def test_a_unit_may_stand_before_or_after_the_number() -> None:
    assert parse_typed("12,5 %", "ru", "%") == Decimal("12.5")
    assert parse_typed("12,5%", "ru", "%") == Decimal("12.5")
    assert parse_typed("$1,234.50", "en", "$") == Decimal("1234.5")
    with pytest.raises(NumberTextError):
        parse_typed("12,5 %", "ru")  # no unit declared: a percent sign is not a number


@settings(max_examples=150, deadline=None)
@given(value=amounts, space=st.sampled_from(SPACES))
def test_what_the_ui_shows_reads_back_exactly(value: Decimal, space: str) -> None:
    ru = fmt.num(float(value), "ru", 2).replace("\u00a0", space)
    assert parse_typed(ru, "ru") == value
    assert parse_typed(fmt.num(float(value), "en", 2), "en") == value
    assert parse_typed(fmt.money(float(value), "ru", "RUB", 2), "ru") == value
    assert parse_typed(fmt.money(float(value), "en", "RUB", 2), "en") == value


@settings(max_examples=150, deadline=None)
@given(whole=st.integers(min_value=0, max_value=10**9), fraction=st.integers(min_value=0, max_value=999),
       width=st.integers(min_value=1, max_value=3), minus=st.sampled_from(["-", "\u2212"]))
def test_a_russian_decimal_comma_is_never_a_thousands_mark(whole: int, fraction: int, width: int,
                                                          minus: str) -> None:
    digits = str(fraction).zfill(width)[-width:]
    expected = Decimal(f"{whole}.{digits}")
    assert parse_typed(f"{whole},{digits}", "ru") == expected          # "12,5" is 12.5, never 125
    assert parse_typed(f"{minus}{whole},{digits}", "ru") == -expected  # the minus is kept, never dropped


@settings(max_examples=100, deadline=None)
@given(mantissa=st.integers(min_value=1, max_value=10**6), exponent=st.integers(min_value=-20, max_value=20),
       lang=st.sampled_from(["ru", "en"]))
def test_exponent_notation_is_read_exactly(mantissa: int, exponent: int, lang: str) -> None:
    assert parse_typed(f"{mantissa}e{exponent}", lang) == Decimal(mantissa).scaleb(exponent)  # "1e12" is not 112


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789 ,.-e%", max_size=12), lang=st.sampled_from(["ru", "en"]))
def test_typed_text_is_read_or_refused_never_crashes(text: str, lang: str) -> None:
    try:
        value = parse_typed(text, lang, "%")
    except NumberTextError as exc:
        assert exc.code.startswith("number.")
        return
    assert value.is_finite()
    assert sum(ch.isdigit() for ch in text) > 0


def test_the_cost_import_keeps_its_rules() -> None:
    """The file parser is unchanged where it was strict: ambiguous groupings are refused without a format."""
    with pytest.raises(NumberTextError):
        parse_number("12,500")
    assert parse_number("12,500", "point") == Decimal("12500")
    assert parse_number("−1 234,5") == Decimal("-1234.5")   # a copied minus sign reads as a minus
