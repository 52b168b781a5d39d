"""What presenter mode shows for one saved run: its value in money per year, the one chart behind it.

Each scenario package builds its own ``Pitch`` from what its runs save (``core/<name>/pitch.py``,
reached through the scenario's ``pitch`` hook): the money sentence comes from the run's own decision
figures scaled from the test rows to a year at the sample's pace, with every step of that scaling in
``assumptions``. Nothing is invented: a figure the run did not save is named in ``missing`` and the
sentence says so instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.report.runsummary import CURRENCY, money_text

DAYS_A_YEAR = 365.0


@dataclass(frozen=True)
class Pitch:
    """One scenario's presenter screen: ``sentence`` (money per year, plain words), the
    ``assumptions`` behind it, the figures the run lacks (``missing``), the chart (a Plotly figure or
    None; or ``gallery``, small image figures shown side by side) with its one-line ``chart_caption``, and
    ``per_year`` (the yearly amount, None when missing)."""

    sentence: str
    assumptions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    figure: Any = None
    chart_caption: str = ""
    per_year: float | None = None
    gallery: list = field(default_factory=list)


def section(meta: dict, name: str | None = None) -> dict:
    """The run's ``workspace`` metadata, or one of its sections (``"decision"``, ``"params"``, ...), as a
    dict ({} when a run saved without it)."""
    from core.store.runmeta import section as saved_section, workspace

    if name is None:
        return workspace(meta)
    found = saved_section(meta, name)
    return found if isinstance(found, dict) else {}  # a scenario's own section is not checked on reading


def headline_value(meta: dict, key: str, label: str) -> float | None:
    """The number of the saved headline figure named ``label`` in ``"quality"`` or ``"impact"``."""
    head = section(meta, "headline")
    for fig in head.get(key) or []:
        if isinstance(fig, dict) and fig.get("label") == label and isinstance(fig.get("value"), (int, float)):
            return float(fig["value"])
    return None


def currency_of(meta: dict) -> str:
    """The currency the run's money figures were saved in (the first one that names it)."""
    head = section(meta, "headline")
    for fig in head.get("impact") or []:
        if isinstance(fig, dict) and fig.get("unit"):
            return str(fig["unit"])
    return CURRENCY


def about(v: float, unit: str = CURRENCY) -> str:
    """A yearly amount as a presenter says it: "€1.2 million", "€48,000", "€780"."""
    a = abs(v)
    if a >= 1e6:
        return f"{unit}{a / 1e6:,.1f} million"
    if a >= 10_000:
        return f"{unit}{round(a, -3):,.0f}"
    return f"{unit}{round(a, -1 if a >= 100 else 0):,.0f}"


def gain_words(per_year: float, unit: str, *, saves: str, costs: str) -> str:
    """``saves`` or ``costs`` filled with the amount: a negative saving is said as a cost, never hidden."""
    return (saves if per_year >= 0 else costs).format(amount=about(per_year, unit))


def missing_sentence(what: str, missing: list[str]) -> Pitch:
    """The screen of a run that lacks a figure the money sentence needs: which one, and how to get it."""
    return Pitch(sentence=f"The yearly value of {what} cannot be stated: this run did not save "
                          + " or ".join(missing) + ". Run the demos again or save the run again from its page.",
                 missing=list(missing))


__all__ = ["DAYS_A_YEAR", "Pitch", "about", "currency_of", "gain_words", "headline_value", "missing_sentence",
           "money_text"]
