"""``python -m core serve``: saved runs as an HTTP prediction service (Starlette on uvicorn).

TensorFlow Serving's REST convention: ``POST /v1/models/{name}:predict`` with ``{"instances": [...]}``
answers ``{"predictions": [...]}``; ``GET /v1/models/{name}`` says what the model expects;
``GET /health``; OpenAPI at ``/openapi.json`` and a readable page at ``/docs`` (no CDN assets).

This package is the HTTP layer only and names no scenario: each run is a ``core.serve.serving.Predictor``
from its scenario's ``predictor`` hook. ``app`` (routes and the app), ``errors`` (every refusal as
``{"error": {"expected", "got", "fix"}}``), ``auth`` (API keys, loopback), ``limits`` (body size,
rows, JSON to rows), ``openapi`` (schema and docs page), ``state`` (snapshots of stateful models),
``cli`` (the command).
"""
