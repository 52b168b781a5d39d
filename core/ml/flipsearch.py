"""What would flip a decision: the smallest change to a few features that moves a model's score across a
threshold. One search for every scenario (credit's declines, ``core.credit.counterfactual``; fraud's alerts,
``core.fraud.flip``); each scenario checks its input and says the answer in its own words.

Each numeric feature may take the training column's quantiles (in 5 % steps) inside its allowed range; each
categorical one the allowed categories. A change costs how far it moves the row through the training
population (the difference in quantile, so "income from the 30th to the 45th percentile" costs 0.15); a change
of category costs CATEGORY_COST.

The search tries every single change, then every pair, then every triple (on a 10 % grid), each size scored
in one batched call; the fewest features that flip the decision win, then the cheapest change. A greedy
search (take the change with the most progress per cost, then search on from there) stalls on features piled
at one value (counts that are mostly zero, fraud's history windows): moving a row just off the pile costs
almost nothing, so cheap small steps use up its changes before a large one is tried. When a size holds more
than EXHAUSTIVE_ROWS candidates (many features may change), it extends the BEAM closest candidates of the
size below with every change of one more feature instead. ``refine=True`` then pulls each change back towards
the row's own value as far as the decision stays flipped, and drops it when the others flip it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, product
from math import prod
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

CATEGORY_COST = 0.25
STEPS = 21  # quantiles 0 %, 5 %, ..., 100 %
EXHAUSTIVE_ROWS = 200_000  # candidates one size may score exhaustively in one call (fraud's 10 top features fit)
BEAM = 50  # candidates of one size extended to the next when that one is too large to try exhaustively


@dataclass(frozen=True)
class Change:
    feature: str
    before: object
    after: object


@dataclass(frozen=True)
class Flip:
    """The search's answer: ``found`` and the ``changes`` (empty when nothing within the ranges flips it)."""

    found: bool
    changes: list[Change]
    probability_before: float
    probability_after: float
    threshold: float
    cost: float = 0.0
    searched: list[str] = field(default_factory=list)


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


def candidates(f, current, allowed, train_df: pd.DataFrame, numeric) -> list[tuple[object, float]]:
    """(value, cost) of every value ``f`` may take but does not have now: the training column's quantiles in
    ``allowed`` (low, high) and its two ends for a number, the ``allowed`` categories for a category."""
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


def _grid(opts: list, size: int) -> list:
    """Triples and larger on every other candidate (10 % steps), the far end kept: a few thousand rows each."""
    return opts if size < 3 else opts[::2] + opts[-1:]


def _moves(features, options, size, beam) -> list[tuple[float, dict]]:
    """(cost, {feature: value}) of every change of ``size`` features, or, when there are more than
    EXHAUSTIVE_ROWS of them, of the ``beam`` changes of one fewer feature extended by one more."""
    combos = list(combinations(features, size))
    if beam is None or sum(prod(len(_grid(options[f], size)) for f in c) for c in combos) <= EXHAUSTIVE_ROWS:
        moves = []
        for subset in combos:
            for choice in product(*(_grid(options[f], size) for f in subset)):
                moves.append((sum(c for _, c in choice), dict(zip(subset, (v for v, _ in choice)))))
        return moves
    seen, moves = set(), []
    for cost, change in beam:
        for f in features:
            if f in change:
                continue
            for v, c in options[f]:
                move = {**change, f: v}
                key = tuple(sorted((k, str(x)) for k, x in move.items()))
                if key not in seen:
                    seen.add(key)
                    moves.append((cost + c, move))
    return moves


def search_flip(row: Mapping, *, predict_fn: Callable[[pd.DataFrame], np.ndarray], threshold: float,
                columns: Sequence[str], options: Mapping[str, list], max_changes: int = 3,
                refine: bool = False) -> Flip:
    """The smallest change to the features of ``options`` (feature -> [(value, cost)], from :func:`candidates`)
    that moves ``row``'s score across ``threshold`` (above: at least the threshold). ``predict_fn`` takes a
    frame of ``columns`` and returns scores; ``max_changes``: at most that many features change."""
    row = dict(row)
    frame = lambda rows: pd.DataFrame(rows, columns=list(columns))  # noqa: E731
    p0 = float(np.asarray(predict_fn(frame([row])), dtype=float)[0])
    above = p0 >= threshold
    flips = (lambda p: p < threshold) if above else (lambda p: p >= threshold)
    features = [f for f in options if options[f]]
    searched = list(options)
    beam = None
    for size in range(1, min(int(max_changes), len(features)) + 1):
        moves = _moves(features, options, size, beam)
        if not moves:
            continue
        probs = np.asarray(predict_fn(frame([{**row, **m} for _, m in moves])), dtype=float)
        hits = [k for k, p in enumerate(probs) if flips(p)]
        if hits:
            k = min(hits, key=lambda k: (moves[k][0], -abs(probs[k] - threshold)))
            state, p_after = {**row, **moves[k][1]}, float(probs[k])
            if refine:
                state, p_after = _pull_back(state, row, moves[k][1], options, predict_fn, frame, flips, p_after)
            changes = [Change(f, row[f], state[f]) for f in features if str(state[f]) != str(row[f])]
            cost = sum(next((c for v, c in options[ch.feature] if str(v) == str(ch.after)), 0.0) for ch in changes)
            return Flip(found=True, changes=changes, probability_before=p0, probability_after=p_after,
                        threshold=float(threshold), cost=float(cost), searched=searched)
        # The closest to the threshold first (then the cheapest): the changes a larger one builds on.
        order = np.lexsort(([c for c, _ in moves], probs if above else -probs))
        beam = [moves[k] for k in order[:BEAM]]
    return Flip(found=False, changes=[], probability_before=p0, probability_after=p0, threshold=float(threshold),
                searched=searched)


def _pull_back(state, base, changed, options, predict_fn, frame, flips, p_state):
    """Each change, in turn, set back to the row's own value if the rest still flip the decision, else to the
    candidate closest to it that still does (one batched call per feature)."""
    for f in list(changed):
        now = next((c for v, c in options[f] if str(v) == str(state[f])), np.inf)
        cheaper = [(base[f], 0.0)] + sorted((vc for vc in options[f] if vc[1] < now), key=lambda vc: vc[1])
        probs = np.asarray(predict_fn(frame([{**state, f: v} for v, _ in cheaper])), dtype=float)
        for (v, _c), p in zip(cheaper, probs):
            if flips(p):
                state, p_state = {**state, f: v}, float(p)
                break
    return state, p_state
