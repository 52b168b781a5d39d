"""HTML building blocks of the model card (``core.workspace.report``), for the card itself and for
the sections a scenario fills through its ``card_sections`` hook (``core.store.scenarios``).

Everything read from a run is untrusted text (column names come from user files): every helper
here HTML-escapes what it is given.
"""

from __future__ import annotations

import html
from typing import Any, Callable

import pandas as pd

from core.present.glossary import BLANK, is_blank, metric_label, metric_text, setting_label, setting_text

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
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def kv_table(items: list[tuple[str, Any]], *, none: str = NOT_RECORDED) -> str:
    """A two-column table of (label, value) pairs."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(text(v, none))}</td></tr>" for k, v in items)
    return f'<table class="kv">{rows}</table>'


def frame_table(df: pd.DataFrame, *, fmt: str = "{:.4g}", cell: Callable[[Any, Any], str] | None = None,
                headers: Callable[[Any], str] | None = None) -> str:
    """A DataFrame as a scrollable table (index as the first column). Empty cells read "—", as in
    every table of the app. ``cell(column, value)`` formats a value by its (raw) column name and
    ``headers(column)`` names the column; without them floats use ``fmt`` and headers are as given."""
    head = "".join(f"<th>{esc(c)}</th>" for c in [df.index.name or "", *(map(headers or str, df.columns))])
    body = []
    for idx, row in df.iterrows():
        cells = "".join(
            f"<td>{esc(BLANK if is_blank(v) else cell(c, v) if cell else fmt.format(v) if isinstance(v, float) else v)}</td>"
            for c, v in row.items())
        body.append(f"<tr><th>{esc(idx)}</th>{cells}</tr>")
    return f'<div class="scroll"><table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def metrics_table(df: pd.DataFrame) -> str:
    """Metrics per model (columns keyed as the engine computes them) in plain names, shares as %,
    counts as whole numbers and scores with three decimals (``core.present.glossary.metric_text``)."""
    return frame_table(df, cell=metric_text, headers=metric_label)


def settings_table(settings: dict, *, currency: str | None = None, none: str = BLANK) -> str:
    """Saved settings as (plain name, value in words) rows: money in the run's currency, switches
    as Yes / No, option values as words (``core.present.glossary.setting_text``)."""
    return kv_table([(setting_label(k), setting_text(k, v, currency)) for k, v in settings.items()], none=none)


def run_currency(meta: dict) -> str:
    """The ISO code of the currency a run's money figures were saved in: the summary's own
    ``currency`` when recorded, else the unit of its money headline figures (``"€"`` -> ``"EUR"``),
    else the studio's default."""
    from core.present.money import CURRENCIES, DEFAULT_CURRENCY

    from core.store.runmeta import headline, workspace

    code = workspace(meta).get("currency")
    if code and code.strip().upper() in CURRENCIES:
        return code.strip().upper()
    by_symbol = {sym.strip(): c for c, sym in CURRENCIES.items()}
    for fig in headline(meta).get("impact") or []:
        unit = str(fig.get("unit") or "").strip()
        if unit.upper() in CURRENCIES:
            return unit.upper()
        if unit in by_symbol:
            return by_symbol[unit]
    return DEFAULT_CURRENCY
