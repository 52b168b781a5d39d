"""The service described: an OpenAPI 3.1 document built from the served predictors, and a readable
HTML page of it for ``/docs`` that needs nothing from the network (no CDN script or font: the
machine serving it, and many users, are offline). Every text from a run (column names, classes) is
HTML-escaped on the page."""

from __future__ import annotations

import html
import json

from core.data.columncheck import CATEGORY, DATE, NUMBER

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["expected", "got", "fix"], "properties": {
        "expected": {"type": "string", "description": "what the service expected"},
        "got": {"type": "string", "description": "what the request held instead"},
        "fix": {"type": "string", "description": "how to fix the request"},
        "message": {"type": "string", "description": "the whole sentence, as the command line says it"},
        "details": {"type": "object", "description": "column by column, for a request that does not fit the model"},
    }}},
}
KIND_SCHEMA = {NUMBER: {"type": ["number", "string", "null"], "description": "a number (null when missing)"},
               DATE: {"type": ["string", "null"], "description": "a date or time, e.g. 2024-05-01 13:45:00"},
               CATEGORY: {"type": ["string", "number", "boolean", "null"], "description": "a category"},
               "image": {"type": "object", "required": ["b64"], "properties": {"b64": {"type": "string"}},
                         "description": 'the image file in base64: {"b64": "..."}'}}


def _output_schema(columns: dict[str, str]) -> dict:
    kinds = {"number": {"type": ["number", "null"]}, "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
             "text": {"type": ["string", "null"]}}
    return {"type": "object", "properties": {c: kinds.get(k, {}) for c, k in columns.items()}}


def _predict_op(name: str, p, outputs: dict[str, str], max_rows: int) -> dict:
    inp = p.expected_input()
    props = {c: KIND_SCHEMA.get(k, {}) for c, k in inp["columns"].items()}
    props.update({c: {"type": ["string", "number", "null"], "description": "optional"} for c in inp["optional"]})
    row = {"type": "object", "required": list(inp["columns"]), "properties": props, "additionalProperties": False}
    body = {"type": "object", "required": ["instances"], "properties": {
        "instances": {"type": "array", "minItems": 1, "maxItems": max_rows, "items": row}}}
    content = {"application/json": {"schema": body, "example": inp["example"]}}
    if inp["kind"] == "images":
        content["multipart/form-data"] = {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary", "description": "one image per file part"}}}}
    title = p.describe().get("title") or name
    ok = {"type": "object", "required": ["predictions"], "properties": {
        "predictions": {"type": "array", "items": _output_schema(outputs)},
        "notices": {"type": "array", "items": {"type": "string"}}, "model": {"type": "string"}}}
    return {"post": {
        "summary": f"Predict with {name} ({p.scenario}, {title})", "operationId": f"predict_{name}",
        "description": f"Scores each instance as `python -m core score --model {name}` scores a row of a file "
                       "and returns the same fields." + (" The model keeps each card's and terminal's history "
                                                         "between requests: post transactions in time order."
                                                         if p.stateful else ""),
        "requestBody": {"required": True, "content": content},
        "responses": {"200": {"description": "one prediction per instance (per series and date for a forecast)",
                              "content": {"application/json": {"schema": ok}}},
                      "400": {"description": "the request does not fit the model",
                              "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                      "401": {"description": "no or wrong API key", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                      "404": {"description": "unknown model", "content": {"application/json": {"schema": ERROR_SCHEMA}}}}}}


def _feedback_op(name: str) -> dict:
    outcome = {"type": "object", "required": ["id", "label"], "properties": {
        "id": {"type": ["string", "number"], "description": "a prediction's prediction_id"},
        "label": {"type": ["string", "number", "boolean"], "description": "the outcome, in the run's own terms"}}}
    body = {"type": "object", "required": ["outcomes"], "properties": {"outcomes": {"type": "array", "items": outcome}}}
    return {"post": {
        "summary": f"Outcomes of {name}'s logged predictions, matched by id", "operationId": f"feedback_{name}",
        "description": "Each prediction is logged under its prediction_id (the request's own id column, such as "
                       "applicant_id, when it sends one). Ids that match no logged prediction are counted and kept; "
                       "an id sent again keeps the latest label.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": body, "example": {"outcomes": [{"id": "A1", "label": 1}]}}}},
        "responses": {"200": {"description": "received, matched, unmatched (with examples), repeated, replaced, notices"},
                      "400": {"description": "a body that cannot be used",
                              "content": {"application/json": {"schema": ERROR_SCHEMA}}}}}}


def build_openapi(predictors: dict, outputs: dict[str, dict[str, str]], *, max_rows: int, auth: bool) -> dict:
    """The OpenAPI document of a service serving ``predictors`` (name -> Predictor)."""
    paths: dict = {
        "/health": {"get": {"summary": "Service status, runtime and loaded models",
                            "responses": {"200": {"description": "the service answers"}}}},
        "/v1/models": {"get": {"summary": "The models served",
                               "responses": {"200": {"description": "model names and scenarios"}}}},
    }
    for name, p in predictors.items():
        paths[f"/v1/models/{name}"] = {"get": {
            "summary": f"What {name} expects: columns, kinds, an example request; its decision settings",
            "responses": {"200": {"description": "the model's status and input",
                                  "content": {"application/json": {"example": {"name": name, "input": p.expected_input()}}}},
                          "404": {"description": "unknown model", "content": {"application/json": {"schema": ERROR_SCHEMA}}}}}}
        paths[f"/v1/models/{name}:predict"] = _predict_op(name, p, outputs.get(name, {}), max_rows)
        if "prediction_id" in outputs.get(name, {}):  # the run's predictions are logged (core/monitor)
            paths[f"/v1/models/{name}:feedback"] = _feedback_op(name)
            paths[f"/v1/models/{name}:predict"]["post"]["description"] += (
                " Each prediction is logged under its prediction_id: an id-like column the model does not read "
                "(such as applicant_id or transaction_id) may be sent for it, else an id is generated.")
    doc = {"openapi": "3.1.0",
           "info": {"title": "AI Use-Case Studio prediction service", "version": "1",
                    "description": "Saved runs served with TensorFlow Serving's REST convention. Errors are "
                                   "{\"error\": {\"expected\", \"got\", \"fix\"}}."},
           "paths": paths, "components": {"schemas": {"Error": ERROR_SCHEMA}}}
    if auth:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"},
                                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        doc["security"] = [{"bearer": []}, {"apiKey": []}]
    return doc


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:2rem auto;
padding:0 1rem;color:#1f2937;line-height:1.45}h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #e5e7eb;
padding-bottom:.3rem}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.86rem}pre{background:#f3f4f6;
padding:.8rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}.m{display:inline-block;
min-width:3.6rem;text-align:center;font-weight:600;border-radius:4px;padding:.1rem .4rem;margin-right:.5rem;color:#fff}
.get{background:#2563eb}.post{background:#059669}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #e5e7eb;
padding:.25rem .6rem;text-align:left;font-size:.9rem}.note{color:#4b5563}"""


def docs_html(doc: dict, *, base_url: str = "http://127.0.0.1:8000", auth: bool = False) -> str:
    """A self-contained, readable page of the OpenAPI document ``doc``."""
    e = html.escape
    key = ' \\\n  -H "Authorization: Bearer $STUDIO_API_KEY"' if auth else ""
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(doc['info']['title'])}</title>"
           f"<style>{CSS}</style></head><body><h1>{e(doc['info']['title'])}</h1>",
           f"<p class='note'>{e(doc['info']['description'])} The machine-readable document is "
           "<a href='/openapi.json'>/openapi.json</a>.</p>"]
    if auth:
        out.append("<p><b>API key required</b>: send <code>Authorization: Bearer KEY</code> or "
                   "<code>X-API-Key: KEY</code>.</p>")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            out.append(f"<h2><span class='m {method}'>{method.upper()}</span><code>{e(path)}</code></h2>"
                       f"<p>{e(op.get('summary', ''))}</p>")
            if op.get("description"):
                out.append(f"<p class='note'>{e(op['description'])}</p>")
            content = (op.get("requestBody") or {}).get("content") or {}
            js = content.get("application/json")
            if js:
                row = next(iter(js["schema"]["properties"].values()))["items"]  # instances (outcomes for :feedback)
                cells = "".join(f"<tr><td><code>{e(c)}</code></td><td>{e(s.get('description', ''))}</td>"
                                f"<td>{'required' if c in row['required'] else 'optional'}</td></tr>"
                                for c, s in row["properties"].items())
                out.append(f"<table><tr><th>field</th><th>value</th><th></th></tr>{cells}</table>")
                example = json.dumps(js["example"])
                out.append("<p>Example request:</p><pre>" + e(
                    f"curl -s -X POST {base_url}{path}{key} \\\n  -H 'Content-Type: application/json' \\\n"
                    f"  -d '{example}'") + "</pre>")
            if "multipart/form-data" in content:
                out.append("<p>Or upload image files:</p><pre>" + e(
                    f"curl -s -X POST {base_url}{path}{key} -F 'file=@part.png'") + "</pre>")
            ok = (((op.get("responses") or {}).get("200") or {}).get("content") or {}).get("application/json") or {}
            preds = (ok.get("schema") or {}).get("properties", {}).get("predictions")
            if preds:
                fields = ", ".join(f"<code>{e(c)}</code>" for c in preds["items"].get("properties", {}))
                out.append(f"<p>Each prediction holds: {fields or 'the scored fields'}.</p>")
            codes = ", ".join(f"{c} {e(r.get('description', ''))}" for c, r in (op.get("responses") or {}).items())
            out.append(f"<p class='note'>Responses: {codes}.</p>")
    out.append("</body></html>")
    return "".join(out)
