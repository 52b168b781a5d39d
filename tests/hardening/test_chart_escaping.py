"""Chart text from uploads is shown as typed: Plotly renders a subset of HTML in titles, axis and
tick labels, legend names, hover labels and annotations, so a column, category, series, class or
run named ``<img src=x onerror=alert(1)>`` or ``<b>x</b>`` must reach the figure escaped. Every
chart builder that takes such names is built with hostile ones and its figure JSON searched."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data.safety import escape_figure_text, escape_plotly_text

IMG = "<img src=x onerror=alert(1)>"
BOLD = "<b>x</b>"
LINK = '<a href="http://127.0.0.1:9/">ok</a>'
RAW = ("<img", "<b>", "<a ", "</b>", "</a>")
SKIP_KEYS = {"hovertemplate", "texttemplate", "template"}  # the builders' own markup; Plotly's theme


def _texts(node, key: str = "") -> list[str]:
    """Every string a figure holds, its builders' own templates aside."""
    if key in SKIP_KEYS:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in _texts(v, k)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v, key)]
    return []


def _check(fig, expect: int = 1) -> list[str]:
    texts = _texts(json.loads(fig.to_json()))
    raw = [t for t in texts if any(r in t for r in RAW)]
    assert not raw, raw[:3]
    shown = [t for t in texts if "&lt;img src=x onerror=alert(1)&gt;" in t or "&lt;b&gt;x&lt;/b&gt;" in t]
    assert len(shown) >= expect, texts[:40]  # the hostile names did reach the figure, escaped
    return shown


def _rng():
    return np.random.default_rng(0)


def _figures() -> dict:
    """label -> (figure, how many escaped texts at least) for every builder fed names from uploads."""
    from core.present import charts
    from core.credit import charts as cc
    from core.demand import charts as dc
    from core.fraud import charts as fc
    from core.quality import charts as qc
    from core.workspace.runs import plot_run_curves

    rng = _rng()
    names = [IMG, BOLD, "income"]
    imp = pd.DataFrame({"feature": names, "importance": [0.3, 0.2, 0.1]})
    data = pd.DataFrame({IMG: ["a", BOLD, "c", "d"], BOLD: [1.0, 2.0, 3.0, 4.0], "income": [5.0, 6.0, 7.0, 8.0]})
    contrib = pd.DataFrame({"feature": names, "value": [BOLD, 2.0, 7.0], "shap": [0.2, -0.1, 0.05]})
    roc = pd.DataFrame({"fpr": [0, 0.5, 1], "tpr": [0, 0.7, 1]})
    sid = f"store {IMG}"
    dates = pd.date_range("2024-01-01", periods=6, freq="D")
    history = pd.DataFrame({"date": dates, "y": rng.normal(10, 1, 6)})
    backtest = pd.DataFrame({"series": sid, "origin": 0, "date": dates[-3:], "step": [1, 2, 3], "y": 1.0,
                             **{f"{m}_p{q}": 1.0 for m in ("nn", "seasonal_naive", "moving_average")
                                for q in (10, 50, 90)}})
    future = pd.DataFrame({"series": sid, "date": dates[-2:] + pd.Timedelta(days=6), "p10": 1.0, "p50": 2.0,
                           "p90": 3.0})
    per_series = pd.DataFrame({"series": [sid, BOLD], "method": ["Keras network"] * 2, "wape": [0.1, 0.2]})
    runs = [{"run_id": "r1", "workspace": {"name": IMG, "curves": {"roc": {"x": [0, 1], "y": [0, 1]}}}},
            {"run_id": "r2", "workspace": {"name": BOLD}}]
    return {label: (fig, n) for label, fig, n in [
        ("shap bar", charts.plot_shap_bar(imp), 3),
        ("beeswarm", charts.plot_shap_beeswarm(rng.normal(size=(4, 3)), data, names), 3),
        ("waterfall", charts.plot_shap_waterfall(0.1, contrib, 0.25), 2),
        ("roc", charts.plot_roc({IMG: roc}, {IMG: 0.7}), 1),
        ("class counts", charts.plot_class_counts({IMG: 10, BOLD: 5}, {IMG: 10, BOLD: 10}), 1),
        ("confusion", charts.plot_confusion({"tn": 1, "fp": 2, "fn": 3, "tp": 4}, labels=(IMG, BOLD)), 2),
        ("psi", cc.plot_psi(pd.DataFrame({"variable": [IMG, BOLD], "psi": [0.05, 0.3],
                                          "status": ["stable", "shifted"]})), 1),
        ("fairness", cc.plot_fairness(pd.DataFrame({"group": [IMG, BOLD], "approval_rate": [0.5, 0.6],
                                                    "di_ratio": [0.8, 1.0], "four_fifths": ["ok", "FLAG"]})), 1),
        ("forecast", dc.plot_forecast(history, backtest, future, sid), 1),
        ("error by series", dc.plot_error_by_series(per_series), 1),
        ("policy", dc.plot_policy(pd.DataFrame({"series": [sid], "reorder_point": [3.0],
                                                "naive_reorder_point": [4.0]})), 1),
        ("imbalance", fc.plot_imbalance_comparison(pd.DataFrame({"method": [IMG], "pr_auc": [0.4], "recall": [0.3],
                                                                 "train_seconds": [1.0]}), "recall"), 1),
        ("per-day precision", fc.plot_precision_per_day({IMG: pd.DataFrame({"day": [1, 2], "p": [0.1, 0.2]})},
                                                        "p", f"Precision {BOLD}"), 2),
        ("multiclass confusion", qc.plot_multiclass_confusion([[1, 2], [3, 4]], [IMG, BOLD]), 2),
        ("per class", qc.plot_per_class_metrics({IMG: {"precision": 1, "recall": 1, "f1": 1}}), 1),
        ("class bar", qc.plot_class_bar({IMG: 4, "ok": 9}, ok_class="ok"), 1),
        ("image", qc.plot_image_heatmap(np.zeros((4, 4, 3)), title=f"Grad-CAM · {IMG}"), 1),
        ("run curves", plot_run_curves(runs, "roc"), 1),
    ]}


LABELS = ["shap bar", "beeswarm", "waterfall", "roc", "class counts", "confusion", "psi", "fairness", "forecast",
          "error by series", "policy", "imbalance", "per-day precision", "multiclass confusion", "per class",
          "class bar", "image", "run curves"]


@pytest.fixture(scope="module")
def figures() -> dict:
    built = _figures()
    assert sorted(built) == sorted(LABELS)
    return built


@pytest.mark.parametrize("label", LABELS)
def test_hostile_names_reach_every_chart_escaped(figures, label):
    fig, expect = figures[label]
    _check(fig, expect)


def test_the_escaper_writes_entities_once_and_leaves_numbers_alone():
    import plotly.graph_objects as go

    assert escape_plotly_text(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape_plotly_text("R&D <b>") == "R&amp;D &lt;b&gt;"
    assert escape_plotly_text(escape_plotly_text(LINK)) == escape_plotly_text(LINK)  # twice = once
    assert escape_plotly_text(3.5) == 3.5 and escape_plotly_text("plain") == "plain"
    x = np.linspace(0, 1, 5)
    fig = go.Figure(go.Scatter(x=x, y=x, name=LINK, text=[IMG] * 5, customdata=np.array([[BOLD, 1]] * 5, dtype=object)))
    fig.update_layout(title=f"{BOLD} by {LINK}", xaxis_title=IMG, legend_title_text=BOLD)
    fig.add_annotation(text=IMG, x=0.5, y=0.5)
    escape_figure_text(fig)
    assert _check(fig, 5) and list(fig.data[0].x) == list(x)
    # The model card escapes its own labels before the shared builder does: still shown once, as typed.
    assert escape_figure_text(fig).layout.title.text == "&lt;b&gt;x&lt;/b&gt; by " + escape_plotly_text(LINK)
