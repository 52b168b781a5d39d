"""What would flip one transaction's alert: the smallest change in its top features (by SHAP) that moves
the recommended model's fraud risk across the alert threshold.

Each feature may take the training period's quantiles in 5 % steps inside its 1st to 99th percentile, and
a change costs how far it moves the transaction through the training population. The search is the one
every scenario shares (``core.ml.flipsearch``: every single change, then every pair, then every triple on a
10 % grid, each size scored in one batched call; the fewest features that flip the alert win, then the
cheapest change), which does not stall on the engineered windows piled up at zero (most terminals have no
fraud) as a greedy search does. The answer is said in the fraud page's words (alert / no alert, risk,
feature names and values as the alert queue shows them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.ml.flipsearch import Flip, candidates, default_ranges, search_flip


@dataclass(frozen=True)
class AlertFlip:
    """The search's answer for one transaction and the features it was allowed to move."""

    flip: Flip
    features: list[str]

    @property
    def alerted(self) -> bool:
        return self.flip.probability_before >= self.flip.threshold

    def sentence(self, currency: str | None = None) -> str:
        """"No alert if amount were €12.40 instead of €240.00 and terminal fraud rate, 28 days 0 % instead of
        40 % (risk 0.21 instead of 0.87, alert threshold 0.45)", or that no change within range flips it."""
        from core.fraud.alerts import format_value, short_label

        f = self.flip
        outcome = "no alert" if self.alerted else "an alert"
        names = [_lower(short_label(n)) for n in self.features]
        if not f.found:  # "; " between names: a name may hold a comma ("terminal fraud rate, 28 days")
            return (f"No change within the values seen in training (1st to 99th percentile) of {'; '.join(names)} "
                    f"gives {outcome} (risk {f.probability_before:.3f}, alert threshold {f.threshold:.3f}).")
        parts = []
        for i, c in enumerate(f.changes):
            name = _lower(short_label(c.feature))
            parts.append(f"{name}{' were' if i == 0 else ''} {format_value(c.feature, c.after, currency)} instead of "
                         f"{format_value(c.feature, c.before, currency)}")
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (f"{outcome[0].upper() + outcome[1:]} if {joined} (risk {f.probability_after:.3f} instead of "
                f"{f.probability_before:.3f}, alert threshold {f.threshold:.3f}).")


def _lower(name: str) -> str:
    """"Customer transactions" inside a sentence as "customer transactions"; "PR-AUC"-like names stay."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def get_flip_features(contributions: pd.DataFrame, numeric: Sequence[str], k: int = 3) -> list[str]:
    """The ``k`` numeric features with the largest SHAP push (either way) on this transaction; ``contributions``
    as ``core.ml.explain.ShapResult.contributions`` returns it (feature, value, shap)."""
    if not 1 <= int(k) <= 10:
        raise DataValidationError(f"The search may move 1 to 10 features; got {k}. Fix: pick a number in that range.")
    order = contributions.reindex(contributions["shap"].abs().sort_values(ascending=False, kind="stable").index)
    return [f for f in order["feature"] if f in set(numeric)][:int(k)]


def find_alert_flip(row: pd.Series | dict, *, predict_fn: Callable[[pd.DataFrame], np.ndarray], threshold: float,
                    train_features: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str] = (),
                    features: Sequence[str], max_changes: int = 3) -> AlertFlip:
    """The smallest change to ``features`` (numeric engineered features of one transaction, ``row``) that
    moves its risk across ``threshold`` (an alert when the risk is at least the threshold). ``predict_fn``
    takes a frame of engineered features and returns the recommended model's risk; ``train_features``: the
    training period's features (the search's values and costs)."""
    if not 0 < float(threshold) < 1:
        who = "alerts on every transaction" if threshold <= 0 else "alerts on none"
        raise DataValidationError(f"The alert threshold must be between 0 and 1; got {threshold}: the rule {who}, "
                                  "so no change flips it. Fix: move the threshold in 'Alert policy'.")
    features = list(dict.fromkeys(features))
    if not features:
        raise DataValidationError("The search needs at least one numeric feature of the transaction to move; got "
                                  "none. Fix: pick the number of top features (1 or more).")
    wrong = [f for f in features if f not in set(numeric)]
    if wrong:
        raise DataValidationError(f"Only numeric features can move; {', '.join(map(str, wrong))} "
                                  f"{'is' if len(wrong) == 1 else 'are'} not. Fix: pick among the numeric ones.")
    row = dict(row)
    columns = [*numeric, *categorical]
    missing = [f for f in columns if f not in row]
    if missing:
        raise DataValidationError(f"The transaction lacks the model's feature(s) {', '.join(map(str, missing[:8]))}. "
                                  "Fix: explain a transaction of the test period.")
    ranges = default_ranges(train_features, features, features)
    options = {f: candidates(f, row[f], ranges[f], train_features, features) for f in features}
    flip = search_flip(row, predict_fn=predict_fn, threshold=float(threshold), columns=columns, options=options,
                       max_changes=max_changes)
    return AlertFlip(flip=flip, features=features)
