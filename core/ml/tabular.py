"""The tabular binary-classification pipeline shared by credit and fraud.

split (train/validation) -> preprocess (fit on train) -> rebalance (train only) -> Keras network
-> baselines on the same rows -> probabilities and metrics on the test rows.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.imbalance import IMBALANCE_METHODS, RebalanceResult, check_method, rebalance
from core.ml.metrics import choose_threshold, compute_binary_metrics  # noqa: F401  (choose_threshold: its old home)
from core.data.preprocess import SCALINGS, TabularPreprocessor
from core.ml.training import ProgressFn

BASELINES = {
    "logistic_regression": "Logistic regression",
    "gradient_boosting": "Gradient boosting",
}
NETWORK = "network"
REFITS = ("off", "epochs", "scaled")
ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class TabularConfig:
    """Every option of a tabular training run (keyword-only, validated in ``validate``)."""

    imbalance: str = "class_weight"
    width: int = 64
    depth: int = 2
    dropout: float = 0.2
    l2: float = 1e-4
    learning_rate: float = 1e-3
    epochs: int = 40
    batch_size: int | None = 256  # None: scaled with the training rows (see auto_batch_size)
    seed: int = 0
    val_fraction: float = 0.2
    patience: int = 6
    baselines: tuple[str, ...] = ("logistic_regression", "gradient_boosting")
    threshold_rule: str = "f1"  # how the default threshold is chosen on the validation rows
    batch_norm: bool = True  # BatchNormalization after each hidden layer
    wide: bool = False  # add a linear skip from the inputs to the logit ("wide & deep")
    scaling: str = "standard"  # numeric columns: "standard" or "quantile" (see core.data.preprocess)
    bins: int = 0  # piecewise-linear encoding of numeric columns in up to this many quantile bins (0: none)
    plateau_patience: int = 0  # halve the learning rate after this many epochs without improvement (0: never)
    n_models: int = 1  # networks trained with seeds seed, seed + 1, ... and averaged
    # After early stopping on the validation rows, train each network again on every training row (fit +
    # validation): "off", "epochs" (as many epochs as were kept) or "scaled" (that many times the rows' ratio).
    refit: str = "off"
    # Recommend the network blended with a baseline when the blend beats the network on the validation rows
    # (core.search.ensemble.choose_ensemble), scored by this metric; a few validation scores, no training.
    ensemble: bool = True
    ensemble_metric: str = "roc_auc"

    def validate(self) -> "TabularConfig":
        if self.imbalance not in IMBALANCE_METHODS:
            check_method(self.imbalance, [0, 1])
        checks = [
            (1 <= self.width <= 4096, "width", "between 1 and 4096", self.width),
            (1 <= self.depth <= 10, "depth", "between 1 and 10", self.depth),
            (0 <= self.dropout < 1, "dropout", "from 0 up to (not including) 1", self.dropout),
            (self.l2 >= 0, "L2", "zero or more", self.l2),
            (0 < self.learning_rate <= 1, "learning rate", "above 0 and at most 1", self.learning_rate),
            (1 <= self.epochs <= 1000, "epochs", "between 1 and 1000", self.epochs),
            (self.batch_size is None or 1 <= self.batch_size <= 65536, "batch size",
             "between 1 and 65536 (or automatic)", self.batch_size),
            (0.05 <= self.val_fraction <= 0.5, "validation share", "between 0.05 and 0.5", self.val_fraction),
            (self.bins == 0 or 2 <= self.bins <= 256, "bins", "0 (none) or between 2 and 256", self.bins),
            (0 <= self.plateau_patience <= 100, "plateau patience", "between 0 (off) and 100",
             self.plateau_patience),
            (1 <= self.n_models <= 10, "number of averaged networks", "between 1 and 10", self.n_models),
        ]
        for ok, name, expected, got in checks:
            if not ok:
                raise DataValidationError(f"{name.capitalize()} must be {expected}; got {got}. Change the setting.")
        if self.refit not in REFITS:
            raise DataValidationError(f"Refit must be one of {list(REFITS)}; got {self.refit!r}. Change the setting.")
        if self.ensemble_metric not in ("roc_auc", "pr_auc"):
            raise DataValidationError(f"The ensemble's validation metric must be 'roc_auc' or 'pr_auc'; got "
                                      f"{self.ensemble_metric!r}. Change the setting.")
        if self.scaling not in SCALINGS:
            raise DataValidationError(f"Numeric scaling must be one of {list(SCALINGS)}; got {self.scaling!r}. "
                                      "Change the setting.")
        unknown = [b for b in self.baselines if b not in BASELINES]
        if unknown:
            raise DataValidationError(f"Unknown baselines {unknown}; choose from {list(BASELINES)}.")
        return self


def predict_codes(model, preprocessor: TabularPreprocessor, Z: np.ndarray) -> np.ndarray:
    """A tabular network's probabilities for code-space rows (what SHAP perturbs), batched."""
    from core.ml.models import predict_batched

    return predict_batched(model, preprocessor.encode(Z))


def recommended_predict(model, preprocessor: TabularPreprocessor, blend=None):
    """The recommended model's code-space predict function (the network, blended when ``blend``, a
    ``core.ml.blend.Blend``), each batch encoded once for the network and the baseline."""
    from core.ml.blend import recommended_codes
    from core.ml.models import predict_batched

    return recommended_codes(lambda Z: predict_codes(model, preprocessor, Z), preprocessor, blend,
                             network_encoded=lambda E: predict_batched(model, E))


def explain_rows(model, preprocessor: TabularPreprocessor, background: np.ndarray, df: pd.DataFrame, *,
                 seed: int = 0, blend=None, codes: np.ndarray | None = None):
    """SHAP values of a tabular network (blended with a baseline when ``blend``, a ``core.ml.blend.Blend``)
    for raw rows ``df``, one value per source column, against code-space ``background`` rows. Serves a
    freshly trained run and every saved-model loader. ``codes``: ``preprocessor.transform_codes(df)``
    when the caller has it already (a scorer that just predicted these rows)."""
    from core.ml.explain import compute_shap_tabular

    predict = recommended_predict(model, preprocessor, blend)
    codes = preprocessor.transform_codes(df) if codes is None else codes
    shown = df if df.columns.tolist() == preprocessor.columns else df[preprocessor.columns]
    return compute_shap_tabular(predict, background, codes, preprocessor.columns, shown, seed=seed)


@dataclass
class TabularRun:
    """A trained network, its baselines and their scores on the test rows."""

    config: TabularConfig
    preprocessor: TabularPreprocessor
    model: Any
    history: dict[str, list[float]]
    rebalance_info: RebalanceResult
    y_test: np.ndarray
    proba: dict[str, np.ndarray]  # model name -> test probabilities ("network" first)
    threshold: float
    metrics: dict[str, dict[str, float]]
    timings: dict[str, float]
    background: np.ndarray  # code-space training sample for SHAP
    device: str = ""
    notices: list[str] = field(default_factory=list)
    baseline_models: dict[str, Any] = field(default_factory=dict)
    y_val: np.ndarray | None = None  # the validation rows' labels (cut from the training split)
    val_proba: dict[str, np.ndarray] = field(default_factory=dict)  # model name -> validation probabilities
    # The ensemble check on the validation rows (core.search.ensemble.choose_ensemble, plus the blend's
    # threshold, label and test metrics); {} when it was switched off.
    ensemble: dict = field(default_factory=dict)

    @property
    def p_test(self) -> np.ndarray:
        """The network's test probabilities (``p_recommended``: the recommended model's)."""
        return self.proba[NETWORK]

    @property
    def recommended(self) -> str:
        """"ensemble" when the blend beat the network on validation, else "network"."""
        return ENSEMBLE if self.ensemble.get("use") else NETWORK

    @property
    def blend(self):
        """The recommended blend as a ``core.ml.blend.Blend``, or None when the network is recommended."""
        if self.recommended != ENSEMBLE:
            return None
        from core.ml.blend import Blend

        return Blend(self.ensemble["baseline"], float(self.ensemble["weight"]),
                     self.baseline_models[self.ensemble["baseline"]])

    @property
    def p_recommended(self) -> np.ndarray:
        """The recommended model's test probabilities."""
        if self.recommended != ENSEMBLE:
            return self.proba[NETWORK]
        from core.search.ensemble import blend

        return blend(self.proba[NETWORK], self.proba[self.ensemble["baseline"]], self.ensemble["weight"])

    @property
    def recommended_threshold(self) -> float:
        """The default threshold of the recommended model, chosen on the validation rows."""
        return float(self.ensemble["threshold"]) if self.recommended == ENSEMBLE else float(self.threshold)

    def predict_codes(self, Z: np.ndarray) -> np.ndarray:
        """The recommended model's probabilities for a code-space matrix (what SHAP perturbs)."""
        return recommended_predict(self.model, self.preprocessor, self.blend)(Z)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """The recommended model's probabilities for raw rows with the training columns."""
        return self.predict_codes(self.preprocessor.transform_codes(df))

    def explain(self, df: pd.DataFrame, *, seed: int | None = None):
        """SHAP values of the recommended model for raw rows ``df`` (one value per source column)."""
        return explain_rows(self.model, self.preprocessor, self.background, df,
                            seed=self.config.seed if seed is None else seed, blend=self.blend)

    def blend_files(self) -> tuple[dict[str, bytes], dict]:
        """The files and metadata a saved run adds for its recommended blend: ({}, {}) for the network."""
        b = self.blend
        if b is None:
            return {}, {}
        from core.ml.blend import BLEND_FILE, blend_file

        data, meta = blend_file(b)
        return {BLEND_FILE: data}, {"blend": meta}

    def metrics_table(self) -> pd.DataFrame:
        """One row per model with the headline metrics at each model's threshold."""
        names = {NETWORK: "Keras network", **BASELINES}
        rows = [{"model": names.get(k, k), **v} for k, v in self.metrics.items()]
        return pd.DataFrame(rows)

    def save_metadata(self) -> dict:
        """The run's own part of a saved run's metadata; its threshold is the scenario's to record, in the
        run's one decision record (``core.store.runmeta``)."""
        return {
            "config": asdict(self.config),
            "preprocessor": self.preprocessor.to_dict(),
            "metrics": self.metrics,
            "timings": self.timings,
            "history": self.history,
            "counts_before": self.rebalance_info.counts_before,
            "counts_after": self.rebalance_info.counts_after,
            "recommended": _recommended(self),
        }


def _recommended(run) -> dict:
    from core.ml.blend import recommended_section

    return recommended_section(run)


def auto_batch_size(n_rows: int, *, steps: int = 20, smallest: int = 32, largest: int = 2048) -> int:
    """A power of two near ``n_rows / steps``, between ``smallest`` and ``largest``.

    A fixed batch of 256 gives German credit's 640 fitting rows three optimiser steps per epoch, so
    early stopping ends training before the network has learnt much (batches of 32: +0.001 to
    +0.006 ROC-AUC there); the sample's 3,000 rows get 128 (as good as 64, 20 % faster) and tens
    of thousands of rows train several times faster in large batches.
    """
    target = max(n_rows / steps, 1)
    return int(np.clip(2 ** int(np.floor(np.log2(target))), smallest, largest))


def quantile_bin_edges(codes: np.ndarray, n_numeric: int, bins: int) -> list[list[float]]:
    """Edges of up to ``bins`` quantile bins for each of the first ``n_numeric`` code columns, from
    the training rows' observed (not missing) values. A count that is 0 for most rows gets fewer,
    distinct edges; a constant column gets none."""
    probs = np.linspace(0, 1, bins + 1)
    edges = []
    for j in range(n_numeric):
        col = codes[:, j]
        col = col[np.isfinite(col)]
        edges.append([float(v) for v in np.unique(np.quantile(col, probs))] if len(col) else [])
    return edges


def _stratified_split(y: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    strat = y if np.bincount(y, minlength=2).min() >= 2 else None
    fit_idx, val_idx = train_test_split(idx, test_size=frac, random_state=seed, stratify=strat)
    return np.sort(fit_idx), np.sort(val_idx)


def _rebalance_codes(pre: TabularPreprocessor, Z: np.ndarray, y: np.ndarray, config: TabularConfig
                     ) -> RebalanceResult:
    """Rebalance code-space rows. Samplers cannot take the NaN codes of missing values, so for them
    missingness travels as extra category columns (SMOTE-NC copies it from a neighbour) and comes
    back as NaN afterwards."""
    if config.imbalance in ("none", "class_weight") or not pre.indicators:
        return rebalance(Z, y, method=config.imbalance, categorical_idx=pre.categorical_idx, seed=config.seed)
    Zc, cat_idx = pre.missing_to_categories(Z)
    rb = rebalance(Zc, y, method=config.imbalance, categorical_idx=cat_idx, seed=config.seed)
    return replace(rb, X=pre.missing_from_categories(rb.X))


def _fit_baseline(name: str, pre: TabularPreprocessor, Z: np.ndarray, X: np.ndarray, y, weights, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    sw = None if weights is None else np.vectorize(weights.get)(y).astype(float)
    if name == "logistic_regression":
        m = LogisticRegression(max_iter=2000, C=1.0)
        m.fit(X, y, sample_weight=sw)
        return m, "encoded"
    cat_mask = np.zeros(Z.shape[1], dtype=bool)
    cat_mask[pre.categorical_idx] = True
    m = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.05, early_stopping=True, validation_fraction=0.15,
        n_iter_no_change=20, random_state=seed, categorical_features=cat_mask if cat_mask.any() else None,
    )
    m.fit(Z, y, sample_weight=sw)
    return m, "codes"


def train_tabular(
    train_df: pd.DataFrame,
    y_train: np.ndarray,
    test_df: pd.DataFrame,
    y_test: np.ndarray,
    *,
    numeric: list[str],
    categorical: list[str],
    config: TabularConfig = TabularConfig(),
    progress: ProgressFn | None = None,
    status: Any = None,
) -> TabularRun:
    """Train the network and its baselines on ``train_df`` and score ``test_df``.

    ``status(message)`` is called between stages so a page can say what is happening.
    """
    from core.ml.models import predict_batched
    from core.ml.tabular_fit import train_networks

    config = config.validate()
    say = status or (lambda _m: None)
    y_train = np.asarray(y_train).astype(int)
    y_test = np.asarray(y_test).astype(int)
    if len(train_df) != len(y_train) or len(test_df) != len(y_test):
        raise DataValidationError("Each data row needs exactly one label; the row and label counts differ.")
    if len(test_df) == 0:
        raise DataValidationError("The test set is empty; a model cannot be evaluated on no rows. "
                                  "Use a larger file or a different split.")
    check_method(config.imbalance, y_train)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    fit_idx, val_idx = _stratified_split(y_train, config.val_fraction, config.seed)
    fit_df, val_df = train_df.iloc[fit_idx], train_df.iloc[val_idx]
    y_fit, y_val = y_train[fit_idx], y_train[val_idx]
    pre = TabularPreprocessor(list(numeric), list(categorical), scaling=config.scaling).fit(fit_df)
    Z_fit = pre.transform_codes(fit_df)
    Z_val, Z_test = pre.transform_codes(val_df), pre.transform_codes(test_df)
    timings["preprocess"] = time.perf_counter() - t0

    say("Rebalancing the training rows")
    t0 = time.perf_counter()
    rb = _rebalance_codes(pre, Z_fit, y_fit, config)
    X_fit = pre.encode(rb.X)
    X_val, X_test = pre.encode(Z_val), pre.encode(Z_test)
    timings["rebalance"] = time.perf_counter() - t0

    if config.batch_size is None:
        # The run records the batch size really used, so a saved model says how it was trained.
        config = replace(config, batch_size=auto_batch_size(len(rb.y)))
    say("Training the Keras network")
    edges = quantile_bin_edges(rb.X, len(pre.numeric), config.bins) if config.bins else None
    cpu = time.process_time()
    refit_rows = None
    if config.refit != "off":
        rb_all = _rebalance_codes(pre, np.vstack([Z_fit, Z_val]), np.concatenate([y_fit, y_val]), config)
        refit_rows = (pre.encode(rb_all.X), rb_all)
    fit, validated = train_networks(X_fit, rb, X_val, y_val, config, edges, progress, say, refit_rows)
    timings["train"] = fit.seconds
    # CPU seconds of the whole process (every thread): fairer than the wall clock on a shared machine.
    timings["train_cpu"] = time.process_time() - cpu
    t0 = time.perf_counter()
    # The threshold and the blend are chosen on the validated network, which never saw these rows.
    p_val = predict_batched(validated, X_val)
    threshold = choose_threshold(y_val, p_val, config.threshold_rule)
    proba = {NETWORK: predict_batched(fit.model, X_test)}
    timings["predict"] = time.perf_counter() - t0
    metrics = {NETWORK: compute_binary_metrics(y_test, proba[NETWORK], threshold)}

    models, val_proba = {}, {NETWORK: np.asarray(p_val, dtype=float).ravel()}
    for name in config.baselines:
        say(f"Training the {BASELINES[name].lower()} baseline")
        t0, cpu = time.perf_counter(), time.process_time()
        m, space = _fit_baseline(name, pre, rb.X, X_fit, rb.y, rb.class_weight, config.seed)
        val_in, test_in = (X_val, X_test) if space == "encoded" else (Z_val, Z_test)
        val_proba[name] = m.predict_proba(val_in)[:, 1]
        t_b = choose_threshold(y_val, val_proba[name], config.threshold_rule)
        if refit_rows is not None:
            # Learns from the same rows as the refit network, so the test table compares like with like;
            # its validation probabilities (for the threshold and the blend) stay the validated model's.
            m, _ = _fit_baseline(name, pre, refit_rows[1].X, refit_rows[0], refit_rows[1].y,
                                 refit_rows[1].class_weight, config.seed)
        proba[name] = m.predict_proba(test_in)[:, 1]
        metrics[name] = compute_binary_metrics(y_test, proba[name], t_b)
        timings[f"baseline_{name}"] = time.perf_counter() - t0
        timings[f"baseline_{name}_cpu"] = time.process_time() - cpu
        models[name] = m

    rng = np.random.default_rng(config.seed)
    bg = Z_fit[rng.choice(len(Z_fit), min(200, len(Z_fit)), replace=False)]
    run = TabularRun(
        config=config, preprocessor=pre, model=fit.model, history=fit.history, rebalance_info=rb,
        y_test=y_test, proba=proba, threshold=threshold, metrics=metrics, timings=timings,
        background=bg, device=fit.device.label if fit.device else "",
        notices=pre.fit_notices(), baseline_models=models, y_val=y_val, val_proba=val_proba,
    )
    if config.ensemble and models:
        t0 = time.perf_counter()
        from core.ml.blend import check_blend

        run.ensemble = check_blend(y_val, val_proba, y_test, proba, metric=config.ensemble_metric,
                                   rule=config.threshold_rule)
        timings["ensemble_check"] = time.perf_counter() - t0
    return run
