"""Saved runs for the Runs page: listing with filters, side-by-side comparison, curve overlays (the
runs folder's sub-folders and deleting a run: ``core.workspace.folders``).

Everything here reads the JSON metadata only (``core.store.registry.list_runs``), never a Keras file, so a
folder of hundreds of runs lists in a blink. Runs saved without the ``"workspace"`` summary (older
runs, the CLI) still list, compare and delete; absent fields read "not recorded".
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import plotly.graph_objects as go

from core.errors import DataValidationError
from core.store.runmeta import decision as saved_decision
from core.store.runmeta import headline, section, workspace
# The runs folder itself (listing its sub-folders, deleting a run) lives in core.workspace.folders;
# the Runs page and the session's folder picker import these names from here.
from core.workspace.folders import (TRASH_PREFIX, delete_run, list_run_folders,  # noqa: F401
                                    resolve_run_folder)

NOT_RECORDED = "not recorded"
TRUST_ITEM = "Trust warnings"  # the comparison's first row: the headlines of core.report.trust's flags


# ---------------------------------------------------------------- reading one run's metadata
def _ws(meta: dict) -> dict:
    """The run's workspace summary, as ``core.store.registry.read_metadata`` migrated it (``core.store.runmeta``)."""
    return workspace(meta)


def get_saved_at(meta: dict) -> dt.datetime | None:
    """When the run was saved (local time), or None when the metadata has no usable time."""
    try:
        return dt.datetime.fromtimestamp(float(meta["saved_at"]))
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def get_run_name(meta: dict) -> str:
    """The analyst's name for the run, else its id."""
    name = _ws(meta).get("name")
    return str(name) if name else str(meta.get("run_id") or Path(str(meta.get("path", "run"))).name)


def format_figure(fig: dict) -> str:
    """One headline figure as text (delegates to the summary module's formatting)."""
    from core.workspace.summary import format_figure as _fmt

    return _fmt(fig) if isinstance(fig, dict) else NOT_RECORDED


def get_headline(meta: dict) -> dict:
    """``{"quality": [...], "impact": [...], "assumptions": [...]}``, empty lists when not recorded,
    ``"verdict"`` (the network against the best baseline) when the run saved one, and ``"trust"`` (the
    flags of ``core.report.trust``; an empty list when none was raised) when the run recorded them."""
    head = headline(meta)
    out = {k: list(head.get(k) or []) for k in ("quality", "impact", "assumptions")}
    out.update({k: head[k] for k in ("verdict", "trust", "recommended") if k in head})
    return out


RECOMMENDED_FIGURES = (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"), ("mae", "MAE"), ("accuracy", "accuracy"))


def get_recommended_text(meta: dict) -> str | None:
    """The recommended model (the one saved and scored) and its test figures in words, e.g. "Ensemble:
    Keras network averaged with logistic regression (ROC-AUC 0.781, PR-AUC 0.452 on the test rows)"; None
    for a run saved before recommendations were recorded."""
    rec = get_headline(meta).get("recommended")
    if not rec:
        return None
    m = rec.get("metrics") if isinstance(rec.get("metrics"), dict) else {}
    figs = [f"{label} {m[k]:.3f}" for k, label in RECOMMENDED_FIGURES if isinstance(m.get(k), (int, float))][:2]
    label = str(rec.get("label") or rec.get("model") or NOT_RECORDED)
    return label + (f" ({', '.join(figs)} on the test rows)" if figs else "")


def recommended_verdict_name(meta: dict) -> str:
    """How the saved verdict names the model it judged: the name the run saved with its recommendation
    (quality: "The CNN", "The blend of the CNN with ..."), else "The ensemble" when a blend is recommended."""
    rec = get_headline(meta).get("recommended") or {}
    if isinstance(rec.get("name"), str) and rec["name"]:
        return rec["name"]
    return "The ensemble" if rec.get("model") == "ensemble" else "The network"


def get_trust(meta: dict):
    """The run's saved trust flags (``core.report.trust.Trust``), or None when it was saved without them."""
    from core.report.trust import Trust

    return Trust.from_saved(get_headline(meta).get("trust"))


def get_trust_text(meta: dict) -> str:
    """The flags' headlines for a list or comparison cell: "none" when the run was checked and nothing
    was found, "not recorded" when it was saved before the checks existed."""
    trust = get_trust(meta)
    return NOT_RECORDED if trust is None else (trust.summary() or "none")


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(float(v)) else None


def _saved_metrics(meta: dict):
    """The metrics a run reports: those its summary saved at its one decision threshold
    (``workspace.metrics``), else the training's own, without the figures that depend on a threshold when
    the run was decided at another one (an older run's best-F1 precision and recall beside its decision)."""
    decided = _ws(meta).get("metrics")
    if isinstance(decided, dict) and decided:
        return decided
    m = meta.get("metrics")
    decision = saved_decision(meta)
    if "threshold" not in decision:
        return m
    from core.report.runsummary import THRESHOLD_KEYS

    def clean(d):  # only what was measured at another, recorded threshold is left out
        if not isinstance(d, dict) or _number(d.get("threshold")) in (None, _number(decision["threshold"])):
            return d
        return {k: v for k, v in d.items() if k not in THRESHOLD_KEYS}

    if isinstance(m, dict) and m and all(isinstance(v, dict) for v in m.values()):
        return {k: clean(v) for k, v in m.items()}
    return clean(m)


def get_metrics(meta: dict) -> dict[str, float]:
    """The saved model's own metrics as ``name -> number``, whatever the scenario's layout, at the run's
    decision threshold (``_saved_metrics``).

    Credit keeps ``{"network": {...}, "<baseline>": {...}}``; demand a list of rows per method with
    the network first; fraud and quality a flat dict (nested per-class tables are left out).
    """
    m = _saved_metrics(meta)
    rec = (get_headline(meta).get("recommended") or {}).get("model")
    if isinstance(m, dict) and rec == "ensemble" and isinstance(m.get(rec), dict):
        m = m[rec]  # a quality run whose saved model is the blend
    elif isinstance(m, dict) and isinstance(m.get("network"), dict):
        m = m["network"]
    elif isinstance(m, list):
        m = m[0] if m and isinstance(m[0], dict) else {}
    if not isinstance(m, dict):
        return {}
    out = {}
    for k, v in m.items():
        x = _number(v)
        if x is not None:
            out[str(k)] = x
    return out


def get_metrics_table(meta: dict) -> pd.DataFrame | None:
    """All models' metrics, one row per model (network first), or None when nothing was saved; at the
    run's decision threshold (``_saved_metrics``)."""
    m = _saved_metrics(meta)
    rows: list[dict] = []
    if isinstance(m, dict) and m and all(isinstance(v, dict) for v in m.values()):
        rows = [{"model": str(k), **{str(a): _number(b) for a, b in v.items() if _number(b) is not None}}
                for k, v in m.items()]
    elif isinstance(m, list):
        for r in m:
            if isinstance(r, dict):
                label = r.get("method", r.get("model", f"model {len(rows) + 1}"))
                rows.append({"model": str(label),
                             **{str(a): _number(b) for a, b in r.items() if _number(b) is not None}})
    else:
        flat = get_metrics(meta)
        if flat:
            rows = [{"model": "network", **flat}]
    return pd.DataFrame(rows).set_index("model") if rows else None


def get_params(meta: dict) -> dict[str, Any]:
    """Training settings, flattened to ``"a.b" -> value`` (workspace params, else the saved config)."""
    params = section(meta, "params") if "params" in _ws(meta) else meta.get("config")
    params = params if isinstance(params, dict) else {}  # ``config`` is the scenario's own: not checked
    return _flatten(params)


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out[key] = ", ".join(map(str, v)) if v else "(none)"
        else:
            out[key] = v
    return out


def get_run_id(meta: dict) -> str:
    """The run's folder name (its id on disk), else the id saved in its metadata."""
    return Path(str(meta["path"])).name if meta.get("path") else str(meta.get("run_id", ""))


def get_run_row(meta: dict) -> dict:
    """One line of the runs list: id, name, scenario, date, data, first quality and money figure."""
    ds = section(meta, "dataset")
    head = get_headline(meta)
    q, i = head["quality"], head["impact"]
    saved = get_saved_at(meta)
    return {
        # The folder name identifies a run on disk (a copied folder keeps its old id inside).
        "run_id": get_run_id(meta),
        "name": get_run_name(meta),
        "scenario": str(meta.get("scenario") or "unknown"),
        "saved": saved.strftime("%Y-%m-%d %H:%M") if saved else NOT_RECORDED,
        "data": str(ds.get("name") or NOT_RECORDED),
        "rows": ds.get("rows") if isinstance(ds.get("rows"), int) else None,
        "quality": f"{q[0].get('label', '?')} {format_figure(q[0])}" if q else NOT_RECORDED,
        "impact": f"{i[0].get('label', '?')} {format_figure(i[0])}" if i else NOT_RECORDED,
        "trust": get_trust_text(meta),
        "path": str(meta.get("path", "")),
    }


# ---------------------------------------------------------------- listing and filters
def list_workspace_runs(root) -> tuple[list[dict], list[str]]:
    """Metadata of every readable run under ``root`` (newest first) and notes on skipped runs.

    Damaged or incompatible runs are skipped with a note (``core.store.registry.list_runs``); a runs
    folder that is not a folder is reported the same way instead of failing.
    """
    from core.store.registry import list_runs

    root = Path(root)
    if root.exists() and not root.is_dir():
        return [], ["The runs folder is a file, not a folder. Fix: the server's operator sets STUDIO_RUNS_DIR "
                    "to a folder."]
    try:
        return list_runs(root)
    except OSError as exc:
        # The server path stays out of the message: visitors see it on the Runs page.
        return [], [f"The runs folder cannot be read ({exc.strerror or 'no permission'}). "
                    "Fix: the server's operator checks its permissions or sets STUDIO_RUNS_DIR to another folder."]


def filter_runs(runs: Iterable[dict], *, scenario: str | None = None, text: str | None = None,
                date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    """Runs of ``scenario`` whose name or id contains ``text`` (any case), saved within the dates.

    Dates are inclusive; a run without a save time is kept only when no date bound is set.
    """
    if date_from and date_to and date_from > date_to:
        raise DataValidationError(
            f"The date range must start on or before its end; got {date_from:%Y-%m-%d} to {date_to:%Y-%m-%d}. "
            "Fix: swap the two dates.")
    needle = (text or "").strip().lower()
    out = []
    for meta in runs:
        if scenario and meta.get("scenario") != scenario:
            continue
        if needle and needle not in get_run_name(meta).lower() and needle not in str(meta.get("run_id", "")).lower():
            continue
        if date_from or date_to:
            saved = get_saved_at(meta)
            if saved is None:
                continue
            if (date_from and saved.date() < date_from) or (date_to and saved.date() > date_to):
                continue
        out.append(meta)
    return out


# ---------------------------------------------------------------- comparison
def _check_same_scenario(runs: list[dict]) -> str:
    if len(runs) < 2:
        raise DataValidationError(
            f"A comparison needs two or more runs; got {len(runs)}. Fix: select at least two runs.")
    scenarios = sorted({str(m.get("scenario")) for m in runs})
    if len(scenarios) > 1:
        raise DataValidationError(
            f"Runs to compare must be of one scenario; got {', '.join(scenarios)}. "
            "Fix: filter the list by scenario and select runs from it.")
    return scenarios[0]


def get_run_labels(runs: list[dict]) -> list[str]:
    """Column labels for a comparison: the run name with its save time, unique."""
    labels = []
    for meta in runs:
        saved = get_saved_at(meta)
        label = f"{get_run_name(meta)} · {saved:%Y-%m-%d %H:%M}" if saved else get_run_name(meta)
        if label in labels:
            label = f"{label} · {meta.get('run_id')}"
        labels.append(label)
    return labels


def _cell(v: Any) -> str:
    if v is None:
        return NOT_RECORDED
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def compute_comparison(runs: list[dict]) -> pd.DataFrame:
    """Runs side by side: one column per run, rows grouped by ``section``, ``differs`` flags rows.

    Sections: Headline (trust warnings, quality and money figures as shown on the overview), Metrics (the model's
    own metrics), Decision (the saved decision settings), Parameters (training settings), Data
    (fingerprint). Cells are text; a field a run does not hold reads "not recorded".
    """
    _check_same_scenario(runs)
    labels = get_run_labels(runs)
    per_run: list[dict[tuple[str, str], str]] = []
    for meta in runs:
        cells: dict[tuple[str, str], str] = {}
        head = get_headline(meta)
        cells[("Headline", TRUST_ITEM)] = get_trust_text(meta)
        for f in head["quality"] + head["impact"]:
            cells[("Headline", str(f.get("label", "?")))] = format_figure(f)
        for k, v in get_metrics(meta).items():
            if k != "threshold":  # the decision's, listed once under Decision
                cells[("Metrics", k)] = f"{v:.4g}"
        for k, v in _flatten(saved_decision(meta)).items():
            if k != "rule":
                cells[("Decision", k)] = _cell(v)
        for k, v in get_params(meta).items():
            cells[("Parameters", k)] = _cell(v)
        ds = section(meta, "dataset")
        for k in ("name", "rows", "sha256"):
            if ds.get(k) is not None:
                v = ds[k]
                cells[("Data", k)] = str(v)[:12] if k == "sha256" else _cell(v)
        per_run.append(cells)
    order = ["Headline", "Metrics", "Decision", "Parameters", "Data"]
    keys: list[tuple[str, str]] = []
    for cells in per_run:
        for key in cells:
            if key not in keys:
                keys.append(key)
    keys.sort(key=lambda k: order.index(k[0]))  # stable: first-seen order within a section
    rows = []
    for key in keys:
        values = [cells.get(key, NOT_RECORDED) for cells in per_run]
        rows.append({"section": key[0], "item": key[1], **dict(zip(labels, values)),
                     "differs": len(set(values)) > 1})
    return pd.DataFrame(rows, columns=["section", "item", *labels, "differs"])


def get_curve_names(runs: list[dict]) -> list[str]:
    """Curve keys (``roc``, ``pr``, ``backtest_p50``, ...) recorded by at least one of the runs."""
    names: list[str] = []
    for meta in runs:
        for k, c in section(meta, "curves").items():
            if isinstance(c, dict) and c.get("x") and k not in names:
                names.append(k)
    return names


CURVE_TITLES = {"roc": "ROC curve", "pr": "Precision–recall curve", "gains": "Cumulative gains"}


def plot_run_curves(runs: list[dict], curve: str) -> go.Figure:
    """One curve of several runs overlaid (a line per run); runs without it are named in the title."""
    from core.present.charts import PALETTE, _layout

    fig = go.Figure()
    labels = get_run_labels(runs)
    missing, x_label, y_label = [], "", ""
    for i, (meta, label) in enumerate(zip(runs, labels)):
        c = section(meta, "curves").get(curve)
        if not isinstance(c, dict) or not c.get("x"):
            missing.append(label)
            continue
        x_label, y_label = c.get("x_label", x_label), c.get("y_label", y_label)
        fig.add_scatter(x=c["x"], y=c.get("y", []), mode="lines", name=label, line=dict(color=PALETTE[i % 7]))
    if curve in ("roc", "gains") and len(fig.data):
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="#999"))
    title = CURVE_TITLES.get(curve, curve.replace("_", " ").capitalize())
    if missing:
        title += f" (not recorded for {len(missing)} run{'s' if len(missing) > 1 else ''})"
    return _layout(fig, title, x_label, y_label)
