"""Every figure of "the model" is the saved forecast's: with a saved blend, the workspace's headline
(WAPE, MASE, P10–P90 coverage), its money and curves, the command line's policy cost and the page's
Backtest tiles are the blend's, named as such; the network keeps its own row, labelled. Without a blend,
they are the network's as before."""

from __future__ import annotations

import copy
import json

import pytest

from tests.demand.test_saved_blend import W, _blended, _cli, _rec


def _figure(ws, label):
    return next(f["value"] for f in ws["headline"]["quality"] + ws["headline"]["impact"] if f["label"] == label)


def test_workspace_headline_money_and_curves_are_the_saved_blends(small_run):
    from core.demand.blend import blend_backtest, blend_test_metrics
    from core.demand.inventory import PolicyParams
    from core.demand.summary import build_demand_summary

    run, _rec_ = _blended(small_run)
    params = PolicyParams(0.95, 1, 1, 0.1, 2.0)
    ws, net = build_demand_summary(run, name="b", params=params), build_demand_summary(small_run, name="n", params=params)
    m = blend_test_metrics(small_run, "seasonal_naive", W)
    for label, key in (("WAPE", "wape"), ("MASE", "mase"), ("P10–P90 coverage", "coverage_p10_p90")):
        assert _figure(ws, label) == pytest.approx(m[key])
        assert _figure(net, label) == pytest.approx(float(small_run.metrics.iloc[0][key]))  # unchanged without a blend
    assert _figure(ws, "WAPE") != pytest.approx(_figure(net, "WAPE"))
    # The policy's cost is the blend's, labelled as such; the network's run keeps its label.
    assert _figure(ws, "Cost, recommended blend policy") != pytest.approx(_figure(net, "Cost, network policy"))
    bt = blend_backtest(small_run.backtest, "seasonal_naive", W)
    by_date = bt.groupby("date", sort=True)["ensemble_p50"].sum()
    assert ws["curves"]["backtest_p50"]["y"] == pytest.approx(list(by_date), abs=1e-3)
    assert ws["curves"]["backtest_p50"]["y_label"] == "Forecast P50, recommended blend (all series)"
    assert net["curves"]["backtest_p50"]["y_label"] == "Forecast P50 (all series)"
    assert ws["band"]["p50"] != net["band"]["p50"]
    # The trust flags saved for the Overview and the model card name the saved blend, never "the network".
    why = [f["why"] for f in ws["headline"].get("trust", [])]
    assert not any("The network" in w for w in why)
    assert all(w.startswith("The recommended blend") for w in why if w.startswith("The "))


def test_the_policy_cost_is_computed_from_the_blends_backtest(small_run):
    from core.demand.blend import blend_backtest
    from core.demand.inventory import PolicyParams, compute_policy_backtest, summarize_policy
    from core.demand.verdict import baseline_policy_backtest, baseline_sd, best_baseline

    run, _ = _blended(small_run)
    params = PolicyParams(0.95, 1, 1, 0.1, 2.0)
    kind = best_baseline(run)
    expect = compute_policy_backtest(blend_backtest(small_run.backtest, "seasonal_naive", W), params, 7,
                                     baseline_sd(run, kind), 1.0, baseline=kind, model="ensemble")
    got, _name = baseline_policy_backtest(run, params, 1.0)
    assert got["cost"].sum() == pytest.approx(expect["cost"].sum())
    net, _ = baseline_policy_backtest(small_run, params, 1.0)
    assert not got["reorder_point"].equals(net["reorder_point"])
    s = summarize_policy(got, params, model="recommended blend")
    assert s["explanation"].startswith(("The recommended blend's policy", "Both policies"))
    assert "network's" not in s["explanation"]


def test_cli_policy_section_is_the_saved_blends(small_sales_frame, tmp_path, monkeypatch):
    import json

    import core.demand.recommend as recommend

    data = tmp_path / "sales.csv"
    small_sales_frame.to_csv(data, index=False)
    base = ["train", "--scenario", "demand", "--data", str(data), "--horizon", "7", "--epochs", "1",
            "--event-level", "0", "--json"]
    monkeypatch.setattr(recommend, "recommend_forecast", lambda run: _rec("moving_average", 0.5))
    blend = json.loads(_cli(base)[1].strip().splitlines()[-1])
    off = json.loads(_cli([*base, "--no-ensemble"])[1].strip().splitlines()[-1])
    assert blend["policy"]["model"] == "recommended blend" and off["policy"]["model"] == "network"
    # The same network (seed, 1 epoch), two saved forecasts: the policy cost moves with the blend.
    assert blend["metrics"] == off["metrics"]
    assert blend["policy"]["cost_model"] != pytest.approx(off["policy"]["cost_model"])
    assert blend["policy"]["cost_naive"] == pytest.approx(off["policy"]["cost_naive"])


def _page(run):
    from streamlit.testing.v1 import AppTest

    from tests.demand.page_steps import PAGE

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["demand.run"] = run
    return at.run()


def test_page_backtest_tiles_are_the_saved_blends_and_name_it(small_run):
    from core.demand.blend import blend_test_metrics

    run, rec = _blended(small_run)
    at = _page(run)
    assert not at.exception
    m = blend_test_metrics(small_run, "seasonal_naive", W)
    tiles = {t.label: t.value for t in at.metric}
    assert tiles["WAPE (error / total demand)"] == f"{m['wape']:.1f} %"
    assert tiles["MASE (< 1 beats in-sample naive)"] == f"{m['mase']:.2f}"
    assert tiles["P10–P90 coverage"] == f"{m['coverage_p10_p90']:.0f} %"
    assert "Backtest: recommended blend vs baselines" in [s.value for s in at.subheader]
    assert any(rec["label"] in c.value and "the network's own figures" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if f"Recommended: {rec['label']}" in d.value.index)
    assert "Keras quantile network" in table.index  # the network's own figures, labelled as the network's
    assert "Backtest cost — recommended blend policy" in tiles  # the Inventory tab's policy is the blend's too
    # The warnings, trust flags and charts describe the blend, named; the network alone stays labelled.
    from core.demand.verdict import saved_warnings

    boxes = [b.value for b in [*at.warning, *at.error, *at.info]]
    assert [n for n in saved_warnings(run) if n in boxes] == saved_warnings(run)
    assert not any("The network's" in b or "The network has" in b for b in boxes)
    specs = {c.key: c.proto.spec for c in at.get("plotly_chart")}
    step = json.loads(specs["demand.err_step"])["data"]
    assert [t["name"] for t in step] == [f"Recommended: {rec['label']}", "Keras network alone", "Seasonal naive",
                                         "Moving average"]
    bars = [t["name"] for t in json.loads(specs["demand.err_series"])["data"]]
    assert bars == [f"Recommended: {rec['label']}", "Keras quantile network", "Seasonal naive", "Moving average"]
    series = {t.get("name") for t in json.loads(specs["demand.forecast"])["data"]}
    assert {"P50 (backtest, recommended blend)", "P50 (backtest, network alone)"} <= series
    assert [t["name"] for t in json.loads(specs["demand.policy_chart"])["data"]][0] == "from recommended blend quantiles"
    net = _page(copy.copy(small_run))
    tiles = {t.label: t.value for t in net.metric}
    assert "Backtest cost — network policy" in tiles
    assert tiles["WAPE (error / total demand)"] == f"{small_run.metrics.iloc[0]['wape']:.1f} %"
    assert "Backtest: network vs baselines" in [s.value for s in net.subheader]
    step = json.loads(next(c.proto.spec for c in net.get("plotly_chart") if c.key == "demand.err_step"))["data"]
    assert [t["name"] for t in step] == ["Keras network", "Seasonal naive", "Moving average"]
    policy = json.loads(next(c.proto.spec for c in net.get("plotly_chart") if c.key == "demand.policy_chart"))["data"]
    assert policy[0]["name"] == "from network quantiles"
