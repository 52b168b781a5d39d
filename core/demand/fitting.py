"""Fitting the demand network: a few members averaged into one Keras model, refit on the whole history.

Members: one network's forecast on a few thousand retail series swings by several percent of the
error with the seed (which big series happen to dominate which batches), so ``members`` networks
are trained with consecutive seeds and their quantiles averaged (quantile averaging keeps them
ordered). The average is one Keras model with the network's three inputs, so predicting, saving,
loading and SHAP treat it as one network.

Refit: early stopping and the interval calibration need periods the network did not train on, the
last ones of the training history. Those are the most recent periods (the current level, the last
holiday season), too valuable to leave out of the model that forecasts, so each member is trained
again on every training target for the epochs validation chose for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable


def _build(cfg, hist_dim: int, horizon: int, fut_dim: int, name: str):
    from core.demand.model import build_quantile_model

    return build_quantile_model(hist_dim, horizon, fut_dim, width=cfg.width, learning_rate=cfg.learning_rate,
                                depth=cfg.depth, dropout=cfg.dropout, l2=cfg.l2, tail=cfg.tail_quantile,
                                median_weight=cfg.median_weight, weighted=True, name=name)


def average_models(models: list, horizon: int):
    """One Keras model whose output is the mean of ``models``' quantile outputs (same inputs)."""
    if len(models) == 1:
        return models[0]
    import keras
    from keras import layers

    first = models[0]
    inputs = [keras.Input(shape=tuple(x.shape[1:]), name=x.name.split(":")[0]) for x in first.inputs]
    # Each member rewrapped uncompiled (same layers and weights): a nested model keeps its compile
    # settings in the saved file, and its custom loss would stop a fresh process loading the run.
    members = [keras.Model(m.inputs, m.outputs[0] if len(m.outputs) == 1 else m.outputs, name=m.name) for m in models]
    out = layers.Average(name="member_average", dtype="float32")([m(inputs) for m in members])
    return keras.Model(inputs, out, name="demand_quantile_network")


def fit_members(train_w, val_w, y_train, y_val, wcfg, cfg, *, batch: int, refit_data=None,
                progress: Callable[[int, int, dict], None] | None = None):
    """Train ``cfg.members`` networks (seeds ``cfg.seed``, ``cfg.seed + 1``, ...) with early stopping on
    the validation windows; with ``refit_data`` (windows and targets of every training period), train
    each again on them for its best epoch count. Returns (the first member's ``FitResult`` with the
    averaged final model, the averaged validated model — before the refit, the one the interval is
    calibrated with — and the best epoch of every member)."""
    from core.ml.training import lowest_loss_epoch, train_keras

    k_all = max(1, int(cfg.members))
    total = cfg.epochs * k_all
    fits, validated, best = [], [], []
    for k in range(k_all):
        done = k * cfg.epochs
        report = None if progress is None else (lambda e, n, logs, d=done: progress(d + e, total, logs))
        name = "demand_quantile_network" if k_all == 1 else f"member_{k + 1}"
        fit = train_keras(lambda: _build(cfg, train_w.hist.shape[1], wcfg.horizon, train_w.fut.shape[2], name),
                          train_w.inputs(), y_train, val_w.inputs(), y_val, epochs=cfg.epochs,
                          batch_size=batch, seed=cfg.seed + k, patience=cfg.patience, progress=report)
        # The refit on all rows runs as many epochs as reached the lowest validation loss.
        epochs = max(1, lowest_loss_epoch(fit.history))
        best.append(epochs)
        validated.append(fit.model)
        if refit_data is not None:
            full_w, y_full = refit_data
            again = train_keras(lambda: _build(cfg, full_w.hist.shape[1], wcfg.horizon, full_w.fut.shape[2], name),
                                full_w.inputs(), y_full, full_w.inputs(), y_full, epochs=epochs, batch_size=batch,
                                seed=cfg.seed + k, patience=epochs + 1)
            fit.history.setdefault("refit_loss", again.history.get("loss", []))
            fit = replace(fit, model=again.model)
        fits.append(fit)
    model = average_models([f.model for f in fits], wcfg.horizon)
    checked = model if refit_data is None else average_models(validated, wcfg.horizon)
    return replace(fits[0], model=model), checked, best
