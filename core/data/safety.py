"""Output safety for text that came from an upload: spreadsheet formulas and HTML.

A CSV the studio writes is opened in Excel, LibreOffice or Google Sheets. A cell whose text starts
with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return, which some spreadsheets skip before
reading the rest) is run there as a formula: ``=HYPERLINK("http://x", "y")`` from an uploaded
column name or value would become a live link in the analyst's sheet (CSV injection, OWASP).
``escape_formula_cells`` prefixes such text with a single quote, which spreadsheets show as text.
Numbers stay numbers: only text cells (and column names) are touched, so ``-3.5`` in a float
column is written as ``-3.5``.

``escape_html`` is ``html.escape`` for any value, for HTML built from user data.

Plotly renders a subset of HTML in a chart's text (titles, axis and tick labels, legend names, hover
labels, annotations): a column named ``<b>x</b>`` would show bold, ``<a href=...>`` a live link,
``<br>`` a line break. ``escape_plotly_text`` writes ``& < >`` as entities, which Plotly shows as the
characters typed; ``escape_figure_text`` applies it to every text a finished figure shows (the chart
builders' shared ``core.present.charts._layout`` calls it), leaving numbers, dates and the builders' own
hover templates as they are.
"""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
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


# An ``&`` that does not already start an entity: escaping twice shows the same text as once.
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});)")


def escape_plotly_text(value: Any) -> Any:
    """Text with ``&``, ``<`` and ``>`` written as entities, so Plotly shows it as typed instead of
    reading tags from it (``<b>``, ``<a href>``, ``<img onerror>``); anything but text unchanged.
    Applying it twice gives the same result as once (an entity is not escaped again)."""
    if not isinstance(value, str) or not ("<" in value or ">" in value or "&" in value):
        return value
    return _BARE_AMPERSAND.sub("&amp;", value).replace("<", "&lt;").replace(">", "&gt;")


def _escape_values(values: Any) -> Any:
    """A sequence (nested for heatmaps) with its text items escaped; the same object when nothing
    changes, so numeric arrays are returned as they are."""
    if isinstance(values, str):
        return escape_plotly_text(values)
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "OUS":
            return values
    elif not isinstance(values, (list, tuple)):
        return values
    changed, out = False, []
    for v in values:
        e = _escape_values(v) if isinstance(v, (str, list, tuple, np.ndarray)) else v
        changed = changed or e is not v
        out.append(e)
    return out if changed else values


# What a trace shows as text: its legend name, labels on and beside the marks, hover text, category
# values on the axes (and so in hover labels), custom data a hover template shows.
_TRACE_TEXT = ("name", "text", "hovertext", "labels", "x", "y", "customdata", "ids")
_NESTED_TEXT = (("legendgrouptitle", "text"), ("colorbar", "title", "text"), ("colorbar", "ticktext"),
                ("marker", "colorbar", "title", "text"), ("title", "text"))


def _escape_attr(obj: Any, path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        if obj is None or key not in obj:
            return
        obj = obj[key]
    if obj is None or path[-1] not in obj:
        return
    value = obj[path[-1]]
    escaped = _escape_values(value)
    if escaped is not value:
        obj[path[-1]] = escaped


def escape_figure_text(fig):
    """``fig`` (a plotly ``go.Figure``) with every text it shows escaped for Plotly
    (``escape_plotly_text``), changed in place and returned: the title, axis titles and tick
    labels, legend title, annotations, each trace's name, text, hover text, category values and
    custom data. Hover and text templates are left alone: they are the builder's own markup."""
    layout = fig.layout
    for path in (("title", "text"), ("legend", "title", "text"), ("coloraxis", "colorbar", "title", "text")):
        _escape_attr(layout, path)
    for axes in (fig.select_xaxes(), fig.select_yaxes()):
        for axis in axes:
            for path in (("title", "text"), ("ticktext",), ("categoryarray",)):
                _escape_attr(axis, path)
    for annotation in layout.annotations or ():
        _escape_attr(annotation, ("text",))
    for trace in fig.data:
        for key in _TRACE_TEXT:
            _escape_attr(trace, (key,))
        for path in _NESTED_TEXT:
            _escape_attr(trace, path)
    return fig
