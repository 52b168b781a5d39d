"""Saving a credit run and loading it back to score new files, without pickle.

The run folder (written atomically by `core.store.registry`) holds the Keras file and one JSON with the
preprocessor, the decision threshold, scorecard settings, training medians for reason codes and a
small code-space background sample, so a loaded model can still give SHAP reason codes.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.credit.scorecard import ScorecardConfig
from core.errors import DataValidationError


def build_metadata(run, *, threshold: float | None = None,
                   scorecard: ScorecardConfig = ScorecardConfig(), extra_metadata: dict | None = None) -> dict:
    """JSON-ready description of a `CreditRun` (everything but the Keras weights).

    ``extra_metadata`` (the workspace summary, see ``core.workspace``) is stored under "workspace". The
    decision record (the decline threshold scored with, the scorecard and the network's own threshold,
    ``model_threshold``) is saved once, in ``workspace.decision`` (``core.store.runmeta``), also for a run
    saved without the summary.
    """
    tab = run.tabular
    meta = {
        "scenario": "credit",
        **tab.save_metadata(),
        "credit": {
            "target": run.setup.target,
            "positive": str(run.setup.positive),
            "numeric": run.setup.numeric,
            "categorical": run.setup.categorical,
            "sensitive": run.setup.sensitive,
            "references": run.references,
            "background": np.asarray(tab.background, dtype=float).round(6).tolist(),
        },
    }
    ws = dict(extra_metadata or {})
    ws["decision"] = {**(ws.get("decision") or {}), "threshold": float(run.threshold if threshold is None else threshold),
                      "scorecard": asdict(scorecard),
                      # the network's own line (its rule on the validation rows), beside the decline threshold
                      "model_threshold": float(tab.threshold)}
    meta["workspace"] = ws
    return meta


def save_credit_run(run, path, *, threshold: float | None = None,
                    scorecard: ScorecardConfig = ScorecardConfig(), extra_metadata: dict | None = None,
                    monitor: bool = True) -> Path:
    """Save ``run`` so that its folder is exactly ``path`` (which must not exist yet); with ``monitor``
    also its test rows and training rows for the monitor and retraining (``core.monitor.reference``)."""
    from core.store.registry import save_run

    path = Path(path)
    if path.exists():
        raise DataValidationError(
            f"Cannot save the model to '{path}': that folder already exists. "
            "Fix: choose a new folder name (the model is saved into a folder of its own)."
        )
    from core.data.rowhash import ROW_HASH_FILE, compute_row_hashes, hashes_to_bytes

    meta = build_metadata(run, threshold=threshold, scorecard=scorecard, extra_metadata=extra_metadata)
    # One hash per training row, so scoring can tell when a file repeats the training rows.
    meta["row_hash_columns"] = list(run.setup.features)
    hashes = hashes_to_bytes(compute_row_hashes(run.train_df, run.setup.features))
    blend_files, blend_meta = run.tabular.blend_files()  # the recommended blend's baseline, when it is one
    meta.update(blend_meta)
    files = {ROW_HASH_FILE: hashes, **blend_files}
    if monitor:
        from core.monitor.reference import monitor_files

        meta["monitor"], kept = monitor_files(
            "credit", reference=pd.DataFrame({"score": np.asarray(run.p_test, float), "label": run.y_test}),
            training=pd.concat([run.train_df, run.test_df], ignore_index=True),
            fingerprint=meta["workspace"].get("dataset"))
        files.update(kept)
    return save_run(path.parent, model=run.tabular.model, run_id=path.name, metadata=meta, files=files)


def export_model_zip(run, *, threshold: float | None = None,
                     scorecard: ScorecardConfig = ScorecardConfig()) -> bytes:
    """The saved run folder as zip bytes, for a download button."""
    tmp = Path(tempfile.mkdtemp(prefix="credit-export-"))
    try:
        folder = save_credit_run(run, tmp / "credit_model", threshold=threshold, scorecard=scorecard, monitor=False)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.iterdir()):
                zf.write(f, arcname=f"credit_model/{f.name}")
        return buf.getvalue()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class LoadedCreditModel:
    """A saved credit model, ready to score raw rows."""

    model: Any
    preprocessor: Any
    metadata: dict
    blend: Any = None  # core.ml.blend.Blend: the baseline the recommended model blends in (None: the network)

    @property
    def credit(self) -> dict:
        return self.metadata["credit"]

    @property
    def decision(self) -> dict:
        """The run's decision record (``workspace.decision``: threshold, scorecard, costs)."""
        from core.store.runmeta import decision

        return decision(self.metadata)

    @property
    def threshold(self) -> float:
        return float(self.decision["threshold"])

    @property
    def scorecard(self) -> ScorecardConfig:
        sc = dict(self.decision["scorecard"])
        if sc.get("grade_cuts") is not None:
            sc["grade_cuts"] = tuple(sc["grade_cuts"])
        return ScorecardConfig(**sc)

    @property
    def references(self) -> dict[str, float]:
        return dict(self.credit.get("references", {}))

    @property
    def reason_filter(self) -> dict:
        """``compute_reasons_for_rows``'s keywords for the proxy policy saved with the run: features flagged as
        possible proxies for a protected attribute left out of reason codes, or marked (runs saved without
        the fairness section: nothing filtered)."""
        from core.credit.reasons import reason_filter

        from core.store.runmeta import section

        fair = section(self.metadata, "fairness")
        fair = fair if isinstance(fair, dict) else {}  # a credit section: its shape is not checked on reading
        proxies = [str(f.get("feature")) for f in fair.get("proxies") or [] if isinstance(f, dict)]
        if not proxies:
            return {}
        return reason_filter(proxies, keep_out=self.decision.get("proxy_reasons", "left out") != "marked")

    def predict_codes(self, Z: np.ndarray) -> np.ndarray:
        """The recommended model's probabilities for code-space rows."""
        from core.ml.tabular import recommended_predict

        return recommended_predict(self.model, self.preprocessor, self.blend)(Z)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """The recommended model's probability of default for raw rows with the training columns."""
        return self.predict_codes(self.preprocessor.transform_codes(df))

    def explain_fn(self, df: pd.DataFrame, *, codes: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """SHAP values of the recommended model per source column, against the saved background sample
        (``codes``: the rows' ``transform_codes``, when already computed)."""
        from core.ml.explain import plain_index
        from core.ml.tabular import explain_rows

        res = explain_rows(self.model, self.preprocessor, self.background, plain_index(df),
                           seed=int(self.metadata.get("config", {}).get("seed", 0)), blend=self.blend, codes=codes)
        return res.values, list(res.feature_names)

    @property
    def background(self) -> np.ndarray:
        """The saved background sample (code space, float32), read from the metadata's lists once: converting
        them took a twentieth of a declined applicant's reason codes on every request."""
        stored = self.credit["background"]
        cached = self.__dict__.get("_background")
        if cached is None or cached[0] is not stored:
            cached = self.__dict__["_background"] = (stored, np.asarray(stored, dtype=np.float32))
        return cached[1]


def load_credit_model(path, *, runtime: str | None = None) -> LoadedCreditModel:
    """Load a folder written by `save_credit_run` (Keras safe mode, JSON settings); ``runtime="onnx"``
    runs the network on ONNX Runtime instead of TensorFlow (``core.runtime``)."""
    from core.data.preprocess import TabularPreprocessor
    from core.runtime import load_run_model

    run = load_run_model(path, runtime=runtime)
    meta = run.metadata
    if meta.get("scenario") != "credit" or "credit" not in meta:
        raise DataValidationError(
            f"'{path}' holds a {meta.get('scenario', 'unknown')!r} model, not a credit model. "
            "Fix: pass the folder saved by the credit scenario."
        )
    from core.ml.blend import load_blend

    return LoadedCreditModel(model=run.model, preprocessor=TabularPreprocessor.from_dict(meta["preprocessor"]),
                             metadata=meta, blend=load_blend(run.path, meta))
