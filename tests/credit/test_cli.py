import json

import pandas as pd
import pytest

from core.cli import main

REQUIRED = {"roc_auc", "pr_auc", "precision", "recall", "f1", "threshold", "ks", "gini", "brier"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_df):
    d = tmp_path_factory.mktemp("cli")
    data = d / "train.csv"
    small_df.to_csv(data, index=False)
    return d, data


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_save_and_score(trained, capsys):
    d, data = trained
    code = main(["train", "--scenario", "credit", "--data", str(data), "--epochs", "2", "--seed", "3",
                 "--save", str(d / "model"), "--json", "--no-explain"])
    assert code == 0
    out = _json(capsys)
    assert REQUIRED <= set(out["metrics"])
    assert set(out["baselines"]) == {"logistic_regression", "gradient_boosting"}
    for m in out["baselines"].values():
        assert REQUIRED <= set(m) and 0.5 < m["roc_auc"] <= 1
    assert out["timings"]["train"] > 0 and out["epochs_run"] <= 2
    assert out["config"]["seed"] == 3 and out["data"]["sensitive"] == ["age", "sex"]
    # No refit on a small table (it starts at 50,000 fitting rows): the validated network is the one saved.
    assert out["config"]["refit"] == "off" and out["refit_epochs"] == 0
    assert 0 <= out["decision"]["optimal_threshold"] <= 1
    assert out["saved_to"] == str(d / "model")

    new = pd.read_csv(data).drop(columns=["default"]).head(40)
    new.to_csv(d / "new.csv", index=False)
    code = main(["score", "--model", str(d / "model"), "--data", str(d / "new.csv"), "--out",
                 str(d / "scored.csv"), "--threshold", "0.0", "--json"])
    assert code == 0
    summary = _json(capsys)
    scored = pd.read_csv(d / "scored.csv")
    assert summary["rows"] == 40 and summary["declined"] == 40  # threshold 0 declines everyone
    for col in ["probability_of_default", "score_points", "grade", "decision", "reason_1", "reason_4"]:
        assert col in scored.columns
    assert scored["reason_1"].notna().all()  # every declined row gets at least one reason


def test_train_with_test_data_and_positive_label(trained, capsys, small_df):
    d, _ = trained
    df = small_df.assign(default=small_df["default"].map({1: "bad", 0: "good"}))
    df.iloc[:1000].to_csv(d / "a.csv", index=False)
    df.iloc[1000:].to_csv(d / "b.csv", index=False)
    code = main(["train", "--scenario", "credit", "--data", str(d / "a.csv"), "--test-data", str(d / "b.csv"),
                 "--positive", "bad", "--epochs", "1", "--json", "--no-explain", "--imbalance", "class_weight",
                 "--refit", "epochs"])
    assert code == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    # --refit epochs: trained again on every training row for the one epoch early stopping kept.
    assert out["config"]["refit"] == "epochs" and out["refit_epochs"] == out["best_epoch"] == 1
    assert "trained again from scratch on every training row (validation rows too) for 1 epoch:" in captured.err
    assert out["data"]["test_rows"] == 500 and out["data"]["positive"] == "bad"
    assert out["config"]["imbalance"] == "class_weight"
    assert out["data"]["default_rate"] == pytest.approx((df.iloc[1000:]["default"] == "bad").mean())


def test_cli_errors_are_messages(trained, capsys):
    d, data = trained
    code = main(["train", "--scenario", "credit", "--data", str(data), "--target", "nope", "--json"])
    assert code == 1
    assert "Target column 'nope'" in capsys.readouterr().err
    code = main(["train", "--scenario", "credit", "--data", str(data), "--save", str(d), "--epochs", "1",
                 "--json", "--no-explain"])
    assert code == 1
    assert "already exists" in capsys.readouterr().err


def _saved_model(trained, capsys):
    """The model saved by the first test, or a fresh one when this test runs alone."""
    d, data = trained
    model = d / "model"
    if not model.exists():
        assert main(["train", "--scenario", "credit", "--data", str(data), "--epochs", "1", "--save", str(model),
                     "--json", "--no-explain"]) == 0
    capsys.readouterr()
    return model


def test_score_in_chunks_matches_one_pass_and_reports_drift(trained, capsys, small_df):
    d, _ = trained
    model = _saved_model(trained, capsys)
    new = small_df.head(230)
    new.to_parquet(d / "new.parquet", index=False)
    args = ["score", "--model", str(model), "--data", str(d / "new.parquet"), "--no-reasons", "--json"]
    assert main([*args, "--out", str(d / "one.csv"), "--chunk-size", "1000"]) == 0
    one = _json(capsys)
    assert main([*args, "--out", str(d / "many.csv"), "--chunk-size", "50"]) == 0
    captured = capsys.readouterr()
    many = json.loads(captured.out.strip().splitlines()[-1])
    # Five chunks, each reported on standard error; the scored files are the same row for row.
    assert captured.err.count("scored ") == 5 and "scored 230 rows" in captured.err
    pd.testing.assert_frame_equal(pd.read_csv(d / "one.csv"), pd.read_csv(d / "many.csv"))
    assert len(pd.read_csv(d / "many.csv")) == 230
    assert one["declined"] == many["declined"] and one["metrics"]["roc_auc"] == pytest.approx(many["metrics"]["roc_auc"])
    assert many["drift"] and {r["status"] for r in many["drift"]} <= {"stable", "watch", "shifted"}
    assert not list(d.glob(".*.partial"))


def test_score_refuses_a_file_without_the_model_columns_and_leaves_no_output(trained, capsys, small_df):
    d, _ = trained
    model = _saved_model(trained, capsys)
    small_df.drop(columns=["annual_income"]).head(20).to_csv(d / "short.csv", index=False)
    code = main(["score", "--model", str(model), "--data", str(d / "short.csv"), "--out", str(d / "x.csv"), "--json"])
    assert code == 1
    err = capsys.readouterr().err
    assert "missing: ['annual_income']" in err and "Fix:" in err
    assert not (d / "x.csv").exists() and not list(d.glob(".*.partial"))
