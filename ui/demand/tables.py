"""How the demand page shows its tables: plain headers, units as whole numbers where they are stock
and with one decimal where fractional demand is real (forecasts, errors), money in the session's
currency, and no three-decimal unit counts."""

from __future__ import annotations

import pandas as pd

from core.present.glossary import column_label, metric_label
from ui.common import metric_columns, money

UNIT = "{:,.1f}"  # forecast and error in units: fractional demand is real (3.4 a day on average)
WHOLE = "{:,.0f}"  # stock to hold or order: whole units


def _money(v) -> str:
    return "—" if pd.isna(v) else money(v)


def _metric_names(columns, holiday_col: str | None = None) -> dict[str, str]:
    names = {c: metric_label(c) for c in columns}
    names.update({"series": "Series", "method": "Method", "bias_pct": "Bias %", "coverage_p10_p90": "P10–P90 coverage %",
                  "wape": "WAPE %", "smape": "sMAPE %", "mape": "MAPE %",
                  "wmae": f"Holiday-weighted MAE ({holiday_col} weeks × 5)"})
    return names


def _metric_formats(names: dict[str, str]) -> dict[str, str]:
    fmt = {"wape": "{:.1f}", "mase": "{:.2f}", "mae": UNIT, "rmse": UNIT, "bias_pct": "{:+.1f}",
           "coverage_p10_p90": "{:.0f}", "smape": "{:.1f}", "mape": "{:.1f}", "wmae": UNIT}
    return {names[c]: f for c, f in fmt.items() if c in names}


def _dash_missing(table: pd.DataFrame, formats: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns with a missing value (MAPE where actuals are near zero) as formatted text with a dash
    for the gaps: the table shows a missing number as "None" whatever the styling says."""
    table, formats = table.copy(), dict(formats)
    for c in table.columns:
        values = pd.to_numeric(table[c], errors="coerce")
        if values.isna().any() and c in formats:
            fmt = formats.pop(c)
            table[c] = ["—" if pd.isna(v) else fmt.format(v) for v in values]
    return table, formats


def backtest_table(metrics: pd.DataFrame, columns: list[str], holiday_col: str | None = None):
    """Backtest metrics per method (index), in plain names: errors in units with one decimal."""
    names = _metric_names(columns, holiday_col)
    table, formats = _dash_missing(metrics[columns].rename(columns=names), _metric_formats(names))
    table.index.name = "Method"
    return table.style.format(formats, na_rep="—")


def metric_help_columns(columns: list[str], holiday_col: str | None = None) -> dict:
    """Column settings giving each metric header of ``backtest_table`` / ``series_table`` its meaning on hover."""
    names = _metric_names(columns, holiday_col)
    return metric_columns({c: names[c] for c in columns})


def series_table(per_series: pd.DataFrame, columns: list[str]):
    """Metrics per series and method, in plain names."""
    names = _metric_names(columns)
    table, formats = _dash_missing(per_series[columns].rename(columns=names), _metric_formats(names))
    return table.style.format(formats, na_rep="—")


# Headers come from the glossary (core.present.glossary.COLUMNS); only the formats are the page's own.
POLICY_FORMATS = {"demand_protection": UNIT, "sigma_protection": UNIT, "safety_stock": WHOLE, "reorder_point": WHOLE,
                  "expected_short": UNIT, "expected_cost": _money, "naive_safety_stock": WHOLE,
                  "naive_reorder_point": WHOLE, "naive_expected_cost": _money}


def policy_table(table: pd.DataFrame):
    """The policy per series: stock in whole units, demand and spread with one decimal, costs as money."""
    return _plain(table, POLICY_FORMATS)


FORECAST_FORMATS = {"p10": UNIT, "p50": UNIT, "p90": UNIT, "naive_p50": UNIT, "safety_stock": WHOLE,
                    "reorder_point": WHOLE, "expected_cost": _money, "naive_reorder_point": WHOLE}


def forecast_table(table: pd.DataFrame):
    """The forecast per series and date: quantiles with one decimal, stock in whole units, costs as money."""
    return _plain(table, FORECAST_FORMATS)


def _plain(table: pd.DataFrame, formats: dict):
    shown = table.rename(columns=column_label)
    return shown.style.format({column_label(c): f for c, f in formats.items() if c in table.columns}, na_rep="—")
