"""Fraud's steps, written once for every door: train and decide, save, load, score.

:func:`train_and_decide` is the training every door runs (the page's job ``core.fraud.jobs``, the command
line ``core.fraud.cli`` and the Overview's demo): the model search when asked, the network and its
baselines on the time split, the cost-optimal review threshold at the review fee (:func:`decide`), SHAP
reasons for the riskiest test transactions and, when asked, the verdict with its trust flags.
:func:`save` writes a :class:`FraudOutcome` with its workspace summary; :func:`load` reads it back.

The command-line scorer (``python -m core score``, chunk by chunk over a rolling history), the Dask
engine (time partitions, ``core.fraud.scale``), the Score page (``core.fraud.scenario.score_fraud_batch``)
and the prediction service (``core.fraud.serving``) all score transactions with :func:`score_chunk`,
roll the history with :func:`roll_history`, reach back :func:`history_keep`,
pseudonymise key columns with :func:`pseudonymise_keys` and decide at
:func:`decision_thresholds` (the monitor and the fraud page too); they only adapt input and output. A run or
page without a chosen block threshold blocks at :func:`default_block`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError

REVIEW_FEE = 5.0  # cost of reviewing one alert unless the analyst names another (the CLI's --review-fee)
EXPLAINING = "Explaining the riskiest transactions with SHAP"  # the stage told ``status`` before SHAP


@dataclass(frozen=True)
class FraudDecision:
    """The review threshold at the lowest total cost for the review fee (``review``: at most 1), the block
    threshold (None: the summary's own, block nothing beyond review) and the cost curve's row there
    (``policy``: threshold, total cost ...; ``core.fraud.decisions.get_optimal_threshold``)."""

    review: float
    block: float | None
    review_fee: float
    policy: dict


@dataclass(frozen=True)
class FraudOutcome:
    """One training's result: the run, its decision, the SHAP reasons (``core.fraud.pipeline.RunExplanations``,
    None when not asked), the model search (None without one), the verdict with its trust flags (None when not
    asked) and the seconds of the service's own steps (``explain``, ``total``)."""

    run: Any  # core.fraud.pipeline.FraudRun
    decision: FraudDecision
    explanations: Any = None
    search: Any = None
    verdict: dict | None = None
    trust: Any = None
    timings: dict = field(default_factory=dict)


def cost_curve(run, review_fee: float = REVIEW_FEE) -> pd.DataFrame:
    """The total cost and savings over review thresholds on ``run``'s test period: fraud missed plus reviews
    at ``review_fee`` (``core.fraud.decisions.compute_cost_curve``)."""
    from core.fraud.decisions import compute_cost_curve

    test = run.test
    return compute_cost_curve(test["label"], test[run.score_column], test["amount"], review_fee=review_fee)


def decide(run, *, review_fee: float = REVIEW_FEE, digits: int | None = None,
           block: Callable[[float], float] | None = None, curve: pd.DataFrame | None = None) -> FraudDecision:
    """The review threshold with the lowest total cost on ``run``'s test period (fraud missed plus reviews at
    ``review_fee``), at most 1, rounded to ``digits`` when given; ``block(review)`` gives the block threshold
    (e.g. :func:`default_block`; None leaves it to the summary). ``curve``: :func:`cost_curve` at ``review_fee``
    when the caller has it already (the fraud page draws it)."""
    from core.fraud.decisions import get_optimal_threshold

    best = get_optimal_threshold(cost_curve(run, review_fee) if curve is None else curve)
    review = min(best["threshold"], 1.0)
    if digits is not None:
        review = round(float(review), digits)
    return FraudDecision(review, None if block is None else block(review), float(review_fee), best)


def judge(run, decision: FraudDecision):
    """(the verdicts against the best baseline, PR-AUC then ROC-AUC, with the trust flags at the review
    threshold, as the CLI's ``verdict``; the ``Trust``)."""
    from core.fraud.pipeline import NETWORK
    from core.fraud.trust import fraud_trust
    from core.ml.blend import recommended_name
    from core.ml.verdict import compare_binary
    from core.present.glossary import MODELS
    from core.report.trust import verdict_json

    test = run.test
    y, p = test["label"].to_numpy(), test[run.score_column].to_numpy()
    baselines = {m: test[f"score_{m}"].to_numpy() for m in run.metrics if m != NETWORK}
    verdicts = [compare_binary(y, p, baselines, metric=m, names=MODELS, seed=0)
                for m in ("pr_auc", "roc_auc")] if baselines and len(set(y)) == 2 else [None]
    trust = fraud_trust(y, p, test["amount"].to_numpy(float), review_threshold=decision.review,
                        review_fee=decision.review_fee, pr_auc=run.recommended_section()["metrics"].get("pr_auc"))
    return verdict_json(verdicts[0], trust, more=verdicts[1:], model=recommended_name(run.tabular)), trust


def train_and_decide(df: pd.DataFrame, cols, *, config, features=None, search_budget: float | None = None,
                     search_trials: int | None = None, search_metric: str = "pr_auc", review_fee: float = REVIEW_FEE,
                     digits: int | None = None, block: Callable[[float], float] | None = None,
                     explain_alerts: int = 20, explain_global: int = 200, explain_seed: int = 0,
                     currency: str | None = None, verdict: bool = False, progress=None,
                     status: Callable[[str], None] | None = None, search_progress=None,
                     notice: Callable[[str], None] | None = None) -> FraudOutcome:
    """Search (``search_budget`` seconds, when given), train on the time split (``core.fraud.pipeline.run_fraud``;
    ``features``: window features built elsewhere, e.g. on a Dask cluster), decide (:func:`decide`), explain the
    ``explain_alerts`` riskiest test transactions and ``explain_global`` sampled ones (none with ``explain_global``
    at 0) and, when ``verdict``, judge.

    ``progress(epoch, epochs, logs)`` hears every epoch, ``status(text)`` each stage, ``search_progress`` the
    search's trials and ``notice(text)`` the search's notes."""
    from core.fraud.pipeline import explain_run, run_fraud

    t0 = time.perf_counter()
    found = None
    if search_budget is not None:
        from core.fraud.search import search_fraud

        found, config = search_fraud(df, cols, budget=search_budget, config=config, n_trials=search_trials,
                                     metric=search_metric, progress=search_progress)
        for line in found.result.notices if notice is not None else ():
            notice(line)
    run = run_fraud(df, cols, config=config, progress=progress, status=status, features=features)
    decision = decide(run, review_fee=review_fee, digits=digits, block=block)
    judged, trust = judge(run, decision) if verdict else (None, None)
    timings, ex = {}, None
    if explain_global:
        if status is not None:
            status(EXPLAINING)
        ex = explain_run(run, top_alerts=explain_alerts, global_rows=explain_global, seed=explain_seed,
                         currency=currency)
        timings["explain"] = ex.seconds
    timings["total"] = time.perf_counter() - t0
    return FraudOutcome(run, decision, explanations=ex, search=found, verdict=judged, trust=trust, timings=timings)


def save(outcome: FraudOutcome, run_dir, *, name: str, data: pd.DataFrame | None = None,
         dataset_name: str | None = None, secret: bytes | None = None, lineage: dict | None = None) -> Path:
    """Save the run as the folder ``run_dir`` with its workspace summary (``core.fraud.summary``) at the outcome's
    decision, the model search when there was one and ``lineage`` (a challenger's parent); ``secret``: the key
    the run's customer pseudonyms were made with (``core.fraud.persist.save_fraud_run``)."""
    from core.fraud.persist import save_fraud_run
    from core.fraud.summary import build_fraud_summary

    d = outcome.decision
    summary = build_fraud_summary(outcome.run, name=name, review_threshold=d.review, block_threshold=d.block,
                                  review_fee=d.review_fee, data=data, dataset_name=dataset_name,
                                  explanations=outcome.explanations)
    if outcome.search is not None:
        from core.search.scenarios import attach_search, search_section

        attach_search(summary, search_section(outcome.search, outcome.run.tabular))
    if lineage is not None:
        summary["lineage"] = dict(lineage)
    run_dir = Path(run_dir)
    return save_fraud_run(outcome.run, run_dir.parent, run_id=run_dir.name, extra_metadata=summary, secret=secret)


def load(run_dir, *, runtime: str | None = None):
    """A saved fraud run, ready to score with :func:`score_chunk` (``core.fraud.persist.SavedFraudModel``: model,
    history, columns); ``runtime="onnx"`` runs the network on ONNX Runtime."""
    from core.fraud.persist import load_fraud_model

    return load_fraud_model(run_dir, runtime=runtime)


def history_keep(feature_config):
    """How far back scoring needs the log: the longest window plus the label delay, and a day."""
    return pd.Timedelta(days=max(feature_config.windows) + feature_config.delay_days + 1)


DEFAULT_BLOCK = 0.9  # block at this risk unless the analyst chose otherwise (never below the review line)


def default_block(review: float) -> float:
    """The block threshold when none was chosen: :data:`DEFAULT_BLOCK`, or the review threshold when higher."""
    return max(DEFAULT_BLOCK, float(review))


def decision_thresholds(meta: dict | None, review: float | None = None, block: float | None = None, *,
                        review_name: str = "--threshold") -> tuple[float, float]:
    """(review, block) thresholds a saved run decides at: the one rule of every door (the command line, the
    Dask engine, the prediction service, the Score page, the monitor, the fraud page).

    The saved settings, or ``review`` (``--threshold``, the Score page's review control; ``review_name``
    names it in the message) and ``block`` (the Score page's block control) when given. A block
    threshold given here below the review one is refused; the saved one is raised to the review
    threshold (block is never below review), so a review threshold above the saved block blocks every alert.
    ``meta=None`` is a model not saved yet (the fraud page): ``review`` is then needed, and without ``block``
    the run blocks at :func:`default_block`."""
    if meta is None:
        if review is None:
            raise TypeError("decision_thresholds needs the review threshold for a model not saved yet")
        saved_review, saved_block = review, None
    else:
        from core.serve.decisions import get_decision_settings

        decided = get_decision_settings(meta)
        saved_review, saved_block = decided["review_threshold"], float(decided["block_threshold"])
    review = float(saved_review if review is None else review)
    if not 0 <= review <= 1:
        raise DataValidationError(f"Expected {review_name} between 0 and 1; got {review}. Fix: e.g. 0.3.")
    if block is None:
        return review, default_block(review) if saved_block is None else max(saved_block, review)
    block = float(block)
    if not 0 <= block <= 1:
        raise DataValidationError(f"Expected the block threshold between 0 and 1; got {block}. "
                                  f"Fix: e.g. {DEFAULT_BLOCK}.")
    if block < review:
        raise DataValidationError(f"The block threshold ({block}) must be at or above the review threshold "
                                  f"({review}). Fix: raise the block threshold.")
    return review, block


def pseudonymise_keys(saved, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its key columns (e.g. a card number) pseudonymised with the run's secret, as the saved
    history holds them; values already pseudonymised stay as they are. ``df`` itself for a run without keys."""
    return df if saved.keys is None else saved.keys.apply(df)


def score_chunk(saved, part: pd.DataFrame, new_log: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
                *, review: float, block: float, riskiest_first: bool = False, features: bool = False):
    """Scored transactions of ``part`` (``risk``, ``decision`` approve / review / block, ``alert``) with their
    window features over ``history`` (the run's saved log when None); ``new_log`` is
    ``prepare_new_transactions(part, ...)`` when the caller has it already.

    Rows keep ``part``'s order, or come riskiest first with ``riskiest_first=True`` (the Score page's
    table). ``features=True`` returns (scored, their engineered features in the same order) for reasons."""
    from core.serve.decisions import fraud_decisions
    from core.fraud.pipeline import score_transactions

    scored, X = score_transactions(part.assign(_pos=np.arange(len(part))),
                                   history=saved.history if history is None else history, cols=saved.columns,
                                   feature_config=saved.feature_config, extra_columns=saved.extra_columns,
                                   predict_proba=saved.predict_proba, prepared=new_log)
    if not riskiest_first:
        order = np.argsort(scored["_pos"].to_numpy(), kind="stable")
        scored, X = scored.iloc[order], X.iloc[order].reset_index(drop=True)
    scored = scored.drop(columns="_pos")
    decision = fraud_decisions(scored["risk"].to_numpy(), review, block)
    scored.insert(1, "decision", decision)
    scored.insert(2, "alert", decision != "approve")
    return (scored, X) if features else scored


def roll_history(history, new_log, time_col: str, last, keep):
    """(history with the scored rows appended, labels unknown, and rows older than ``keep`` before
    the latest time dropped; that latest time)."""
    history = pd.concat([history, new_log.assign(_row=-1)[history.columns]], ignore_index=True)
    last = new_log[time_col].max() if last is None else max(last, new_log[time_col].max())
    return history[history[time_col] >= last - keep].reset_index(drop=True), last
