"""Chunked scoring of large files: lives in ``core.serve.streaming`` (each scenario's CLI scorer uses it);
re-exported here for code that imports it from the workspace."""

from core.serve.streaming import StreamResult, stream_score

__all__ = ["StreamResult", "stream_score"]
