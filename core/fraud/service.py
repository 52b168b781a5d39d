"""Fraud's scoring step, written once for every door.

The command-line scorer (``python -m core score``, chunk by chunk over a rolling history), the Dask
engine (time partitions, ``core.fraud.scale``), the Score page (``core.fraud.scenario.score_fraud_batch``)
and the prediction service (``core.fraud.serving``) all score transactions with :func:`score_chunk`,
roll the history with :func:`roll_history`, reach back :func:`history_keep`,
pseudonymise key columns with :func:`pseudonymise_keys` and decide at
:func:`decision_thresholds` (the monitor and the fraud page too); they only adapt input and output. A run or
page without a chosen block threshold blocks at :func:`default_block`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError


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
