"""The decision settings saved with a run, and the decision rules scorers share.

A run saves its decision settings (threshold, costs, policy) under ``workspace.decision``; each
scenario's ``decision_settings`` hook (``core.store.scenarios``) reads them with its defaults where none
were saved. The Score page, the command-line scorers and the Dask engine all ask
``get_decision_settings``, so a file scored anywhere gets the same decision.
"""

from __future__ import annotations

import numpy as np

from core.errors import DataValidationError
from core.store.saved import saved_decision  # noqa: F401  (read here by older callers)


def get_decision_settings(meta: dict) -> dict:
    """The decision settings saved with a run, with the scenario's defaults where none were saved."""
    from core.store.scenarios import find_scenario, scenario_keys

    scenario = find_scenario(meta.get("scenario"))
    if scenario is None:
        keys = scenario_keys()
        raise DataValidationError(f"Run scenario must be {', '.join(keys[:-1])} or {keys[-1]}; got "
                                  f"{meta.get('scenario')!r}. Fix: pick a run saved by one of the scenario pages.")
    return scenario.decision_settings(meta)


def check_probability(name: str, value: float) -> float:
    """``value`` as a float, or a clear error when it is not between 0 and 1."""
    value = float(value)
    if not 0 <= value <= 1:
        raise DataValidationError(f"The {name} must be between 0 and 1; got {value}. Fix: e.g. 0.3.")
    return value


def fraud_decisions(risk: np.ndarray, review: float, block: float) -> np.ndarray:
    """'block' at or above the block threshold, 'review' at or above the review one, else 'approve'."""
    risk = np.asarray(risk, dtype=float)
    return np.select([risk >= block, risk >= review], ["block", "review"], "approve")
