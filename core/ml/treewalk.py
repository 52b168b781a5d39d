"""A fitted binary ``HistGradientBoostingClassifier``'s ``predict_proba(X)[:, 1]`` for a few rows, walked in NumPy.

scikit-learn's own predict spends a one-row request's time around the trees rather than in them: its input
checks, the column transformer that turns categorical codes into ordinal ones, and one OpenMP parallel
region per tree (83 in the bundled fraud run's model), each waking a second thread that spins for work
beside the service's request threads. On this 2-core machine under load 5-8 one row cost 2.7-25 ms of CPU
with OpenMP's default two threads, 1.1-1.3 ms with one (a limit ``threadpoolctl`` sets for the calling
thread only: set in the main thread, it does not reach the server's pool threads), and 0.08 ms walked here
(``python bench/bench_treewalk.py``). ``compile_trees`` reads the fitted node arrays once; ``TreeWalk.proba``
then walks every tree of every row together, one NumPy step per tree level.

The answers are scikit-learn's to the bit: the same ordinal codes (unknown categories and blanks become
NaN), the same float64 comparisons, blanks sent the way each split learned (``missing_go_to_left``),
categorical splits by the same bitsets (a category outside the training's goes the missing way), the
leaves added to the baseline in tree order (``cumsum`` adds one after another, as scikit-learn's loop
does) and the same ``expit`` link. ``tests/core/test_treewalk.py`` compares them on fitted models with blanks,
categorical splits and unseen categories. A model this walk does not know (another loss, several trees
per iteration, an unexpected column transformer) compiles to None and is asked directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WALK_ROWS = 256  # larger inputs go to scikit-learn, whose compiled loop (and threads) then pays off


@dataclass(frozen=True)
class TreeWalk:
    """Every tree's nodes in flat arrays (children of a leaf are the leaf itself, so a walk of
    ``depth`` steps ends on a leaf for every tree)."""

    n_features: int
    order: np.ndarray  # input column of each of scikit-learn's internal columns (categorical first)
    categories: tuple  # (internal column, known raw codes sorted) per categorical column
    feature: np.ndarray  # per node: column of the widened row (see ``_widen``) its split reads
    threshold: np.ndarray  # per node: go left when the value <= threshold
    child: np.ndarray  # per node: [right, left]
    value: np.ndarray  # per node: the leaf's value
    roots: np.ndarray  # per tree: its root node
    depth: int
    baseline: float
    cat_nodes: np.ndarray  # global ids of categorical split nodes
    cat_column: np.ndarray  # their internal column
    cat_left: np.ndarray  # (len(cat_nodes), 256) bool: an ordinal code that goes left
    cat_missing_left: np.ndarray  # a blank or unknown category goes left

    def proba(self, Z) -> np.ndarray | None:
        """``predict_proba(Z)[:, 1]`` as float64, or None when ``Z`` is not a 2-D float array of the model's
        width with at most ``WALK_ROWS`` rows (the caller then asks the model)."""
        if (not isinstance(Z, np.ndarray) or Z.ndim != 2 or Z.dtype.kind != "f" or Z.shape[1] != self.n_features
                or not 0 < Z.shape[0] <= WALK_ROWS):
            return None
        from scipy.special import expit

        n, trees = Z.shape[0], len(self.roots)
        wide = self._widen(Z)  # (n, width)
        width = wide.shape[1]
        base = (np.arange(n) * width).repeat(trees)
        flat = wide.ravel()
        node = np.tile(self.roots, n)
        for _ in range(self.depth):
            go_left = flat[base + self.feature[node]] <= self.threshold[node]
            node = self.child[node * 2 + go_left]
        leaves = self.value[node].reshape(n, trees)
        raw = np.cumsum(np.concatenate([np.full((n, 1), self.baseline), leaves], axis=1), axis=1)[:, -1]
        return np.asarray(expit(raw), dtype=float)

    def _widen(self, Z: np.ndarray) -> np.ndarray:
        """The row as the walk reads it: scikit-learn's internal columns twice, blanks as +inf (a split that
        sends blanks right reads these) and as -inf (one that sends them left), then one column per
        categorical split: -1 when the row goes left there, +1 when right."""
        X = np.empty((Z.shape[0], len(self.order)), dtype=np.float64)
        for j, col in enumerate(self.order):
            X[:, j] = Z[:, col]
        for j, known in self.categories:
            raw = Z[:, self.order[j]]
            idx = np.searchsorted(known, raw)
            hit = idx < len(known)
            hit[hit] = known[idx[hit]] == raw[hit]
            X[:, j] = np.where(hit, idx, np.nan)
        blank = np.isnan(X)
        parts = [np.where(blank, np.inf, X), np.where(blank, -np.inf, X)]
        if len(self.cat_nodes):
            codes = X[:, self.cat_column]  # (n, splits): ordinal codes, NaN for blank or unknown
            gone = np.isnan(codes) | (codes < 0)
            ints = np.where(gone, 0, codes).astype(np.uint8)  # the C cast scikit-learn makes (codes < 256)
            left = self.cat_left[np.arange(len(self.cat_nodes)), ints]
            left = np.where(gone, self.cat_missing_left, left)
            parts.append(np.where(left, -1.0, 1.0))
        return np.concatenate(parts, axis=1)


def _bits(bitset: np.ndarray) -> np.ndarray:
    """A 256-bit bitset (8 x uint32) as 256 booleans: code c is in it when bit c % 32 of word c // 32 is set."""
    codes = np.arange(256)
    return ((bitset[codes // 32] >> (codes % 32).astype(np.uint32)) & 1).astype(bool)


def _column_order(model) -> tuple[np.ndarray, list[int], list[np.ndarray]] | None:
    """Input column of each internal column, the internal categorical columns and their known raw codes."""
    n = int(model.n_features_in_)
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.arange(n), [], []
    names = [t[0] for t in pre.transformers_]
    if names[:2] != ["encoder", "numerical"] or any(t[1] != "drop" for t in pre.transformers_[2:]):
        return None
    enc = pre.named_transformers_["encoder"]
    if (enc.handle_unknown != "use_encoded_value" or not np.isnan(enc.unknown_value)
            or not np.isnan(enc.encoded_missing_value) or getattr(enc, "_infrequent_enabled", False)):
        return None
    masks = [np.asarray(t[2]) for t in pre.transformers_[:2]]
    if any(m.dtype != bool or m.shape != (n,) for m in masks) or not (masks[0] ^ masks[1]).all():
        return None
    order = np.concatenate([np.flatnonzero(masks[0]), np.flatnonzero(masks[1])])
    known = []
    for cats in enc.categories_:
        cats = np.asarray(cats)
        if cats.dtype.kind != "f":
            return None
        known.append(cats[~np.isnan(cats)])
    return order, list(range(len(known))), known


def compile_trees(model) -> TreeWalk | None:
    """The walk of a fitted binary ``HistGradientBoostingClassifier``, or None for any other model."""
    if type(model).__name__ != "HistGradientBoostingClassifier" or not type(model).__module__.startswith("sklearn."):
        return None
    predictors = getattr(model, "_predictors", None)
    if (not predictors or getattr(model, "n_trees_per_iteration_", None) != 1 or len(model.classes_) != 2
            or type(model._loss).__name__ != "HalfBinomialLoss"):
        return None
    columns = _column_order(model)
    if columns is None:
        return None
    order, cat_cols, known = columns
    width = len(order)
    known_bits, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    feature, threshold, child, value, roots = [], [], [], [], []
    cat_nodes, cat_column, cat_left, cat_missing = [], [], [], []
    start, depth = 0, 0
    for (tree,) in predictors:
        nodes = tree.nodes
        ids = np.arange(len(nodes)) + start
        leaf = nodes["is_leaf"].astype(bool)
        cat = nodes["is_categorical"].astype(bool) & ~leaf
        num = ~leaf & ~cat
        thr = nodes["num_threshold"].astype(np.float64)
        if not np.isfinite(thr[num]).all():  # an infinite threshold would meet the blanks' stand-ins
            return None
        feat = nodes["feature_idx"].astype(np.intp)
        mgl = nodes["missing_go_to_left"].astype(bool)
        f = np.where(leaf, 0, feat + width * mgl)
        t = np.where(leaf, 0.0, thr)
        for k in np.flatnonzero(cat):
            f[k], t[k] = 2 * width + len(cat_nodes), 0.0
            cat_nodes.append(ids[k])
            cat_column.append(feat[k])
            raw_left = _bits(tree.raw_left_cat_bitsets[nodes["bitset_idx"][k]])
            seen = _bits(known_bits[f_idx_map[feat[k]]])
            cat_left.append(raw_left | (~seen & mgl[k]))  # an unknown category goes the missing way
            cat_missing.append(mgl[k])
        left = np.where(leaf, ids, nodes["left"].astype(np.intp) + start)
        right = np.where(leaf, ids, nodes["right"].astype(np.intp) + start)
        feature.append(f)
        threshold.append(t)
        child.append(np.stack([right, left], axis=1).ravel())
        value.append(nodes["value"].astype(np.float64))
        roots.append(start)
        depth = max(depth, int(nodes["depth"].max()))
        start += len(nodes)
    n_cat = len(cat_nodes)
    return TreeWalk(
        n_features=int(model.n_features_in_), order=order,
        categories=tuple(zip(cat_cols, known)),
        feature=np.concatenate(feature), threshold=np.concatenate(threshold), child=np.concatenate(child),
        value=np.concatenate(value), roots=np.asarray(roots, dtype=np.intp), depth=depth,
        baseline=float(np.asarray(model._baseline_prediction).reshape(-1)[0]),
        cat_nodes=np.asarray(cat_nodes, dtype=np.intp), cat_column=np.asarray(cat_column, dtype=np.intp),
        cat_left=np.asarray(cat_left, dtype=bool).reshape(n_cat, 256),
        cat_missing_left=np.asarray(cat_missing, dtype=bool))
