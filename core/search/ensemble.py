"""The optional ensemble of every scenario: the network blended with a baseline, chosen on validation.

The same rule for credit, fraud, demand and quality: on the validation rows of the training split
(never the test rows), the network's predictions are blended with each baseline's at a few weights;
the best blend is used when it beats the network on validation (strictly), and the result says whether it
beats the best baseline there too: the studio recommends the better of the network and its blend, and
says plainly when a baseline alone scored higher.
Which baseline and what weight are chosen on validation as well, from a small fixed grid, so a
search repeated with the same seed gives the same ensemble.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

# The network's share in the blend; 0.5 first, so a tie keeps the plain average.
WEIGHTS = (0.5, 0.25, 0.75)
ENSEMBLE = "ensemble"


def blend(network, baseline, weight: float = 0.5) -> np.ndarray:
    """``weight`` of the network's predictions plus the rest of the baseline's (probabilities or
    forecasts of the same shape)."""
    w = float(weight)
    return w * np.asarray(network, dtype=float) + (1.0 - w) * np.asarray(baseline, dtype=float)


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "maximize" else a < b


def choose_ensemble(score: Callable[[np.ndarray], float], network, baselines: dict, *, direction: str,
                    weights: tuple[float, ...] = WEIGHTS) -> dict:
    """The best blend of the network with one of ``baselines`` (name -> validation predictions),
    scored by ``score`` on the validation rows; ``use`` is true when it beats the network (strictly),
    ``beats_baseline`` when it beats the best baseline too.

    Candidates are tried baseline by baseline (in the order given), weight by weight, and a tie
    keeps the earlier one, so the choice is deterministic."""
    if not baselines:
        return {"checked": False, "use": False, "note": "No baseline to blend with."}
    scores = {"network": float(score(network))}
    scores.update({name: float(score(p)) for name, p in baselines.items()})
    best_base = None
    for name in baselines:
        if best_base is None or _better(scores[name], scores[best_base], direction):
            best_base = name
    candidates = []
    pick = None
    for name, p in baselines.items():
        for w in weights:
            s = float(score(blend(network, p, w)))
            candidates.append({"baseline": name, "weight": float(w), "score": s})
            if pick is None or _better(s, pick["score"], direction):
                pick = candidates[-1]
    scores[ENSEMBLE] = pick["score"]
    use = _better(pick["score"], scores["network"], direction)
    return {"checked": True, "use": bool(use), "beats_baseline": _better(pick["score"], scores[best_base], direction),
            "baseline": pick["baseline"], "weight": pick["weight"], "best_baseline": best_base,
            "validation_scores": scores, "candidates": candidates}


def ensemble_reason(ens: dict, *, network: str = "the network", rows: str = "rows",
                    names: dict | None = None) -> str:
    """Why a used blend is recommended, e.g. "it beats the network and the best baseline on the validation
    rows", or, when a baseline alone scored higher, "it beats the network on the validation rows, though
    gradient boosting alone scored higher there"."""
    if ens.get("beats_baseline", True):
        return f"it beats {network} and the best baseline on the validation {rows}"
    best = ens.get("best_baseline") or ens.get("baseline", "")
    name = (names or {}).get(best, best.replace("_", " "))
    return f"it beats {network} on the validation {rows}, though {name} alone scored higher there"


def ensemble_label(ens: dict, *, network: str = "Keras network", names: dict | None = None) -> str:
    """How the ensemble is named wherever it is shown, e.g. "Ensemble: Keras network averaged with
    logistic regression" or "Ensemble: 75 % Keras network + 25 % seasonal naive"."""
    base = (names or {}).get(ens["baseline"], ens["baseline"].replace("_", " "))
    w = float(ens.get("weight", 0.5))
    if abs(w - 0.5) < 1e-9:
        return f"Ensemble: {network} averaged with {base}"
    return f"Ensemble: {w:.0%} {network} + {1 - w:.0%} {base}".replace("%", " %")
