"""Money formatting: currency symbol, thousands separators, cents only for small sums."""

import math

import pytest

from core.present.money import currency_symbol, format_money, money_axis_title


@pytest.mark.parametrize("value,currency,kwargs,text", [
    (293041.7, "EUR", {}, "€293,042"),
    (-1234.4, "EUR", {}, "-€1,234"),
    (0.35, "EUR", {}, "€0.35"),
    (40, "USD", {}, "$40"),
    (-40.5, "GBP", {}, "-£40.50"),
    (1234.5, "JPY", {"cents": True}, "¥1,234"),  # yen never have cents (1234.5 rounds half to even)
    (12.0, "CHF", {}, "CHF 12"),
    (5000, "XYZ", {}, "XYZ 5,000"),
    (250, "eur", {"signed": True}, "+€250"),
    (-0.001, "EUR", {}, "€0.00"),  # no "-€0.00"
    (None, "EUR", {}, "—"),
    (math.nan, "EUR", {}, "—"),
    ("abc", "EUR", {}, "—"),
])
def test_format_money(value, currency, kwargs, text):
    assert format_money(value, currency, **kwargs) == text


def test_symbol_and_axis_title():
    assert currency_symbol("usd") == "$" and currency_symbol(None) == "€"
    assert money_axis_title("Expected profit", "usd") == "Expected profit (USD)"
