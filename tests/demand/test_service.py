"""Demand's train-and-decide, save, load and explain, written once in core.demand.service for every door."""

import numpy as np
import pytest


def test_decide_keeps_given_params_and_defaults_to_the_policy_in_days(small_run):
    from core.demand.inventory import PolicyParams, default_policy
    from core.demand.service import decide

    given = PolicyParams(service_level=0.9, lead_time=2, review_period=3, holding_cost=0.5, stockout_cost=4.0)
    d = decide(small_run, given)
    assert d.params is given and d.notes == () and d.policy is None
    assert d.aggregate_sigma_scale == pytest.approx(small_run.aggregate_scale(5))
    # No params: the default policy for lead time and review in days, shortened to fit the 7-day horizon.
    default, notes = default_policy(small_run.data.frequency, 7, lead_time_days=7, review_days=7)
    d = decide(small_run)
    assert d.params == default and d.notes == tuple(notes) and notes
    assert decide(small_run, lead_time_days=2, review_days=1).params == default_policy(
        small_run.data.frequency, 7, lead_time_days=2, review_days=1)[0]
    # With the backtest totals: the saved forecast's policy against the best baseline's.
    totals = decide(small_run, given, policy=True).policy
    assert {"cost_model", "cost_naive"} <= set(totals) and totals["cost_model"] >= 0


def test_train_and_decide_save_load_score_explain_round_trip(small_sales, small_sales_frame, tmp_path):
    """One service call trains, recommends, decides and judges; the saved run carries the policy and the
    recommended forecast, and loads back to forecast the same series."""
    from core.demand import service
    from core.demand.forecast import DemandConfig
    from core.store.registry import read_metadata

    stages, epochs = [], []
    out = service.train_and_decide(small_sales, config=DemandConfig(horizon=7, origins=1, epochs=2, seed=0),
                                   lead_time_days=2, review_days=1, policy=True, verdict=True,
                                   explain_ensemble=True, status=stages.append,
                                   progress=lambda e, n, _l: epochs.append((e, n)))
    assert stages[0] == service.TRAINING and epochs and epochs[-1][0] == epochs[-1][1]
    assert out.decision.recommended is out.run.recommended and out.decision.recommended["saved"] in (
        "network", "ensemble")
    assert out.decision.params.lead_time == 2 and out.decision.policy is not None
    assert out.verdict["trust"] and out.trust is not None and out.search is None
    # The ensemble is explained exactly when the recommended (saved) forecast is the blend.
    assert (out.ensemble_shap is not None) == bool(out.run.blend) == ("explain" in out.timings)
    assert out.timings["total"] > 0
    folder = service.save(out, tmp_path / "run", name="service test", data=small_sales_frame, dataset_name="s.csv")
    assert folder == tmp_path / "run"
    meta = read_metadata(folder)
    assert meta["workspace"]["name"] == "service test" and meta.get("blend") == out.run.blend
    assert meta["workspace"]["decision"]["lead_time"] == 2
    loaded = service.load(folder)
    settings = {"service_level": 0.95, "lead_time": 2, "review_period": 1, "holding_cost": 1.0, "stockout_cost": 5.0}
    result = service.score_demand_batch(folder, meta, small_sales_frame, settings, lambda *_: None, loaded=loaded)
    forecast = set(result.scored["series"])
    assert forecast and forecast <= set(out.run.future["series"])
    assert np.isfinite(result.scored["p50"]).all() and (result.decisions["reorder_point"] >= 0).all()
    shap = service.explain(out.run, seed=0)
    assert shap.result.values.shape[0] == len(shap.rows) and np.isfinite(shap.result.values).all()


def test_the_challenger_keeps_the_network_as_trained(small_sales):
    """recommend=False (the monitor's challenger): no recommendation, the network is what is saved."""
    from core.demand import service
    from core.demand.forecast import DemandConfig

    out = service.train_and_decide(small_sales, config=DemandConfig(horizon=7, origins=1, epochs=1, seed=0),
                                   recommend=False)
    assert out.run.recommended is None and out.run.blend is None and out.decision.recommended is None
    assert out.verdict is None and out.ensemble_shap is None
