"""The ONNX runtime: exported once and cached beside the run with its SHA-256, served without TensorFlow
in the server process, and within 1e-5 of the Keras answers (credit's reason codes the same)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.server.conftest import ROOT, cli_score
from tests.server.test_serve_keras import (assert_same, credit_rows, fraud_rows, one_row_requests_equal_the_scored_file,
                                          post)


def test_the_onnx_server_never_imports_tensorflow(onnx_server):
    h = httpx.get(f"{onnx_server.url}/health").json()
    assert h["runtime"] == "onnx" and all(m["runtime"] == "onnx" for m in h["models"])
    assert h["modules"]["onnxruntime"] is True
    assert h["modules"]["tensorflow"] is False and h["modules"]["keras"] is False
    # what start-up made is out of the collector's reach: a full collection no longer walks it mid-request
    assert h["startup_objects_frozen"] > 10_000
    # settled for small requests on few cores (core.server.process): one BLAS thread, two malloc arenas
    assert h["blas_threads"] == 1 and h["malloc_arenas"] == 2
    # glibc's own allocator defaults: the app's 128 KB mapping threshold cost batched requests CPU
    assert h["allocator"] == {}


def test_preparing_the_process_holds_openmp_to_one_thread_in_every_thread():
    # set before scikit-learn loads, the limit reaches the request threads too (threadpoolctl's would not)
    code = ("import threading, threadpoolctl; from core.server.process import prepare, state; prepare(); "
            "import numpy as np; from sklearn.ensemble import HistGradientBoostingClassifier as H; "
            "H(max_iter=3).fit(np.arange(40.0).reshape(-1, 1), np.arange(40) % 2); out = []; "
            "t = threading.Thread(target=lambda: out.extend(i['num_threads'] for i in threadpoolctl.threadpool_info()"
            " if i['user_api'] == 'openmp')); t.start(); t.join(); print(state['openmp_threads'], sorted(set(out)))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "STUDIO_OMP_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "[1]"]
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**env, "OMP_NUM_THREADS": "2"})
    assert off.stdout.split() == ["2", "[2]"], off.stderr[-2000:]  # a user's own setting is kept


def test_settling_the_process_holds_blas_to_one_thread_and_freezes_start_up():
    code = ("import gc, numpy, threadpoolctl; from core.server.process import settle; s = settle(); "
            "print(s['blas_threads'], s['malloc_arenas'], s['startup_objects_frozen'] == gc.get_freeze_count() > 0, "
            "sorted({i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "STUDIO_BLAS_THREADS": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "2", "True", "[1]"]


def test_onnx_predictions_are_within_1e_5_of_keras_with_the_same_reason_codes(onnx_server, runs, tmp_path):
    rows = credit_rows(onnx_server)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = post(onnx_server, "credit-1", {"instances": json.loads(rows.to_json(orient="records"))})
    assert r.status_code == 200, r.text
    served = pd.DataFrame(r.json()["predictions"])
    keras = cli_score(runs["credit"], tmp_path / "rows.csv", tmp_path / "scored.csv")
    # Probabilities are written rounded to 6 decimals: 1e-5 covers the model's difference and the rounding.
    assert_same(served, keras, tol=1e-5)
    assert (served["decision"] == "decline").sum() >= 3  # the reasons compared above include real ones


def test_one_row_onnx_requests_have_the_reason_codes_of_the_scored_one_row_file(onnx_server, runs, tmp_path):
    one_row_requests_equal_the_scored_file(onnx_server, runs, tmp_path, tol=1e-5)


def test_onnx_fraud_demand_and_quality_match_keras(onnx_server, runs, tmp_path):
    log = fraud_rows(30)
    cols = list(httpx.get(f"{onnx_server.url}/v1/models/fraud-1").json()["input"]["columns"])
    log[cols].to_csv(tmp_path / "log.csv", index=False)
    served = post(onnx_server, "fraud-1", {"instances": json.loads(log[cols].to_json(orient="records"))})
    assert_same(pd.DataFrame(served.json()["predictions"]),
                cli_score(runs["fraud"], tmp_path / "log.csv", tmp_path / "fraud.csv"), tol=1e-5)
    sales = pd.read_csv(runs["demand"].parent.parent / "sales.csv")
    recent = sales[sales["date"] >= "2025-11-01"]
    recent.to_csv(tmp_path / "history.csv", index=False)
    served = post(onnx_server, "demand-1", {"instances": json.loads(recent.to_json(orient="records"))})
    # Forecasts are written rounded to 3 decimals, so a 1e-5 model difference can move the last digit; and they
    # are in units: the network's float32 output scaled by a series' level, so ONNX's and Keras's few-ulp
    # differences grow with the level (a P90 near 2,500 once differed by 0.002, 8e-7 of it): within 1e-5 of
    # the value, the runtime's 1e-5 on the model's output.
    assert_same(pd.DataFrame(served.json()["predictions"]),
                cli_score(runs["demand"], tmp_path / "history.csv", tmp_path / "forecast.csv"), tol=1.001e-3,
                rtol=1e-5)
    from tests.server.test_serve_keras import _images

    folder = tmp_path / "parts"
    folder.mkdir()
    import base64

    images = _images(6)
    for name, data in images.items():
        (folder / name).write_bytes(data)
    body = {"instances": [{"image": {"b64": base64.b64encode(d).decode()}, "name": n} for n, d in images.items()]}
    served = pd.DataFrame(post(onnx_server, "quality-1", body).json()["predictions"]).sort_values("file")
    scored = cli_score(runs["quality"], folder, tmp_path / "q.csv").sort_values("file")
    assert_same(served.reset_index(drop=True), scored.reset_index(drop=True), tol=1.001e-4)  # 4 decimals written


def test_the_export_is_cached_beside_the_run_with_its_sha256(onnx_ready, tmp_path):
    import hashlib

    from core.runtime.onnx import ONNX_FILE, SHA_FILE, cached_onnx

    run = onnx_ready["credit"]
    onnx = run / ONNX_FILE
    lines = dict(reversed(ln.split("  ")) for ln in (run / SHA_FILE).read_text().splitlines())
    assert lines[ONNX_FILE] == hashlib.sha256(onnx.read_bytes()).hexdigest()
    meta = json.loads((run / "metadata.json").read_text())
    assert lines["model.keras"] == meta["files"]["model.keras"]["sha256"]
    assert cached_onnx(run) == onnx
    # `sha256sum -c` checks both lines, as the docs say.
    done = subprocess.run(["sha256sum", "-c", SHA_FILE], cwd=run, capture_output=True, text=True)
    assert done.returncode == 0 and "model.onnx: OK" in done.stdout and "model.keras: OK" in done.stdout


def test_a_stale_or_damaged_export_is_not_used(onnx_ready, tmp_path):
    import shutil

    from core.runtime.onnx import ONNX_FILE, SHA_FILE, cached_onnx

    run = tmp_path / "copy"
    shutil.copytree(onnx_ready["credit"], run)
    assert cached_onnx(run) == run / ONNX_FILE
    (run / ONNX_FILE).write_bytes((run / ONNX_FILE).read_bytes()[:-10])  # cut short
    assert cached_onnx(run) is None
    shutil.copy(onnx_ready["credit"] / ONNX_FILE, run / ONNX_FILE)
    side = (run / SHA_FILE).read_text().splitlines()
    (run / SHA_FILE).write_text(side[0] + "\n" + "0" * 64 + "  model.keras\n")  # made from another model
    assert cached_onnx(run) is None


def test_python_m_core_export_writes_the_file_and_reports_the_check(onnx_ready, tmp_path):
    from core.cli import main

    out = tmp_path / "credit.onnx"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["export", "--model", str(onnx_ready["credit"]), "--format", "onnx", "--out", str(out),
                     "--json"]) == 0
    res = json.loads(buf.getvalue())
    assert res["cached"] is True and res["out"] == str(out) and out.read_bytes() == (onnx_ready["credit"] / "model.onnx").read_bytes()
    assert res["max_abs_diff"] < 1e-5


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    from core.cli import main

    assert main(["export", "--model", str(tmp_path), "--format", "onnx"]) == 1
    assert "metadata.json cannot be read" in capsys.readouterr().err


def test_the_onnx_model_answers_the_keras_calls(onnx_ready):
    """``predict_on_batch``, ``predict`` and ``model(x)`` as the scorers call them, on a model with three
    inputs (demand) and on an image model; an empty batch gives an empty answer of the right shape."""
    import keras

    from core.runtime.onnx import load_onnx

    for key in ("demand", "quality"):
        km = keras.saving.load_model(onnx_ready[key] / "model.keras", compile=False, safe_mode=True)
        om = load_onnx(onnx_ready[key] / "model.onnx")
        rng = np.random.default_rng(0)
        xs = [(rng.uniform(0, 255, (5, *i.shape[1:])) if len(i.shape) == 4 else rng.normal(size=(5, *i.shape[1:])))
              .astype("float32") for i in km.inputs]
        x = xs[0] if len(xs) == 1 else xs
        want = np.asarray(km(x, training=False))
        for got in (om(x, training=False), om.predict_on_batch(x), om.predict(x, batch_size=2)):
            np.testing.assert_allclose(got, want, atol=1e-5)
        assert om.output_shape[1:] == tuple(km.output_shape[1:])
        empty = [v[:0] for v in xs] if len(xs) > 1 else xs[0][:0]
        assert om(empty).shape == (0, *km.output_shape[1:])


def test_a_large_input_runs_in_slices_with_the_same_outputs(onnx_ready, monkeypatch):
    """Inputs over ``RUN_ROWS`` rows go to ONNX Runtime a slice at a time (its arena keeps the largest
    call's buffers), with the outputs of one call, on a model with three inputs (demand)."""
    import core.runtime.onnx as onnx_runtime

    om = onnx_runtime.load_onnx(onnx_ready["demand"] / "model.onnx")
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(11, *[d if isinstance(d, int) else 1 for d in i.shape[1:]])).astype("float32")
          for i in om.session.get_inputs()]
    whole = om(xs)
    seen = []
    run = om.session.run
    monkeypatch.setattr(om, "session", type("S", (), {"run": lambda self, out, feed: (
        seen.append(len(next(iter(feed.values())))), run(out, feed))[1]})())
    monkeypatch.setattr(onnx_runtime, "RUN_ROWS", 4)
    assert np.array_equal(om(xs), whole)
    assert seen == [4, 4, 3]


def test_an_onnx_predictor_in_a_fresh_process_loads_no_tensorflow(onnx_ready):
    code = ("import sys, pandas as pd; from core.store.scenarios import get_scenario; "
            f"p = get_scenario('credit').predictor({str(onnx_ready['credit'])!r}, runtime='onnx'); "
            "p.predict(pd.DataFrame(p.example_instances())); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("runtime", ["tflite", ""])
def test_an_unknown_runtime_is_refused_clearly(runtime):
    from core.errors import DataValidationError
    from core.runtime import check_runtime

    with pytest.raises(DataValidationError, match=r"Expected a runtime of keras or onnx; got '.*'\. Fix: pass --runtime"):
        check_runtime(runtime)


def test_a_network_that_cannot_be_converted_is_a_clear_message(onnx_ready, tmp_path, monkeypatch):
    import shutil

    import core.runtime.onnx as ro
    from core.errors import DataValidationError

    run = tmp_path / "credit-copy"
    shutil.copytree(onnx_ready["credit"], run)
    (run / "model.onnx").unlink()

    def fail(model):
        raise ValueError("Unsupported ops: Counter({'StatelessRandomUniformV2': 5})")

    monkeypatch.setattr(ro, "_convert", fail)
    with pytest.raises(DataValidationError, match=r"Expected the network of run 'credit-copy' to convert to ONNX; "
                                                  r"got ValueError: Unsupported ops.*Fix: serve it with --runtime keras"):
        ro.ensure_onnx(run, in_process=True)


def test_a_transaction_older_than_the_history_reaches_is_scored_with_a_notice(onnx_server):
    """Run last in this module: it moves fraud-1's history on."""
    row = httpx.get(f"{onnx_server.url}/v1/models/fraud-1").json()["input"]["example"]["instances"][0]
    later = {**row, "timestamp": "2024-07-01 12:00:00"}
    assert "notices" not in post(onnx_server, "fraud-1", {"instances": [later]}).json()
    old = post(onnx_server, "fraud-1", {"instances": [{**row, "timestamp": "2024-05-01 12:00:00"}]})
    assert old.status_code == 200 and old.json()["predictions"][0]["decision"] in ("approve", "review", "block")
    assert "1 transaction(s) are older than the service's history reaches" in old.json()["notices"][0]
