"""Which data a trained model belongs to, on every scenario page.

One rule for the four scenario pages: results are labelled with the data they were trained on
("Trained on credit_applications.csv, 5,000 applications") and stay until the next training; when the
data on the page is no longer that data (another upload, the sample again, a file that could not be
read), a warning above the result tabs says so, and saving keeps the name of the data the model was
trained on. Nothing the analyst trained is thrown away by a change of data, and no result is shown as
if it belonged to data it was not trained on.

Use on a page::

    before = st.session_state.get(K + "run")
    train(...)                                   # sets K + "run" when it succeeds
    record_origin(K, before, key=data_key, name=name, rows=len(df), unit="applications")
    ...
    show_origin(K, run, key=data_key)            # above the result tabs
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.data.safety import escape_markdown

ORIGIN = "origin"  # session-state key in the page's namespace: (run, DataOrigin)


@dataclass(frozen=True)
class DataOrigin:
    """The data a model was trained on: the page's key for it, its name and size."""

    key: str
    name: str
    rows: int | None = None
    unit: str = "rows"

    @property
    def shown(self) -> str:
        """The name as the page's data choice reads: the bundled sample is called so."""
        return f"the bundled sample ({self.name})" if self.key == "sample" else self.name

    def describe(self) -> str:
        size = f", {self.rows:,} {self.unit}" if isinstance(self.rows, int) else ""
        return f"the bundled sample ({self.name}{size})" if self.key == "sample" else f"{self.name}{size}"


def record_origin(ns: str, before: Any, *, key: str, name: str | None, rows: int | None = None,
                  unit: str = "rows") -> None:
    """Remember the data of the run just trained (``ns + "run"``), when training made a new one; a failed
    training leaves the earlier run with its own data."""
    run = st.session_state.get(ns + "run")
    if run is not None and run is not before:
        st.session_state[ns + ORIGIN] = (run, DataOrigin(str(key), str(name or "your file"), rows, unit))


def get_origin(ns: str, run: Any) -> DataOrigin | None:
    """The data ``run`` was trained on, or None when it was not recorded (a run from elsewhere)."""
    held = st.session_state.get(ns + ORIGIN)
    return held[1] if held is not None and held[0] is run else None


def trained_name(ns: str, run: Any, fallback: str | None = None) -> str | None:
    """The name of the data ``run`` was trained on, for its saved run (``fallback`` when not recorded)."""
    origin = get_origin(ns, run)
    return origin.name if origin is not None else fallback


def show_origin(ns: str, run: Any, *, key: str | None) -> bool:
    """Above the result tabs: what the model was trained on, and a warning when the data on the page
    (``key``: the page's current data key; None when no data is loaded) is other data. Returns whether
    the results belong to the data on the page."""
    origin = get_origin(ns, run)
    if origin is None:
        return True
    if key == origin.key:
        st.caption(f":material/dataset: Results of the model trained on **{escape_markdown(origin.describe())}**.")
        return True
    now = "no data is loaded now" if not key else "the data now loaded in 'Data & training' is other data"
    st.warning(f"**These results are not for the data on this page.** They belong to the model trained on "
               f"**{escape_markdown(origin.describe())}**; {now}. Train again to get results for it, or switch back "
               f"to {escape_markdown(origin.shown)} to keep working with this model.", icon=":material/sync_problem:")
    return False
