"""What would flip this decision: the smallest change to features an applicant can act on that moves
the network's probability of default across the decline threshold.

The search is small and deterministic. Each numeric feature may take the training column's
quantiles (in 5 % steps) inside the analyst's range; each categorical one the allowed categories.
A change costs how far it moves the applicant through the training population (the difference in
quantile, so "income from the 30th to the 45th percentile" costs 0.15) and a change of category
costs CATEGORY_COST. Every candidate of one step is scored in a single batched call of the network:

1. all single changes; the cheapest that flips the decision is the answer;
2. otherwise greedily take the change with the most progress towards the threshold per unit of cost
   and search again from there, changing at most ``max_changes`` features;
3. each change found is then pulled back towards the applicant's own value as far as the decision
   stays flipped, and dropped when the others flip it alone.

Age, protected attributes and the features the fairness check flags as their proxies never move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.safety import short_text

CATEGORY_COST = 0.25
STEPS = 21  # quantiles 0 %, 5 %, ..., 100 %


@dataclass(frozen=True)
class Change:
    feature: str
    before: object
    after: object


@dataclass(frozen=True)
class Counterfactual:
    """The search's answer: ``found`` and the ``changes`` (empty when nothing within the ranges flips it)."""

    found: bool
    changes: list[Change]
    probability_before: float
    probability_after: float
    threshold: float
    cost: float = 0.0
    searched: list[str] = field(default_factory=list)

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
        from core.units import value_kind, value_text

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
    from core.datasets import detect_sensitive

    named = set(detect_sensitive(features))
    by_age = {f for f in features if str(f).lower() in {"age", "age_years", "applicant_age", "birth_year"}
              or str(f).lower().startswith("age_") or str(f).lower().endswith("_age")}
    return [f for f in features if f in named | by_age | set(sensitive) | set(proxies)]


def default_ranges(train_df: pd.DataFrame, features, numeric) -> dict[str, object]:
    """Each feature's allowed values: numbers between the training column's 1st and 99th percentile
    (to three significant digits), categories as seen in training."""
    out: dict[str, object] = {}
    for f in features:
        col = train_df[f].dropna()
        if f in numeric:
            num = pd.to_numeric(col, errors="coerce").dropna()
            # Three significant digits: a range an analyst reads at a glance (€16,400, not €16,376).
            out[f] = (float(f"{num.quantile(0.01):.3g}"), float(f"{num.quantile(0.99):.3g}")) if len(num) else (0.0, 0.0)
        else:
            out[f] = sorted(col.astype(str).unique().tolist())
    return out


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


def _candidates(f, current, allowed, train_df, numeric):
    """(value, cost) of every value ``f`` may take but does not have now."""
    if f not in numeric:
        return [(v, CATEGORY_COST) for v in allowed if str(v) != str(current)]
    lo, hi = allowed
    col = np.sort(pd.to_numeric(train_df[f], errors="coerce").dropna().to_numpy(dtype=float))
    values = np.unique(np.clip(np.quantile(col, np.linspace(0, 1, STEPS)), lo, hi).tolist() + [lo, hi])
    if len(col) and np.all(col % 1 == 0):
        values = np.unique(np.round(values))
    cur = float(current) if pd.notna(current) else float(np.median(col))
    rank = lambda v: np.searchsorted(col, v, side="right") / max(len(col), 1)  # noqa: E731
    return [(float(v), abs(rank(v) - rank(cur))) for v in values if v != cur]


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
    p0 = float(np.asarray(predict_fn(pd.DataFrame([base])), dtype=float)[0])
    declined = p0 >= threshold
    flips = (lambda p: p < threshold) if declined else (lambda p: p >= threshold)
    gap = (lambda p: p - threshold) if declined else (lambda p: threshold - p)
    frame = lambda rows: pd.DataFrame(rows, columns=features)  # noqa: E731
    state, changed, cost, p_state = dict(base), {}, 0.0, p0
    options = {f: _candidates(f, base[f], actionable[f], train_df, numeric) for f in actionable}
    for _ in range(max_changes):
        moves = [(f, v, c) for f in options if f not in changed for v, c in options[f]]
        if not moves:
            break
        probs = np.asarray(predict_fn(frame([{**state, f: v} for f, v, _ in moves])), dtype=float)
        hits = [k for k, p in enumerate(probs) if flips(p)]
        if hits:
            k = min(hits, key=lambda k: (moves[k][2], gap(probs[k])))
            f, v, c = moves[k]
            state[f], changed[f], cost, p_state = v, c, cost + c, float(probs[k])
            break
        progress = [(gap(p_state) - gap(p)) / (c + 1e-3) for (_, _, c), p in zip(moves, probs)]
        k = int(np.argmax(progress))
        if progress[k] <= 0:
            break
        f, v, c = moves[k]
        state[f], changed[f], cost, p_state = v, c, cost + c, float(probs[k])
    if not flips(p_state):
        return Counterfactual(found=False, changes=[], probability_before=p0, probability_after=p0,
                              threshold=threshold, searched=list(actionable))
    state, p_state = _pull_back(state, base, changed, options, predict_fn, frame, flips, p_state)
    changes = [Change(f, base[f], state[f]) for f in features if str(state[f]) != str(base[f])]
    cost = sum(next((c for v, c in options[ch.feature] if str(v) == str(ch.after)), 0.0) for ch in changes)
    return Counterfactual(found=True, changes=changes, probability_before=p0, probability_after=p_state,
                          threshold=threshold, cost=float(cost), searched=list(actionable))


def _pull_back(state, base, changed, options, predict_fn, frame, flips, p_state):
    """Each change, in turn, set back to the applicant's own value if the rest still flip the decision,
    else to the candidate closest to it that still does (one batched call per feature)."""
    for f in list(changed):
        cheaper = [(base[f], 0.0)] + sorted((vc for vc in options[f] if vc[1] < changed[f]), key=lambda vc: vc[1])
        probs = np.asarray(predict_fn(frame([{**state, f: v} for v, _ in cheaper])), dtype=float)
        for (v, c), p in zip(cheaper, probs):
            if flips(p):
                state, p_state = {**state, f: v}, float(p)
                changed[f] = c
                break
    return state, p_state
