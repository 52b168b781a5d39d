"""The recommended tabular model of credit and fraud: the network, or the network's probabilities mixed with
one sklearn baseline's when that blend beats the network on the validation rows (``check_blend``, by the one rule
of ``core.search.ensemble.choose_ensemble``); ``recommended_section`` is the CLI's and the saved run's
``"recommended"``.

A saved credit or fraud run whose recommended model is the blend keeps the baseline beside the Keras
file as ``baseline.joblib`` and describes it under ``"blend"`` in its metadata (``BLEND_VERSION``).
Every door that scores a saved run (``python -m core score``, the Score page, the Dask engine, the
HTTP service on either runtime) loads it through ``load_blend`` and mixes it in with ``Blend.mix``;
a run saved without one scores with its network alone, exactly as before.

The file is unpickled only after its SHA-256 matches the one recorded when the run was saved (a
file swapped by hand is refused), and only from a run folder the studio wrote.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.errors import DataValidationError

NETWORK, ENSEMBLE = "network", "ensemble"  # as core.ml.tabular names them
BLEND_FILE = "baseline.joblib"
BLEND_VERSION = 1
# What each baseline reads: logistic regression the encoded (one-hot, scaled) matrix, gradient
# boosting the code-space rows (categories as integer codes), as core.ml.tabular trains them.
INPUTS = {"logistic_regression": "encoded", "gradient_boosting": "codes"}


@dataclass(frozen=True)
class Blend:
    """``weight`` of the network's probability plus the rest of ``baseline``'s."""

    baseline: str
    weight: float
    model: Any  # the fitted sklearn classifier

    def baseline_codes(self, preprocessor, Z: np.ndarray, encoded: np.ndarray | None = None) -> np.ndarray:
        """The baseline's probabilities for code-space rows ``Z`` (``encoded``: ``preprocessor.encode(Z)``
        when the caller has it already)."""
        if INPUTS.get(self.baseline) == "encoded":
            X = preprocessor.encode(Z) if encoded is None else encoded
        else:
            X = Z
        fast = _logistic_proba(self.model, X)
        if fast is None and self._trees is not None:
            fast = self._trees.proba(X)
        if fast is not None:
            return fast
        return np.asarray(self.model.predict_proba(X)[:, 1], dtype=float)

    @cached_property
    def _trees(self):
        """Gradient boosting's trees as NumPy arrays (``core.ml.treewalk``), for inputs of a few rows: its own
        predict cost a one-row fraud request 1-25 ms of CPU around 83 small trees. None for other models."""
        from core.ml.treewalk import compile_trees

        return compile_trees(self.model)

    def mix(self, p_network, preprocessor, Z: np.ndarray, encoded: np.ndarray | None = None) -> np.ndarray:
        """The blend's probabilities from the network's for the same code-space rows ``Z``."""
        from core.search.ensemble import blend

        return blend(np.asarray(p_network, dtype=float).ravel(), self.baseline_codes(preprocessor, Z, encoded),
                     self.weight)


def _logistic_proba(model, X) -> np.ndarray | None:
    """A binary scikit-learn logistic regression's ``predict_proba(X)[:, 1]`` by its own arithmetic (the same
    operations in the same order, so the same bits), without its input checks: those took 0.7 ms of a
    one-row request. None for any other model or input (the caller then asks the model)."""
    if type(model).__name__ != "LogisticRegression" or not type(model).__module__.startswith("sklearn."):
        return None
    coef = getattr(model, "coef_", None)
    if coef is None or coef.ndim != 2 or coef.shape[0] != 1 or len(getattr(model, "classes_", ())) != 2:
        return None
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind != "f" or X.shape[1] != coef.shape[1]:
        return None
    from scipy.special import expit

    scores = (X @ coef.T + model.intercept_).reshape(-1)
    return np.asarray(expit(scores), dtype=float)


def recommended_codes(network_codes: Callable[[np.ndarray], np.ndarray], preprocessor,
                      blend: Blend | None, *, network_encoded: Callable[[np.ndarray], np.ndarray] | None = None
                      ) -> Callable[[np.ndarray], np.ndarray]:
    """A code-space predict function of the recommended model: the network's, blended when ``blend``.

    ``network_encoded``: the network on encoded rows (``network_codes(Z) == network_encoded(encode(Z))``);
    with it a blend encodes each batch once for the network and the baseline (SHAP's walks send
    hundreds of thousands of rows through here, and encoding them twice was a fifth of a batch's CPU)."""
    if blend is None:
        return network_codes
    if network_encoded is not None and INPUTS.get(blend.baseline) == "encoded":
        def predict_once(Z: np.ndarray) -> np.ndarray:
            E = preprocessor.encode(Z)
            return blend.mix(network_encoded(E), preprocessor, Z, encoded=E)

        return predict_once

    def predict(Z: np.ndarray) -> np.ndarray:
        return blend.mix(network_codes(Z), preprocessor, Z)

    return predict


def blend_file(blend: Blend) -> tuple[bytes, dict]:
    """The baseline as joblib bytes and the metadata that describes the blend (saved under "blend")."""
    import joblib
    import sklearn

    buf = io.BytesIO()
    joblib.dump(blend.model, buf)
    meta = {"version": BLEND_VERSION, "file": BLEND_FILE, "baseline": blend.baseline, "weight": float(blend.weight),
            "input": INPUTS.get(blend.baseline, "codes"), "sklearn": sklearn.__version__}
    return buf.getvalue(), meta


def load_blend(run_dir, meta: dict) -> Blend | None:
    """The blend saved with a run, or None for a run recommended as the network alone (and every run
    saved before blends were saved)."""
    spec = meta.get("blend")
    if not spec:
        return None
    name = Path(run_dir).name
    if not isinstance(spec, dict) or spec.get("version") != BLEND_VERSION or spec.get("baseline") not in INPUTS:
        got = spec.get("version") if isinstance(spec, dict) else type(spec).__name__
        raise DataValidationError(
            f"Run '{name}' holds a blend saved in format {got}; this version reads format {BLEND_VERSION} with a "
            f"baseline of {sorted(INPUTS)}. Fix: train the run again with this version.")
    path = Path(run_dir) / str(spec.get("file", BLEND_FILE))
    if path.name != path.parts[-1] or path.parent != Path(run_dir) or not path.is_file():
        raise DataValidationError(
            f"Run '{name}' recommends a blend with {spec['baseline'].replace('_', ' ')}, but its file "
            f"'{path.name}' is missing. Fix: copy the file back from where the run came from, or train again.")
    data = path.read_bytes()
    recorded = ((meta.get("files") or {}).get(path.name) or {}).get("sha256")
    if not recorded or hashlib.sha256(data).hexdigest() != recorded:
        raise DataValidationError(
            f"Run '{name}': its baseline file '{path.name}' is not the one saved with the run (its SHA-256 "
            "differs or was not recorded), so it is not loaded. Fix: copy the run's own file back, or train again.")
    import joblib

    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:  # another scikit-learn that cannot read it, or a damaged file
        raise DataValidationError(
            f"Run '{name}': its baseline ({spec['baseline'].replace('_', ' ')}, saved with scikit-learn "
            f"{spec.get('sklearn', '?')}) cannot be loaded here: {str(exc).splitlines()[0][:160]}. Fix: install "
            f"scikit-learn {spec.get('sklearn', '')} or train the run again.") from exc
    return Blend(baseline=spec["baseline"], weight=float(spec["weight"]), model=model)


# ---------------------------------------------------------------- the check and the recommendation
def _metrics(y, p, threshold=0.5):
    from core.ml.metrics import compute_binary_metrics

    return compute_binary_metrics(y, p, threshold)


def _threshold(y, p, rule):
    from core.ml.metrics import choose_threshold

    return choose_threshold(y, p, rule)


def check_blend(y_val, val_proba: dict, y_test, test_proba: dict, *, metric: str, rule: str = "f1") -> dict:
    """The ensemble check of a trained run: the blend of the network with each baseline, at each
    weight, scored by ``metric`` on the validation rows only (``choose_ensemble``); when it beats the
    network there, its threshold (chosen on the same validation rows) and its
    test metrics at that threshold. The test rows never enter the choice."""
    from core.search.ensemble import blend, choose_ensemble, ensemble_label

    y_val = np.asarray(y_val).astype(int)
    base = {k: v for k, v in val_proba.items() if k != NETWORK}
    if len(np.unique(y_val)) < 2:
        return {"checked": False, "use": False, "metric": metric,
                "note": "The validation rows hold one class only, so no blend could be compared."}
    ens = choose_ensemble(lambda p: float(_metrics(y_val, p)[metric]), val_proba[NETWORK], base,
                          direction="maximize")
    ens = {**ens, "metric": metric, "label": ensemble_label(ens)} if ens["checked"] else ens
    if ens.get("use"):
        ens["threshold"] = _threshold(y_val, blend(val_proba[NETWORK], base[ens["baseline"]], ens["weight"]),
                                            rule)
        p = blend(test_proba[NETWORK], test_proba[ens["baseline"]], ens["weight"])
        ens["test_metrics"] = _metrics(np.asarray(y_test).astype(int), p, ens["threshold"])
    return ens


def recommended_line(tab) -> str:
    """One line on standard error: which model is recommended (saved, scored, explained) and why."""
    ens = tab.ensemble or {}
    if tab.recommended == ENSEMBLE:
        from core.search.ensemble import ensemble_reason

        return f"Recommended: {ens['label']} ({ensemble_reason(ens)}; saved, scored and explained as one model)."
    if not ens:
        return "Recommended: the Keras network (the ensemble check is off)."
    return f"Recommended: the Keras network ({ens.get('note') or 'no blend beats it on the validation rows'})."


def recommended_name(run) -> str:
    """How a verdict names the recommended model: "The ensemble" or "The network"."""
    return "The ensemble" if run.recommended == ENSEMBLE else "The network"


def recommended_section(run) -> dict:
    """``{"model": "network" | "ensemble", "label", "metrics"}``: the recommended model and its test
    metrics (the network's, or the blend's at its validation threshold), for the CLI's JSON and a saved run."""
    from core.present.glossary import model_label

    if run.recommended == ENSEMBLE:
        # False when a baseline alone scored higher than the blend on the validation rows (the verdict says so).
        return {"model": ENSEMBLE, "label": run.ensemble["label"], "metrics": dict(run.ensemble["test_metrics"]),
                "beats_baseline": bool(run.ensemble.get("beats_baseline", True))}
    return {"model": NETWORK, "label": model_label(NETWORK), "metrics": dict(run.metrics[NETWORK])}
