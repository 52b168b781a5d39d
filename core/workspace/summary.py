"""The ``"workspace"`` part of a saved run's metadata, built from a trained run of any scenario.

Each scenario builds its own (``core/<name>/summary.py``, reached through its ``build_summary``
hook, ``core.store.scenarios``) from the trained run and the decision settings the analyst chose
(threshold, costs, policy), with the shared pieces of ``core.report.runsummary``: headline quality and
money figures with the assumptions behind them, data fingerprint, parameters, input columns,
training profile for drift, curves for overlays, decision settings, the verdict against the best
baseline, global SHAP importance when computed, intended use and limitations. Money figures reuse
each scenario's own decision functions, so the overview shows exactly what the scenario page showed.

This module dispatches to the scenario, reads the latest runs for the overview, and keeps the
names pages import from here.
"""

from __future__ import annotations

from core.report.runsummary import (CURRENCY, CURRENCY_SYMBOLS, MAX_CURVE_POINTS, default_run_name, format_figure,
                             get_fingerprint)
from core.store.scenarios import ByScenario, ScenarioKeys, get_scenario, scenario_keys

SCENARIO_KEYS = ScenarioKeys()  # every scenario found, in order (live: a scenario found later is in it)
INTENDED_USE = ByScenario("intended_use")
LIMITATIONS = ByScenario("limitations", list)
BUILDERS = ByScenario("build_summary")

__all__ = ["BUILDERS", "CURRENCY", "CURRENCY_SYMBOLS", "INTENDED_USE", "LIMITATIONS", "MAX_CURVE_POINTS",
           "SCENARIO_KEYS", "build_summary", "default_run_name", "format_figure", "get_fingerprint",
           "get_latest_runs"]


def __getattr__(name: str):
    """The names of each scenario's ``summary`` module (``build_credit_summary``, ``image_fingerprint``...)
    for code that imports them from here, found in the scenario packages rather than listed."""
    from core.store.scenarios import all_scenarios

    for scenario in all_scenarios():
        module = scenario.package_module("summary") if hasattr(scenario, "package_module") else None
        if module is not None and not name.startswith("_") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_summary(scenario: str, run, **settings) -> dict:
    """The scenario's summary of ``run`` (``settings`` are its builder's keywords)."""
    return get_scenario(scenario).build_summary(run, **settings)


# ---------------------------------------------------------------- reading saved runs
def get_latest_runs(root) -> tuple[dict[str, dict], list[str]]:
    """The newest readable run of each scenario under ``root`` (metadata) and notes on skipped runs.

    Reads JSON only (no Keras import), so the overview stays fast.
    """
    from core.store.registry import list_runs

    runs, skipped = list_runs(root)
    latest: dict[str, dict] = {}
    for meta in runs:  # newest first
        latest.setdefault(str(meta.get("scenario")), meta)
    known = scenario_keys()
    return {k: v for k, v in latest.items() if k in known}, skipped
