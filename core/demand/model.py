"""The global quantile forecasting network (Keras) and its pinball loss.

Architecture: the history window is encoded once, repeated for every horizon step and joined with
that step's known-in-advance features (calendar, covariates, position, seasonal-naive reference).
A shared per-step network outputs P50 as a correction of the seasonal-naive reference, and P10 /
P90 as non-negative distances below and above it, so the quantiles never cross.
"""

from __future__ import annotations

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)
_REGISTERED: dict = {}


def get_pinball_loss():
    """Mean pinball (quantile) loss over P10/P50/P90; registered so saved models load safely."""
    if "loss" in _REGISTERED:
        return _REGISTERED["loss"]
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="demand", name="pinball_loss")
    def pinball_loss(y_true, y_pred):
        q = ops.convert_to_tensor(np.array(QUANTILES, dtype="float32"))
        err = ops.expand_dims(y_true, -1) - y_pred
        return ops.mean(ops.maximum(q * err, (q - 1.0) * err))

    _REGISTERED["loss"] = pinball_loss
    return pinball_loss


def get_quantile_loss(tail: float = 0.1, median_weight: float = 1.0):
    """Pinball loss with the outer outputs trained at quantiles ``tail`` / ``1 - tail`` and the
    middle one weighted ``median_weight`` (the model search's loss settings). The interval is
    recalibrated to P10-P90 on validation windows afterwards, so other tails change how the
    spread is learnt, not what the outputs mean. Today's settings give the registered loss."""
    if (float(tail), float(median_weight)) == (0.1, 1.0):
        return get_pinball_loss()
    if "class" not in _REGISTERED:
        import keras
        from keras import ops

        @keras.saving.register_keras_serializable(package="demand", name="QuantileLoss")
        class QuantileLoss(keras.losses.Loss):
            def __init__(self, tail=0.1, median_weight=1.0, name="quantile_loss", **kwargs):
                super().__init__(name=name, **kwargs)
                self.tail, self.median_weight = float(tail), float(median_weight)

            def call(self, y_true, y_pred):
                q = ops.convert_to_tensor(np.array([self.tail, 0.5, 1 - self.tail], dtype="float32"))
                w = ops.convert_to_tensor(np.array([1.0, self.median_weight, 1.0], dtype="float32"))
                err = ops.expand_dims(y_true, -1) - y_pred
                return ops.mean(w * ops.maximum(q * err, (q - 1.0) * err), axis=(-2, -1)) * 3.0 / (
                    2.0 + self.median_weight)

            def get_config(self):
                return {**super().get_config(), "tail": self.tail, "median_weight": self.median_weight}

        _REGISTERED["class"] = QuantileLoss
    return _REGISTERED["class"](tail=tail, median_weight=median_weight)


def get_p50_error():
    """Mean absolute error of the middle output (scaled units): a validation figure per epoch that
    does not depend on the loss settings, so the model search can compare trials epoch by epoch."""
    if "p50" in _REGISTERED:
        return _REGISTERED["p50"]
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="demand", name="p50_error")
    def p50_error(y_true, y_pred):
        return ops.mean(ops.abs(y_true - y_pred[..., 1]))

    _REGISTERED["p50"] = p50_error
    return p50_error


def get_weighted_quantile_loss(tail: float = 0.1, median_weight: float = 1.0):
    """Pinball loss whose targets carry their own weights: ``y_true`` is (N, H, 3) — the target, the
    weight of its P50 and the weight of its outer quantiles (0 for a masked target). Weighting P50 by
    the series' level in units (and holiday periods by 5) makes the loss on log demand follow the
    holiday-weighted MAE in units; the outer quantiles may be weighted differently, so the interval
    is learnt for every series and not only the largest."""
    if "weighted" not in _REGISTERED:
        import keras
        from keras import ops

        @keras.saving.register_keras_serializable(package="demand", name="WeightedQuantileLoss")
        class WeightedQuantileLoss(keras.losses.Loss):
            def __init__(self, tail=0.1, median_weight=1.0, name="weighted_quantile_loss", **kwargs):
                super().__init__(name=name, **kwargs)
                self.tail, self.median_weight = float(tail), float(median_weight)

            def call(self, y_true, y_pred):
                q = ops.convert_to_tensor(np.array([self.tail, 0.5, 1 - self.tail], dtype="float32"))
                target, w50, wtail = y_true[..., 0:1], y_true[..., 1:2], y_true[..., 2:3]
                err = target - y_pred
                loss = ops.maximum(q * err, (q - 1.0) * err)
                w = ops.concatenate([wtail, self.median_weight * w50, wtail], axis=-1)
                return ops.sum(w * loss) / ops.maximum(ops.sum(w), 1e-6) * 3.0

            def get_config(self):
                return {**super().get_config(), "tail": self.tail, "median_weight": self.median_weight}

        _REGISTERED["weighted"] = WeightedQuantileLoss
    return _REGISTERED["weighted"](tail=tail, median_weight=median_weight)


def get_weighted_p50_error():
    """Weighted mean absolute error of P50 (scaled units) for targets packed as in
    ``get_weighted_quantile_loss``; logged as ``p50_error`` like the unweighted metric."""
    if "wp50" in _REGISTERED:
        return _REGISTERED["wp50"]
    import keras
    from keras import ops

    def p50_error(y_true, y_pred):
        w = y_true[..., 1]
        return ops.sum(w * ops.abs(y_true[..., 0] - y_pred[..., 1])) / ops.maximum(ops.sum(w), 1e-6)

    _REGISTERED["wp50"] = keras.saving.register_keras_serializable(package="demand", name="weighted_p50_error")(
        p50_error)
    return _REGISTERED["wp50"]


def pinball_numpy(y: np.ndarray, qpred: np.ndarray) -> float:
    """The same loss in NumPy (tests and reports): y (...), qpred (..., 3)."""
    q = np.array(QUANTILES)
    err = np.asarray(y)[..., None] - np.asarray(qpred)
    return float(np.mean(np.maximum(q * err, (q - 1) * err)))


def build_quantile_model(hist_dim: int, horizon: int, fut_dim: int, *, width: int = 64,
                         dropout: float = 0.1, learning_rate: float = 3e-3, depth: int = 2, l2: float = 0.0,
                         tail: float = 0.1, median_weight: float = 1.0, weighted: bool = False,
                         name: str = "demand_quantile_network"):
    """Direct multi-horizon model: inputs (history, future features, reference) -> (H, 3) quantiles.

    ``depth`` per-step layers of ``width``, ``width / 2``, ... units; ``l2`` weight penalty on the
    dense layers; ``tail`` / ``median_weight`` the loss settings (``get_quantile_loss``); ``weighted``:
    targets carry their weights (``get_weighted_quantile_loss``)."""
    import keras
    from keras import layers

    hist = keras.Input(shape=(hist_dim,), name="history")
    fut = keras.Input(shape=(horizon, fut_dim), name="future")
    ref = keras.Input(shape=(horizon, 1), name="reference")
    reg = keras.regularizers.L2(l2) if l2 else None
    h = layers.Dense(width, activation="relu", name="history_encoder", kernel_regularizer=reg)(hist)
    h = layers.Dropout(dropout, name="history_dropout")(h)
    h = layers.RepeatVector(horizon, name="repeat")(h)
    x = layers.Concatenate(name="join")([h, fut])
    z = x
    for i in range(max(1, int(depth))):
        z = layers.Dense(max(8, width // 2 ** i), activation="relu", name=f"step_dense_{i + 1}",
                         kernel_regularizer=reg)(z)
    # A linear path next to the non-linear one: smoothing and seasonal corrections are mostly
    # linear in the inputs, and this keeps them easy to learn from a few hundred windows.
    center = layers.Add(name="center_sum")([
        layers.Dense(1, name="center_mlp", kernel_initializer="zeros")(z),
        layers.Dense(1, name="center_linear", kernel_initializer="zeros")(x),
    ])
    p50 = layers.Add(name="p50", dtype="float32")([ref, center])
    # Start the intervals narrow (softplus(-2.25) ~ 0.1 in log units, about +-10 %): wide initial
    # intervals would otherwise survive early stopping on small data sets.
    start = keras.initializers.Constant(-2.25)
    low = layers.Dense(1, activation="softplus", name="spread_low", bias_initializer=start)(z)
    high = layers.Dense(1, activation="softplus", name="spread_high", bias_initializer=start)(z)
    p10 = layers.Subtract(name="p10", dtype="float32")([p50, low])
    p90 = layers.Add(name="p90", dtype="float32")([p50, high])
    out = layers.Concatenate(axis=-1, name="quantiles", dtype="float32")([p10, p50, p90])
    model = keras.Model([hist, fut, ref], out, name=name)
    if weighted:
        loss, metric = get_weighted_quantile_loss(tail, median_weight), get_weighted_p50_error()
    else:
        loss, metric = get_quantile_loss(tail, median_weight), get_p50_error()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=[metric])
    return model


def predict_quantiles(model, inputs: list[np.ndarray], batch_size: int = 4096) -> np.ndarray:
    """Scaled quantiles (N, H, 3) with one graph call per batch (no per-row ``predict``)."""
    n = len(inputs[0])
    if n == 0:
        return np.zeros((0,) + tuple(model.output_shape[1:]), dtype=float)
    outs = [np.asarray(model([x[i:i + batch_size] for x in inputs], training=False))
            for i in range(0, n, batch_size)]
    return np.concatenate(outs).astype(float)


def calibrate_spread(qz: np.ndarray, target: np.ndarray, coverage: float = 0.8) -> float:
    """Factor for the P10/P90 distances from P50 so that ``coverage`` of held-out targets fall
    inside (split-conformal on the validation windows). Pinball training alone leaves intervals
    too wide or too narrow when a model has only a few hundred windows to learn from."""
    qz, t = np.asarray(qz, dtype=float), np.asarray(target, dtype=float)
    up = t >= qz[..., 1]
    dist = np.where(up, qz[..., 2] - qz[..., 1], qz[..., 1] - qz[..., 0])
    r = np.abs(t - qz[..., 1]) / np.maximum(dist, 1e-6)
    r = r[np.isfinite(r)]
    return float(np.clip(np.quantile(r, coverage), 0.25, 4.0)) if r.size else 1.0


def apply_spread(qz: np.ndarray, factor: float) -> np.ndarray:
    """Scale the P10/P90 distances from P50 by ``factor`` (quantiles stay ordered)."""
    out = np.array(qz, dtype=float, copy=True)
    out[..., 0] = qz[..., 1] - factor * (qz[..., 1] - qz[..., 0])
    out[..., 2] = qz[..., 1] + factor * (qz[..., 2] - qz[..., 1])
    return out
