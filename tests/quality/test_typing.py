"""Multi-class defect typing: every class is a defect type, none means 'good part'."""

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import DataValidationError
from core.quality.engine import DEFECT_TYPING_NOTE, get_task
from core.quality.evaluate import get_misclassified
from core.quality.synth_neu import NEU_CLASSES


def test_typing_run_has_per_class_metrics_and_no_reject_decision(typing_run):
    data, run = typing_run
    assert data.layout == "filenames" and data.channels == 1
    assert data.counts() == {c: 10 for c in NEU_CLASSES}
    assert run.ok_class is None and run.metrics["task"] == "defect_typing"
    for key in ("escape_rate", "false_reject_rate", "defect_recall", "threshold"):
        assert key not in run.metrics
    assert set(run.metrics["per_class"]) == set(NEU_CLASSES)
    for figures in run.metrics["per_class"].values():
        assert {"precision", "recall", "f1", "support"} <= set(figures)
    assert np.asarray(run.metrics["confusion"]).shape == (6, 6)
    assert DEFECT_TYPING_NOTE in run.notices
    assert run.metadata()["task"] == "defect_typing"


def test_inspection_run_keeps_the_reject_framing(tiny_run):
    assert tiny_run.ok_class == "ok" and tiny_run.metrics["task"] == "inspection"
    assert {"escape_rate", "false_reject_rate", "defect_recall"} <= set(tiny_run.metrics)
    assert DEFECT_TYPING_NOTE not in tiny_run.notices
    assert get_task("ok") == "inspection" and get_task(None) == "defect_typing"


def test_misclassified_most_confidently_wrong_first():
    y = [0, 1, 2, 2, 1]
    proba = np.array([[0.9, 0.05, 0.05],   # right
                      [0.6, 0.3, 0.1],     # wrong (1 -> 0) at 0.6
                      [0.1, 0.8, 0.1],     # wrong (2 -> 1) at 0.8
                      [0.2, 0.2, 0.6],     # right
                      [0.1, 0.2, 0.7]])    # wrong (1 -> 2) at 0.7
    wrong = get_misclassified(y, proba, ["a", "b", "c"])
    assert wrong["position"].tolist() == [2, 4, 1]
    assert wrong["actual"].tolist() == ["c", "b", "b"] and wrong["predicted"].tolist() == ["b", "c", "a"]
    assert wrong["confidence"].tolist() == [0.8, 0.7, 0.6] and wrong["p_actual"].tolist() == [0.1, 0.2, 0.3]
    assert len(get_misclassified(y, proba, ["a", "b", "c"], limit=1)) == 1
    with pytest.raises(DataValidationError, match=r"one probability per class for every image \(5 x 2\)"):
        get_misclassified(y, proba, ["a", "b"])


def test_saved_typing_run_summary_and_scoring(typing_run, typing_zip, tmp_path):
    from core.quality.export import save_quality_run
    from core.workspace.scoring import score_with_run
    from core.workspace.summary import build_quality_summary

    data, run = typing_run
    ws = build_quality_summary(run, name="steel", threshold=0.5, cost_escape=50, cost_false_reject=2, data=data)
    assert ws["decision"]["task"] == "defect_typing" and "threshold" not in ws["decision"]
    assert set(ws["decision"]["per_class_recall"]) == set(NEU_CLASSES)
    labels = [f["label"] for f in ws["headline"]["quality"]]
    assert "Lowest class recall" in labels and "Escape rate" not in labels and not ws["headline"]["impact"]
    path = save_quality_run(tmp_path, run, threshold=0.5, extra_metadata=ws)
    result = score_with_run(path, typing_zip, settings={"threshold": 0.5})
    assert "verdict" not in result.scored and len(result.scored) == 60
    assert (result.scored["actual"] == [n.split("/")[-1].rsplit("_", 1)[0] for n in result.scored["file"]]).all()
    figures = dict(result.figures)
    assert "Lowest class recall" in figures and "Rejected" not in figures
    assert any("none means 'good part' (defect typing)" in n for n in result.notices)


def test_cli_trains_and_scores_a_file_name_layout_zip(typing_zip, tmp_path, capsys):
    data = tmp_path / "steel.zip"
    data.write_bytes(typing_zip)
    code = main(["train", "--scenario", "quality", "--data", str(data), "--image-size", "32", "--epochs", "2",
                 "--seed", "1", "--save", str(tmp_path / "runs" / "quality-1"), "--json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0
    assert "6 classes taken from the file names: crazing (10), inclusion (10)" in captured.err
    assert "Input 32×32, grayscale" in captured.err
    assert out["data"]["layout"] == "filenames" and out["data"]["classes"] == {c: 10 for c in NEU_CLASSES}
    assert out["data"]["channels"] == 1 and out["data"]["image_size"] == 32
    assert out["task"] == "defect_typing" and "decision" not in out
    assert set(out["per_class_recall"]) == set(NEU_CLASSES)
    assert "escape_rate" not in out["metrics"] and len(out["confusion"]) == 6

    code = main(["score", "--model", out["saved_to"], "--data", str(data), "--out", str(tmp_path / "s.csv"), "--json"])
    scored = json.loads(capsys.readouterr().out)
    df = pd.read_csv(tmp_path / "s.csv")
    assert code == 0 and scored["rows"] == 60 and "rejected" not in scored
    assert "verdict" not in df.columns and scored["accuracy"] == (df["actual"] == df["predicted"]).mean()


@pytest.mark.parametrize("size, message", [("huge", "got 'huge'"), ("8", "got '8'")])
def test_cli_refuses_a_bad_image_size(typing_zip, tmp_path, capsys, size, message):
    data = tmp_path / "steel.zip"
    data.write_bytes(typing_zip)
    code = main(["train", "--scenario", "quality", "--data", str(data), "--image-size", size, "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "Image size must be 'auto', 'native' or a number of pixels" in err and message in err
    assert "Traceback" not in err


def test_cli_reports_unlabelled_file_names(tmp_path, capsys):
    from tests.quality.conftest import make_zip, png_bytes

    bad = tmp_path / "photos.zip"
    bad.write_bytes(make_zip({f"photo{i}.png": png_bytes(np.full((8, 8), i, dtype=np.uint8)) for i in range(6)}))
    code = main(["train", "--scenario", "quality", "--data", str(bad), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "Expected the class in each file name" in err and "Traceback" not in err
