"""Dask scoring records its predictions in the run's prediction log exactly as the default engine does."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from core.monitor import store
from tests.scale.conftest import SAMPLES
from tests.scale.test_scenarios import score

SCORE = "probability_of_default"
NO_LOG = shutil.ignore_patterns("monitor")  # the run's prediction log folder (core.monitor.store.log_dir)


@pytest.fixture
def run(tmp_path, credit_model):
    """A copy of the small credit run without its prediction log (other tests score the shared run), so
    each test starts from an empty log."""
    return shutil.copytree(credit_model, tmp_path / "run", ignore=NO_LOG)


def applicants(tmp_path, n=600, *, with_id=False):
    df = pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:n]
    if not with_id:
        df = df.drop(columns="applicant_id")
    path = tmp_path / "applicants.csv"
    df.to_csv(path, index=False)
    return path


def dask(capsys, run, data, out, scheduler, *extra):
    return score(capsys, "--model", str(run), "--data", str(data), "--out", str(out), "--engine", "dask",
                 "--scheduler", scheduler, "--chunk-size", "200", "--quiet", *extra)


def all_log_files(run):
    root = store.log_dir(run) / store.PREDICTIONS
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_dask_rows_are_logged_once_with_the_output_scores_and_ids(capsys, tmp_path, run, scheduler):
    out = tmp_path / "scored.csv"
    code, res, err = dask(capsys, run, applicants(tmp_path), out, scheduler)
    assert code == 0, err
    scored = pd.read_csv(out)
    log = store.read_table(run, "predictions")
    # The file has no id column: every row got a generated id, returned in the output's prediction_id.
    assert len(log) == len(scored) == 600 and log["row_id"].is_unique and log["log_key"].is_unique
    assert set(log["source"]) == {"cli"} and log["id_generated"].all()
    assert scored["prediction_id"].is_unique and set(scored["prediction_id"]) == set(log["row_id"])
    joined = scored.merge(log, left_on="prediction_id", right_on="row_id", validate="one_to_one")
    assert (joined[SCORE] - joined["score"]).abs().max() < 1e-4 and (joined["decision_x"] == joined["decision_y"]).all()
    assert res["prediction_log"]["rows"] == 600 and res["prediction_log"]["generated_ids"] is True
    assert "600 predictions recorded in the run's prediction log" in err and "not recorded" not in err
    assert not [p for p in all_log_files(run) if p.name.startswith(".")]  # nothing left pending
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_ids_from_the_file_are_logged_and_the_parquet_output_has_no_id_column(capsys, tmp_path, run, scheduler):
    out = tmp_path / "pq"
    code, res, err = dask(capsys, run, applicants(tmp_path, 500, with_id=True), out, scheduler)
    assert code == 0, err
    scored = pd.read_parquet(out)
    assert sorted(os.listdir(out)) == [f"part-{i:05d}.parquet" for i in range(3)]  # the log's parts went
    log = store.read_table(run, "predictions")
    assert "prediction_id" not in scored.columns and not log["id_generated"].any()
    assert sorted(log["row_id"]) == sorted(scored["applicant_id"])
    assert res["prediction_log"]["generated_ids"] is False


def test_default_engine_and_dask_log_the_same_rows_and_scores(capsys, tmp_path, run, scheduler, credit_model):
    data = applicants(tmp_path)
    other = shutil.copytree(credit_model, tmp_path / "run2", ignore=NO_LOG)
    local = tmp_path / "local.csv"
    code, a, err = score(capsys, "--model", str(other), "--data", str(data), "--out", str(local), "--quiet",
                         "--chunk-size", "200")
    assert code == 0, err
    code, b, err = dask(capsys, run, data, tmp_path / "dask.csv", scheduler)
    assert code == 0, err
    lo, da = pd.read_csv(local), pd.read_csv(tmp_path / "dask.csv")
    assert lo.drop(columns="prediction_id").equals(da.drop(columns="prediction_id"))

    def in_output_order(run_dir, out):
        log = store.read_table(run_dir, "predictions").set_index("row_id").loc[out["prediction_id"]]
        return log.drop(columns=["log_key", "scored_at"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(in_output_order(other, lo), in_output_order(run, da))
    assert {k: v for k, v in a["prediction_log"].items() if k != "location"} == \
        {k: v for k, v in b["prediction_log"].items() if k != "location"}


def test_a_failing_block_leaves_no_log_parts(capsys, tmp_path, run, scheduler):
    lines = (SAMPLES / "credit_applications.csv").read_text().splitlines()[:501]
    lines[450] += ",1,2,3"  # a row with too many fields, in the third block: the first two are logged on workers
    data = tmp_path / "broken.csv"
    data.write_text("\n".join(lines) + "\n")
    code, _, err = dask(capsys, run, data, tmp_path / "scored.csv", scheduler)
    assert code == 1 and "Could not split 'broken.csv' into columns" in err and "Traceback" not in err
    assert all_log_files(run) == [] and store.read_table(run, "predictions").empty
    assert sorted(os.listdir(tmp_path)) == ["broken.csv", "run"]


@pytest.mark.parametrize("off", ["--no-log", "env"])
def test_no_log_logs_nothing(capsys, tmp_path, run, scheduler, monkeypatch, off):
    extra = ["--no-log"] if off == "--no-log" else []
    if off == "env":
        monkeypatch.setenv("STUDIO_PREDICTION_LOG", "0")
    out = tmp_path / "scored.csv"
    code, res, err = dask(capsys, run, applicants(tmp_path, 300), out, scheduler, *extra)
    assert code == 0, err
    assert all_log_files(run) == [] and "prediction_log" not in res
    assert "prediction_id" not in pd.read_csv(out).columns and "prediction log" not in err


def test_personal_data_is_never_logged(capsys, tmp_path, run, scheduler):
    # The run recorded one of its inputs as personal data; the file also carries e-mail addresses, kept.
    meta = json.loads((run / "metadata.json").read_text())
    ws = meta.setdefault("workspace", {})
    ws.setdefault("dataset", {})["personal_data"] = [{"column": "housing", "kind": "address"}]
    (run / "metadata.json").write_text(json.dumps(meta))
    df = pd.read_csv(applicants(tmp_path, 300))
    df["contact"] = [f"person{i}@example.com" for i in range(len(df))]
    data = tmp_path / "with_contact.csv"
    df.to_csv(data, index=False)
    code, res, err = dask(capsys, run, data, tmp_path / "scored.csv", scheduler, "--personal-data", "keep")
    assert code == 0, err
    log = store.read_table(run, "predictions")
    assert len(log) == 300 and "in.housing" not in log.columns and "in.purpose" in log.columns
    raw = b"".join(p.read_bytes() for p in store.list_parts(run, "predictions"))
    assert b"example.com" not in raw
    assert "Personal data is never logged: housing is left out of the prediction log." in res["prediction_log"]["notices"]


def test_a_log_that_cannot_be_written_leaves_the_output_and_says_so(capsys, tmp_path, run, scheduler, monkeypatch):
    from core.errors import DataValidationError
    from core.monitor import record

    calls = []

    def full_disk(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # the second block's part: the first is already appended, and must go again
            raise DataValidationError("Expected to append to the prediction log in 'x'; got 'No space left on device'.")
        return real(*a, **k)

    real = record.write_part
    monkeypatch.setattr(record, "write_part", full_disk)
    out = tmp_path / "scored.csv"
    code, res, err = dask(capsys, run, applicants(tmp_path, 500), out, scheduler)
    assert code == 0, err
    assert len(pd.read_csv(out)) == 500 and len(calls) == 2
    assert "scored but not recorded in the run's prediction log" in err and "No space left on device" in err
    assert res["prediction_log"]["rows"] == 0 and all_log_files(run) == []  # all or nothing


def test_a_block_that_could_not_build_its_log_rows_logs_no_block(run):
    from core.monitor.record import open_recorder

    rec = open_recorder(run, source="cli", deferred=True)
    frames = iter([pd.DataFrame({"row_id": ["a"]})])
    rec.adopt(frames, [{"rows": 1, "left_out": ["phone"]}, {"rows": 0, "error": "KeyError: 'decision'"}])
    rec.commit()
    assert rec.rows == 0 and all_log_files(run) == [] and next(frames, None) is not None  # nothing read or written
    assert any("not recorded in the run's prediction log (KeyError: 'decision')" in n for n in rec.notices)
    assert "Personal data is never logged: phone is left out of the prediction log." in rec.notices
