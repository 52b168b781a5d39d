"""What every scenario's search shares around the engine: ``search_section`` (the JSON the CLI prints
and a saved run records), ``print_trials`` and ``attach_search``.

Each scenario's own search, on the same rows its training uses with the test rows left out, is in
its package: ``core/<name>/search.py`` (``search_credit``, ``search_fraud``, ``search_demand``,
``search_quality``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.search.engine import SearchProgress
from core.search.ensemble import ensemble_label
from core.search.tabular import TabularSearch, ensemble_metrics, ensemble_proba


def search_section(search: TabularSearch, tab=None, *, extra_metrics: Callable[[np.ndarray, dict], dict] | None = None
                   ) -> dict:
    """The "search" section of the CLI's JSON and a saved run: trials, best settings and score,
    seconds, today's recipe's validation score, and the ensemble's test figures when it is used.

    ``extra_metrics(p, base_metrics)`` adds the scenario's own metrics to the ensemble's."""
    out = search.result.to_dict()
    if tab is not None and getattr(tab, "ensemble", None) is not None:
        # A tabular run's own ensemble check (validation rows of its training split), which
        # decided the recommended model; the same record as the JSON's "recommended".
        out["ensemble"] = dict(tab.ensemble) or {"checked": False, "use": False,
                                                 "note": "The ensemble check was switched off."}
        return out
    ens = dict(search.ensemble) if search.ensemble else None
    if ens is not None and tab is not None:
        m = ensemble_metrics(tab, ens)
        if m is not None:
            if extra_metrics is not None:
                m = extra_metrics(ensemble_proba(tab, ens), m)
            ens["test_metrics"] = m
            ens["label"] = ensemble_label(ens)
        out["ensemble"] = ens
    return out


def describe_trial(p: SearchProgress) -> str | None:
    """One progress line per finished trial (the CLI prints it on standard error)."""
    if p.kind != "trial" or not p.trials:
        return None
    t = p.trials[-1]
    score = "" if t.score is None else f", {t.score:.4f}"
    best = "" if p.best is None else f"; best so far {p.best.score:.4f} (trial {p.best.number})"
    return f"search trial {t.number}: {t.state}{score}{best} [{p.elapsed:.0f} s of {p.budget:.0f} s]"


def print_trials(p: SearchProgress) -> None:
    """Progress for the CLI: one line per finished trial on standard error."""
    import sys

    line = describe_trial(p)
    if line:
        print(line, file=sys.stderr, flush=True)


def attach_search(workspace: dict, section: dict) -> dict:
    """Record a search with a saved run: the whole section, and its headline under the run's
    parameters so the Runs page and the model card list it with the other settings."""
    ens = section.get("ensemble") or {}
    workspace["search"] = section
    head = workspace.get("headline")
    if isinstance(head, dict) and isinstance(head.get("trust"), list):
        from core.report.trust import Trust

        # A search run on purpose: the warnings that judge a first, plain training no longer apply.
        head["trust"] = Trust.from_saved(head["trust"]).after_search().to_list()
    workspace.setdefault("params", {})["search"] = {
        "budget_seconds": section["budget_seconds"], "seconds": section["seconds"],
        "trials_run": section["trials_run"], "trials_complete": section["trials_complete"],
        "best_trial": section["best_trial"], "metric": section["metric_label"],
        "best_validation_score": section["best_validation_score"],
        "recipe_validation_score": section["recipe_validation_score"], "seed": section["seed"],
        "ensemble": ens.get("label", "not used") if ens.get("use") else "not used",
    }
    return workspace
