"""The service on the Keras runtime, over HTTP: each prediction equals ``python -m core score`` on the
same rows (credit, fraud, demand, quality), fraud posted one transaction at a time equals the file,
every bad request is a 400 / 404 in one shape, personal data is never echoed, and the docs are served
without anything from the network."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.server.conftest import FRAUD_CUSTOMERS, SAMPLES, cli_score

TEXT = ("grade", "decision", "reason_1", "reason_2", "reason_3", "reason_4", "predicted", "verdict", "file",
        "series", "date", "alert")


def post(server, name: str, body, **kw) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/models/{name}:predict", json=body, timeout=120, **kw)


def expected_columns(server, name: str) -> list[str]:
    return list(httpx.get(f"{server.url}/v1/models/{name}", timeout=30).json()["input"]["columns"])


def assert_same(served: pd.DataFrame, scored: pd.DataFrame, *, tol: float, rtol: float = 0.0) -> None:
    """Every served field equals the scored file's column of the same name, row by row (within ``tol``, plus
    ``rtol`` of the scored value for quantities in units)."""
    assert len(served) == len(scored) and len(served) > 0
    for c in served.columns:
        if c == "prediction_id":  # the id each door logged the row under (tests/monitor/test_server_hooks.py)
            continue
        assert c in scored.columns, f"'{c}' is not in the scored file"
        a, b = served[c], scored[c]
        if c in TEXT:
            assert a.fillna("").astype(str).tolist() == b.fillna("").astype(str).tolist(), c
        else:
            np.testing.assert_allclose(a.astype(float), b.astype(float), atol=tol, rtol=rtol, err_msg=c)


def credit_rows(server) -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "credit_new_month.csv").head(60)[expected_columns(server, "credit-1")]


def fraud_rows(n: int) -> pd.DataFrame:
    new = pd.read_csv(SAMPLES / "fraud_new_month.csv.gz")
    return new[new["customer_id"] < FRAUD_CUSTOMERS].head(n).reset_index(drop=True)


# ---------------------------------------------------------------- same answers as batch scoring
def test_credit_predictions_equal_the_scored_file(keras_server, runs, tmp_path):
    rows = credit_rows(keras_server)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = post(keras_server, "credit-1", {"instances": json.loads(rows.to_json(orient="records"))})
    assert r.status_code == 200, r.text
    served = pd.DataFrame(r.json()["predictions"])
    assert list(served.columns) == ["probability_of_default", "score_points", "grade", "decision", "reason_1",
                                    "reason_2", "reason_3", "reason_4", "prediction_id"]
    scored = cli_score(runs["credit"], tmp_path / "rows.csv", tmp_path / "scored.csv")
    assert_same(served, scored, tol=1e-6)
    declined = served["decision"] == "decline"
    assert declined.any() and (served.loc[declined, "reason_1"] != "").all()  # reason codes for every decline


def one_row_requests_equal_the_scored_file(server, runs, tmp_path, *, tol: float, applicants: int = 3) -> None:
    """Declined applicants posted one request each (the reason codes' walks of a lone row: the service's usual
    request) get what ``python -m core score`` writes for a file of that one row, reason codes included."""
    rows = credit_rows(server)
    whole = pd.DataFrame(post(server, "credit-1", {"instances": json.loads(rows.to_json(orient="records"))}
                              ).json()["predictions"])
    declined = whole.index[whole["decision"] == "decline"][:applicants]
    assert len(declined) == applicants
    for i in declined:
        row = rows.iloc[[i]]
        row.to_csv(tmp_path / f"row{i}.csv", index=False)
        r = post(server, "credit-1", {"instances": json.loads(row.to_json(orient="records"))})
        assert r.status_code == 200, r.text
        served = pd.DataFrame(r.json()["predictions"])
        scored = cli_score(runs["credit"], tmp_path / f"row{i}.csv", tmp_path / f"scored{i}.csv")
        assert served.loc[0, "decision"] == "decline" and served.loc[0, "reason_1"] != ""
        assert_same(served, scored, tol=tol)


def test_one_row_credit_requests_equal_the_scored_one_row_file(keras_server, runs, tmp_path):
    one_row_requests_equal_the_scored_file(keras_server, runs, tmp_path, tol=1e-6)


def test_fraud_predictions_equal_the_scored_file(keras_server, runs, tmp_path):
    rows = fraud_rows(50)
    cols = expected_columns(keras_server, "fraud-1")
    rows[cols].to_csv(tmp_path / "log.csv", index=False)
    r = post(keras_server, "fraud-1", {"instances": json.loads(rows[cols].to_json(orient="records"))})
    assert r.status_code == 200, r.text
    served = pd.DataFrame(r.json()["predictions"])
    assert list(served.columns) == ["risk", "decision", "alert", "prediction_id"]
    assert_same(served, cli_score(runs["fraud"], tmp_path / "log.csv", tmp_path / "scored.csv"), tol=1e-6)


def test_fraud_posted_one_by_one_in_time_order_equals_the_file(keras_server, runs, tmp_path):
    """Each card's and terminal's history is kept between requests: 40 transactions posted one at a
    time (and then five more in one request) get the risk of scoring the 45 as one file."""
    rows = fraud_rows(45)
    cols = expected_columns(keras_server, "fraud-stream")
    rows[cols].to_csv(tmp_path / "log.csv", index=False)
    records = json.loads(rows[cols].to_json(orient="records"))
    served = []
    for rec in records[:40]:
        r = post(keras_server, "fraud-stream", {"instances": [rec]})
        assert r.status_code == 200, r.text
        served += r.json()["predictions"]
    served += post(keras_server, "fraud-stream", {"instances": records[40:]}).json()["predictions"]
    scored = cli_score(runs["fraud"], tmp_path / "log.csv", tmp_path / "scored.csv")
    assert_same(pd.DataFrame(served), scored, tol=1e-6)
    # Without the history the same rows score differently: the state is what makes them equal.
    alone = pd.DataFrame([post(keras_server, "fraud-1", {"instances": [rec]}).json()["predictions"][0]
                          for rec in records[35:40]])
    assert not np.allclose(alone["risk"], scored["risk"].iloc[35:40], atol=1e-6)


def test_demand_forecast_equals_the_scored_file(keras_server, runs, tmp_path):
    sales = pd.read_csv(runs["demand"].parent.parent / "sales.csv")
    recent = sales[sales["date"] >= "2025-11-01"].reset_index(drop=True)  # two months of four series
    recent.to_csv(tmp_path / "history.csv", index=False)
    r = post(keras_server, "demand-1", {"instances": json.loads(recent.to_json(orient="records"))})
    assert r.status_code == 200, r.text
    served = pd.DataFrame(r.json()["predictions"])
    assert {"series", "date", "p10", "p50", "p90", "safety_stock", "reorder_point"} <= set(served.columns)
    assert served["series"].nunique() == 4 and len(served) == 4 * 7
    assert_same(served, cli_score(runs["demand"], tmp_path / "history.csv", tmp_path / "forecast.csv"), tol=1e-6)


def _images(n: int) -> dict[str, bytes]:
    from tests.quality.conftest import sample_entries

    return {name.split("/")[-1]: data for name, data in
            list(sample_entries({"ok": 4, "pit": 3, "crack": 3}, size=24, seed=9).items())[:n]}


def test_quality_predictions_equal_the_scored_folder_in_json_and_multipart(keras_server, runs, tmp_path):
    images = _images(10)
    folder = tmp_path / "parts"
    folder.mkdir()
    for name, data in images.items():
        (folder / name).write_bytes(data)
    scored = cli_score(runs["quality"], folder, tmp_path / "scored.csv").sort_values("file").reset_index(drop=True)
    body = {"instances": [{"image": {"b64": base64.b64encode(d).decode()}, "name": n} for n, d in images.items()]}
    r = post(keras_server, "quality-1", body)
    assert r.status_code == 200, r.text
    served = pd.DataFrame(r.json()["predictions"]).sort_values("file").reset_index(drop=True)
    assert {"p_defect", "verdict", "predicted", "confidence"} <= set(served.columns)
    assert_same(served, scored, tol=1e-6)
    files = [("file", (n, d, "image/png")) for n, d in images.items()]
    up = httpx.post(f"{keras_server.url}/v1/models/quality-1:predict", files=files, timeout=120)
    assert up.status_code == 200, up.text
    assert_same(pd.DataFrame(up.json()["predictions"]).sort_values("file").reset_index(drop=True), scored, tol=1e-6)


# ---------------------------------------------------------------- bad requests: 400 / 404, one shape
def error_of(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert {"expected", "got", "fix"} <= set(err) and all(isinstance(err[k], str) and err[k] for k in
                                                          ("expected", "got", "fix"))
    return err


def credit_example(server) -> dict:
    return httpx.get(f"{server.url}/v1/models/credit-1", timeout=30).json()["input"]["example"]["instances"][0]


def test_a_missing_column_is_a_400_with_the_scorers_message(keras_server):
    row = credit_example(keras_server)
    row.pop("annual_income")
    err = error_of(post(keras_server, "credit-1", {"instances": [row]}), 400)
    assert "1 missing column(s): ['annual_income']" in err["got"]
    assert err["message"].startswith("The file does not match the model.")  # core.data.columncheck's own words
    assert err["details"]["missing"] == ["annual_income"]


def test_an_extra_column_is_a_400_naming_it(keras_server):
    row = {**credit_example(keras_server), "default": 1}
    err = error_of(post(keras_server, "credit-1", {"instances": [row]}), 400)
    assert "1 other column(s): default" in err["got"] and err["fix"] == "leave these columns out of the instances"


def test_a_wrong_type_is_a_400(keras_server):
    row = {**credit_example(keras_server), "annual_income": "plenty"}
    err = error_of(post(keras_server, "credit-1", {"instances": [row]}), 400)
    assert "'annual_income' should hold numbers, got values such as 'plenty'" in err["got"]


def test_one_unreadable_value_among_many_is_a_400_not_a_silent_gap(keras_server):
    rows = [credit_example(keras_server) for _ in range(5)]
    rows[2] = {**rows[2], "loan_amount": "n/a?"}
    err = error_of(post(keras_server, "credit-1", {"instances": rows}), 400)
    assert "1 value(s) in 'loan_amount' that are not numbers" in err["got"]


def test_an_unparseable_date_is_a_400(keras_server):
    row = {**httpx.get(f"{keras_server.url}/v1/models/fraud-1").json()["input"]["example"]["instances"][0],
           "timestamp": "yesterday-ish"}
    err = error_of(post(keras_server, "fraud-1", {"instances": [row]}), 400)
    assert "'timestamp' should hold dates" in err["got"]


def test_too_many_rows_is_a_400(keras_server):
    err = error_of(post(keras_server, "credit-1", {"instances": [credit_example(keras_server)] * 401}), 400)
    assert err["expected"] == "at most 400 instances per request" and err["got"] == "401"


def test_a_body_over_the_size_limit_is_a_400_before_it_is_read(keras_server):
    body = b'{"instances": [' + b" " * (1024 * 1024 + 10) + b"]}"
    r = httpx.post(f"{keras_server.url}/v1/models/credit-1:predict", content=body,
                   headers={"content-type": "application/json"}, timeout=60)
    err = error_of(r, 400)
    assert err["expected"] == "a request body of at most 1,048,576 bytes"


@pytest.mark.parametrize("body, expected", [
    (b"{not json", "a JSON body"),
    (b"", 'a JSON body {"instances": [...]}'),
    (b"[1, 2]", 'a JSON object {"instances": [...]}'),
    (b'{"instances": []}', '"instances" as a non-empty list of objects'),
    (b'{"instances": [1]}', "each instance as a JSON object {column: value}"),
    (b'{"inputs": {"a": [1]}}', 'a JSON object {"instances": [...]}'),
    (b'{"instances": [{"a": 1}, {"b": 2}]}', "every instance with the same fields as the first"),
    (b'{"instances": [{"a": {"b64": "***"}}]}', 'base64 text in {"b64": ...}'),
])
def test_malformed_bodies_are_400s(keras_server, body, expected):
    r = httpx.post(f"{keras_server.url}/v1/models/credit-1:predict", content=body,
                   headers={"content-type": "application/json"}, timeout=60)
    assert error_of(r, 400)["expected"] == expected


def test_unknown_model_path_and_verb_are_404s_in_the_same_shape(keras_server):
    err = error_of(post(keras_server, "nope", {"instances": [{"a": 1}]}), 404)
    assert "one of the served models: credit-1, demand-1, fraud-1, fraud-stream, quality-1" == err["expected"]
    error_of(httpx.get(f"{keras_server.url}/v1/models/nope"), 404)
    error_of(httpx.post(f"{keras_server.url}/v1/models/credit-1:classify", json={}), 404)
    error_of(httpx.get(f"{keras_server.url}/v2/anything"), 404)
    error_of(httpx.delete(f"{keras_server.url}/health"), 405)


def test_images_that_are_not_images_are_400s(keras_server):
    bad = {"instances": [{"image": {"b64": base64.b64encode(b"GIF89a broken").decode()}, "name": "x.gif"}]}
    err = error_of(post(keras_server, "quality-1", bad), 400)
    assert err["got"].startswith("instance 0: 13 bytes that cannot be decoded as an image")
    err = error_of(post(keras_server, "quality-1", {"instances": [{"image": "not b64 object"}]}), 400)
    assert "something else in instance(s) [0]" in err["got"]
    err = error_of(httpx.post(f"{keras_server.url}/v1/models/credit-1:predict",
                              files=[("file", ("a.csv", b"x", "text/csv"))]), 400)
    assert err["got"] == "a multipart upload of files"


def test_the_server_answered_no_request_with_a_500(keras_server):
    assert "error while answering" not in keras_server.log.read_text()


# ---------------------------------------------------------------- personal data, description, docs
def test_personal_data_is_never_echoed_and_never_in_the_example(keras_server):
    from tests.hardening.test_privacy import personal_values

    info = httpx.get(f"{keras_server.url}/v1/models/credit-1").json()
    values = personal_values(5)
    assert not set(values) & set(info["input"]["columns"]) and not set(values) & set(info["input"]["example"]["instances"][0])
    row = {**credit_example(keras_server), **{c: v[0] for c, v in values.items()}}
    r = post(keras_server, "credit-1", {"instances": [row]})
    error_of(r, 400)
    assert not [v[0] for v in values.values() if v[0] in r.text]  # the refusal names the columns, never the values
    ok = post(keras_server, "credit-1", {"instances": [credit_example(keras_server)]}).json()["predictions"][0]
    assert not set(values) & set(ok)


def test_the_model_description_lists_columns_kinds_example_and_decision(keras_server):
    info = httpx.get(f"{keras_server.url}/v1/models/fraud-1").json()
    assert info["model_version_status"][0]["state"] == "AVAILABLE" and info["scenario"] == "fraud"
    assert info["input"]["columns"]["timestamp"] == "date" and info["input"]["columns"]["amount"] == "number"
    assert set(info["decision"]) == {"review_threshold", "block_threshold"} and info["stateful"] is True
    assert info["outputs"] == {"risk": "number", "decision": "text", "alert": "boolean", "prediction_id": "text"}
    assert post(keras_server, "fraud-1", info["input"]["example"]).status_code == 200  # the example is valid
    models = httpx.get(f"{keras_server.url}/v1/models").json()["models"]
    assert {m["name"] for m in models} == {"credit-1", "fraud-1", "fraud-stream", "demand-1", "quality-1"}


def test_openapi_and_a_readable_docs_page_with_no_network_assets(keras_server):
    doc = httpx.get(f"{keras_server.url}/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/v1/models/credit-1:predict"]["post"]
    row = op["requestBody"]["content"]["application/json"]["schema"]["properties"]["instances"]["items"]
    assert "annual_income" in row["required"] and row["additionalProperties"] is False
    assert "reason_1" in op["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "predictions"]["items"]["properties"]
    assert "multipart/form-data" in doc["paths"]["/v1/models/quality-1:predict"]["post"]["requestBody"]["content"]
    page = httpx.get(f"{keras_server.url}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "/v1/models/credit-1:predict" in html and "curl -s -X POST" in html and "annual_income" in html
    assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # nothing fetched from elsewhere
    assert "<script" not in html


def test_health_reports_the_runtime_and_the_models(keras_server):
    h = httpx.get(f"{keras_server.url}/health").json()
    assert h["status"] == "ok" and h["runtime"] == "keras" and h["modules"]["tensorflow"] is True
    assert {m["name"] for m in h["models"]} >= {"credit-1", "quality-1"}
    assert h["startup_objects_frozen"] > 10_000  # python -m core serve froze its start-up objects
