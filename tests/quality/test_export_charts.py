import io
import zipfile

import numpy as np
import plotly.graph_objects as go

from core.quality.charts import (
    plot_class_bar, plot_image_heatmap, plot_inspection_cost, plot_multiclass_confusion, plot_per_class_metrics,
)
from core.quality.evaluate import compute_cost_analysis
from core.quality.explain import explain_image
from core.quality.export import get_model_zip, get_test_predictions, load_quality_model


def test_model_zip_round_trip(tiny_run, tmp_path):
    data = get_model_zip(tiny_run, threshold=0.3, costs={"escape": 50, "false_reject": 2})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert {n.split("/")[1] for n in names} == {"model.keras", "metadata.json", "test_predictions.csv"}
        zf.extractall(tmp_path)
    saved = load_quality_model(tmp_path / names[0].split("/")[0])
    assert saved.class_names == tiny_run.class_names and saved.threshold == 0.3
    x = tiny_run.test.images[:4]
    assert np.allclose(saved.predict_proba(x), tiny_run.predict_proba(x), atol=1e-5)
    preds = get_test_predictions(tiny_run, 0.3)
    assert len(preds) == len(tiny_run.test.labels)
    assert (preds["verdict"] == "reject").sum() == int((preds["p_defect"] >= 0.3).sum())


def test_explain_image_verdict_follows_threshold(tiny_run):
    img = tiny_run.test.images[0]
    low = explain_image(tiny_run, img, threshold=0.0, nsamples=16)
    high = explain_image(tiny_run, img, threshold=1.01, nsamples=16)
    assert low.verdict == "reject" and high.verdict == "pass"
    assert low.gradcam.maps.shape == (1, 32, 32) and low.shap.maps.shape == (1, 32, 32)
    assert abs(sum(low.proba.values()) - 1) < 1e-4


def test_figures():
    img = np.zeros((8, 8, 1), np.uint8)
    fig = plot_image_heatmap(img, np.linspace(-1, 1, 64).reshape(8, 8), signed=True)
    assert isinstance(fig, go.Figure) and [t.type for t in fig.data] == ["image", "heatmap"]
    assert fig.data[1].zmin == -1 and fig.data[1].zmax == 1
    assert len(plot_image_heatmap(img).data) == 1
    cm = plot_multiclass_confusion([[3, 1], [0, 2]], ["ok", "pit"])
    assert cm.data[0].z.tolist() == [[3, 1], [0, 2]]
    bars = plot_per_class_metrics({"ok": {"precision": 1, "recall": .5, "f1": .6}})
    assert [t.name for t in bars.data] == ["precision", "recall", "f1"]
    cost = compute_cost_analysis([0, 1, 0], [.1, .9, .4], cost_escape=5, cost_false_reject=1)
    assert len(plot_inspection_cost(cost.curve, threshold=0.5, best=cost.best_threshold).data) == 2
    assert list(plot_class_bar({"ok": 5, "pit": 2}, "ok").data[0].marker.color) == ["#2563eb", "#dc2626"]
