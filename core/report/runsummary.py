"""The shape of a saved run's ``"workspace"`` metadata, and the small builders every scenario's
summary uses: headline figures, curves, the verdict, the data fingerprint and the envelope.

Each scenario's ``core/<name>/summary.py`` builds its summary from a trained run with these; the
schema is documented in ``core/workspace/__init__.py``. Everything returned is plain JSON
(floats, ints, strings, lists, dicts).
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MAX_CURVE_POINTS = 200
CURRENCY = "€"  # the app takes costs as plain numbers; this is the unit they are shown in
CURRENCY_SYMBOLS = ("€", "$", "£", "¥", "₹")


SOURCE_SHA256 = "source_sha256"  # df.attrs key: the SHA-256 of the file the frame was read from (core.data.datasets)


def source_sha256(source, files: dict[str, bytes] | None = None) -> str | None:
    """The SHA-256 of a file's bytes as uploaded or read — what ``sha256sum FILE`` prints — for a path,
    bytes or an upload; for a folder, of its files (``files``: relative path -> bytes, else read here)
    in name order, each as its path, a NUL byte and its own SHA-256. None for anything else."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        if files is None:
            files = {p.relative_to(source).as_posix(): p.read_bytes()
                     for p in sorted(Path(source).rglob("*")) if p.is_file()}
        h = hashlib.sha256()
        for rel in sorted(files):
            h.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(files[rel]).digest())
        return h.hexdigest()
    if isinstance(source, (str, Path)):
        from core.store.registry import file_sha256

        return file_sha256(source)
    if isinstance(source, (bytes, bytearray)):
        return hashlib.sha256(source).hexdigest()
    if hasattr(source, "getvalue"):  # Streamlit's UploadedFile, BytesIO
        return hashlib.sha256(source.getvalue()).hexdigest()
    return None


def get_fingerprint(df: pd.DataFrame, *, name: str | None = None) -> dict:
    """Row count, column names and the SHA-256 of the file the rows were read from, as uploaded or read
    (``df.attrs["source_sha256"]``, set by ``core.data.datasets.read_table``): ``sha256sum`` of that file gives
    the same, so anyone can check a file is the one trained on. None for rows that came from no file."""
    sha = df.attrs.get(SOURCE_SHA256)
    out = {"name": name, "rows": int(len(df)), "columns": [str(c) for c in df.columns],
           "sha256": sha if isinstance(sha, str) and len(sha) == 64 else None, "sha256_of": "file as uploaded"}
    # Personal-data columns dropped or hashed as the file was read (core.data.privacy): names and kinds only.
    personal = df.attrs.get("personal_data")
    if personal:
        out["personal_data"] = [{k: str(v) for k, v in dict(p).items()} for p in personal]
    return out


def json_float(v: Any) -> float | None:
    """A JSON-safe float (None for NaN / infinity)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def quality_figure(label: str, value, fmt: str = ".3f") -> dict:
    return {"label": label, "value": json_float(value), "fmt": fmt}


def money_figure(label: str, value, unit: str = CURRENCY) -> dict:
    # Whole units for large sums; cents where the sums are small (a few cycles of holding cost).
    v = json_float(value)
    return {"label": label, "value": v, "unit": unit, "fmt": ",.0f" if v is None or abs(v) >= 100 else ",.2f"}


def money_text(v: float, unit: str = CURRENCY) -> str:
    return f"{unit}{v:,.2f}" if abs(v) < 100 and v != int(v) else f"{unit}{v:,.0f}"


def format_figure(fig: dict) -> str:
    """One headline figure as text: ``0.812``, ``€12,345``, ``84.0%`` ("not recorded" if missing)."""
    value = fig.get("value")
    if value is None:
        return "not recorded"
    try:
        text = format(value, fig.get("fmt") or "")
    except (TypeError, ValueError):
        text = str(value)
    unit = fig.get("unit") or ""
    if not unit:
        return text
    if unit in CURRENCY_SYMBOLS:  # €1,234 and -€1,234
        return f"-{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def thin(x, y, n: int = MAX_CURVE_POINTS) -> tuple[list, list]:
    """At most ``n`` points, evenly spread along the curve, always keeping both ends."""
    x, y = list(x), list(y)
    if len(x) > n:
        keep = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
        x, y = [x[i] for i in keep], [y[i] for i in keep]
    return x, y


def curve(x, y, x_label: str, y_label: str) -> dict:
    x, y = thin(x, y)
    conv = (lambda v: v) if x and isinstance(x[0], str) else (lambda v: round(float(v), 6))
    return {"x": [conv(v) for v in x], "y": [round(float(v), 6) for v in y], "x_label": x_label,
            "y_label": y_label}


def period_text(text: str) -> str:
    """'2024-04-22 .. 2024-05-05 (3,550 rows)' -> '2024-04-22 to 2024-05-05'."""
    return re.sub(r"\s*\(.*\)\s*$", "", str(text)).replace(" .. ", " to ")


def roc_pr_curves(y, p, *, gains: tuple[str, str] = ("Share of cases acted on", "Share of positives caught"),
                  ) -> dict:
    """The ROC, precision-recall and cumulative gains curves saved with a run; ``gains`` names the gains
    chart's axes in the scenario's words ("Share of applicants declined", "Share of defaulters caught")."""
    from core.ml.lift import compute_gains_curve
    from core.ml.metrics import compute_pr, compute_roc

    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        return {}
    roc, pr = compute_roc(y, p), compute_pr(y, p)
    # sklearn gives the PR curve from high to low recall; overlays read better left to right.
    pr = pr.iloc[::-1]
    g = compute_gains_curve(y, p)
    return {"roc": curve(roc["fpr"], roc["tpr"], "False positive rate", "True positive rate"),
            "pr": curve(pr["recall"], pr["precision"], "Recall", "Precision"),
            "gains": curve(g["share_acted"], g["share_caught"], *gains)}


def shap_importance(shap_result) -> dict | None:
    """Mean |SHAP| per feature from a ``ShapResult`` (None when nothing was explained)."""
    if shap_result is None:
        return None
    imp = shap_result.importance()
    return {str(f): round(float(v), 6) for f, v in zip(imp["feature"], imp["importance"])}


def explain_section(shap_result, note: str = "") -> dict:
    imp = shap_importance(shap_result)
    if imp is not None:
        return {"importance": imp}
    return {"note": note or "Global SHAP importance was not computed for this run."}


def jsonable(d: dict) -> dict:
    """Round-trip through the registry's JSON rules (numpy numbers, tuples, dates)."""
    import json

    from core.store.registry import _json_default

    return json.loads(json.dumps(d, default=_json_default))


def binary_verdict(y, p_model, baselines: dict, metric: str) -> dict | None:
    """The network against the best baseline with its bootstrap interval (``core.ml.verdict``), or
    None when there is nothing to compare with."""
    from core.present.glossary import MODELS
    from core.ml.verdict import compare_binary

    if not baselines or len(np.unique(np.asarray(y).astype(int))) < 2:
        return None
    return compare_binary(y, p_model, baselines, metric=metric, names=MODELS, seed=0).to_dict()


# Metrics that depend on a decision threshold: a run reports them at its one decision threshold only.
THRESHOLD_KEYS = ("threshold", "precision", "recall", "f1", "accuracy", "positive_rate", "tp", "fp", "tn", "fn",
                  "defect_recall", "escape_rate", "false_reject_rate", "reject_rate", "defect_precision", "escapes",
                  "false_rejects", "caught", "passed_ok")


def decision_metrics(y, scores: dict, threshold: float, *, keep: dict | None = None) -> dict[str, dict]:
    """Every model's metrics at the run's one decision threshold (``scores``: model -> probability of the
    positive class on the test rows), so no table shows another threshold's precision or recall beside
    the decision. ``keep``: model -> metrics that do not depend on it (card precision@k, ...), kept."""
    from core.ml.metrics import compute_binary_metrics

    out = {}
    for name, p in scores.items():
        base = {k: v for k, v in (keep or {}).get(name, {}).items() if k not in THRESHOLD_KEYS}
        out[str(name)] = {**base, **compute_binary_metrics(y, p, float(threshold))}
    return out


def envelope(scenario: str, *, name: str, dataset: dict, params: dict, quality: list, impact: list,
             assumptions: list[str], input_: dict, profile: dict, curves: dict, decision: dict,
             explain: dict, verdict: dict | None = None, trust: list | None = None,
             metrics: dict | None = None, recommended: dict | None = None) -> dict:
    """The whole ``"workspace"`` dict; intended use and limitations come from the scenario's hooks.
    ``trust``: the flags of ``core.report.trust`` (``Trust.to_list()``), saved beside the verdict. ``metrics``:
    model -> metrics at the run's decision threshold (``decision_metrics``), what Runs and the card show;
    ``recommended``: ``{"model": "network" | "ensemble", "label", "metrics"}``, the model saved and scored."""
    from core.store.scenarios import get_scenario

    name = (name or "").strip()
    if not name:
        raise DataValidationError(
            "A saved run needs a name; got an empty one. Fix: type a short name, e.g. 'credit sample, "
            "class weights'.")
    spec = get_scenario(scenario)
    return jsonable({
        "name": name, "scenario": scenario, "dataset": dataset, "params": params,
        "headline": {"quality": quality, "impact": impact, "assumptions": assumptions,
                     **({"verdict": verdict} if verdict else {}), **({"trust": trust} if trust is not None else {}),
                     **({"recommended": recommended} if recommended else {})},
        "input": input_, "profile": profile, "curves": curves, "decision": decision, "explain": explain,
        **({"metrics": metrics} if metrics else {}),
        "intended_use": spec.intended_use, "limitations": list(spec.limitations),
    })


def default_run_name(scenario: str, dataset_name: str | None = None) -> str:
    """``'credit · credit_applications.csv'``: a name the analyst can keep (the date is saved apart)."""
    return " · ".join(p for p in (scenario, Path(dataset_name).name if dataset_name else None) if p)


def demo_run_name(scenario: str) -> str:
    """The name a demo run is saved under: ``'credit demo · sample data'``."""
    return f"{scenario} demo · sample data"
