"""The Starlette app: routes over a set of predictors (name -> ``core.serve.serving.Predictor``).

Scoring runs in Starlette's thread pool (the event loop keeps reading requests meanwhile), except a
one-row request to a stateless table model, answered on the event loop (``INLINE_ROWS``: the pool's round
trip cost more than the row's own steps); a stateful predictor serialises its own requests. The app never
logs a request's body, and a prediction never holds the request's own columns (so personal data sent along
is not echoed back).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from core.monitor.buffer import DEFAULT_FLUSH_SECONDS
from core.monitor.hooks import ServedLog, feedback_response, request_id_columns
from core.monitor.record import ID_COLUMN
from core.serve.serving import RequestError, json_values, to_records
from core.server.auth import require_key
from core.server.errors import HANDLERS
from core.server.limits import Limits, instances_from_json, read_body, rows_to_frame
from core.server.openapi import build_openapi, docs_html
from core.server.process import state as process_state

WATCHED_MODULES = ("tensorflow", "keras", "onnxruntime", "shap", "sklearn")
# Requests of at most this many rows to a stateless table model are answered on the event loop itself.
INLINE_ROWS = 1


@dataclass
class ServeSettings:
    runtime: str = "keras"
    keys: list[bytes] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    base_url: str = "http://127.0.0.1:8000"
    state: object | None = None  # core.server.state.StateStore, for stateful models
    say: object = print
    log: bool = True  # record each answered row in the run's prediction log (core/monitor; --no-log)
    log_flush_seconds: float = DEFAULT_FLUSH_SECONDS  # buffer the log this long (0: write per request)


def _predictor(predictors: dict, name: str):
    p = predictors.get(name)
    if p is None:
        names = ", ".join(sorted(predictors)) or "none"
        raise RequestError(f"one of the served models: {names}", f"'{name}'",
                           "use a name from GET /v1/models (each run is named by its folder)", status=404)
    return p


def output_kinds(df) -> dict[str, str]:
    """Field -> kind of a prediction frame, for the OpenAPI document."""
    import pandas as pd

    out = {}
    for c in df.columns:
        s = df[c]
        out[str(c)] = ("boolean" if pd.api.types.is_bool_dtype(s) else "integer" if pd.api.types.is_integer_dtype(s)
                       else "number" if pd.api.types.is_numeric_dtype(s) else "text")
    return out


def warm_up(predictors: dict) -> dict[str, dict[str, str]]:
    """Score each model's own example once (without keeping state): the first request is then as
    fast as the rest, the example is known to be valid, and the outputs' fields are known."""
    return {name: output_kinds(p.predict(rows_to_frame(p.example_instances(), Limits(max_rows=10 ** 6)),
                                         remember=False))
            for name, p in predictors.items()}


def build_app(predictors: dict, settings: ServeSettings, outputs: dict[str, dict[str, str]] | None = None) -> Starlette:
    """The service's app over ``predictors``; ``outputs`` are their prediction fields (``warm_up``)."""
    started = time.time()
    outputs = outputs if outputs is not None else {}
    served = ServedLog(settings.log_flush_seconds, say=settings.say) if settings.log else None
    names = {str(Path(p.run_dir).resolve()): n for n, p in predictors.items()}
    if served is not None:  # a logged run's predictions carry the id their outcomes come back with
        outputs = {n: {**o, "prediction_id": "text"} if served.recorder(predictors[n].run_dir) is not None else o
                   for n, o in outputs.items()}
    keys, limits = settings.keys, settings.limits
    openapi = build_openapi(predictors, outputs, max_rows=limits.max_rows, auth=bool(keys))

    def health_body(full: bool) -> dict:
        body = {"status": "ok"}
        if full:
            body.update(runtime=settings.runtime, pid=os.getpid(), uptime_s=round(time.time() - started, 1),
                        models=[{"name": n, "scenario": p.scenario, "runtime": p.runtime, "stateful": p.stateful}
                                for n, p in predictors.items()],
                        modules={m: m in sys.modules for m in WATCHED_MODULES},
                        startup_objects_frozen=gc.get_freeze_count(),
                        **{k: v for k, v in process_state.items() if k != "startup_objects_frozen"})
            if served is not None:
                body["prediction_log"] = {"flush_seconds": served.flush_seconds, "pending_rows": served.pending(),
                                          "failing": sorted(names.get(k, k) for k in (served.buffer.failing() if served.buffer else {}))}
        return body

    async def health(request: Request):
        try:
            require_key(request.headers, keys)
            full = True
        except RequestError:
            full = False  # open to probes, but only the status without a key
        return JSONResponse(health_body(full))

    async def models(request: Request):
        require_key(request.headers, keys)
        return JSONResponse({"models": [{"name": n, "scenario": p.scenario, "runtime": p.runtime}
                                        for n, p in predictors.items()]})

    async def model(request: Request):
        require_key(request.headers, keys)
        spec = request.path_params["spec"]
        if request.method == "POST":
            name, _, verb = spec.rpartition(":")
            if verb not in ("predict", "feedback") or not name:
                raise RequestError("POST /v1/models/{name}:predict or :feedback", f"POST /v1/models/{spec}",
                                   "add ':predict' (or ':feedback' for outcomes) after the model's name", status=404)
            if verb == "feedback":
                return await feedback(request, _predictor(predictors, name))
            return await predict(request, _predictor(predictors, name))
        if ":" in spec:
            raise RequestError("GET /v1/models/{name} (POST for :predict)", f"GET /v1/models/{spec}",
                               "send predictions with POST", status=405)
        p = _predictor(predictors, spec)
        body = {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}],
                **p.describe(), "outputs": outputs.get(spec, {})}
        return JSONResponse(body)

    def answer(p, df, rows=None):
        """The predictions for the request's rows (``rows``: the JSON instances they were read from, if any),
        logged (buffered: no disk write here): (predictions, their prediction ids or None, the log's notices)."""
        ids = request_id_columns(p.meta, df, rows)  # a row id the client sent is for the log, not the model
        # ``take`` of the other columns: ``drop(columns=...)`` cost a one-row request about 0.25 ms
        out = p.predict(df.take([j for j, c in enumerate(df.columns.tolist()) if c not in ids], axis=1) if ids else df)
        if served is None:  # --no-log: the id is still accepted, so a client works the same with the log off
            return out, None, []
        return (out, *served.record_ids(p.run_dir, df, out))

    async def predict(request: Request, p):
        # While a request is answered, the prediction log's flush (another thread) waits between slices.
        with served.answering() if served is not None else contextlib.nullcontext():
            return await answer_request(request, p)

    async def answer_request(request: Request, p):
        body = await read_body(request, limits)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            request._body = body  # Starlette parses the form from the body already read and checked
            try:
                form = await request.form(max_files=limits.max_rows, max_fields=limits.max_rows + 10)
            except Exception as exc:  # the multipart parser's own errors
                raise RequestError("a multipart/form-data upload", f"one that cannot be read ({str(exc)[:120]})",
                                   "let the client build the upload (curl -F 'file=@part.png')") from exc
            files = [(f.filename or f"file-{i + 1}", await f.read()) for i, (_, f) in enumerate(form.multi_items())
                     if hasattr(f, "read")]
            if not files:
                raise RequestError("one or more files in the upload", "no file parts", "add -F 'file=@part.png'")
            rows = p.instances_from_files(files)
            sent = None
        else:
            rows = sent = instances_from_json(body, limits)
        df = rows_to_frame(rows, limits)
        if len(df) <= INLINE_ROWS and p.input_kind == "table" and not p.stateful:
            # Answered on the event loop: the trip to the thread pool and back (two threads woken, the
            # interpreter lock handed over twice) cost more than a one-row prediction's own Python steps.
            out, ids, notes = answer(p, df, sent)
        else:
            out, ids, notes = await run_in_threadpool(answer, p, df, sent)  # one trip to the thread pool per request
        records = to_records(out)
        if ids is not None:  # each row's id last, as a column added to the frame would be
            for rec, id_ in zip(records, json_values(ids)):
                rec[ID_COLUMN] = id_
        notices = [*(out.attrs.get("notices") or []), *notes]
        return JSONResponse({"predictions": records, "model": p.name, **({"notices": notices} if notices else {})})

    async def feedback(request: Request, p):
        """Outcomes of logged predictions, matched by id (``core.monitor.hooks.feedback_response``); the
        run's buffered predictions are written first, so an outcome sent right after its answer matches."""
        body = await read_body(request, limits)
        if served is not None:
            await run_in_threadpool(served.flush, p.run_dir)
        status, answer = await run_in_threadpool(feedback_response, p.run_dir, body)
        return JSONResponse({**answer, "model": p.name} if status == 200 else answer, status_code=status)

    async def openapi_json(request: Request):
        require_key(request.headers, keys)
        return JSONResponse(openapi)

    async def docs(request: Request):
        require_key(request.headers, keys)
        return HTMLResponse(docs_html(openapi, base_url=settings.base_url, auth=bool(keys)))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if settings.state is not None:
            settings.state.start()
        yield
        if settings.state is not None:
            for line in settings.state.stop():
                settings.say(line)
        if served is not None:  # a clean stop loses no answered row
            for line in served.close():
                settings.say(line)

    routes = [Route("/health", health, methods=["GET"]), Route("/v1/models", models, methods=["GET"]),
              Route("/v1/models/{spec}", model, methods=["GET", "POST"]),
              Route("/openapi.json", openapi_json, methods=["GET"]), Route("/docs", docs, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)
    app.state.served_log = served  # the service's prediction-log buffer (None with --no-log)
    return app
