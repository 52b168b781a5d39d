"""Fraud's rolling history survives a restart: saved on shutdown (and periodically), loaded at start,
so a stream continued after the restart gets the risk of scoring the whole stream as one file. A state
saved for another run is left aside; several worker processes are refused for a stateful model."""

from __future__ import annotations

import json
import time

import httpx
import pandas as pd

from tests.server.conftest import Server, cli_score, copy_run, serving
from tests.server.test_serve_keras import assert_same, fraud_rows, post


def _stream(server, name, records) -> list[dict]:
    out = []
    for rec in records:
        r = post(server, name, {"instances": [rec]})
        assert r.status_code == 200, r.text
        out += r.json()["predictions"]
    return out


def test_a_restart_keeps_the_fraud_history(onnx_ready, tmp_path):
    run = copy_run(onnx_ready["fraud"], "fraud-restart")
    state = tmp_path / "state"
    rows = fraud_rows(30)
    cols = ["timestamp", "amount", "customer_id", "terminal_id", "channel"]
    rows[cols].to_csv(tmp_path / "log.csv", index=False)
    records = json.loads(rows[cols].to_json(orient="records"))
    args = ["--model", str(run), "--runtime", "onnx", "--state-dir", str(state), "--snapshot-every", "0"]
    with serving(args, log=tmp_path / "first.log") as first:
        served = _stream(first, "fraud-restart", records[:15])
    assert (state / "fraud-restart.state.parquet").exists()
    assert "Saved the state of fraud-restart" in (tmp_path / "first.log").read_text()
    with serving(args, log=tmp_path / "second.log") as second:
        served += _stream(second, "fraud-restart", records[15:])
    assert "fraud-restart: restored the state saved at" in (tmp_path / "second.log").read_text()
    scored = cli_score(onnx_ready["fraud"], tmp_path / "log.csv", tmp_path / "scored.csv")
    assert_same(pd.DataFrame(served), scored, tol=1e-5)


def test_the_state_is_also_saved_periodically(onnx_ready, tmp_path):
    run = copy_run(onnx_ready["fraud"], "fraud-periodic")
    state = tmp_path / "state"
    with serving(["--model", str(run), "--runtime", "onnx", "--state-dir", str(state), "--snapshot-every", "1"],
                 log=tmp_path / "server.log") as server:
        records = json.loads(fraud_rows(3)[["timestamp", "amount", "customer_id", "terminal_id", "channel"]]
                             .to_json(orient="records"))
        _stream(server, "fraud-periodic", records)
        path = state / "fraud-periodic.state.parquet"
        deadline = time.time() + 60
        while not path.exists() and time.time() < deadline:
            time.sleep(0.5)
        assert path.exists()  # written while the server runs, before any shutdown


def test_a_state_saved_for_another_run_is_left_aside(onnx_ready, tmp_path):
    """Two copies of the run under one name, one after the other: the second one's model file differs
    (a retrained run) and it starts from its own saved log, leaving the file in place."""
    import shutil

    state = tmp_path / "state"
    state.mkdir()
    other = tmp_path / "runs" / "fraud-x"
    shutil.copytree(onnx_ready["fraud"], other)
    meta = json.loads((other / "metadata.json").read_text())
    foreign = pd.DataFrame({"timestamp": pd.to_datetime(["2024-05-01"]), "amount": [1.0]})
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(foreign, preserve_index=False)
    info = json.dumps({"run_id": meta["run_id"], "model_sha256": "0" * 64, "last_time": None, "scored": "3"})
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata({b"studio_state": info.encode()}), buf)
    (state / "fraud-x.state.parquet").write_bytes(buf.getvalue())
    with serving(["--model", str(other), "--runtime", "onnx", "--state-dir", str(state), "--snapshot-every", "0"],
                 log=tmp_path / "server.log") as server:
        assert httpx.get(f"{server.url}/health").status_code == 200
    assert "belongs to another run or model" in (tmp_path / "server.log").read_text()


def test_several_workers_are_refused_for_a_stateful_model(onnx_ready, tmp_path):
    server = Server(["--model", str(onnx_ready["fraud"]), "--runtime", "onnx", "--workers", "2",
                     "--state-dir", str(tmp_path)], log=tmp_path / "server.log")
    assert server.proc.wait(timeout=300) == 1
    assert "Expected --workers 1 for stateful models; got --workers 2 with fraud-1" in server.log.read_text()


def test_several_workers_serve_a_stateless_model(onnx_ready, tmp_path):
    import psutil

    with serving(["--model", str(onnx_ready["credit"]), "--runtime", "onnx", "--workers", "2"],
                 log=tmp_path / "server.log") as server:
        workers = [p for p in psutil.Process(server.proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2
        example = httpx.get(f"{server.url}/v1/models/credit-1").json()["input"]["example"]
        assert all(post(server, "credit-1", example).status_code == 200 for _ in range(10))


def test_the_history_tail_rolled_in_late_reads_the_same_rows_as_rolling_every_request(onnx_ready, monkeypatch):
    """The scored rows wait in a tail before joining the history (``MERGE_ROWS``); rolling them in after
    every request (as the file scorer rolls each chunk) or only when the state is saved must give the same risks, including for a batch older than the latest
    transaction and for rows scored without being remembered, and the same saved history."""
    import core.fraud.serving as fs
    from core.server.limits import Limits, rows_to_frame

    cols = ["timestamp", "amount", "customer_id", "terminal_id", "channel"]
    records = json.loads(fraud_rows(40)[cols].to_json(orient="records"))

    def stream(merge_rows):
        monkeypatch.setattr(fs, "MERGE_ROWS", merge_rows)
        p = fs.make_predictor(onnx_ready["fraud"], runtime="onnx")
        frame = lambda rows: rows_to_frame(rows, Limits())  # noqa: E731
        outs = [p.predict(frame([rec])) for rec in records[:25]]
        outs.append(p.predict(frame(records[25:32])))
        late = p.predict(frame(records[:6]))  # older than the latest transaction seen
        outs += [late, *(p.predict(frame([rec]), remember=i % 2 == 0) for i, rec in enumerate(records[32:]))]
        return pd.concat(outs, ignore_index=True), p.snapshot(), late.attrs["notices"]

    every, every_state, _ = stream(1)
    never, never_state, _ = stream(10 ** 9)
    pd.testing.assert_frame_equal(every, never)
    pd.testing.assert_frame_equal(every_state["history"], never_state["history"])
    assert every_state["last_time"] == never_state["last_time"] and every_state["scored"] == 25 + 7 + 6 + 4


def test_the_predictor_holds_the_saved_log_once_and_keeps_its_example(onnx_ready, monkeypatch):
    """The saved log is the rolling history's start, not a second frame beside it: once rows are rolled in,
    only the rolled history is held. The example row (GET /v1/models/{name}) stays the one the saved log gave."""
    import gc
    import weakref

    import core.fraud.serving as fs
    from core.server.limits import Limits, rows_to_frame

    monkeypatch.setattr(fs, "MERGE_ROWS", 1)
    p = fs.make_predictor(onnx_ready["fraud"], runtime="onnx")
    example, columns = p.example_row(), list(p.history.columns)
    assert len(p.saved.history) == 0 and list(p.saved.history.columns) == columns
    start = weakref.ref(p.history)
    cols = ["timestamp", "amount", "customer_id", "terminal_id", "channel"]
    p.predict(rows_to_frame(json.loads(fraud_rows(1)[cols].to_json(orient="records")), Limits()))
    gc.collect()
    assert start() is None and len(p.history) > 0
    assert p.example_row() == example and p.describe()["input"]["example"]["instances"] == [example]
