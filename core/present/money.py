"""Money as a person reads it: a currency symbol, thousands separators, whole units for large sums.

The studio takes costs as plain numbers in one currency, chosen once per session (default EUR,
the currency the bundled samples are written in). Pages, the overview and the model card all
format through :func:`format_money`, so "293,041.7" is "€293,042" everywhere.
"""

from __future__ import annotations

import math

# ISO code -> symbol written before the amount.
CURRENCIES: dict[str, str] = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF ", "JPY": "¥", "INR": "₹",
                              "CNY": "CN¥", "CAD": "CA$", "AUD": "A$", "SEK": "SEK ", "PLN": "PLN "}
DEFAULT_CURRENCY = "EUR"
# Currencies whose amounts are never written with cents.
_NO_CENTS = {"JPY"}


def currency_symbol(code: str) -> str:
    """``"EUR"`` -> ``"€"``; unknown codes are written as the code and a space."""
    code = str(code or DEFAULT_CURRENCY).upper()
    return CURRENCIES.get(code, f"{code} ")


def format_money(value, currency: str = DEFAULT_CURRENCY, *, cents: bool | None = None,
                 signed: bool = False) -> str:
    """``1234.5`` -> ``"€1,235"``; ``-40`` -> ``"-€40.00"``; ``None`` / NaN -> ``"—"``.

    Sums of 100 or more are whole units; smaller ones keep cents (a holding cost of €0.35 is not
    "€0"), unless ``cents`` says otherwise. ``signed`` writes a "+" on gains.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    code = str(currency or DEFAULT_CURRENCY).upper()
    if cents is None:
        cents = abs(v) < 100 and v != int(v)
    if code in _NO_CENTS:
        cents = False
    body = f"{abs(v):,.2f}" if cents else f"{abs(round(v)):,.0f}"
    sign = "-" if v < 0 and float(body.replace(",", "")) != 0 else ("+" if signed and v > 0 else "")
    return f"{sign}{currency_symbol(code)}{body}"


def money_axis_title(what: str, currency: str = DEFAULT_CURRENCY) -> str:
    """A chart axis title with the currency: ``"Expected profit (EUR)"``."""
    return f"{what} ({str(currency or DEFAULT_CURRENCY).upper()})"
