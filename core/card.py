"""HTML building blocks of the model card (``core.workspace.report``), for the card itself and for
the sections a scenario fills through its ``card_sections`` hook (``core.scenarios``).

Everything read from a run is untrusted text (column names come from user files): every helper
here HTML-escapes what it is given.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

NOT_RECORDED = "not recorded"


def esc(v: Any) -> str:
    """``v`` as HTML-escaped text (quotes too)."""
    return html.escape(str(v), quote=True)


def not_recorded(what: str = "") -> str:
    """A grey italic note (``Not recorded for this run.`` by default)."""
    return f'<p class="na">{esc(what or "Not recorded for this run.")}</p>'


def text(v: Any, none: str = NOT_RECORDED) -> str:
    if v is None:
        return none
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def kv_table(items: list[tuple[str, Any]], *, none: str = NOT_RECORDED) -> str:
    """A two-column table of (label, value) pairs."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(text(v, none))}</td></tr>" for k, v in items)
    return f'<table class="kv">{rows}</table>'


def frame_table(df: pd.DataFrame, *, fmt: str = "{:.4g}") -> str:
    """A DataFrame as a scrollable table (index as the first column)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in [df.index.name or "", *df.columns])
    body = []
    for idx, row in df.iterrows():
        cells = "".join(
            f"<td>{esc(NOT_RECORDED if v is None or (isinstance(v, float) and v != v) else (fmt.format(v) if isinstance(v, float) else v))}</td>"
            for v in row)
        body.append(f"<tr><th>{esc(idx)}</th>{cells}</tr>")
    return f'<div class="scroll"><table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
