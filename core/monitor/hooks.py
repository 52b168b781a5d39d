"""The two calls the HTTP service (``python -m core serve``, ``core/server``) makes into the loop.

The service's ``:predict`` route logs what it answered, and its ``:feedback`` route hands the body
over; both run in the service's thread pool (they write files)::

    from core.monitor.hooks import SERVED_LOG, feedback_response

    # POST /v1/models/{name}:predict, after `out = p.predict(df)`:
    out = await run_in_threadpool(SERVED_LOG.record, p.run_dir, df, out)
    # -> the predictions with a "prediction_id" per row (the request's id column when the model's
    #    scenario has one and the request sent it, else a generated id): the id feedback sends back.

    # POST /v1/models/{name}:feedback with {"outcomes": [{"id": ..., "label": ...}, ...]}:
    status, body = await run_in_threadpool(feedback_response, p.run_dir, await request.body())
    return JSONResponse(body, status_code=status)

``feedback_response`` answers 200 with ``core.monitor.feedback.FeedbackResult`` as JSON
(``received``, ``matched``, ``unmatched``, ``unmatched_examples``, ``repeated``, ``replaced``,
``notices``), or 400 with ``{"error": {"message": ...}}`` for a body it cannot use (not JSON, no
outcomes, an outcome without id or label, a label the scenario cannot read). Logging never fails a
prediction: a log that cannot be written is reported in the response's ``notices`` instead.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from core.errors import DataValidationError


class ServedLog:
    """One prediction recorder per served run (``source="api"``), shared by the service's threads."""

    def __init__(self):
        self._recorders: dict[str, object] = {}
        self._lock = threading.Lock()

    def recorder(self, run_dir):
        from core.monitor.record import open_recorder

        key = str(Path(run_dir).resolve())
        with self._lock:
            if key not in self._recorders:
                self._recorders[key] = open_recorder(run_dir, source="api")
            return self._recorders[key]

    def record(self, run_dir, inputs, predictions):
        """Log the answered rows; returns ``predictions`` with ``prediction_id`` (unchanged when the
        run is not monitored or logging is off with ``STUDIO_PREDICTION_LOG=0``)."""
        from core.monitor.record import ID_COLUMN

        rec = self.recorder(run_dir)
        if rec is None:
            return predictions
        before = len(rec.notices)
        ids = rec.record(inputs, predictions)
        out = predictions.copy()
        if ids is not None:
            out[ID_COLUMN] = ids.to_numpy()
        notes = rec.notices[before:]
        if notes:
            out.attrs["notices"] = [*(predictions.attrs.get("notices") or []), *notes]
        if ids is None and rec.notices:  # the log failed once: try again with a fresh recorder next time
            with self._lock:
                self._recorders.pop(str(Path(run_dir).resolve()), None)
        return out


SERVED_LOG = ServedLog()


def feedback_response(run_dir, body) -> tuple[int, dict]:
    """(HTTP status, JSON body) for ``POST /v1/models/{name}:feedback`` (see the module docstring)."""
    from core.monitor.feedback import record_feedback

    try:
        if isinstance(body, (bytes, bytearray, str)):
            try:
                body = json.loads(body or b"null")
            except ValueError as exc:
                raise DataValidationError(f'Expected a JSON body {{"outcomes": [{{"id": ..., "label": ...}}]}}; got text '
                                          f"that is not JSON ({exc}). Fix: send JSON with Content-Type: "
                                          "application/json.") from exc
        if not isinstance(body, dict) or "outcomes" not in body:
            raise DataValidationError('Expected a JSON object with "outcomes": [{"id": ..., "label": ...}]; got '
                                      f"{type(body).__name__ if not isinstance(body, dict) else 'an object without it'}. "
                                      'Fix: send {"outcomes": [{"id": "A1", "label": 1}]}.')
        return 200, record_feedback(run_dir, body["outcomes"]).to_dict()
    except DataValidationError as exc:
        return 400, {"error": {"message": str(exc)}}
