"""Credit's steps, written once for every door: train and decide, save, load, explain, score.

:func:`train_and_decide` is the training every door runs (the page's job ``core.credit.jobs``, the command
line ``core.credit.cli``, the Overview's demo and the monitor's challenger): the model search when asked,
the network and its baselines, SHAP on the first test rows, the profit-optimal decline threshold at the
costs (:func:`decide`) and, when asked, the verdict with its trust flags. :func:`save` writes a
:class:`CreditOutcome` with its workspace summary; :func:`load` and :func:`explain` read it back.

The command-line scorer (``python -m core score``, chunk by chunk), the Dask engine (each partition,
``core.credit.scale``), the Score page (``core.credit.scenario.score_credit_batch``) and the prediction
service (``core.credit.serving``) all score rows with :func:`score_chunk`; they only adapt its input
and output. The decline rule is ``core.credit.scoring.decide``: decline at or above the threshold.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PREDICT_BATCH = 20_000  # rows per network call when a progress callback is passed
EXPLAIN_ROWS = 500  # test rows SHAP explains unless a door asks for another number
EXPLAINING = "Explaining the test rows with SHAP"  # the stage ``train_and_decide`` tells ``status`` before SHAP


@dataclass(frozen=True)
class CreditDecision:
    """The decline threshold chosen at the costs, and the decision's figures on the test rows there
    (``core.credit.profit.compute_decision_kpis``: approval rate, bad rate, profit ...)."""

    threshold: float
    loss_default: float
    margin_good: float
    kpis: dict


@dataclass(frozen=True)
class CreditOutcome:
    """One training's result: the run, its decision, the SHAP values of the first test rows (None when not
    asked), the model search (None without one), the verdict with its trust flags (None when not asked;
    ``trust`` is the ``core.report.trust.Trust`` behind it) and the seconds of the service's own steps
    (``explain``, ``total``)."""

    run: Any  # core.credit.pipeline.CreditRun
    decision: CreditDecision
    shap: Any = None
    search: Any = None
    verdict: dict | None = None
    trust: Any = None
    timings: dict = field(default_factory=dict)


def decide(run, *, loss_default: float | None = None, margin_good: float | None = None,
           digits: int | None = None) -> CreditDecision:
    """The profit-optimal decline threshold on ``run``'s test rows at the costs (the scenario's defaults,
    ``core.credit.profit.LOSS_DEFAULT`` and ``MARGIN_GOOD``, when None), rounded to ``digits`` when given
    (the page's and the demo's three)."""
    from core.credit.profit import LOSS_DEFAULT, MARGIN_GOOD, compute_profit_curve, find_optimal_threshold

    loss = LOSS_DEFAULT if loss_default is None else float(loss_default)
    margin = MARGIN_GOOD if margin_good is None else float(margin_good)
    best = find_optimal_threshold(compute_profit_curve(run.y_test, run.p_test, loss_default=loss, margin_good=margin))
    threshold = best["threshold"] if digits is None else round(best["threshold"], digits)
    return decision_at(run, threshold, loss_default=loss, margin_good=margin)


def decision_at(run, threshold: float, *, loss_default: float, margin_good: float) -> CreditDecision:
    """The decision at a threshold the analyst chose (the page's slider), with its figures on the test rows."""
    from core.credit.profit import compute_decision_kpis

    kpis = compute_decision_kpis(run.y_test, run.p_test, threshold=threshold, loss_default=loss_default,
                                 margin_good=margin_good)
    return CreditDecision(threshold, float(loss_default), float(margin_good), kpis)


def judge(run, decision: CreditDecision):
    """(the verdicts against the best baseline, ROC-AUC then PR-AUC, with the trust flags at the decision,
    as the CLI's ``verdict``; the ``Trust``)."""
    from core.credit.trust import credit_trust
    from core.ml.blend import recommended_name
    from core.ml.verdict import compare_binary
    from core.present.glossary import MODELS
    from core.report.trust import verdict_json

    baselines = {k: v for k, v in run.tabular.proba.items() if k != "network"}
    verdicts = [compare_binary(run.y_test, run.p_test, baselines, metric=m, names=MODELS, seed=0)
                for m in ("roc_auc", "pr_auc")] if baselines and len(np.unique(run.y_test)) == 2 else [None]
    trust = credit_trust(run.y_test, run.p_test, threshold=decision.threshold, loss_default=decision.loss_default,
                         margin_good=decision.margin_good)
    return verdict_json(verdicts[0], trust, more=verdicts[1:], model=recommended_name(run.tabular)), trust


def train_and_decide(df: pd.DataFrame, *, target: str, config=None, positive: Any = None, roles: dict | None = None,
                     sensitive: list | None = None, test_df: pd.DataFrame | None = None, test_size: float = 0.25,
                     keep_columns=(), search_budget: float | None = None, search_trials: int | None = None,
                     shap_rows: int = EXPLAIN_ROWS, loss_default: float | None = None,
                     margin_good: float | None = None, digits: int | None = None, verdict: bool = False,
                     progress=None, status: Callable[[str], None] | None = None, search_progress=None,
                     notice: Callable[[str], None] | None = None) -> CreditOutcome:
    """Search (``search_budget`` seconds, when given), train (``core.credit.pipeline.train_credit``), explain the
    first ``shap_rows`` test rows (none at 0) and decide (:func:`decide`); the verdict when ``verdict``.

    ``progress(epoch, epochs, logs)`` hears every epoch, ``status(text)`` each stage, ``search_progress`` the
    search's trials and ``notice(text)`` the search's notes."""
    from core.credit.pipeline import train_credit

    t0 = time.perf_counter()
    found = None
    if search_budget is not None:
        from core.credit.search import search_credit

        found = search_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                              test_df=test_df, test_size=test_size, budget=search_budget, n_trials=search_trials,
                              progress=search_progress, keep_columns=keep_columns)
        for line in found.result.notices if notice is not None else ():
            notice(line)
        config = found.config
    run = train_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                       test_df=test_df, test_size=test_size, progress=progress, status=status,
                       keep_columns=keep_columns)
    timings, shap = {}, None
    if shap_rows:
        if status is not None:
            status(EXPLAINING)
        t1 = time.perf_counter()
        # SHAP explains the recommended model (the blend, when it won on validation).
        shap = run.explain(run.test_df.iloc[:shap_rows])
        timings["explain"] = time.perf_counter() - t1
    decision = decide(run, loss_default=loss_default, margin_good=margin_good, digits=digits)
    judged, trust = judge(run, decision) if verdict else (None, None)
    timings["total"] = time.perf_counter() - t0
    return CreditOutcome(run, decision, shap=shap, search=found, verdict=judged, trust=trust, timings=timings)


def save(outcome: CreditOutcome, run_dir, *, name: str, data: pd.DataFrame | None = None,
         dataset_name: str | None = None, scorecard=None, proxies_out: bool = True,
         lineage: dict | None = None) -> Path:
    """Save the run as the folder ``run_dir`` with its workspace summary (``core.credit.summary``) at the
    outcome's decision, the model search when there was one and ``lineage`` (a challenger's parent); the
    decision record (threshold, costs, scorecard) is written once, in ``workspace.decision``. ``proxies_out``:
    reason codes leave out features flagged as possible proxies (else they are marked)."""
    from core.credit.persist import save_credit_run
    from core.credit.summary import build_credit_summary

    d = outcome.decision
    summary = build_credit_summary(outcome.run, name=name, threshold=d.threshold, loss_default=d.loss_default,
                                   margin_good=d.margin_good, data=data, dataset_name=dataset_name,
                                   shap=outcome.shap, scorecard=scorecard, proxies_out=proxies_out)
    if outcome.search is not None:
        from core.search.scenarios import attach_search, search_section

        attach_search(summary, search_section(outcome.search, outcome.run.tabular))
    if lineage is not None:
        summary["lineage"] = dict(lineage)
    more = {} if scorecard is None else {"scorecard": scorecard}
    return save_credit_run(outcome.run, run_dir, threshold=d.threshold, extra_metadata=summary, **more)


def load(run_dir, *, runtime: str | None = None):
    """A saved credit run, ready to score and explain (``core.credit.persist.LoadedCreditModel``);
    ``runtime="onnx"`` runs the network on ONNX Runtime."""
    from core.credit.persist import load_credit_model

    return load_credit_model(run_dir, runtime=runtime)


def explain(loaded, rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """SHAP values (probability of default) of a loaded run's recommended model for raw ``rows``, per source
    column, against the background saved with the run: (values, feature names)."""
    return loaded.explain_fn(rows)


def declined_rows(p, threshold: float) -> np.ndarray:
    """Positions of the declined rows (``core.credit.scoring.decide``: at or above ``threshold``)."""
    from core.credit.scoring import DECLINE, decide

    return np.flatnonzero(decide(p, threshold) == DECLINE)


def riskiest(p, rows: np.ndarray, limit: int | None) -> np.ndarray:
    """``rows`` riskiest first (ties in their order), the first ``limit`` of them (all when None)."""
    rows = np.asarray(rows, dtype=int)
    order = rows[np.argsort(-np.asarray(p)[rows], kind="stable")]
    return order if limit is None else order[:max(int(limit), 0)]


def score_chunk(model, part: pd.DataFrame, *, threshold: float, reasons: bool = True, reason_rows: int | None = None,
                with_input: bool = True, progress: Callable[[float, str], None] | None = None):
    """(scored rows in ``part``'s order, probabilities of default) for a loaded credit run
    (``core.credit.persist.load_credit_model``).

    Reason codes go to declined rows: every one with ``reasons=True`` and ``reason_rows=None``, the
    ``reason_rows`` riskiest otherwise, none with ``reasons=False``. ``with_input=False`` gives only the
    scored columns (the prediction service's answer). ``progress(fraction, text)`` is told as the
    network scores batches of ``PREDICT_BATCH`` rows and before the reason codes (fraction of this step, 0 to 1)."""
    from core.credit.scoring import build_scored_frame, compute_reasons_for_rows, scored_fields

    codes = model.preprocessor.transform_codes(part)  # once, for the probabilities and the reason codes
    step = len(part) if progress is None else PREDICT_BATCH  # one network call unless progress is told
    parts = []
    for i in range(0, len(part), max(step, 1)):
        parts.append(np.asarray(model.predict_codes(codes[i:i + step])))
        if progress is not None:
            done = min(i + step, len(part))
            progress(0.8 * done / len(part), f"Scored {done:,} rows")
    p = np.concatenate(parts) if parts else np.zeros(0)
    bad = declined_rows(p, threshold)
    if reason_rows is not None:
        bad = riskiest(p, bad, reason_rows)
    if not reasons:
        bad = bad[:0]
    if progress is not None:
        progress(0.8, f"Reason codes for {len(bad):,} declined applicants")
    why = {} if not len(bad) else compute_reasons_for_rows(
        part, bad.tolist(), explain_fn=functools.partial(model.explain_fn, codes=codes[bad]),
        references=model.references, **model.reason_filter)
    if not with_input:
        return pd.DataFrame(scored_fields(p, threshold=threshold, config=model.scorecard, reasons=why)), p
    return build_scored_frame(part, p, threshold=threshold, config=model.scorecard, reasons=why), p
