"""The demand ensemble written as one Keras readout, so SHAP explains it like the network: its P50
equals the blend of the network's forecast and the baseline's own (core.demand.baselines), in
units, and its SHAP values add up to that forecast."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DataValidationError
from tests.conftest import errors_besides_trust


def _origins(run):
    # A few training origins per series, as the global explanation samples them.
    return {sid: np.arange(run.wcfg.input_len + 3, nt - run.wcfg.horizon, 9) for sid, nt in run.n_train.items()}


@pytest.mark.parametrize("baseline, weight", [("seasonal_naive", 0.25), ("moving_average", 0.75)])
def test_ensemble_readout_equals_the_blend_of_both_forecasts(small_run, baseline, weight):
    from core.demand.baselines import moving_average, seasonal_naive
    from core.demand.ensemble import ensemble_readout
    from core.demand.features import make_windows, to_units

    run, H, m = small_run, small_run.wcfg.horizon, small_run.wcfg.season
    w = make_windows(run.arrays, run.wcfg, _origins(run), with_target=False)
    q = np.asarray(run.model.predict(w.inputs(), verbose=0))
    network = to_units(q[:, :, 1], w.level)
    base = np.stack([seasonal_naive(run.arrays[s].y, t, H, m) if baseline == "seasonal_naive"
                     else moving_average(run.arrays[s].y, t, H, m) for s, t in zip(w.sid, w.origin)])
    want = weight * network + (1 - weight) * base
    readout = ensemble_readout(run, {"baseline": baseline, "weight": weight})
    for step in (1, H):
        got = np.asarray(readout(run.model, H, step)(w.inputs())).ravel()
        np.testing.assert_allclose(got, want[:, step - 1], rtol=1e-4, atol=1e-3)
    got = np.asarray(readout(run.model, H, None)(w.inputs())).ravel()
    np.testing.assert_allclose(got, want.mean(axis=1), rtol=1e-4, atol=1e-3)


def test_ensemble_shap_is_in_units_and_adds_up_to_the_blend(small_run):
    from core.demand.ensemble import explain_demand_ensemble
    from core.demand.explain import compute_global_shap

    assert explain_demand_ensemble(small_run, {"use": False, "baseline": "moving_average"}) is None
    ens = {"use": True, "baseline": "moving_average", "weight": 0.5}
    shap = explain_demand_ensemble(small_run, ens, n_rows=40)
    res = shap.result
    assert res.values.shape == (40, len(res.feature_names)) and shap.step is None
    # Expected gradients: base value plus the row's values is (about) the row's prediction.
    recon = res.base_value + res.values.sum(axis=1)
    err = np.abs(recon - res.predictions) / np.maximum(np.abs(res.predictions), 1.0)
    assert np.median(err) < 0.1
    # Units, not the network's log space: forecasts of a few units to dozens, not around zero.
    net = compute_global_shap(small_run, n_rows=40, seed=0).result
    assert np.median(res.predictions) > 1.0 and abs(np.median(net.predictions)) < 1.0
    # With no weight on the network the blend is the moving average alone: the network's own
    # moving-average input (the mean of the last season, relative to the level) and the level can
    # move it, so every other input, the window's lags included, gets exactly nothing.
    only = explain_demand_ensemble(small_run, {**ens, "weight": 0.0}, n_rows=20).result
    assert small_run.wcfg.version == 2
    moving = {"moving average", "recent level"}
    totals = dict(zip(only.feature_names, np.abs(only.values).sum(axis=0)))
    assert all(v == 0 for k, v in totals.items() if k not in moving), totals
    assert totals["moving average"] > 0 and totals["lag 1"] == 0


def test_unknown_ensemble_baseline_is_a_clear_message(small_run):
    from core.demand.ensemble import ensemble_readout

    with pytest.raises(DataValidationError, match="baseline must be one of .* got 'arima'. Fix: run the search"):
        ensemble_readout(small_run, {"baseline": "arima"})


def _kept_search_page():
    import streamlit as st

    from ui.search import show_kept_search

    show_kept_search("demand.", st.session_state["_run"])


def test_the_search_section_shows_the_ensembles_importance_in_units(small_run):
    from streamlit.testing.v1 import AppTest

    from core.demand.ensemble import explain_demand_ensemble
    from core.demand.search import DemandSearch
    from core.search.engine import run_search
    from tests.core.test_search import FakeClock, QuadraticObjective
    from ui.demand.train import ENSEMBLE_NOTE

    ens = {"checked": True, "use": True, "baseline": "moving_average", "weight": 0.75,
           "best_baseline": "moving_average", "metric": "mae",
           "validation_scores": {"network": 8.0, "seasonal_naive": 10.0, "moving_average": 8.5, "ensemble": 7.5},
           "label": "Ensemble: 75 % Keras network + 25 % moving average"}
    result = run_search(QuadraticObjective(clock=FakeClock()), budget=600, seed=0, n_trials=3, clock=FakeClock())
    shap = explain_demand_ensemble(small_run, ens, n_rows=20)
    at = AppTest.from_function(_kept_search_page, default_timeout=60)
    at.session_state["_run"] = small_run
    at.session_state["demand.search"] = (small_run, DemandSearch(result=result, config=small_run.config, ensemble=ens))
    at.session_state["demand.ensemble_shap"] = (small_run, shap.result, ENSEMBLE_NOTE)
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert sum("Ensemble: global importance (mean |SHAP|)" in c for c in charts) == 1
    assert any("lag 1" in c for c in charts if "Ensemble: global importance" in c)
    assert any(c.value == ENSEMBLE_NOTE for c in at.caption) and "in units of demand" in ENSEMBLE_NOTE
    assert any("Ensemble used" in s.value for s in at.success)
