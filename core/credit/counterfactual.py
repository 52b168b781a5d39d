"""What would flip this decision: the smallest change to features an applicant can act on that moves
the network's probability of default across the decline threshold.

The search is the one every scenario shares (``core.ml.flipsearch``: candidates at the training column's
quantiles inside the analyst's range, costs as moves through the training population, every single change,
then every pair, then every triple, each size in one batched call); each change found is then pulled back
towards the applicant's own value as far as the decision stays flipped. This module checks what the analyst
allows and says the answer in credit's words (approve / decline, probability of default).

Age, protected attributes and the features the fairness check flags as their proxies never move.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.ml.flipsearch import CATEGORY_COST, STEPS, Change, Flip, candidates, default_ranges, search_flip  # noqa: F401
from core.data.safety import short_text


@dataclass(frozen=True)
class Counterfactual(Flip):
    """The search's answer (``core.ml.flipsearch.Flip``) in credit's words: ``found`` and the ``changes`` (empty
    when nothing within the ranges flips it), the decisions before and after."""

    @property
    def decision_before(self) -> str:
        return "decline" if self.probability_before >= self.threshold else "approve"

    @property
    def decision_after(self) -> str:
        return "decline" if self.probability_after >= self.threshold else "approve"

    def sentence(self, train_df: pd.DataFrame | None = None, currency: str | None = None) -> str:
        """"Approve if annual income were €85,000 instead of €62,000 and credit utilisation 35 % instead
        of 89 %", or what no change within the ranges does. ``train_df`` gives each feature's unit."""
        from core.credit.reasons import humanise
        from core.present.units import value_kind, value_text

        flip = "approve" if self.decision_before == "decline" else "decline"
        if not self.found:
            return (f"No change within the allowed ranges of {len(self.searched)} feature"
                    f"{'s' if len(self.searched) != 1 else ''} flips this decision to {flip} "
                    f"(probability of default {self.probability_before:.3f}, threshold {self.threshold:.3f}).")
        parts = []
        for i, c in enumerate(self.changes):
            kind = value_kind(c.feature, train_df[c.feature]) if train_df is not None and c.feature in train_df \
                else value_kind(c.feature, [c.before, c.after])
            name = humanise(c.feature)
            name = name if name[:2].isupper() else name[:1].lower() + name[1:]  # "DTI" stays, "Annual" does not
            verb = " were" if i == 0 else ""
            parts.append(f"{name}{verb} {value_text(c.after, kind, currency)} instead of "
                         f"{value_text(c.before, kind, currency)}")
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (f"{flip.capitalize()} if {joined} (probability of default {self.probability_after:.3f} "
                f"instead of {self.probability_before:.3f}, threshold {self.threshold:.3f}).")


def protected_features(features, sensitive=(), proxies=()) -> list[str]:
    """Features that never move: age, protected attributes by name, the analyst's sensitive columns
    and the proxies flagged by the fairness check."""
    from core.data.datasets import detect_sensitive

    named = set(detect_sensitive(features))
    by_age = {f for f in features if str(f).lower() in {"age", "age_years", "applicant_age", "birth_year"}
              or str(f).lower().startswith("age_") or str(f).lower().endswith("_age")}
    return [f for f in features if f in named | by_age | set(sensitive) | set(proxies)]


def read_ranges(rows) -> dict[str, tuple[float, float]]:
    """The numeric features the analyst lets change, from the page's table (records with ``feature``,
    ``Feature``, ``May change``, ``Lowest``, ``Highest``), as ``{feature: (low, high)}``."""
    out = {}
    for r in rows:
        if not r.get("May change"):
            continue
        try:
            out[r["feature"]] = (float(r["Lowest"]), float(r["Highest"]))
        except (TypeError, ValueError):
            raise DataValidationError(
                f"The range of {r.get('Feature', r['feature'])} needs a lowest and a highest number; got "
                f"{r.get('Lowest')!r} to {r.get('Highest')!r}. Fix: fill in both ends, or untick it.") from None
    return out


def _names(cols) -> str:
    shown = [f"'{short_text(str(c))}'" for c in list(cols)[:8]]
    return ", ".join(shown) + (f" and {len(cols) - 8} more" if len(cols) > 8 else "")


def _check(row, actionable, features, numeric, protected, threshold) -> None:
    if not 0 < threshold < 1:
        raise DataValidationError(f"The decline threshold must be between 0 and 1; got {threshold}. "
                                  "Fix: set it in 'Decision & profit'.")
    if not actionable:
        raise DataValidationError("Pick at least one feature the applicant could change; got none. "
                                  "Fix: tick 'May change' for a feature such as income or utilisation.")
    unknown = [f for f in actionable if f not in features]
    if unknown:
        raise DataValidationError(f"Only the model's features can change; {_names(unknown)} "
                                  f"{'is' if len(unknown) == 1 else 'are'} not among them. Fix: pick from the list.")
    blocked = [f for f in actionable if f in protected]
    if blocked:
        raise DataValidationError(
            f"{_names(blocked)} may not change: age, protected attributes and their proxies (flagged by the "
            "fairness check) are never part of a suggested change. Fix: untick them.")
    missing = [f for f in features if f not in row]
    if missing:
        raise DataValidationError(f"The applicant lacks the model's feature(s) {_names(missing)}. "
                                  "Fix: start from a test applicant.")
    for f, allowed in actionable.items():
        if f in numeric:
            lo, hi = allowed
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
                raise DataValidationError(
                    f"The range of '{short_text(str(f))}' must run from a lower to a higher number; got {lo} to {hi}. "
                    "Fix: swap the two ends or widen the range.")
        elif not allowed:
            raise DataValidationError(f"'{short_text(str(f))}' may change but no category is allowed. "
                                      "Fix: allow at least one category, or untick it.")


def find_flip(row: Mapping, *, predict_fn: Callable[[pd.DataFrame], np.ndarray], threshold: float,
              train_df: pd.DataFrame, numeric, categorical, actionable: Mapping[str, object],
              protected=(), max_changes: int = 3) -> Counterfactual:
    """The smallest change to ``actionable`` features (name -> (low, high) for numbers, allowed values
    for categories) that moves ``row`` across ``threshold`` (decline when the probability of default is
    at least the threshold). ``predict_fn`` takes raw rows and returns probabilities of default."""
    features = [*numeric, *categorical]
    _check(row, actionable, features, numeric, protected, threshold)
    base = {f: row[f] for f in features}
    options = {f: candidates(f, base[f], actionable[f], train_df, numeric) for f in features if f in actionable}
    flip = search_flip(base, predict_fn=predict_fn, threshold=threshold, columns=features, options=options,
                       max_changes=max_changes, refine=True)
    return Counterfactual(**{f.name: getattr(flip, f.name) for f in fields(Flip)})
