"""Hand-made saved runs for the Runs page and report tests (no training: JSON metadata only)."""

from __future__ import annotations

import time
from pathlib import Path

from core.store.registry import save_run

# A flag as core.report.trust saves it (headline.trust): the figures of such a run must not be trusted.
CHANCE_FLAG = {"kind": "chance", "headline": "No better than chance", "first_try": False,
               "why": "The network's ROC-AUC is 0.510, and its 95 % interval (0.470 to 0.550) holds 0.5."}


def workspace_meta(*, name: str, auc: float, imbalance: str = "none", loss_avoided: float = 1234.0,
                   columns: list[str] | None = None, scenario: str = "credit", trust: list | None = None) -> dict:
    """A ``"workspace"`` dict in the schema of ``core.workspace`` with figures chosen by the test;
    ``trust``: its saved trust flags (None: saved before they were recorded)."""
    columns = columns or ["income", "age_band", "debt_ratio"]
    out = {
        "name": name, "scenario": scenario,
        "dataset": {"name": "applications.csv", "rows": 321, "columns": [*columns, "default"],
                    "sha256": "ab" * 32},
        "params": {"imbalance": imbalance, "epochs": 3, "width": 32},
        "headline": {
            "quality": [{"label": "ROC-AUC", "value": auc, "fmt": ".3f"}],
            "impact": [{"label": "Loss avoided", "value": loss_avoided, "unit": "€", "fmt": ",.0f"}],
            "assumptions": ["Loss per approved defaulter €4,321", "Margin per approved good applicant €987"],
        },
        "input": {"columns": columns, "numeric": columns[:1], "categorical": columns[1:], "kind": "table",
                  "target": "default", "sensitive": ["sex"]},
        "curves": {"roc": {"x": [0.0, 0.2, 1.0], "y": [0.0, auc, 1.0], "x_label": "False positive rate",
                           "y_label": "True positive rate"}},
        "decision": {"threshold": 0.3, "loss_default": 4321.0, "margin_good": 987.0},
        "explain": {"importance": {c: round(0.1 / (i + 1), 4) for i, c in enumerate(columns)}},
        "intended_use": "Rank test applications by risk.",
        "limitations": ["Made by hand for a test."],
    }
    if trust is not None:
        out["headline"]["trust"] = trust
    return out


def make_run(root, run_id: str, *, scenario: str = "credit", saved_at: float | None = None,
             workspace: dict | None = None, extra: dict | None = None) -> Path:
    """Save a run without a model; ``saved_at`` is rewritten so that dates can be tested."""
    import json

    meta = {"scenario": scenario, "config": {"imbalance": "none", "epochs": 3},
            "metrics": {"network": {"roc_auc": (workspace or {}).get("headline", {}).get("quality", [{}])[0].get(
                "value", 0.7), "pr_auc": 0.4, "positive_rate": 0.25}}}
    if workspace is not None:
        meta["workspace"] = workspace
    meta.update(extra or {})
    path = save_run(root, model=None, metadata=meta, run_id=run_id)
    if saved_at is not None:
        m = json.loads((path / "metadata.json").read_text())
        m["saved_at"] = saved_at
        (path / "metadata.json").write_text(json.dumps(m))
    return path


def make_damaged(root, run_id: str = "credit-damaged") -> Path:
    p = Path(root) / run_id
    p.mkdir(parents=True)
    (p / "metadata.json").write_text("{not json")
    return p


def populate(root) -> dict[str, Path]:
    """Two credit runs (class weights, whose figures are flagged no better than chance, vs SMOTE, checked and
    not flagged), an old credit run without workspace, a fraud run saved before trust flags, a damaged one."""
    now = time.time()
    return {
        "a": make_run(root, "credit-a", saved_at=now - 3 * 86400,
                      workspace=workspace_meta(name="credit weights", auc=0.71, imbalance="class_weight",
                                               trust=[CHANCE_FLAG])),
        "b": make_run(root, "credit-b", saved_at=now - 86400,
                      workspace=workspace_meta(name="credit smote", auc=0.78, imbalance="smote",
                                               loss_avoided=5678.0, trust=[])),
        "old": make_run(root, "credit-old", saved_at=now - 10 * 86400),
        "fraud": make_run(root, "fraud-x", scenario="fraud", saved_at=now,
                          workspace=workspace_meta(name="fraud first try", auc=0.9, scenario="fraud")),
        "damaged": make_damaged(root),
    }
