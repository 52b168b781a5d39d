"""The demand ensemble as one Keras model, so SHAP explains it like the network alone.

The search's ensemble blends the network's forecast with a baseline's, in units:
``w * network + (1 - w) * baseline``. Both baselines are functions of the network's own inputs:
the seasonal naive forecast is the future input's last column (log demand one season back, relative
to the window's level) brought back to units, and the moving average is the mean of the last
``season`` periods: a history input of its own in version 2 windows, the mean of the window's last
season in version 1 (whose windows hold at least one season). Written as one layer
on the network's inputs and output, the ensemble's P50 in units is a single model, and expected
gradients (``core.demand.explain``) attribute it to the same lags, calendar features and
covariates as the network's. Values are in units of demand, not in the network's log space.
"""

from __future__ import annotations

from core.demand.baselines import BASELINES
from core.errors import DataValidationError


def _readout_layer():
    import keras
    from keras import ops

    class EnsembleP50(keras.layers.Layer):
        """(history, reference, quantiles) -> the blend's P50 in units, at one step or averaged."""

        def __init__(self, weight: float, baseline: str, season: int, input_len: int, horizon: int,
                     step: int | None, version: int = 1, **kw):
            super().__init__(**kw)
            self.weight, self.baseline, self.season = float(weight), baseline, int(season)
            self.input_len, self.horizon, self.step, self.version = int(input_len), int(horizon), step, int(version)

        def call(self, hist, fut, quantiles):
            level = 5.0 * hist[:, -1:]  # the history input's last value is the level / 5
            network = ops.relu(ops.expm1(quantiles[:, :, 1] + level))
            if self.baseline == "seasonal_naive":  # the future input's last column is the seasonal naive value
                base = ops.relu(ops.expm1(fut[:, :, -1] + level))
            elif self.version >= 2:  # the moving average relative to the level, next to last in the history
                base = ops.repeat(ops.expm1(hist[:, -2:-1] + level), self.horizon, axis=1)
            else:  # the mean of the last `season` periods, flat over the horizon
                lags = hist[:, self.input_len - self.season:self.input_len]
                base = ops.repeat(ops.mean(ops.expm1(lags + level), axis=1, keepdims=True), self.horizon, axis=1)
            blended = self.weight * network + (1.0 - self.weight) * base
            if self.step is None:
                return ops.mean(blended, axis=1, keepdims=True)
            return blended[:, self.step - 1:self.step]

    return EnsembleP50


def ensemble_readout(run, ens: dict):
    """A ``readout(model, horizon, step)`` for ``core.demand.explain`` that explains the ensemble
    ``ens`` (the search's check) of ``run``'s network: its P50 in units."""
    baseline = ens.get("baseline")
    if baseline not in BASELINES:
        raise DataValidationError(f"The ensemble's baseline must be one of {list(BASELINES)}; got {baseline!r}. "
                                  "Fix: run the search with the ensemble check again.")
    m, L = int(run.wcfg.season), int(run.wcfg.input_len)
    if baseline == "moving_average" and L < m and run.wcfg.version < 2:
        raise DataValidationError(
            f"The moving average reads the last {m} periods, but the network's window holds {L}; the ensemble "
            "cannot be explained as one model. Fix: train with a window of at least one season.")

    def readout(model, horizon: int, step: int | None):
        import keras

        hist, fut, _ref = model.inputs
        layer = _readout_layer()(float(ens.get("weight", 0.5)), baseline, m, L, horizon, step,
                                 int(run.wcfg.version), name="ensemble_p50")
        return keras.Model(model.inputs, layer(hist, fut, model.output), name="demand_ensemble_p50")

    return readout


def explain_demand_ensemble(run, ens: dict, *, n_rows: int = 150, seed: int = 0):
    """Global SHAP of the ensemble's P50 (in units, averaged over the horizon) for a seeded sample
    of training windows, as ``compute_global_shap`` does for the network; None when the search
    did not use the ensemble."""
    if not (ens or {}).get("use"):
        return None
    from core.demand.explain import compute_global_shap

    return compute_global_shap(run, n_rows=n_rows, seed=seed, readout=ensemble_readout(run, ens))

