"""Demand forecasting scenario: sales history -> global Keras quantile forecast -> inventory policy.

Modules: ``data`` (load/validate), ``covariates`` (join a second file of known-in-advance covariates),
``holidays`` (holiday flag, holiday-weighted MAE), ``features`` (windows), ``model`` (Keras network, pinball loss),
``baselines``, ``fmetrics`` (forecast metrics), ``forecast`` (train + backtest), ``inventory``,
``events`` (spike classification), ``explain`` (SHAP), ``charts``, ``export``, ``cli``.
TensorFlow is imported lazily inside functions.
"""
