"""Output safety for text that came from an upload: spreadsheet formulas and HTML.

A CSV the studio writes is opened in Excel, LibreOffice or Google Sheets. A cell whose text starts
with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return, which some spreadsheets skip before
reading the rest) is run there as a formula: ``=HYPERLINK("http://x", "y")`` from an uploaded
column name or value would become a live link in the analyst's sheet (CSV injection, OWASP).
``escape_formula_cells`` prefixes such text with a single quote, which spreadsheets show as text.
Numbers stay numbers: only text cells (and column names) are touched, so ``-3.5`` in a float
column is written as ``-3.5``.

``escape_html`` is ``html.escape`` for any value, for HTML built from user data.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula_text(value: Any) -> Any:
    """``value`` with a leading single quote when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_formula_cells(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` safe to write as CSV for a spreadsheet: text cells and column names that
    start with ``= + - @`` (or a tab / carriage return) get a leading ``'``. Numeric, boolean and
    date columns are returned unchanged."""
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)
                or isinstance(s.dtype, pd.CategoricalDtype)):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        text = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
        if bool(text.any()):
            out.isetitem(i, s.map(escape_formula_text).astype(object))
    out.columns = [escape_formula_text(c) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame, **kwargs) -> bytes:
    """``df`` as UTF-8 CSV bytes with formula text escaped (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    return escape_formula_cells(df).to_csv(**kwargs).encode("utf-8")


def escape_html(value: Any) -> str:
    """``str(value)`` with ``& < > " '`` escaped, for HTML built from user data."""
    return html.escape(str(value), quote=True)
