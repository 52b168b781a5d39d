"""Demand events: will next period's demand exceed a level the planner sets (e.g. shelf capacity)?

A rare yes/no question, so it runs through the shared imbalanced-classification core:
``core.data.imbalance.rebalance`` on the training windows, ``core.ml.models.build_tabular_model`` +
``core.ml.training.train_keras``, scored with ``core.ml.metrics.compute_binary_metrics``. The quantile
forecast gives a second opinion for free: P(demand > level) read from its P10/P50/P90.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.demand.features import make_windows
from core.demand.forecast import DemandRun, _training_origins
from core.demand.inventory import Z_WIDTH
from core.errors import DataValidationError

LEVEL_MODES = ("relative", "absolute")


@dataclass(frozen=True)
class EventConfig:
    """``relative``: level = value x each series' mean training demand; ``absolute``: units."""

    mode: str = "relative"
    value: float = 1.6
    imbalance: str = "class_weight"
    epochs: int = 15
    seed: int = 0


@dataclass
class EventRun:
    """Test-period labels and scores of the event classifier and of the quantile forecast."""

    config: EventConfig
    levels: dict[str, float]
    test: pd.DataFrame  # series, date, y, level, event, p_classifier, p_quantile
    train_counts: dict
    rebalanced_counts: dict
    history: dict
    timings: dict = field(default_factory=dict)
    auc_intervals: dict = field(default_factory=dict)  # score column -> (low, high), set once per run


def compute_levels(run: DemandRun, cfg: EventConfig) -> dict[str, float]:
    """The event level per series, in units."""
    if cfg.mode not in LEVEL_MODES:
        raise DataValidationError(f"Event level mode must be one of {LEVEL_MODES}; got '{cfg.mode}'.")
    if not (cfg.value > 0 and math.isfinite(cfg.value)):
        raise DataValidationError(
            f"The event level must be a positive number; got {cfg.value}. Enter e.g. 1.6 (x mean demand) "
            "or a shelf capacity in units."
        )
    if cfg.mode == "absolute":
        return {sid: float(cfg.value) for sid in run.n_train}
    return {sid: float(cfg.value * max(np.mean(run.arrays[sid].y[:nt]), 1e-9)) for sid, nt in run.n_train.items()}


CHUNK_WINDOWS = 4096  # windows built at a time: only their first step is kept


def _chunks(origins: dict, size: int = CHUNK_WINDOWS):
    """``origins`` split into dicts of about ``size`` windows each (whole series)."""
    part, n = {}, 0
    for sid, t in origins.items():
        part[sid] = t
        n += len(t)
        if n >= size:
            yield part
            part, n = {}, 0
    if part:
        yield part


def _features(run: DemandRun, origins: dict, levels: dict, *, quantiles: bool = False):
    """(X, y, thr, sid, origin, step-1 quantiles in log space or None) for next-period events. Windows
    are built a few thousand at a time and only their first step is kept: the full horizon of every
    test period of thousands of series would take gigabytes."""
    from core.demand.model import apply_spread, predict_quantiles

    parts = {k: [] for k in ("X", "y", "thr", "sid", "origin", "q")}
    for chunk in _chunks(origins):
        w = make_windows(run.arrays, run.wcfg, chunk, with_target=False)
        thr = np.array([math.log1p(levels[s]) for s in w.sid]) - w.level
        parts["X"].append(np.concatenate([w.hist, w.fut[:, 0, :], thr[:, None]], axis=1).astype(np.float32))
        parts["y"].append(np.array([run.arrays[s].y[t + 1] > levels[s] for s, t in zip(w.sid, w.origin)], dtype=int))
        parts["thr"].append(thr)
        parts["sid"].append(w.sid)
        parts["origin"].append(w.origin)
        if quantiles:
            parts["q"].append(apply_spread(predict_quantiles(run.model, w.inputs()), run.spread_factor)[:, 0, :])
    if not parts["X"]:
        empty = np.zeros(0)
        return np.zeros((0, 0), dtype=np.float32), empty.astype(int), empty, empty.astype(object), empty.astype(int), None
    cat = {k: np.concatenate(v) for k, v in parts.items() if v}
    return cat["X"], cat["y"], cat["thr"], cat["sid"], cat["origin"], cat.get("q")


def train_events(run: DemandRun, cfg: EventConfig = EventConfig(), *, progress=None) -> EventRun:
    """Train the event classifier on training windows and score every held-out period."""
    from core.data.imbalance import rebalance
    from core.ml.models import build_tabular_model
    from core.ml.training import train_keras

    t0 = time.perf_counter()
    levels = compute_levels(run, cfg)
    tr_o, va_o, _ = _training_origins(run.n_train, run.wcfg, run.config.max_windows)
    Xtr, ytr, *_ = _features(run, tr_o, levels)
    if ytr.sum() == 0:
        raise DataValidationError(
            f"No demand events in the training periods at this level ({cfg.value:g}, {cfg.mode}); "
            "expected some periods above it. Lower the event level."
        )
    test_o = {sid: np.arange(nt - 1, run.arrays[sid].n - 1) for sid, nt in run.n_train.items()}
    Xte, yte, thr, te_sid, te_origin, qz = _features(run, test_o, levels, quantiles=True)
    has_val = sum(len(v) for v in va_o.values()) > 0
    Xva, yva = _features(run, va_o, levels)[:2] if has_val else (Xtr, ytr)
    mean, sd = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-6
    rb = rebalance((Xtr - mean) / sd, ytr, method=cfg.imbalance, seed=cfg.seed)
    fit = train_keras(lambda: build_tabular_model(Xtr.shape[1], width=32, dropout=0.1),
                      rb.X, rb.y, (Xva - mean) / sd, yva, epochs=cfg.epochs, batch_size=256,
                      class_weight=rb.class_weight, seed=cfg.seed, patience=4, progress=progress)
    from core.ml.models import predict_batched

    p_clf = predict_batched(fit.model, (Xte - mean) / sd)
    # P(demand > level) from the calibrated quantile forecast at step 1, normal in log space.
    sigma = np.maximum((qz[:, 2] - qz[:, 0]) / Z_WIDTH, 1e-6)
    zs = (thr - qz[:, 1]) / sigma
    p_q = 0.5 * (1 - np.vectorize(math.erf)(zs / math.sqrt(2)))
    dates = [run.arrays[s].dates[t + 1] for s, t in zip(te_sid, te_origin)]
    test = pd.DataFrame({"series": te_sid, "date": dates,
                         "y": [run.arrays[s].y[t + 1] for s, t in zip(te_sid, te_origin)],
                         "level": [levels[s] for s in te_sid], "event": yte,
                         "p_classifier": p_clf, "p_quantile": p_q})
    return EventRun(cfg, levels, test, rb.counts_before, rb.counts_after, fit.history,
                    {"train": round(time.perf_counter() - t0, 3)})


CHANCE_VERDICT = "no better than chance"


def _draw_counts(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """(k, n) counts of each of n rows in k resamples of n rows drawn with replacement."""
    idx = rng.integers(0, n, (k, n)) + (np.arange(k) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=k * n).reshape(k, n)


def compute_auc_interval(y, p, *, n_boot: int = 300, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the ROC-AUC over the test rows (seeded, so the same run gives the same
    interval). Events and non-events are resampled separately, keeping their counts, so that every
    resample has both classes even when events are rare.

    A resample is a vector of counts per row, so its AUC is read from each event's position among the
    sorted non-event scores (ties count half) without sorting again: linear in the rows, with memory
    bounded by doing the resamples in chunks (about 2 s for 100,000 test periods on one core). The
    page computes it once per trained classifier (``EventRun.auc_intervals``), not per threshold.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    pos, neg = p[y], np.sort(p[~y])
    n1, n0 = len(pos), len(neg)
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan
    below = np.searchsorted(neg, pos, side="left")  # non-events scored strictly lower than each event
    upto = np.searchsorted(neg, pos, side="right")
    rng = np.random.default_rng(seed)
    aucs, chunk = [], max(1, 2_000_000 // (n0 + n1))
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        w0, w1 = _draw_counts(rng, n0, k), _draw_counts(rng, n1, k)  # how often each row is drawn
        c0 = np.concatenate([np.zeros((k, 1)), np.cumsum(w0, axis=1)], axis=1)
        less = np.take_along_axis(c0, np.broadcast_to(below, (k, n1)), axis=1)
        ties = np.take_along_axis(c0, np.broadcast_to(upto, (k, n1)), axis=1) - less
        aucs.append(((less + 0.5 * ties) * w1).sum(axis=1) / (n1 * n0))
    auc = np.concatenate(aucs)
    a = (1 - level) / 2
    return float(np.quantile(auc, a)), float(np.quantile(auc, 1 - a))


def compute_event_metrics(ev: EventRun, threshold: float = 0.5) -> pd.DataFrame:
    """Precision, recall, F1, ROC-AUC with its 95 % bootstrap interval, PR-AUC, for the classifier
    and the quantile forecast. ``verdict`` is "no better than chance" when the interval holds 0.5:
    then precision, recall and F1 at any threshold say nothing about next period's demand."""
    from core.ml.metrics import compute_binary_metrics

    t = ev.test
    if t["event"].nunique() < 2:
        raise DataValidationError(
            f"The test periods hold {'no' if t['event'].sum() == 0 else 'only'} demand events at this "
            "level, so precision and recall cannot be judged. Change the event level."
        )
    rows = {}
    for name, col in (("Event classifier", "p_classifier"), ("Quantile forecast", "p_quantile")):
        m = compute_binary_metrics(t["event"].to_numpy(), t[col].to_numpy(), threshold)
        # The interval does not depend on the threshold: computed once, then reused on every slider move.
        if col not in ev.auc_intervals:
            ev.auc_intervals[col] = compute_auc_interval(t["event"].to_numpy(), t[col].to_numpy(), seed=ev.config.seed)
        lo, hi = ev.auc_intervals[col]
        rows[name] = {**{k: m[k] for k in ("roc_auc",)}, "roc_auc_low": lo, "roc_auc_high": hi,
                      "verdict": CHANCE_VERDICT if lo <= 0.5 <= hi else
                      ("better than chance" if lo > 0.5 else "worse than chance"),
                      **{k: m[k] for k in ("precision", "recall", "f1", "pr_auc", "prevalence")}}
    return pd.DataFrame.from_dict(rows, orient="index")


def event_note(name: str, row) -> str | None:
    """A warning for a row of ``compute_event_metrics`` whose ROC-AUC interval holds 0.5, else None."""
    if row["verdict"] != CHANCE_VERDICT:
        return None
    return (f"{name}: ROC-AUC {row['roc_auc']:.2f} (95 % interval {row['roc_auc_low']:.2f}–{row['roc_auc_high']:.2f}) "
            f"is {CHANCE_VERDICT}; its alerts, precision, recall and F1 say nothing about the next period. "
            "Try another level or more history.")
