import numpy as np
import pandas as pd

from core.present import charts
from core.ml.metrics import compute_calibration, compute_pr, compute_roc, compute_threshold_grid, compute_cost_curve


def test_figures_carry_the_data():
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.2, 0.7, 0.4, 0.9, 0.3, 0.1])
    roc = charts.plot_roc({"net": compute_roc(y, p)}, {"net": 0.78})
    assert roc.data[0].name == "net (AUC 0.780)"
    assert list(roc.data[0].x) == compute_roc(y, p)["fpr"].tolist()
    pr = charts.plot_pr({"net": compute_pr(y, p)}, prevalence=0.5)
    assert pr.layout.shapes[0].y0 == 0.5
    cm = charts.plot_confusion({"tp": 2, "fp": 1, "tn": 2, "fn": 1})
    assert [list(r) for r in cm.data[0].z] == [[2, 1], [1, 2]]
    cal = charts.plot_calibration({"net": compute_calibration(y, p)})
    assert len(cal.data) == 2
    dist = charts.plot_score_distribution(y, p, threshold=0.5)
    assert len(dist.data[1].x) == 3
    curve = compute_cost_curve(compute_threshold_grid(y, p, 11), cost_fn=5, cost_fp=1)
    cost = charts.plot_cost_curve(curve, threshold=0.5, best=0.2)
    assert [s.x0 for s in cost.layout.shapes] == [0.5, 0.2]


def test_shap_figures():
    imp = pd.DataFrame({"feature": ["a", "b"], "importance": [0.3, 0.1]})
    bar = charts.plot_shap_bar(imp)
    # Plain names on the axis, the raw column name kept for the hover.
    assert list(bar.data[0].y) == ["B", "A"] and list(bar.data[0].customdata) == ["b", "a"]
    values = np.array([[0.1, -0.2], [0.3, 0.0]])
    data = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    bee = charts.plot_shap_beeswarm(values, data, ["a", "b"])
    assert list(bee.data[1].x) == [0.1, 0.3]  # top feature drawn last (top of the chart)
    contrib = pd.DataFrame({"feature": ["a", "b"], "value": [1, "x"], "shap": [0.2, -0.05]})
    wf = charts.plot_shap_waterfall(0.1, contrib, 0.25)
    assert list(wf.data[0].x) == [0.1, -0.05, 0.2, 0]
    hist = charts.plot_training_history({"loss": [1, 0.5], "val_loss": [1.1, 0.7]})
    assert [t.name for t in hist.data] == ["Loss (training)", "Loss (validation)"]
    named = charts.plot_training_history({"p50_error": [3.0], "val_p50_error": [3.5], "val_pr_auc": [0.4]})
    assert [t.name for t in named.data] == ["Median forecast error (training)", "Median forecast error (validation)"]
    assert charts.history_label("val_pr_auc") == "PR-AUC (validation)"
    assert charts.history_label("val_custom_rate") == "Custom rate (validation)"
    assert named.layout.legend.y < 0 and named.layout.xaxis.dtick == 1  # legend below the axis, whole epochs


def test_training_history_marks_the_kept_epoch_and_the_early_stopping_curve():
    hist = charts.plot_training_history({"loss": [1, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6],
                                         "val_fit_loss": [0.5, 0.3, 0.35]}, kept=2)
    assert [t.name for t in hist.data] == ["Loss (training)", "Loss (validation)",
                                            "Loss without penalty (validation)"]
    marks = [s for s in hist.layout.shapes if s.type == "line"]
    assert len(marks) == 1 and marks[0].x0 == 2
    assert hist.layout.annotations[0].text == "best epoch 2 (kept)"


def test_feature_labels_are_plain_and_never_merge_two_columns():
    assert charts.feature_labels(["credit_utilisation", "NumberOfDependents", "applicant_id"]) == [
        "Credit utilisation", "Number of dependents", "Applicant ID"]
    # "income_band" and "IncomeBand" would both read "Income band": keep the raw names apart.
    assert charts.feature_labels(["income_band", "IncomeBand", "age"]) == ["income_band", "IncomeBand", "Age"]
    wf = charts.plot_shap_waterfall(0.1, pd.DataFrame({"feature": ["debt_to_income"], "value": [0.4],
                                                       "shap": [0.2]}), 0.3)
    # Values read in the feature's unit: a debt-to-income ratio of 0.4 is 40 %.
    assert "Debt to income = 40%" in list(wf.data[0].y)


def test_waterfall_stays_on_the_probability_axis_and_names_features_plainly():
    # A base of 0.05 and a first push of -0.2 would run to -0.15 on a probability axis: the pushes that
    # keep the running total between 0 and 1 go first, and the axis spans only 0 to the path's top.
    contrib = pd.DataFrame({"feature": ["amount_zscore_30d", "term_risk_30d", "lag 7", "blank"],
                            "value": [3.2, 0.4, 12.0, ""], "shap": [-0.2, 0.5, 0.3, 0.01]})
    wf = charts.plot_shap_waterfall(0.05, contrib, 0.66, labeller=lambda n: n.upper())
    lo, hi = wf.layout.xaxis.range
    assert lo == 0.0 and 0.85 <= hi <= 1.0
    x = list(wf.data[0].x)
    path = np.cumsum(x[:-1])
    assert path.min() >= 0 and path.max() <= 1
    # The labeller names the features; a blank value leaves no dangling "= ".
    assert "BLANK" in wf.data[0].y and not any(str(y).endswith("= ") for y in wf.data[0].y)
    assert "TERM_RISK_30D = 40%" in wf.data[0].y
    purpose = charts.plot_shap_waterfall(0.1, pd.DataFrame({"feature": ["purpose"], "value": ["home_improvement"],
                                                            "shap": [0.05]}), 0.15)
    assert "Purpose = home improvement" in purpose.data[0].y
    # Not a probability (demand's pushes in log demand): the axis may go below 0, and still fits the path.
    units = charts.plot_shap_waterfall(0.05, contrib, 0.66, probability=False, x_title="Push")
    ulo, uhi = units.layout.xaxis.range
    assert ulo < -0.15 + 0.05 and uhi < 0.9 and units.layout.xaxis.title.text == "Push"


def test_percent_axis_has_round_ticks_and_never_goes_negative():
    assert charts.percent_axis(0.43) == {"range": [0, 0.5], "dtick": 0.1, "tickformat": ".0%",
                                         "rangemode": "nonnegative", "showgrid": False}
    small = charts.percent_axis(0.037)
    assert small["range"] == [0, 0.04] and small["dtick"] == 0.01
    assert charts.percent_axis(1.0)["range"] == [0, 1.0] and charts.percent_axis(1.0)["dtick"] == 0.2
    assert charts.percent_axis(float("nan"))["range"][0] == 0


def test_legend_sits_below_the_title():
    df = pd.DataFrame({"x": [0, 1], "a": [1.0, 0.5], "b": [0.2, 0.4]})
    fig = charts.plot_metric_curve(df, "x", {"A": "a", "B": "b"}, "Title", "x", "y")
    assert fig.layout.title.yanchor == "top" and fig.layout.legend.yanchor == "bottom"
    assert fig.layout.legend.y > 1 and fig.layout.margin.t >= 80
    # Training curves carry up to seven long entries: their legend goes below the epoch axis instead.
    hist = charts.plot_training_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    assert hist.layout.legend.yanchor == "top" and hist.layout.legend.y < 0 and hist.layout.margin.b >= 90


def test_model_comparison_legends_sit_in_an_empty_corner_of_the_plot():
    """Three long model names in a half-width column wrapped the legend over the title: ROC,
    precision–recall and calibration put it inside the plot, in the corner their curves leave empty."""
    frame = pd.DataFrame({"fpr": [0, 1], "tpr": [0, 1], "recall": [0, 1], "precision": [1, 0.1]})
    roc = charts.plot_roc({"Keras network": frame, "Logistic regression": frame, "Gradient boosting": frame})
    pr = charts.plot_pr({"Keras network": frame}, prevalence=0.1)
    cal = charts.plot_calibration({"Keras network": pd.DataFrame(
        {"mean_predicted": [0.1, 0.9], "observed_rate": [0.1, 0.9], "count": [5, 5]})})
    for fig, (x, y) in ((roc, ("right", "bottom")), (pr, ("left", "bottom")), (cal, ("left", "top"))):
        lg = fig.layout.legend
        assert lg.orientation == "v" and 0 <= lg.x <= 1 and 0 <= lg.y <= 1  # inside the plot
        assert (lg.xanchor, lg.yanchor) == (x, y)
