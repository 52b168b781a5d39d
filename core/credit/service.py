"""Credit's scoring step, written once for every door.

The command-line scorer (``python -m core score``, chunk by chunk), the Dask engine (each partition,
``core.credit.scale``), the Score page (``core.credit.scenario.score_credit_batch``) and the prediction
service (``core.credit.serving``) all score rows with :func:`score_chunk`; they only adapt its input
and output. The decline rule is ``core.credit.scoring.decide``: decline at or above the threshold.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

PREDICT_BATCH = 20_000  # rows per network call when a progress callback is passed


def declined_rows(p, threshold: float) -> np.ndarray:
    """Positions of the declined rows (``core.credit.scoring.decide``: at or above ``threshold``)."""
    from core.credit.scoring import DECLINE, decide

    return np.flatnonzero(decide(p, threshold) == DECLINE)


def riskiest(p, rows: np.ndarray, limit: int | None) -> np.ndarray:
    """``rows`` riskiest first (ties in their order), the first ``limit`` of them (all when None)."""
    rows = np.asarray(rows, dtype=int)
    order = rows[np.argsort(-np.asarray(p)[rows], kind="stable")]
    return order if limit is None else order[:max(int(limit), 0)]


def score_chunk(model, part: pd.DataFrame, *, threshold: float, reasons: bool = True, reason_rows: int | None = None,
                with_input: bool = True, progress: Callable[[float, str], None] | None = None):
    """(scored rows in ``part``'s order, probabilities of default) for a loaded credit run
    (``core.credit.persist.load_credit_model``).

    Reason codes go to declined rows: every one with ``reasons=True`` and ``reason_rows=None``, the
    ``reason_rows`` riskiest otherwise, none with ``reasons=False``. ``with_input=False`` gives only the
    scored columns (the prediction service's answer). ``progress(fraction, text)`` is told as the
    network scores batches of ``PREDICT_BATCH`` rows and before the reason codes (fraction of this step, 0 to 1)."""
    from core.credit.scoring import build_scored_frame, compute_reasons_for_rows, scored_fields

    codes = model.preprocessor.transform_codes(part)  # once, for the probabilities and the reason codes
    step = len(part) if progress is None else PREDICT_BATCH  # one network call unless progress is told
    parts = []
    for i in range(0, len(part), max(step, 1)):
        parts.append(np.asarray(model.predict_codes(codes[i:i + step])))
        if progress is not None:
            done = min(i + step, len(part))
            progress(0.8 * done / len(part), f"Scored {done:,} rows")
    p = np.concatenate(parts) if parts else np.zeros(0)
    bad = declined_rows(p, threshold)
    if reason_rows is not None:
        bad = riskiest(p, bad, reason_rows)
    if not reasons:
        bad = bad[:0]
    if progress is not None:
        progress(0.8, f"Reason codes for {len(bad):,} declined applicants")
    why = {} if not len(bad) else compute_reasons_for_rows(
        part, bad.tolist(), explain_fn=functools.partial(model.explain_fn, codes=codes[bad]),
        references=model.references, **model.reason_filter)
    if not with_input:
        return pd.DataFrame(scored_fields(p, threshold=threshold, config=model.scorecard, reasons=why)), p
    return build_scored_frame(part, p, threshold=threshold, config=model.scorecard, reasons=why), p
