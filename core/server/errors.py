"""Every refusal in one shape: ``{"error": {"expected": ..., "got": ..., "fix": ..., "message": ...}}``.

Bad input is 400 (401 for a missing or wrong API key, 404 for an unknown model or path, 405 for a wrong
method); an unexpected failure is 500 with no internals in the body (the traceback goes to the
server's standard error, never the request's data).
"""

from __future__ import annotations

import sys
import traceback

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.errors import DataValidationError
from core.serve.serving import RequestError, error_parts


def error_body(expected: str, got: str, fix: str, **extra) -> dict:
    return {"error": {"expected": expected, "got": got, "fix": fix, **extra}}


def error_response(exc: Exception) -> JSONResponse:
    """The JSON response for a refusal raised anywhere below a route."""
    parts = error_parts(exc)
    status = exc.status if isinstance(exc, RequestError) else 400
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": parts}, status_code=status, headers=headers)


async def on_refusal(request: Request, exc: Exception) -> JSONResponse:
    return error_response(exc)


async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404:
        body = error_body("one of the service's paths: GET /health, GET /v1/models, GET /v1/models/{name}, "
                          "POST /v1/models/{name}:predict, POST /v1/models/{name}:feedback, GET /docs, GET /openapi.json",
                          f"{request.method} {request.url.path}", "see /docs for the paths and their requests")
    elif exc.status_code == 405:
        body = error_body("the method this path takes (GET to read, POST to predict)",
                          f"{request.method} {request.url.path}", "see /docs for each path's method")
    else:
        body = error_body("a request the service can answer", f"HTTP {exc.status_code}: {exc.detail}",
                          "see /docs")
    return JSONResponse(body, status_code=exc.status_code)


async def on_crash(request: Request, exc: Exception) -> JSONResponse:
    """A failure that is not the request's fault: logged with its traceback, answered without internals."""
    print(f"error while answering {request.method} {request.url.path}:", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    body = error_body("an answer from the service", "an internal error (logged on the server)",
                      "retry; if it persists, report it with the server's log")
    return JSONResponse(body, status_code=500)


HANDLERS = {RequestError: on_refusal, DataValidationError: on_refusal, HTTPException: on_http, Exception: on_crash}
