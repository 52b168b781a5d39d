"""The studio workspace: saved runs of every scenario, batch scoring, reports and the overview.

Every scenario saves its runs through `core.store.registry` (atomic folder: Keras file + JSON). The
workspace adds, under the metadata key ``"workspace"`` of each run, what the overview, the Runs
page, the Score page and the report need, in one shape for every scenario (each builds it in
its ``core/<name>/summary.py`` with ``core.report.runsummary``; see ``core.store.scenarios`` for the hooks):

    "workspace": {
        "name": "credit sample, class weights",         # label the analyst sees
        "dataset": {"name": "credit_applications.csv",   # data fingerprint
                    "rows": 5000, "columns": [...], "sha256": "..."},
        "params": {...},                                  # training settings, JSON
        "headline": {
            "quality": [{"label": "ROC-AUC", "value": 0.81, "fmt": ".3f"}, ...],
            "impact": [{"label": "Loss avoided", "value": 123456.0, "unit": "€", "fmt": ",.0f"}, ...],
            "assumptions": ["Loss per approved defaulter €5,000", ...],
            "verdict": {"metric": "ROC-AUC", "outcome": "on par", ...},  # vs the best baseline, when compared
            "trust": [{"kind": "chance", "headline": "No better than chance", "why": "..."}],  # core.report.trust
        },
        "input": {"columns": [...], "numeric": [...], "categorical": [...],
                  "kind": "table" | "images"},            # what a file to score must contain
        "profile": {...},                                  # core.data.drift.build_profile of training rows
        "curves": {"roc": {"x": [...], "y": [...], "x_label": "False positive rate",
                           "y_label": "True positive rate"}, ...},  # <= 200 points each, for overlays
        "decision": {"threshold": 0.31, ...},            # the decision settings saved with the run
        "explain": {"importance": {"feature": mean_abs_shap, ...}},  # global SHAP, when computed
        "intended_use": "...", "limitations": ["..."],   # texts for the report / model card
    }

Runs saved before this key existed, or by the CLI without it, still list and load; the pages show
"not recorded" where a field is absent. The shape is typed and versioned in ``core.store.runmeta`` (``RunMeta``,
``Workspace``, ``Headline``; ``migrate`` brings an older run to it when it is read), and ``"decision"`` is the
run's one decision record, saved even when the rest of the summary is not.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.report.runsummary import get_fingerprint  # its home is core.report.runsummary

__all__ = ["DEFAULT_RUNS_DIR", "RUNS_DIR_ENV", "get_fingerprint", "get_runs_dir"]

RUNS_DIR_ENV = "STUDIO_RUNS_DIR"
DEFAULT_RUNS_DIR = "runs"


def get_runs_dir(override: str | os.PathLike | None = None) -> Path:
    """Where runs are saved: ``override``, else ``$STUDIO_RUNS_DIR``, else ``./runs``."""
    chosen = override or os.environ.get(RUNS_DIR_ENV) or DEFAULT_RUNS_DIR
    return Path(chosen).expanduser().resolve()
