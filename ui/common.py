"""Small Streamlit helpers shared by every page."""

from __future__ import annotations

import contextlib
import re

import streamlit as st

from core.errors import DataValidationError
from core.present.glossary import column_help, column_kind, column_label, feature_label, metric_help
from core.present.money import DEFAULT_CURRENCY, currency_symbol, format_money
from core.data.safety import escape_markdown

CURRENCY_KEY = "studio.currency"

# The network's own settings sit in one expander under the same label, right under the main training
# options, on every scenario page: an analyst trains with the defaults and opens it only to tune.
ADVANCED_LABEL = "Advanced settings"
NETWORK_HELP = {
    "width": "Units in each hidden layer: more can learn finer patterns, and overfit small data sooner.",
    "depth": "Hidden layers stacked one after the other; two or three suit most tables.",
    "dropout": "Share of units switched off at random in each training step, so the network cannot memorise rows.",
    "l2": "Penalty on large weights, against overfitting; 'auto' scales it with the training rows.",
    "learning_rate": "Size of each weight update: too high and training jumps about, too low and it crawls.",
    "batch_size": "Rows per weight update; 'auto' scales it with the training rows. Larger is faster, smaller "
                  "adds noise that can help small data.",
}


def change_delta(diff: float, text: str, *, inverse: bool = False, unit: float = 1.0) -> dict:
    """``st.metric`` delta arguments for a difference that is a change: ``text`` with a coloured arrow
    (green up for more, or for less with ``inverse``), and no delta at all when ``diff`` rounds to
    nothing at ``unit`` (no arrow on a number that did not change)."""
    if diff is None or not abs(float(diff)) >= unit / 2:
        return {}
    return dict(delta=text, delta_color="inverse" if inverse else "normal")


def side_note(text: str) -> dict:
    """``st.metric`` delta arguments for a figure shown beside the value for comparison (a baseline's,
    a target): grey, without an arrow, since nothing went up or down."""
    return dict(delta=text, delta_color="off", delta_arrow="off")


def metric_columns(names: dict) -> dict:
    """``st.dataframe`` column settings giving each metric column (``{metric key: header shown}``) its
    one-line meaning on hover."""
    return {shown: st.column_config.Column(help=metric_help(key)) for key, shown in names.items() if metric_help(key)}


def advanced_settings():
    """The collapsed expander a training form keeps the network's settings in (width, depth, dropout,
    L2, learning rate, batch size): ``with advanced_settings(): ...``."""
    box = st.expander(ADVANCED_LABEL, expanded=False, icon=":material/tune:")
    box.caption("The network's own settings. The defaults suit the sample and most uploads; the model search "
                "below can tune them for you.")
    return box


def get_currency() -> str:
    """The session's currency code (the sidebar setting; EUR until changed)."""
    return str(st.session_state.get(CURRENCY_KEY) or DEFAULT_CURRENCY)


def money(value, **kwargs) -> str:
    """An amount in the session's currency: ``€12,345``."""
    return format_money(value, get_currency(), **kwargs)


def money_label(what: str) -> str:
    """A money input's label with its currency: ``Review fee per alert (€)``."""
    return f"{what} ({currency_symbol(get_currency()).strip()})"


def plain_columns(columns, *, money=(), percent=(), whole=(), decimals: dict | None = None,
                  names: dict | None = None, risk=(), kinds: bool = True) -> dict:
    """``st.dataframe`` column settings that show every column under its plain name
    (``core.present.glossary.column_label``) with its meaning and raw name on hover; the data (and any CSV
    built from it) keeps the machine names. ``money`` columns carry the session's currency in the
    header, ``percent`` columns are shares shown as %, ``whole`` columns integers with separators,
    ``decimals`` ``{column: n}`` fixed decimals, ``risk`` columns a 0–1 bar. The studio's own
    columns get their kind from the glossary (``column_kind``) unless listed here or ``kinds`` is
    False (a preview of the analyst's own file, whose columns are not the studio's)."""
    names, decimals = names or {}, decimals or {}
    config = {}
    for c in columns:
        if kinds:
            label, helptext = names.get(c) or column_label(c), column_help(c) or None
        else:  # the analyst's own columns: their name in words, the name in the file on hover
            label = names.get(c) or feature_label(c)
            helptext = f"Column `{c}` in the file." if label != str(c) else None
        kind = ("money" if c in money else "share" if c in percent else "whole" if c in whole else
                "decimals" if c in decimals else "risk" if c in risk else column_kind(c) if kinds else None)
        if kind == "money":
            config[c] = st.column_config.NumberColumn(money_label(label), help=helptext, format="%,.2f")
        elif kind == "share":
            config[c] = st.column_config.NumberColumn(label, help=helptext, format="percent")
        elif kind == "whole":
            config[c] = st.column_config.NumberColumn(label, help=helptext, format="%,d")
        elif kind == "unit":
            config[c] = st.column_config.NumberColumn(label, help=helptext, format="%,.1f")
        elif kind in ("decimals", "probability"):
            config[c] = st.column_config.NumberColumn(label, help=helptext, format=f"%.{int(decimals.get(c, 3))}f")
        elif kind == "risk":
            config[c] = st.column_config.ProgressColumn(label, help=helptext, min_value=0, max_value=1, format="%.3f")
        elif kinds and _REASONS.fullmatch(str(c)):
            # Reason codes are sentences ("Credit utilisation is high (89%)"): a wide column, not "Credit utili…".
            config[c] = st.column_config.TextColumn(label, help=helptext, width="large")
        else:
            config[c] = st.column_config.Column(label, help=helptext)
    return config


_REASONS = re.compile(r"reason_\d+|reasons?|top_reasons")


@st.cache_resource(show_spinner=False)
def _device_label(tensorflow_loaded: bool) -> str:
    from core.ml.training import probe_device_info

    return probe_device_info().label


def get_device_label() -> str:
    """The compute device in use, without importing TensorFlow for it. Cached for the process
    (the devices cannot change while it runs); asked again once TensorFlow is loaded, which then
    answers itself."""
    import sys

    return _device_label("tensorflow" in sys.modules)


def show_device(container=None) -> None:
    """A one-line caption naming the training device."""
    (container or st).caption(f":material/memory: Training device — {get_device_label()}")


def show_notices(notices: list[str], *, title: str = "Notes on your data") -> None:
    """Plain-words notices about what the app changed in the data (dropped, grouped, sampled)."""
    if notices:
        with st.expander(f"{title} ({len(notices)})", expanded=True):
            for n in notices:
                # Notices quote column names and values from the upload: shown as typed, never as Markdown.
                st.markdown(f"- {escape_markdown(n)}")


def show_error(exc: Exception) -> None:
    """Show a data problem as a message, never a traceback."""
    # Messages quote column names and values from the upload: shown as typed, never as Markdown.
    if isinstance(exc, DataValidationError):
        st.error(escape_markdown(exc), icon=":material/error:")
    else:
        st.error(f"Something went wrong: {escape_markdown(exc)}", icon=":material/error:")


@contextlib.contextmanager
def guarded_view(what: str):
    """Draw one view of a trained model (a tab, a panel) so that an error in it stays in it: the view
    shows a message saying what could not be drawn and what to do, and the rest of the page runs on.
    The trained model stays in the session, and a button pressed further down (the Export tab's
    downloads, "Save to workspace") still does its work in the same rerun instead of being lost with
    a traceback. Streamlit's own stop and rerun signals pass through untouched (they are not
    ``Exception``s)."""
    try:
        yield
    except DataValidationError as exc:
        show_error(exc)
    except Exception as exc:  # an unexpected failure: a message in place of the view, never a traceback
        st.error(f"**{escape_markdown(what)} could not be drawn** ({type(exc).__name__}: {escape_markdown(exc)}). "
                 "The trained model is kept and the other tabs still work, including the Export tab's downloads "
                 "and Save to workspace. Open this tab again, or change a setting, to redraw it.",
                 icon=":material/error:")


def ensure_router() -> None:
    """Send a page opened by direct link through the router in ``app.py``.

    Streamlit treats a ``pages/`` folder beside the main script as a legacy multipage app until
    the first ``st.navigation`` call of the process. A visitor whose first request is a deep link
    (``/credit``) would get that page run on its own: file names in the sidebar, no wide layout.
    Turning the legacy mode off and rerunning makes the same request go through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # A future Streamlit without the legacy mode: nothing to do.
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def show_verdict(verdict, *, model: str = "The network", container=None, fmt: str = ".3f") -> None:
    """The network against the best baseline, in one box whose colour follows the verdict:
    green when better outside the noise, blue when on par, amber when a baseline is better.
    ``fmt`` formats the figures (".1f" for errors in units)."""
    box = {"better": st.success, "on par": st.info, "worse": st.warning}[verdict.outcome]
    icon = {"better": ":material/trending_up:", "on par": ":material/drag_handle:",
            "worse": ":material/trending_down:"}[verdict.outcome]
    with container or st.container():
        box(verdict.sentence(model, fmt=fmt), icon=icon)


def get_verdicts(key: str, run, compute) -> list:
    """Verdicts of a trained run, computed once per run (a bootstrap over the test rows) and kept in
    the session under ``key`` beside the run they belong to."""
    cached = st.session_state.get(key)
    if cached is not None and cached[0] is run:
        return cached[1]
    verdicts = compute()
    st.session_state[key] = (run, verdicts)
    return verdicts


def fit_metric_values(font_rem: float = 1.6) -> None:
    """Smaller metric values on pages that put three tiles in a half-width card, so a seven-figure
    sum ("-€1,527,609") is shown whole instead of cut with an ellipsis."""
    st.html(f"<style>[data-testid='stMetricValue'] > div {{font-size: {font_rem}rem;}}</style>")


def training_curve(history: dict):
    """The training curve of a network, with the epoch whose weights early stopping kept marked."""
    from core.ml.training import MONITOR, kept_epoch
    from core.present.charts import plot_training_history

    return plot_training_history(history, kept=kept_epoch(history.get(MONITOR) or []))
