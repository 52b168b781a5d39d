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
import re
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
        try:  # vectorised: a scored file can have hundreds of thousands of rows
            risky = s.str.startswith(FORMULA_PREFIXES, na=False).astype(bool)
        except AttributeError:  # an object column without any text
            continue
        if bool(risky.any()):
            out.isetitem(i, s.astype(object).where(~risky, "'" + s[risky].astype(str)))
    out.columns = [escape_formula_text(c) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame, **kwargs) -> bytes:
    """``df`` as UTF-8 CSV bytes with formula text escaped (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    return escape_formula_cells(df).to_csv(**kwargs).encode("utf-8")


_MARKDOWN_ACTIVE = re.compile(r"(\\|!(?=\[)|(?<=\])\(|\$|`)")


def escape_markdown(value: Any) -> str:
    """``str(value)`` safe inside ``st.markdown`` / ``st.error`` / ``st.caption`` when it quotes user
    text (column names, cell values, file names).

    Streamlit already shows raw HTML as text; what Markdown itself would still do with a hostile
    column name is neutralised: an image (``![x](http://tracker/p.png)`` would make every
    visitor's browser fetch that address), a link target (``[ok](http://phish)``), a formula
    (``$...$``) and code spans, by backslash-escaping ``\\``, ``!`` before ``[``, ``(`` after ``]``,
    ``$`` and backticks. Everything else is left as written, so ordinary messages read the same.
    """
    return _MARKDOWN_ACTIVE.sub(r"\\\1", str(value))


def escape_html(value: Any) -> str:
    """``str(value)`` with ``& < > " '`` escaped, for HTML built from user data."""
    return html.escape(str(value), quote=True)


def short_text(value: Any, width: int = 40) -> str:
    """``str(value)`` cut to ``width`` characters with an ellipsis, for messages that quote user data."""
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def short_list(values, *, limit: int = 12, width: int = 40) -> str:
    """A readable list for a message: at most ``limit`` items, each cut to ``width`` characters,
    then how many more (a file can have 2,000 columns, or one name of 20,000 characters)."""
    values = list(values)
    shown = [short_text(v, width) for v in values[:limit]]
    more = f", … and {len(values) - limit:,} more" if len(values) > limit else ""
    return "[" + ", ".join(repr(v) for v in shown) + more + "]"
