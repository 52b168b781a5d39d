"""The serving layer without a server: refusals split into expected / got / fix, request bodies turned
into rows, the strict column check, the predictor hook of a scenario that has none, and the HTTP layer
naming no scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.server.limits import Limits, instances_from_json, rows_to_frame
from core.serve.serving import RequestError, check_request, error_parts, profile_example, to_records

ROOT = Path(__file__).resolve().parents[2]


def test_error_parts_split_the_engines_sentences():
    parts = error_parts(DataValidationError("Expected a decline threshold between 0 and 1; got 3.0. Fix: e.g. 0.3."))
    assert parts == {"expected": "a decline threshold between 0 and 1", "got": "3.0", "fix": "e.g. 0.3.",
                     "message": "Expected a decline threshold between 0 and 1; got 3.0. Fix: e.g. 0.3."}
    loose = error_parts(DataValidationError("There are no rows to explain; got an empty selection. Pick a row."))
    assert loose["expected"] == "There are no rows to explain" and loose["got"] == "an empty selection. Pick a row"
    nogot = error_parts(DataValidationError("Expected timestamps in 'ts'; 1 of 1 rows could not be read. Fix: x."))
    assert nogot["expected"] == "timestamps in 'ts'" and nogot["got"] == "1 of 1 rows could not be read"
    plain = error_parts(DataValidationError("Something odd happened"))
    assert plain["expected"] == "Something odd happened" and plain["got"] and plain["fix"]
    req = error_parts(RequestError("x", "y", "z", details={"missing": ["a"]}))
    assert req == {"expected": "x", "got": "y", "fix": "z", "message": "Expected x; got y. Fix: z",
                   "details": {"missing": ["a"]}}


def test_json_bodies_become_rows_with_binary_values_decoded():
    rows = instances_from_json(json.dumps({"instances": [{"a": 1, "b": {"b64": "aGk="}}, {"a": None, "b": {"b64": ""}}],
                                           "signature_name": "serving_default"}).encode(), Limits())
    df = rows_to_frame(rows, Limits())
    assert list(df.columns) == ["a", "b"] and df["b"].tolist() == [b"hi", b""] and pd.isna(df["a"].iloc[1])


@pytest.mark.parametrize("rows, match", [
    ([{"a": 1}] * 3, r"Expected at most 2 instances per request; got 3\. Fix: split the rows"),
    ([{"a": [1, 2]}], r"Expected one value per field; got a list in instance 0, field 'a'"),
    ([{"a": {"b64": "aGk=", "x": 1}}], r"got an object with keys \['b64', 'x'\] in instance 0, field 'a'"),
    ([{"a": 1}, {"a": 2, "c": 3}], r"got instance 1 adds \['c'\]\. Fix: send every field in every row"),
    ([{"a": 1, "c": 2}, {"a": 2}], r"got instance 1 lacks \['c'\]"),
])
def test_rows_that_cannot_be_scored_are_refused(rows, match):
    with pytest.raises(RequestError, match=match):
        rows_to_frame(rows, Limits(max_rows=2))


def test_a_body_with_other_keys_is_refused():
    with pytest.raises(RequestError, match=r"Expected only \"instances\".*; got also \['extra'\]"):
        instances_from_json(b'{"instances": [{"a": 1}], "extra": 1}', Limits())
    with pytest.raises(RequestError, match=r"Expected a JSON body in UTF-8; got bytes that are not UTF-8"):
        instances_from_json(b'{"instances": ["\xff\xfe"]}', Limits())


META = {"scenario": "credit", "credit": {"numeric": ["income", "age"], "categorical": ["region"]},
        "workspace": {"profile": {"columns": {"income": {"kind": "numeric", "edges": [10.0, 20.0, 30.5, 40.0, 50.0]},
                                              "region": {"kind": "categorical", "shares": {"N": 0.3, "S": 0.6}}}}}}


def test_check_request_is_stricter_than_a_file_upload():
    ok = check_request(META, pd.DataFrame({"income": ["1,200", None], "age": [30, 40], "region": ["N", "S"]}))
    assert ok["income"].tolist()[0] == 1200.0 and pd.isna(ok["income"].iloc[1])  # numbers coerced as for a file
    with pytest.raises(RequestError, match=r"got 1 other column\(s\): note") as info:
        check_request(META, pd.DataFrame({"income": [1], "age": [2], "region": ["N"], "note": ["x"]}))
    assert info.value.details["extra"] == ["note"]
    assert check_request(META, pd.DataFrame({"income": [1], "age": [2], "region": ["N"], "note": ["x"]}),
                         optional=("note",)).shape == (1, 4)
    with pytest.raises(RequestError, match=r"The file does not match the model\. .*missing: \['age'\]"):
        check_request(META, pd.DataFrame({"income": [1], "region": ["N"]}))
    with pytest.raises(RequestError, match=r"got 1 value\(s\) in 'age' that are not numbers"):
        check_request(META, pd.DataFrame({"income": [1, 2, 3], "age": [1, "x", 3], "region": ["N", "S", "N"]}))


def test_the_example_row_comes_from_the_training_profile():
    assert profile_example(META, {"income": "number", "age": "number", "region": "category"}) == \
        {"income": 30.5, "region": "S"}


def test_records_are_json_ready():
    df = pd.DataFrame({"a": [1.5, float("nan")], "b": [True, False], "c": ["x", None]})
    assert json.dumps(to_records(df)) == '[{"a": 1.5, "b": true, "c": "x"}, {"a": null, "b": false, "c": null}]'


def test_records_are_json_ready_for_every_column_type():
    import numpy as np

    df = pd.DataFrame({"f32": np.array([0.25, -np.inf], dtype=np.float32), "u8": np.array([1, 2], dtype=np.uint8),
                       "Int": pd.array([3, None], dtype="Int64"), "Bool": pd.array([None, True], dtype="boolean"),
                       "t": pd.to_datetime(["2024-05-01 13:45", None]), "cat": pd.Categorical(["a", None]),
                       "mixed": [1, "x"], 7: ["k", "l"]})
    rows = to_records(df)
    assert rows == [{"f32": 0.25, "u8": 1, "Int": 3, "Bool": None, "t": "2024-05-01T13:45:00", "cat": "a",
                     "mixed": 1, "7": "k"},
                    {"f32": None, "u8": 2, "Int": None, "Bool": True, "t": None, "cat": None, "mixed": "x", "7": "l"}]
    assert [type(v) for v in rows[0].values()] == [float, int, int, type(None), str, str, int, str]
    assert to_records(df.iloc[:0]) == []


def test_a_scenario_without_a_serving_module_says_it_cannot_be_served(tmp_path):
    from core.store.scenarios import ScenarioBase

    class Toy(ScenarioBase):
        key = "toy"

    with pytest.raises(DataValidationError, match=r"the toy scenario has no prediction service yet\. Fix: score"):
        Toy().predictor(tmp_path, runtime="keras")
    with pytest.raises(DataValidationError, match=r"Expected a runtime of keras or onnx; got 'gpu'"):
        Toy().predictor(tmp_path, runtime="gpu")


def test_the_http_layer_names_no_scenario():
    """core/server is the same for every scenario: no scenario's name appears in its code."""
    import ast

    from core.store.scenarios import BUILTIN_KEYS

    found = []
    for path in sorted((ROOT / "core" / "server").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in BUILTIN_KEYS:
                found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                found += [f"{path.name}:{node.lineno} imports {n}" for n in names
                          if any(n.startswith(f"core.{k}") for k in BUILTIN_KEYS)]
    assert found == []


def test_a_null_number_takes_the_quick_check_and_gets_the_full_checks_answer(monkeypatch):
    """A JSON null in a one-row request makes a column of None; the quick check turns it into the missing
    number the full check makes of it, and text in a number column still takes the full check's refusal."""
    import core.serve.serving as serving

    df = rows_to_frame([{"income": None, "age": 30, "region": None}], Limits())
    assert df["income"].dtype == object and serving._already_fits(META, df, ()) is not None
    quick = check_request(META, df)
    monkeypatch.setattr(serving, "_already_fits", lambda *a: None)
    full = check_request(META, df)
    pd.testing.assert_frame_equal(quick, full, check_exact=True)
    assert quick["income"].dtype == "float64" and pd.isna(quick["income"].iloc[0])
    monkeypatch.undo()
    text = rows_to_frame([{"income": "abc", "age": 30, "region": "N"}], Limits())
    assert serving._already_fits(META, text, ()) is None
    with pytest.raises(RequestError, match=r"'income' should hold numbers"):
        check_request(META, text)
