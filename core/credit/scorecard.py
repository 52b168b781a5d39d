"""Scorecard points with PDO scaling, and the grade table.

A credit score turns the probability of default into points on a log-odds scale: at ``base_score``
points the odds of good to bad are ``base_odds`` : 1, and every ``pdo`` more points double those
odds. Higher points mean lower risk. An applicant is declined when the probability of default is at
or above the decision threshold, which is the same as the points falling below the threshold's score:
one rule for the grade table, the what-if and the scored file (a grade the line falls in is split).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError

# Probabilities are clipped away from 0 and 1 so that the log-odds stay finite.
_EPS = 1e-6
GRADE_LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class ScorecardConfig:
    """PDO scaling (base score at base odds, points to double the odds) and grade cut points.

    ``grade_cuts`` are ascending score boundaries; ``None`` means eight grades A-H, one every
    ``pdo`` points below the base score (A at or above ``base_score``).
    """

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    grade_cuts: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (self.pdo > 0 and math.isfinite(self.pdo)):
            raise DataValidationError(
                f"Points to double the odds must be a positive number; got {self.pdo}. "
                "Fix: use e.g. 20."
            )
        if not (self.base_odds > 0 and math.isfinite(self.base_odds)):
            raise DataValidationError(
                f"Base odds (good : bad) must be a positive number; got {self.base_odds}. "
                "Fix: use e.g. 50 for 50 : 1."
            )
        if self.grade_cuts is not None:
            cuts = list(self.grade_cuts)
            if not 1 <= len(cuts) <= len(GRADE_LETTERS) - 1:
                raise DataValidationError(
                    f"Grade cut points must number between 1 and {len(GRADE_LETTERS) - 1}; "
                    f"got {len(cuts)}. Fix: give e.g. '500, 520, 540, 560, 580, 600'."
                )
            if any(b <= a for a, b in zip(cuts, cuts[1:])):
                raise DataValidationError(
                    f"Grade cut points must be strictly increasing; got {cuts}. "
                    "Fix: list them from lowest to highest score without repeats."
                )

    @property
    def factor(self) -> float:
        """Points per unit of log-odds."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Points at odds of 1 : 1."""
        return self.base_score - self.factor * math.log(self.base_odds)

    @property
    def cuts(self) -> tuple[float, ...]:
        """Ascending grade boundaries actually in use."""
        if self.grade_cuts is not None:
            return tuple(float(c) for c in self.grade_cuts)
        return tuple(self.base_score - self.pdo * k for k in range(6, 0, -1)) + (self.base_score,)

    @property
    def grades(self) -> list[str]:
        """Grade labels from best (A) to worst."""
        return list(GRADE_LETTERS[: len(self.cuts) + 1])


def parse_grade_cuts(text: str) -> tuple[float, ...] | None:
    """Parse '500, 520, 540' into cut points; an empty string means the default cuts."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return tuple(float(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise DataValidationError(
            f"Grade cut points must be numbers separated by commas; got {text!r}. "
            "Fix: write e.g. '500, 520, 540, 560, 580, 600'."
        ) from None


def compute_score_points(p_default, config: ScorecardConfig = ScorecardConfig()) -> np.ndarray:
    """Scorecard points (rounded to whole points) for probabilities of default."""
    p = np.clip(np.asarray(p_default, dtype=float), _EPS, 1 - _EPS)
    return np.rint(config.offset + config.factor * np.log((1 - p) / p))


def score_to_probability(points, config: ScorecardConfig = ScorecardConfig()) -> np.ndarray:
    """Inverse of `compute_score_points` (before rounding): probability of default at ``points``."""
    log_odds_good = (np.asarray(points, dtype=float) - config.offset) / config.factor
    return 1.0 / (1.0 + np.exp(log_odds_good))


def threshold_to_points(threshold: float, config: ScorecardConfig = ScorecardConfig()) -> float:
    """The score at which the probability of default equals ``threshold`` (decline below it)."""
    p = min(max(float(threshold), _EPS), 1 - _EPS)
    return float(config.offset + config.factor * math.log((1 - p) / p))


def assign_grades(points, config: ScorecardConfig = ScorecardConfig()) -> np.ndarray:
    """Grade letter per score: 'A' at or above the top cut, then one letter per band down."""
    cuts = np.asarray(config.cuts, dtype=float)
    # np.searchsorted gives the number of cuts at or below each score (side='right').
    band = np.searchsorted(cuts, np.asarray(points, dtype=float), side="right")
    letters = np.array(config.grades[::-1])  # index 0 = worst grade
    return letters[band]


def _band_ranges(config: ScorecardConfig) -> list[tuple[str, float, float]]:
    cuts = [-np.inf, *config.cuts, np.inf]
    worst_first = config.grades[::-1]
    return [(worst_first[i], cuts[i], cuts[i + 1]) for i in range(len(worst_first))][::-1]


SPLIT = "Split"  # the grade the decline line falls in: its applicants above the line approved, below declined


def grade_decision(low: float, high: float, cut_points: float) -> str:
    """A grade's decision under the one credit rule (decline when P(default) ≥ threshold, i.e. below the
    threshold's score): 'Approve' when the band lies above the line, 'Decline' below it, and
    'Split at N points' for the band the line falls in, whose applicants are approved or declined by
    their own score — the what-if and the scored file give each one's."""
    if low >= cut_points:
        return "Approve"
    if high <= cut_points:
        return "Decline"
    return f"{SPLIT} at {cut_points:.0f} points"


def describe_grade(grade: str, threshold: float, config: ScorecardConfig = ScorecardConfig()) -> str:
    """One sentence on what the decline line means for a grade (the what-if's note under an applicant)."""
    cut_points = threshold_to_points(threshold, config)
    low, high = next((lo, hi) for g, lo, hi in _band_ranges(config) if g == grade)
    decision = grade_decision(low, high, cut_points)
    if decision.startswith(SPLIT):
        return (f"Grade {grade} is split by the decline line at {cut_points:.0f} points: its applicants at or above "
                "it are approved, those below declined.")
    return f"Every applicant of grade {grade} is {'approved' if decision == 'Approve' else 'declined'}."


def compute_grade_table(points, p_default, y=None, *, threshold: float,
                        config: ScorecardConfig = ScorecardConfig()) -> pd.DataFrame:
    """One row per grade: score range, count, share, predicted and observed default rate, how many are
    approved and declined, and the grade's decision (``grade_decision``).

    One rule everywhere: an applicant is declined when the probability of default is at or above the
    threshold (the scored file, the what-if and the reason codes apply the same); a grade the line cuts
    through is 'Split at N points', with its approved and declined counted by that rule.
    """
    points = np.asarray(points, dtype=float)
    p = np.asarray(p_default, dtype=float)
    grades = assign_grades(points, config)
    cut_points = threshold_to_points(threshold, config)
    declined = p >= threshold
    rows = []
    for grade, low, high in _band_ranges(config):
        mask = grades == grade
        n = int(mask.sum())
        decision = grade_decision(low, high, cut_points)
        row = {
            "grade": grade,
            "score_range": _format_range(low, high),
            "count": n,
            "share": n / len(points) if len(points) else 0.0,
            "predicted_default_rate": float(p[mask].mean()) if n else float("nan"),
        }
        if y is not None:
            y_arr = np.asarray(y, dtype=float)
            row["defaults"] = int(y_arr[mask].sum())
            row["default_rate"] = float(y_arr[mask].mean()) if n else float("nan")
        row["approved"] = int((mask & ~declined).sum())
        row["declined"] = int((mask & declined).sum())
        row["decision"] = decision
        rows.append(row)
    return pd.DataFrame(rows)


def _format_range(low: float, high: float) -> str:
    if not np.isfinite(low):
        return f"< {high:g}"
    if not np.isfinite(high):
        return f">= {low:g}"
    return f"{low:g} – {high:g}"
