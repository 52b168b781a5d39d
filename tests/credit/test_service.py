"""The credit service's decline rule and reason-row choice, shared by every door."""

import numpy as np

from core.credit.scoring import decide
from core.credit.service import declined_rows, riskiest


def test_declined_rows_follow_the_decline_rule_at_the_threshold():
    p = np.array([0.1, 0.3, 0.29999, 0.8, 0.3])
    rows = declined_rows(p, 0.3)
    assert rows.tolist() == [1, 3, 4]
    assert (decide(p, 0.3)[rows] == "decline").all() and (decide(p, 0.3)[np.setdiff1d(range(5), rows)] == "approve").all()


def test_riskiest_orders_by_probability_keeps_ties_in_row_order_and_limits():
    p = np.array([0.5, 0.9, 0.5, 0.7, 0.2])
    rows = np.array([0, 1, 2, 3])
    assert riskiest(p, rows, None).tolist() == [1, 3, 0, 2]
    assert riskiest(p, rows, 2).tolist() == [1, 3]
    assert riskiest(p, rows, 0).tolist() == []


def test_decide_picks_the_profit_optimal_threshold_at_the_costs(credit_run):
    from core.credit.profit import compute_decision_kpis, compute_profit_curve
    from core.credit.service import decide as choose

    d = choose(credit_run, loss_default=4000, margin_good=400)
    curve = compute_profit_curve(credit_run.y_test, credit_run.p_test, loss_default=4000, margin_good=400)
    # No threshold on the curve earns more than the chosen one, and the figures are those at it.
    assert d.kpis["profit"] >= curve["profit"].max() - 1e-6
    assert d.kpis == compute_decision_kpis(credit_run.y_test, credit_run.p_test, threshold=d.threshold,
                                           loss_default=4000, margin_good=400)
    assert choose(credit_run, loss_default=4000, margin_good=400, digits=3).threshold == round(d.threshold, 3)
    # Dearer defaults decline more: the threshold does not rise.
    assert choose(credit_run, loss_default=40_000, margin_good=400).threshold <= d.threshold


def test_train_and_decide_save_load_explain_round_trip(small_df, tmp_path):
    """One service call trains, explains and decides; the saved run carries that decision once and loads back
    to score and explain the same rows alike."""
    from core.credit import service
    from core.credit.pipeline import default_credit_config
    from core.store.registry import read_metadata

    stages = []
    config = default_credit_config(epochs=2, seed=0, baselines=("logistic_regression",))
    out = service.train_and_decide(small_df.iloc[:600], target="default", config=config, shap_rows=5,
                                   loss_default=3000, margin_good=300, verdict=True, status=stages.append)
    assert service.EXPLAINING in stages and out.shap.values.shape[0] == 5
    assert out.decision == service.decide(out.run, loss_default=3000, margin_good=300)
    assert set(out.verdict) >= {"trust"} and out.trust is not None
    assert out.timings["total"] >= out.timings["explain"] > 0
    folder = service.save(out, tmp_path / "run", name="service test", data=small_df.iloc[:600])
    assert folder == tmp_path / "run"
    meta = read_metadata(folder)
    dec = meta["workspace"]["decision"]
    assert (dec["threshold"], dec["loss_default"], dec["margin_good"]) == (out.decision.threshold, 3000.0, 300.0)
    assert "threshold" not in meta["credit"]  # saved once
    loaded = service.load(folder)
    rows = out.run.test_df.iloc[:4]
    assert np.allclose(loaded.predict(rows), out.run.predict(rows), atol=1e-5)
    values, names = service.explain(loaded, rows)
    assert values.shape == (4, len(names)) and set(names) <= set(out.run.setup.features)
    assert np.isfinite(values).all() and np.abs(values).sum() > 0


def test_train_and_decide_without_shap_explains_nothing(small_df):
    from core.credit import service
    from core.credit.pipeline import default_credit_config

    out = service.train_and_decide(small_df.iloc[:400], target="default", shap_rows=0, config=default_credit_config(
        epochs=1, seed=0, baselines=("logistic_regression",)))
    assert out.shap is None and "explain" not in out.timings and out.verdict is None
