"""The HTTP service's side of the loop, on the real app (``core.server.app.build_app``) over a tiny credit
run's real predictor: ``:predict`` logs every answered row and returns its ``prediction_id`` (the id the
client sent, else a generated one), ``:feedback`` matches outcomes by that id and reports the rest,
a body it cannot use is a 400 in the service's refusal shape, and ``--no-log`` logs nothing."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from core.monitor import store

ROOT = Path(__file__).resolve().parents[2]
NEW = ROOT / "sample_data" / "credit_new_month.csv"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    from core.cli import main

    folder = tmp_path_factory.mktemp("served") / "runs" / "credit-1"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--scenario", "credit", "--data", str(ROOT / "sample_data" / "credit_applications.csv"),
                     "--epochs", "1", "--no-explain", "--seed", "2", "--save", str(folder), "--json"]) == 0
    return folder


def app(run: Path, *, log: bool = True, flush: float = 2.0):
    from core.store.scenarios import get_scenario
    from core.store.registry import read_metadata
    from core.server.app import ServeSettings, build_app, warm_up

    predictors = {run.name: get_scenario(read_metadata(run).get("scenario")).predictor(run, runtime="keras")}
    return build_app(predictors, ServeSettings(log=log, log_flush_seconds=flush), warm_up(predictors))  # as `serve`


def client(run: Path, *, log: bool = True, flush: float = 2.0) -> TestClient:
    return TestClient(app(run, log=log, flush=flush))


def body(run: Path, new: pd.DataFrame, *, ids: bool) -> dict:
    from core.data.columncheck import get_expected_input
    from core.store.registry import read_metadata

    cols = list(get_expected_input(read_metadata(run))["columns"])
    return {"instances": json.loads(new[(["applicant_id"] if ids else []) + cols].to_json(orient="records"))}


def logged(run: Path) -> pd.DataFrame:
    return store.read_table(run, store.PREDICTIONS) if store.list_parts(run, store.PREDICTIONS) else pd.DataFrame()


def test_predict_logs_each_row_with_the_id_it_returns_and_feedback_matches_by_it(run):
    api = client(run, flush=3600)  # nothing is written by time during the test: only the feedback's flush
    new = pd.read_csv(NEW)
    first, second = new.iloc[:6].reset_index(drop=True), new.iloc[6:10].reset_index(drop=True)

    r = api.post("/v1/models/credit-1:predict", json=body(run, first, ids=False))
    assert r.status_code == 200, r.text
    generated = [p["prediction_id"] for p in r.json()["predictions"]]
    assert len(set(generated)) == 6 and not set(generated) & set(new["applicant_id"])

    # The client's own id column is taken for the log (not refused as a column the model does not read).
    r = api.post("/v1/models/credit-1:predict", json=body(run, second, ids=True))
    assert r.status_code == 200, r.text
    answered = r.json()["predictions"]
    assert [p["prediction_id"] for p in answered] == second["applicant_id"].tolist()

    # Answered, not yet written: the rows wait in the service's buffer (a monitor in another process sees
    # them after the next flush), and the service's health says how many.
    assert len(logged(run)) == 0
    assert api.get("/health").json()["prediction_log"] == {"flush_seconds": 3600.0, "pending_rows": 10, "failing": []}

    # The feedback route writes the run's buffered rows before matching: an outcome sent right after its
    # prediction matches it.
    outcomes = [{"id": generated[0], "label": 1}, {"id": "APP200006", "label": 0}, {"id": "NOPE-1", "label": 1}]
    r = api.post("/v1/models/credit-1:feedback", json={"outcomes": outcomes})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["model"] == "credit-1" and got["received"] == 3 and got["matched"] == 2
    assert got["unmatched"] == 1 and got["unmatched_examples"] == ["NOPE-1"]
    assert api.get("/health").json()["prediction_log"]["pending_rows"] == 0

    log = logged(run)
    assert len(log) == 10 and set(log["source"]) == {"api"} and log["log_key"].is_unique
    # One part per column layout (a request with the client's ids, one with generated ids), not one per request.
    assert len(store.list_parts(run, store.PREDICTIONS)) <= 2
    assert set(log["row_id"]) == set(generated) | set(second["applicant_id"])
    # The score logged is the score answered, row by row.
    by_id = log.set_index("row_id")["score"]
    for p in answered:
        assert by_id[p["prediction_id"]] == pytest.approx(p["probability_of_default"], abs=1e-6)
    assert not [c for c in log.columns if c in ("in.age", "in.sex", "in.applicant_id")]
    # The service documents both: the id in each prediction and the feedback route.
    doc = api.get("/openapi.json").json()
    assert "/v1/models/credit-1:feedback" in doc["paths"]
    item = doc["paths"]["/v1/models/credit-1:predict"]["post"]["responses"]["200"]["content"]["application/json"]
    assert "prediction_id" in item["schema"]["properties"]["predictions"]["items"]["properties"]
    docs = api.get("/docs")
    assert docs.status_code == 200 and "/v1/models/credit-1:feedback" in docs.text and "<code>label</code>" in docs.text


@pytest.mark.parametrize("payload, match", [
    (b"not json", "not JSON"),
    (b'{"labels": []}', "outcomes"),
    (b'{"outcomes": [{"id": "APP200000"}]}', "label"),
])
def test_feedback_a_body_it_cannot_use_is_a_400_in_the_refusal_shape(run, payload, match):
    r = client(run).post("/v1/models/credit-1:feedback", content=payload,
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert {"expected", "got", "fix", "message"} <= set(err) and match in err["message"]


def test_a_clean_shutdown_writes_every_buffered_row_and_flush_zero_writes_before_answering(run):
    new = pd.read_csv(NEW).iloc[30:37].reset_index(drop=True)
    before = len(logged(run))
    with TestClient(app(run, flush=3600)) as api:  # entering and leaving runs the app's lifespan (uvicorn's too)
        r = api.post("/v1/models/credit-1:predict", json=body(run, new, ids=True))
        assert r.status_code == 200, r.text
        assert len(logged(run)) == before
    log = logged(run)
    assert len(log) == before + 7 and set(new["applicant_id"]) <= set(log["row_id"])

    api = client(run, flush=0)  # today's rule: each request is written before it is answered
    r = api.post("/v1/models/credit-1:predict", json=body(run, pd.read_csv(NEW).iloc[40:42], ids=True))
    assert r.status_code == 200 and len(logged(run)) == before + 9
    assert api.get("/health").json()["prediction_log"]["pending_rows"] == 0


def test_an_unknown_verb_names_both_routes_and_no_log_records_nothing_but_takes_the_row_id(run):
    api = client(run, log=False)
    r = api.post("/v1/models/credit-1:explain", json={})
    assert r.status_code == 404 and ":feedback" in r.json()["error"]["fix"]
    before = len(logged(run))
    r = api.post("/v1/models/credit-1:predict", json=body(run, pd.read_csv(NEW).iloc[20:23], ids=False))
    assert r.status_code == 200, r.text
    assert "prediction_id" not in r.json()["predictions"][0] and len(logged(run)) == before
    # The client's row id is accepted with the log off too (the same client works either way), not sent to the model.
    with_ids = api.post("/v1/models/credit-1:predict", json=body(run, pd.read_csv(NEW).iloc[20:23], ids=True))
    assert with_ids.status_code == 200, with_ids.text
    assert with_ids.json()["predictions"] == r.json()["predictions"] and len(logged(run)) == before


def test_a_keyed_run_logs_the_pseudonym_of_a_requests_raw_key_never_the_raw_value(tmp_path):
    """A run that keeps a key column as keyed pseudonyms: the request holds the raw values, the log the
    pseudonyms the run's own files hold (made with the run's secret)."""
    from core.monitor.hooks import ServedLog
    from core.data.pseudonym import SECRET_FILE, pseudonymise
    from core.store.registry import read_metadata
    from tests.monitor.helpers import applications, make_run, scored_frame

    run = make_run(tmp_path / "runs")
    meta = read_metadata(run)
    meta["pseudonymised"] = [{"column": "region", "kind": "name", "role": "customer key"}]
    (run / "metadata.json").write_text(json.dumps(meta))
    secret = b"s" * 32
    (run / SECRET_FILE).write_bytes(secret)
    rows = applications(30, seed=5, ids=False)
    served = ServedLog().record(run, rows, scored_frame(rows)[["probability_of_default", "decision"]])
    log = logged(run)
    assert len(log) == 30 and served["prediction_id"].tolist() == log["row_id"].tolist()
    assert not set(log["in.region"]) & set(rows["region"])
    assert log["in.region"].tolist() == pseudonymise(rows["region"], secret).tolist()


def test_a_served_process_stopped_with_sigterm_writes_its_buffered_rows(run, tmp_path):
    """``python -m core serve`` under uvicorn: rows wait in memory (a one-hour interval), and SIGTERM's
    graceful shutdown writes them, with the ids the client was answered with."""
    import httpx

    from tests.server.conftest import serving

    new = pd.read_csv(NEW).iloc[50:55].reset_index(drop=True)
    before = len(logged(run))
    with serving(["--model", str(run), "--log-flush-seconds", "3600"], log=tmp_path / "server.log") as server:
        r = httpx.post(f"{server.url}/v1/models/credit-1:predict", json=body(run, new, ids=False), timeout=120)
        assert r.status_code == 200, r.text
        ids = [p["prediction_id"] for p in r.json()["predictions"]]
        health = httpx.get(f"{server.url}/health", timeout=30).json()
        assert health["prediction_log"]["pending_rows"] == 5 and len(logged(run)) == before
    log = logged(run)
    assert len(log) == before + 5 and set(ids) <= set(log["row_id"])


def test_the_writer_builds_the_rows_without_the_lock_requests_take_and_writes_each_row_once(run, monkeypatch):
    """A request answered while the buffer's writer builds the waiting rows only waits for its own ids:
    the writer holds no lock of the request path while it builds (the slowest 1-2 % of one-row
    requests waited for a whole flush's rows). Every answered row is written once, shutdown included."""
    new = pd.read_csv(NEW).iloc[50:56].reset_index(drop=True)
    before = logged(run)
    the_app = app(run, flush=3600)
    served = the_app.state.served_log
    with TestClient(the_app) as api:
        assert api.post("/v1/models/credit-1:predict", json=body(run, new.iloc[:3], ids=True)).status_code == 200
        rec, lock = served.recorder(run), served._run_locks[served.key(run)]
        build, during = rec.build_requests, []

        def building(requests, **kw):
            during.append(lock.locked())
            if during == [False]:  # a request answered mid-build (on a held lock it would wait forever)
                r = api.post("/v1/models/credit-1:predict", json=body(run, new.iloc[3:5], ids=True))
                during.append(r.status_code)
            return build(requests, **kw)

        monkeypatch.setattr(rec, "build_requests", building)
        assert served.flush(run) == 3
        assert during == [False, 200]
        assert served.pending() == 2  # the mid-build request waits for the next flush
        r = api.post("/v1/models/credit-1:predict", json=body(run, new.iloc[5:6], ids=True))
        assert r.status_code == 200
    log = logged(run)
    added = log[~log["log_key"].isin(before["log_key"] if len(before) else [])]
    assert len(added) == 6 and added["log_key"].is_unique
    assert sorted(added["row_id"]) == sorted(new["applicant_id"])


def test_one_row_requests_skip_the_thread_pool_and_answer_as_a_batch_does(run, monkeypatch):
    """One row of a stateless table model is answered on the event loop (the thread pool's round trip cost
    more than the row's own steps); larger requests still go to the pool. The answer has the same fields in
    the same order either way, the id the client sent last."""
    import core.server.app as app_module

    trips, real = [], app_module.run_in_threadpool

    async def counted(fn, *args, **kw):
        trips.append(fn.__name__)
        return await real(fn, *args, **kw)

    monkeypatch.setattr(app_module, "run_in_threadpool", counted)
    new = pd.read_csv(NEW).iloc[60:62].reset_index(drop=True)
    with TestClient(app(run, flush=3600)) as api:
        one = [api.post("/v1/models/credit-1:predict", json=body(run, new.iloc[[i]], ids=True)).json()["predictions"][0]
               for i in range(2)]
        both = api.post("/v1/models/credit-1:predict", json=body(run, new, ids=True)).json()["predictions"]
    assert trips == ["answer"]  # only the two-row request went to the pool
    assert [list(r) for r in one] == [list(r) for r in both] and list(one[0])[-1] == "prediction_id"
    assert [r["prediction_id"] for r in one] == [r["prediction_id"] for r in both] == new["applicant_id"].tolist()
    assert [r["decision"] for r in one] == [r["decision"] for r in both]
    assert [r["probability_of_default"] for r in one] == pytest.approx([r["probability_of_default"] for r in both],
                                                                      abs=1e-6)
