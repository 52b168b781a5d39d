"""Saving a trained fraud run (model, preprocessing, labelled history) and scoring files with it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.fraud.columns import FraudColumns
from core.fraud.features import FeatureConfig

HISTORY_FILE = "history.parquet"


def save_fraud_run(run, root, *, extra_metadata: dict | None = None, run_id: str | None = None,
                   secret: bytes | None = None) -> Path:
    """Save a :class:`FraudRun` with the registry: Keras model, JSON metadata, history as Parquet.

    The history is needed to score new transactions: their window features look back up to
    30 days plus the label delay. ``extra_metadata`` (the workspace summary) goes under "workspace"; the
    model's own threshold is saved once, as ``model_threshold`` in its decision record (``core.store.runmeta``).
    A run with key columns read as keyed pseudonyms (``run.keyed``) needs the ``secret`` they were
    made with: it is kept in the run folder only, so files scored later get the same pseudonyms.
    """
    from core.data.pseudonym import secret_file

    if run.keyed and secret is None:
        raise DataValidationError(
            f"Expected the secret of the keyed pseudonyms in {[k['column'] for k in run.keyed]} to save this run; "
            "got none. Fix: pass the secret the file was read with (the session's or the command's).")
    from core.fraud.alerts import get_typical_values
    from core.fraud.pipeline import NETWORK, run_summary
    from core.store.registry import save_run
    from core.data.rowhash import ROW_HASH_FILE, compute_row_hashes, hashes_to_bytes

    buf = io.BytesIO()
    run.history.to_parquet(buf, index=False)
    meta = {
        "scenario": "fraud",
        **run_summary(run),
        "extra_columns": run.extra_columns,
        "preprocessor": run.tabular.preprocessor.to_dict(),
        "metrics": run.metrics[NETWORK],
        "recommended": run.recommended_section(),
        "descriptions": run.features.descriptions,
        # What a loaded model needs to give reasons for new alerts: SHAP background rows (code
        # space) and the typical value of each feature quoted beside it.
        "background": np.asarray(run.tabular.background, dtype=float).round(6).tolist(),
        "typical": get_typical_values(run.features.frame.iloc[run.split.train_idx]),
    }
    # The workspace summary, with the recommended model's own alert line (its threshold rule on the validation
    # rows) in the one decision record beside the review and block thresholds chosen for it.
    ws = dict(extra_metadata or {})
    ws["decision"] = {**(ws.get("decision") or {}), "model_threshold": float(run.tabular.recommended_threshold)}
    meta["workspace"] = ws
    if run.label_rule:  # outcomes fed back later (core.monitor.feedback) are read with the training's rule
        meta["label_rule"] = dict(run.label_rule)
    # One hash per training transaction, so scoring can tell when a file repeats the training rows.
    cols = run.columns
    hashed = [c for c in (cols.time, cols.amount, cols.customer, cols.terminal) if c and c in run.history.columns]
    meta["row_hash_columns"] = hashed
    trained = run.history.iloc[run.split.train_idx]
    if cols.time_unit:  # elapsed time is hashed as the number the file holds, as a scored file is
        trained = trained.assign(**{cols.time: trained[cols.time].map(cols.clock.value)})
    hashes = hashes_to_bytes(compute_row_hashes(trained, hashed))
    blend_files, blend_meta = run.tabular.blend_files()  # the recommended blend's baseline, when it is one
    meta.update(blend_meta)
    files = {HISTORY_FILE: buf.getvalue(), ROW_HASH_FILE: hashes, **blend_files}
    if run.keyed:
        meta["pseudonymised"] = [dict(k) for k in run.keyed]  # names and kinds only; the secret is a file
        files.update(secret_file(secret))
    # The test period as the monitor reads it; the labelled history above is the training data.
    from core.monitor.reference import monitor_files

    test = run.test
    reference = pd.DataFrame({"score": test[run.score_column].to_numpy(float), "label": test["label"].to_numpy(float),
                              "event_time": test["time"].to_numpy(),
                              # The amount at stake lets presenter mode show the share of fraud money caught.
                              "amount": test["amount"].to_numpy(float)})
    if cols.customer:
        reference[f"in.{cols.customer}"] = test["customer"].astype(str).to_numpy()
    meta["monitor"], kept = monitor_files("fraud", reference=reference, training=None, fingerprint=None)
    meta["monitor"]["training_source"] = {"kind": "run_file", "file": HISTORY_FILE}
    return save_run(root, model=run.tabular.model, metadata=meta, run_id=run_id, files={**files, **kept})


@dataclass
class SavedFraudModel:
    """A loaded fraud run that can score new transaction files."""

    model: object
    preprocessor: object
    columns: FraudColumns
    feature_config: FeatureConfig
    extra_columns: list[str]
    history: pd.DataFrame
    threshold: float
    background: np.ndarray | None = None
    typical: dict | None = None
    seed: int = 0
    keys: object = None  # core.data.pseudonym.KeyRule: the run's key columns and secret, or None
    blend: object = None  # core.ml.blend.Blend: the baseline the recommended model blends in (None: the network)

    def __repr__(self) -> str:  # never the key rule's secret, nor the history
        return f"SavedFraudModel(columns={self.columns}, keys={self.keys!r})"

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The recommended model's risk for engineered feature rows ``X``."""
        from core.ml.models import predict_batched

        if self.blend is None:
            return predict_batched(self.model, self.preprocessor.transform(X))
        Z = self.preprocessor.transform_codes(X)
        E = self.preprocessor.encode(Z)  # once, for the network and a baseline reading encoded rows
        return self.blend.mix(predict_batched(self.model, E), self.preprocessor, Z, encoded=E)

    def get_reasons(self, X: pd.DataFrame, k: int = 3, *, currency: str | None = None) -> list[str] | None:
        """Plain-words SHAP reasons for engineered feature rows ``X``; None for runs saved without
        a SHAP background."""
        if self.background is None or len(X) == 0:
            return None if self.background is None else []
        from core.fraud.alerts import get_reasons
        from core.ml.tabular import explain_rows

        res = explain_rows(self.model, self.preprocessor, self.background, X.reset_index(drop=True), seed=self.seed,
                           blend=self.blend)
        return get_reasons(res, self.typical or {}, k=k, currency=currency)


def load_fraud_model(path, *, runtime: str | None = None) -> SavedFraudModel:
    """Load a run saved by :func:`save_fraud_run`; ``runtime="onnx"`` runs the network on ONNX
    Runtime instead of TensorFlow (``core.runtime``)."""
    from core.ml.blend import load_blend
    from core.data.preprocess import TabularPreprocessor
    from core.runtime import load_run_model

    run = load_run_model(path, runtime=runtime)
    meta = run.metadata
    if meta.get("scenario") != "fraud":
        raise DataValidationError(f"Expected a saved fraud run; '{Path(path).name}' is a "
                                  f"{meta.get('scenario')} run. Fix: pick a fraud run.")
    from core.data.pseudonym import run_key_rule
    from core.store.runmeta import decision

    cfg = meta["config"]["features"]
    return SavedFraudModel(
        model=run.model, preprocessor=TabularPreprocessor.from_dict(meta["preprocessor"]),
        columns=FraudColumns(**meta["columns"], time_unit=meta.get("time_unit")),
        feature_config=saved_feature_config(cfg),
        extra_columns=list(meta.get("extra_columns", [])),
        history=pd.read_parquet(io.BytesIO(run.read_file(HISTORY_FILE))),
        threshold=float(decision(meta).get("model_threshold", 0.5)),
        background=np.asarray(meta["background"], dtype=np.float32) if meta.get("background") else None,
        typical=meta.get("typical"), seed=int(meta["config"]["tabular"].get("seed", 0)),
        keys=run_key_rule(path, meta), blend=load_blend(run.path, meta))


def saved_feature_config(cfg: dict) -> FeatureConfig:
    """The FeatureConfig a run was saved with (fields added later take their defaults)."""
    from dataclasses import fields

    known = {f.name for f in fields(FeatureConfig)}
    got = {k: v for k, v in cfg.items() if k in known}
    if "windows" in got:
        got["windows"] = tuple(got["windows"])
    return FeatureConfig(**got)
