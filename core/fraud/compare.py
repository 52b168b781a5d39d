"""Imbalance strategies side by side on the same features, split and network."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.imbalance import IMBALANCE_METHODS
from core.ml.tabular import train_tabular

DEFAULT_METHODS = ("none", "class_weight", "undersample", "smote")


def check_methods(methods) -> list[str]:
    """The strategies to compare, each once, in order; refused when none is given or one is unknown."""
    methods = list(dict.fromkeys(methods))
    if not methods:
        raise DataValidationError("Expected at least one imbalance strategy to compare; got none. "
                                  f"Fix: pick from {', '.join(IMBALANCE_METHODS)}.")
    unknown = [m for m in methods if m not in IMBALANCE_METHODS]
    if unknown:
        raise DataValidationError(f"Expected strategies from {', '.join(IMBALANCE_METHODS)}; got "
                                  f"{unknown}. Fix: pick from the list.")
    return methods


def compare_imbalance(run, methods=DEFAULT_METHODS, *, min_precision: float = 0.8,
                      epochs: int | None = None, progress=None) -> pd.DataFrame:
    """Train the run's network once per method; PR-AUC, recall at a precision, time, calibration.

    ``run`` is a :class:`~core.fraud.pipeline.FraudRun`: its features and split are reused, so
    only the rebalancing differs. ``progress(i, n, method)`` is called before each method.
    """
    from core.fraud.decisions import compute_card_precision_at_k, compute_recall_at_precision
    from core.ml.metrics import compute_binary_metrics

    methods = check_methods(methods)
    frame, split = run.features.frame, run.split
    y = run.history[run.columns.target].to_numpy(float).astype(int)
    test = run.test
    rows = []
    for i, method in enumerate(methods):
        if progress:
            progress(i, len(methods), method)
        cfg = replace(run.config.tabular, imbalance=method, baselines=(),
                      epochs=epochs or run.config.tabular.epochs)
        t0 = time.perf_counter()
        try:
            tab = train_tabular(frame.iloc[split.train_idx], y[split.train_idx],
                                frame.iloc[split.test_idx], y[split.test_idx],
                                numeric=run.features.numeric, categorical=run.features.categorical,
                                config=cfg)
        except DataValidationError as exc:  # e.g. too few frauds for SMOTE: report, keep going
            rows.append({"method": method, "error": str(exc)})
            continue
        seconds = time.perf_counter() - t0
        p = tab.p_test
        m = compute_binary_metrics(y[split.test_idx], p, tab.threshold)
        cards = test["customer"].to_numpy() if run.columns.customer else np.arange(len(test))
        rows.append({
            "method": method,
            "pr_auc": m["pr_auc"], "roc_auc": m["roc_auc"],
            f"recall_at_precision_{min_precision:.0%}": compute_recall_at_precision(
                y[split.test_idx], p, min_precision),
            f"card_precision_at_{run.config.k}": compute_card_precision_at_k(
                test["day"].to_numpy(), cards, y[split.test_idx], p, run.config.k)[0],
            "brier": m["brier"],
            "mean_score_vs_fraud_rate": float(p.mean() / max(y[split.test_idx].mean(), 1e-9)),
            "train_rows": int(sum(tab.rebalance_info.counts_after.values())),
            "train_seconds": seconds,
            "error": "",
        })
    return pd.DataFrame(rows)


def _strategy_name(method: str, *, start: bool = False) -> str:
    """A strategy in words: "No rebalancing" for ``none``, "class weights" mid-sentence (SMOTE and ADASYN
    keep their capitals)."""
    name = "No rebalancing" if method == "none" else IMBALANCE_METHODS[method].split(":")[0]
    return name if start or name[:2].isupper() else name[:1].lower() + name[1:]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"


def recommend_imbalance(table: pd.DataFrame) -> str:
    """A plain-words recommendation from :func:`compare_imbalance`'s table."""
    ok = table[table.get("error", "").fillna("") == ""] if "error" in table else table
    if ok.empty:
        return "No strategy could be trained on this data; see the errors in the table."
    best = ok.loc[ok["pr_auc"].idxmax()]
    close = ok[(ok["pr_auc"] >= best["pr_auc"] - 0.01)]
    fastest = close.loc[close["train_seconds"].idxmin()]
    calib = close.loc[close["brier"].idxmin()]
    text = f"**{_strategy_name(best['method'], start=True)}** ranks fraud best (PR-AUC {best['pr_auc']:.3f})."
    if fastest["method"] != best["method"]:
        text += (f" {_strategy_name(fastest['method'], start=True)} is within 0.01 of it and trains in "
                 f"{_seconds(fastest['train_seconds'])} instead of {_seconds(best['train_seconds'])}.")
    if calib["method"] != best["method"]:
        text += (f" {_strategy_name(calib['method'], start=True)} gives the most honest "
                 f"probabilities (Brier {calib['brier']:.4f}).")
    inflated = ok[ok["mean_score_vs_fraud_rate"] > 3]
    if len(inflated):
        names = _and([_strategy_name(m) for m in inflated["method"]])
        text += (f" With {names}, the scores run well above the real fraud rate: read them as a "
                 "ranking, and set thresholds from the cost curve, not at 0.5.")
    return text
