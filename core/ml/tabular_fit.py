"""Training the tabular network(s) of ``core.ml.tabular``: one or several seeds averaged, each
optionally trained again on every training row (fit + validation) for the epochs early stopping chose."""

from __future__ import annotations

from dataclasses import replace

from core.ml.training import ProgressFn


def _network_progress(progress: ProgressFn | None, k: int, n: int) -> ProgressFn | None:
    """The epoch report of network ``k`` (from 0) of ``n``: its logs say which (``network``,
    ``networks``), so a progress bar can move on over all of them (``core.ml.training.progress_share``)."""
    if progress is None or n == 1:
        return progress
    return lambda epoch, epochs, logs: progress(epoch, epochs, {**logs, "network": k + 1, "networks": n})


def describe_refit(history: dict) -> str:
    """One sentence on the refit for the CLI and the page ("" when the network was not refit)."""
    n = len(history.get("refit_loss") or [])
    if not n:
        return ""
    epochs = f"{n} epoch{'s' if n != 1 else ''}"
    return (f"Then trained again from scratch on every training row (validation rows too) for {epochs}: that "
            "network is the one saved and scored; its threshold and any blend were chosen with the validated one.")


def refit_epochs(kept: int, n_fit: int, n_all: int, how: str) -> int:
    """Epochs of a refit on ``n_all`` rows after early stopping kept epoch ``kept`` of a training on
    ``n_fit`` rows: the same count ("epochs": as many passes over the data, each with more steps) or
    that count times ``n_all / n_fit`` ("scaled")."""
    kept = max(1, int(kept))
    return kept if how != "scaled" else max(1, int(round(kept * n_all / max(n_fit, 1))))


def train_networks(X_fit, rb, X_val, y_val, config, edges, progress, say, refit_rows=None):
    """Train ``config.n_models`` networks (seeds seed, seed + 1, ...); with more than one, the
    result's model averages their probabilities and its history is the first network's.

    With ``refit_rows`` (encoded inputs and the ``RebalanceResult`` of every training row), each
    network is trained again from scratch, same seed, on those rows for the epochs up to its lowest
    validation loss (``refit_epochs``). Returns (the fit, whose model is the refit one when refitting, and the
    validated model, which never saw the validation rows: the one the threshold and the blend are
    chosen with)."""
    from core.ml.models import average_models, build_tabular_model
    from core.ml.training import lowest_loss_epoch, train_keras

    def build(k):
        return lambda: build_tabular_model(
            X_fit.shape[1], width=config.width, depth=config.depth, dropout=config.dropout,
            l2=config.l2, learning_rate=config.learning_rate, batch_norm=config.batch_norm,
            wide=config.wide, bin_edges=edges,
            name="tabular_network" if config.n_models == 1 else f"tabular_network_{k}",
        )

    fits, validated = [], []
    for k in range(config.n_models):
        if config.n_models > 1:
            say(f"Training Keras network {k + 1} of {config.n_models}")
        fit = train_keras(
            build(k), X_fit, rb.y, X_val, y_val, epochs=config.epochs, batch_size=config.batch_size,
            class_weight=rb.class_weight, seed=config.seed + k, patience=config.patience,
            progress=_network_progress(progress, k, config.n_models), validation_auc=True,
            plateau_patience=config.plateau_patience or None,
        )
        validated.append(fit.model)
        if refit_rows is not None:
            X_all, rb_all = refit_rows
            # The epoch count is that of the lowest validation loss, however small its lead: the refit has no
            # early stopping, so it trains up to where validation was best (the weights early stopping keeps
            # may be a few epochs earlier, the last to lower the loss by 0.1 %).
            epochs = refit_epochs(lowest_loss_epoch(fit.history) or fit.best_epoch, len(rb.y), len(rb_all.y),
                                  config.refit)
            say(f"Training the Keras network again on all {len(rb_all.y):,} training rows for {epochs} epochs")
            # No early stopping: the epoch count is the validated one (patience beyond it); the loss
            # monitored is on rows this network learns from, so the weights kept are (near) the last.
            again = train_keras(build(k), X_all, rb_all.y, X_val, y_val, epochs=epochs,
                                batch_size=config.batch_size, class_weight=rb_all.class_weight,
                                seed=config.seed + k, patience=epochs + 1,
                                progress=_network_progress(progress, k, config.n_models))
            fit.history["refit_loss"] = again.history.get("loss", [])
            fit = replace(fit, model=again.model, seconds=fit.seconds + again.seconds,
                          extra={**fit.extra, "refit_epochs": epochs, "refit_rows": len(rb_all.y)})
        fits.append(fit)
    if len(fits) == 1:
        return fits[0], validated[0]
    first = fits[0]
    model = average_models([f.model for f in fits])
    checked = model if refit_rows is None else average_models(validated)
    return (replace(first, model=model, seconds=sum(f.seconds for f in fits),
                    extra={**first.extra, "epochs_run": [f.epochs_run for f in fits],
                           "best_epoch": [f.best_epoch for f in fits]}), checked)
