import json

import pandas as pd

from core.cli import main
from tests.quality.conftest import make_zip, sample_entries


def test_train_with_test_data_save_and_score(tmp_path, capsys):
    train = tmp_path / "train.zip"
    test = tmp_path / "test.zip"
    train.write_bytes(make_zip(sample_entries({"ok": 30, "pit": 10, "crack": 10}, size=24, seed=1)))
    test.write_bytes(make_zip(sample_entries({"ok": 10, "pit": 3, "crack": 3}, size=24, seed=2)))
    code = main(["train", "--scenario", "quality", "--data", str(train), "--test-data", str(test),
                 "--image-size", "24", "--epochs", "2", "--seed", "3", "--save", str(tmp_path / "runs" / "quality-1"),
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    m = out["metrics"]
    for key in ("accuracy", "macro_recall", "macro_f1", "roc_auc"):
        assert 0 <= m[key] <= 1
    assert set(m["per_class"]) == {"crack", "ok", "pit"}
    assert {"precision", "recall"} <= set(m["per_class"]["pit"])
    assert out["data"]["test_images"] == 16 and out["data"]["image_size"] == 24
    assert set(out["baselines"]) == {"majority_class", "logistic_16px"}
    assert out["baselines"]["majority_class"]["accuracy"] == 10 / 16
    assert out["timings"]["train_s"] > 0 and "decision" in out

    code = main(["score", "--model", out["saved_to"], "--data", str(test), "--out", str(tmp_path / "s.csv"), "--json"])
    scored = json.loads(capsys.readouterr().out)
    df = pd.read_csv(tmp_path / "s.csv")
    assert code == 0 and scored["rows"] == 16 == len(df)
    assert {"file", "actual", "predicted", "p_defect", "verdict"} <= set(df.columns)
    assert scored["accuracy"] == (df["actual"] == df["predicted"]).mean()

    # New parts arrive unlabelled, in no class folders: they are scored all the same.
    loose = tmp_path / "loose.zip"
    loose.write_bytes(make_zip({f"today/part_{i}.png": data for i, data in
                                enumerate(sample_entries({"ok": 3, "pit": 2}, size=24, seed=5).values())}))
    code = main(["score", "--model", out["saved_to"], "--data", str(loose), "--out", str(tmp_path / "l.csv"),
                 "--threshold", "0", "--json"])
    summary = json.loads(capsys.readouterr().out)
    df = pd.read_csv(tmp_path / "l.csv")
    assert code == 0 and summary["rows"] == 5 and "actual" not in df.columns
    assert summary["rejected"] == 5  # threshold 0 rejects every part


def test_cli_reports_bad_data_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_zip({"../escape.png": b"x"}))
    code = main(["train", "--scenario", "quality", "--data", str(bad), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "points outside the archive" in err and "Traceback" not in err
