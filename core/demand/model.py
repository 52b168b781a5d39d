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


def pinball_numpy(y: np.ndarray, qpred: np.ndarray) -> float:
    """The same loss in NumPy (tests and reports): y (...), qpred (..., 3)."""
    q = np.array(QUANTILES)
    err = np.asarray(y)[..., None] - np.asarray(qpred)
    return float(np.mean(np.maximum(q * err, (q - 1) * err)))


def build_quantile_model(hist_dim: int, horizon: int, fut_dim: int, *, width: int = 64,
                         dropout: float = 0.1, learning_rate: float = 3e-3):
    """Direct multi-horizon model: inputs (history, future features, reference) -> (H, 3) quantiles."""
    import keras
    from keras import layers

    hist = keras.Input(shape=(hist_dim,), name="history")
    fut = keras.Input(shape=(horizon, fut_dim), name="future")
    ref = keras.Input(shape=(horizon, 1), name="reference")
    h = layers.Dense(width, activation="relu", name="history_encoder")(hist)
    h = layers.Dropout(dropout, name="history_dropout")(h)
    h = layers.RepeatVector(horizon, name="repeat")(h)
    x = layers.Concatenate(name="join")([h, fut])
    z = layers.Dense(width, activation="relu", name="step_dense_1")(x)
    z = layers.Dense(width // 2, activation="relu", name="step_dense_2")(z)
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
    model = keras.Model([hist, fut, ref], out, name="demand_quantile_network")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=get_pinball_loss())
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
