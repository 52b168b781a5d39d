"""Scoring applicants: one edited applicant (what-if) and whole files (scored CSV export).

Both take the model as a plain ``predict_fn(DataFrame) -> probabilities of default`` and,
optionally, ``explain_fn(DataFrame) -> (contributions[n_rows, n_sources], source_names)``, so they
work the same with a freshly trained run, a model loaded from the registry, or a stub in a test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.credit.reasons import get_reason_codes
from core.credit.scorecard import ScorecardConfig, assign_grades, compute_score_points

PredictFn = Callable[[pd.DataFrame], np.ndarray]
ExplainFn = Callable[[pd.DataFrame], tuple[np.ndarray, list[str]]]
N_REASONS = 4
APPROVE, DECLINE = "approve", "decline"


@dataclass(frozen=True)
class ApplicantScore:
    """The outcome for one applicant: probability of default, points, grade, decision, reasons."""

    probability: float
    points: float
    grade: str
    decision: str
    reasons: list[str] = field(default_factory=list)


def decide(p_default, threshold: float) -> np.ndarray:
    """'decline' where the probability of default is at or above the threshold, else 'approve'."""
    return np.where(np.asarray(p_default, dtype=float) >= threshold, DECLINE, APPROVE)


def score_applicant(row: Mapping, *, predict_fn: PredictFn, threshold: float,
                    config: ScorecardConfig = ScorecardConfig(), explain_fn: ExplainFn | None = None,
                    references: Mapping[str, float] | None = None, k: int = N_REASONS,
                    exclude: Sequence[str] = (), flag: Sequence[str] = ()) -> ApplicantScore:
    """Score one applicant given as a mapping of column -> value (the what-if editor's row).

    Reasons (the features that raised the risk most) are given whenever ``explain_fn`` is passed;
    a page shows them as adverse-action reasons when the decision is 'decline'. ``exclude`` / ``flag``:
    possible proxies for a protected attribute left out of the reasons or marked
    (``core.credit.reasons.reason_filter``).
    """
    frame = pd.DataFrame([dict(row)])
    p = float(np.asarray(predict_fn(frame), dtype=float).ravel()[0])
    points = float(compute_score_points([p], config)[0])
    reasons: list[str] = []
    if explain_fn is not None:
        values, names = explain_fn(frame)
        reasons = get_reason_codes(np.asarray(values)[0], names, dict(row), k=k, references=references,
                                   exclude=exclude, flag=flag)
    return ApplicantScore(
        probability=p,
        points=points,
        grade=str(assign_grades([points], config)[0]),
        decision=str(decide([p], threshold)[0]),
        reasons=reasons,
    )


def build_scored_frame(df: pd.DataFrame, p_default, *, threshold: float,
                       config: ScorecardConfig = ScorecardConfig(),
                       reasons: Mapping[int, Sequence[str]] | None = None,
                       k: int = N_REASONS) -> pd.DataFrame:
    """The input rows plus probability_of_default, score_points, grade, decision and reason_1..k.

    ``reasons`` maps a row position to its reason sentences (usually only declined rows have
    them); rows without reasons get empty strings, so the CSV keeps a fixed set of columns.
    """
    out = df.reset_index(drop=True).copy()
    for c, v in scored_fields(p_default, threshold=threshold, config=config, reasons=reasons, k=k).items():
        out[c] = v
    return out


def scored_fields(p_default, *, threshold: float, config: ScorecardConfig = ScorecardConfig(),
                  reasons: Mapping[int, Sequence[str]] | None = None, k: int = N_REASONS) -> dict:
    """The columns ``build_scored_frame`` adds, as ``{name: values}`` (what the prediction service
    answers, without copying the request's own columns first)."""
    p = np.asarray(p_default, dtype=float).ravel()
    points = compute_score_points(p, config)
    out = {"probability_of_default": np.round(p, 6), "score_points": points.astype(int),
           "grade": assign_grades(points, config), "decision": decide(p, threshold)}
    reasons = reasons or {}
    for j in range(k):
        out[f"reason_{j + 1}"] = [reasons[i][j] if i in reasons and j < len(reasons[i]) else "" for i in range(len(p))]
    return out


def compute_reasons_for_rows(df: pd.DataFrame, rows: Sequence[int], *, explain_fn: ExplainFn,
                             references: Mapping[str, float] | None = None,
                             k: int = N_REASONS, exclude: Sequence[str] = (),
                             flag: Sequence[str] = ()) -> dict[int, list[str]]:
    """Reason codes for the given row positions of ``df``, explained in one batched call; ``exclude`` /
    ``flag`` as in ``score_applicant``."""
    from core.ml.explain import plain_index

    rows = list(rows)
    if not rows:
        return {}
    whole = rows == list(range(len(df)))  # a prediction request's declined applicant: every row, in order
    part = plain_index(df) if whole else df.iloc[rows].reset_index(drop=True)
    values, names = explain_fn(part)
    values = np.asarray(values)
    # The rows as plain dicts from one object block (``to_dict("records")`` took longer than the SHAP walk of
    # one applicant); the same Python values.
    columns = part.columns.tolist()
    records = [dict(zip(columns, row)) for row in part.to_numpy(dtype=object)]
    return {
        r: get_reason_codes(values[i], names, records[i], k=k, references=references, exclude=exclude,
                            flag=flag)
        for i, r in enumerate(rows)
    }
