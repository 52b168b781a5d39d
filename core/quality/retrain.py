"""A quality challenger: the champion's settings trained again on its original images plus newly
inspected ones, judged on the new images the champion scored.

A quality run keeps none of its training images, so the original set comes back as ``train_data``
(the zip or folder it was trained on). The new labelled images (``data``: class folders, a labels
CSV or class names in the file names, as training reads them) are split by the prediction log:

* the **comparison images** are those the champion scored (matched to its logged rows by file name:
  the path as scored, else the bare file name when it names one logged image only). The champion
  scored them before anyone inspected them, and the challenger never trains on them;
* every other new image is added to the original images, and the challenger is trained on them
  with the champion's saved settings (network, epochs, imbalance handling, seed, input size, colours).

The verdict: ROC-AUC of "defect" on the comparison images, the challenger's scores against the
champion's logged ones, with the paired bootstrap of ``core.ml.verdict``; beside it the defect recall of
each at the run's reject threshold (with the paired bootstrap interval of its difference). The
challenger keeps the run's threshold and costs.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from core.errors import DataValidationError

PERIOD = "the newly inspected images the champion scored"


def logged_scores(run_dir) -> pd.Series:
    """The latest logged P(defect) of each image the run scored, by its logged file name."""
    from core.monitor.store import read_table

    log = read_table(run_dir, "predictions", "SELECT row_id, score FROM (SELECT row_id, score, row_number() OVER "
                     "(PARTITION BY row_id ORDER BY scored_at DESC, log_key DESC) AS rn FROM {t}) WHERE rn = 1")
    log = log.dropna(subset=["row_id"])
    return pd.Series(log["score"].to_numpy(float), index=log["row_id"].astype(str).to_numpy())


def match_logged(names, logged: pd.Series) -> np.ndarray:
    """Each name's logged score (NaN for images the run did not score): the same path, else the same
    bare file name when exactly one logged image has it (images scored flat, labelled in folders later)."""
    base = pd.Series([PurePosixPath(i).name for i in logged.index])
    unique = base[~base.duplicated(keep=False)]
    by_name = pd.Series(logged.to_numpy()[unique.index], index=unique.to_numpy())
    out = np.full(len(names), np.nan)
    for i, name in enumerate(names):
        if name in logged.index:
            out[i] = float(logged[name])
        elif PurePosixPath(name).name in by_name.index:
            out[i] = float(by_name[PurePosixPath(name).name])
    return out


def _config(meta: dict):
    from core.quality.engine import QualityConfig

    saved = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    known = {f.name for f in fields(QualityConfig)}
    values = {k: v for k, v in saved.items() if k in known}
    if "filters" in values:
        values["filters"] = tuple(values["filters"])
    return QualityConfig(**values)


def _recall_interval(y, p_new, p_old, threshold: float, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95):
    """Defect recall of each at ``threshold`` and the paired bootstrap interval of their difference."""
    pos = y == 1
    hit_new, hit_old = (p_new[pos] >= threshold).astype(float), (p_old[pos] >= threshold).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(hit_new), size=(n_boot, len(hit_new)))
    d = hit_new[draws].mean(axis=1) - hit_old[draws].mean(axis=1)
    low, high = np.quantile(d, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"threshold": float(threshold), "challenger": float(hit_new.mean()), "champion": float(hit_old.mean()),
            "diff": float(hit_new.mean() - hit_old.mean()), "low": float(low), "high": float(high),
            "defects": int(pos.sum())}


def recall_sentence(r: dict) -> str:
    return (f"Defect recall at the run's threshold {r['threshold']:.2f}: {r['challenger']:.1%} for the challenger "
            f"against {r['champion']:.1%} for the champion on {r['defects']:,} defective images "
            f"({r['diff']:+.1%}, 95% interval {r['low']:+.1%} to {r['high']:+.1%}).")


def retrain_quality(run_dir: Path, meta: dict, *, data, train_data, save_to: Path, progress=None):
    """Train, save and judge a quality challenger (see the module docstring); returns a
    ``core.monitor.retrain.RetrainResult`` (its status is recorded by the caller)."""
    from core.serve.decisions import get_decision_settings
    from core.monitor.retrain import MIN_COMPARISON_ROWS, RetrainResult
    from core.monitor.store import utc_now
    from core.quality import service
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.evaluate import get_defect_labels, get_defect_scores
    from core.ml.verdict import compare_binary
    from core.store.runmeta import decision, workspace

    say = progress or (lambda _m: None)
    run_dir = Path(run_dir)
    if data is None:
        raise DataValidationError(
            "Expected the newly inspected images (a zip or folder of class folders, e.g. ok/img_1.png, crack/img_2.png) "
            f"to train and compare a quality challenger; got none. Fix: python -m core retrain --model {run_dir} "
            "--train-data ORIGINAL.zip --data NEW.zip, or upload them on the Monitor page.")
    if train_data is None:
        raise DataValidationError(
            "Expected the run's original training images (--train-data ORIGINAL.zip or a folder): a quality run keeps "
            f"none of its training images, and the challenger learns them again; got none. Fix: python -m core retrain "
            f"--model {run_dir} --train-data ORIGINAL.zip --data NEW.zip, or upload both on the Monitor page.")
    classes, ok = tuple(meta["class_names"]), meta.get("ok_class")
    opts = LoadOptions(image_size=int(meta["image_size"]), color="grayscale" if int(meta["channels"]) == 1 else "rgb",
                       min_per_class=1)
    say("Reading the newly inspected images")
    new = load_image_dataset(data, options=opts, class_names=classes, what="newly inspected images")
    logged = logged_scores(run_dir)
    p_old = match_logged(new.names, logged)
    scored = np.isfinite(p_old)
    if not scored.any():
        example = ", ".join(list(new.names)[:3])
        logged_example = ", ".join(list(logged.index)[:3]) or "none"
        raise DataValidationError(
            f"Expected newly inspected images that run '{run_dir.name}' scored (matched to its prediction log by file "
            f"name) to compare the challenger on; got none of the {len(new.names):,} image(s) (e.g. {example}) among "
            f"the {len(logged):,} it logged (e.g. {logged_example}). Fix: label the images the run scored, keeping "
            "their file names, or score the new images with the run first (python -m core score, the Score page).")
    y = get_defect_labels(new.labels[scored], classes, ok).astype(float)
    if scored.sum() < MIN_COMPARISON_ROWS or len(np.unique(y)) < 2:
        raise DataValidationError(
            f"Expected at least {MIN_COMPARISON_ROWS} newly inspected images the run scored, both good and defective, "
            f"to compare on; got {int(scored.sum()):,} with {int(y.sum()):,} defective. Fix: inspect and add more of "
            "the images the run scored.")
    say("Reading the original training images")
    original = load_image_dataset(train_data, options=opts, class_names=classes, what="original training images")
    missing = [c for c, n in original.counts().items() if n == 0]
    if missing:
        raise DataValidationError(
            f"Expected the run's original training images, with its classes {', '.join(classes)}; got none of "
            f"{', '.join(missing)} (classes found: {', '.join(c for c, n in original.counts().items() if n)}). Fix: pass "
            "the zip or folder the run was trained on.")
    extra = new.subset(np.flatnonzero(~scored))
    combined = type(original)(np.concatenate([original.images, extra.images]),
                              np.concatenate([original.labels, extra.labels]), classes,
                              original.names + tuple(f"new/{n}" for n in extra.names),
                              original.notices + new.notices, original.layout)
    config = _config(meta)
    say(f"Training the challenger on {len(original.labels):,} original and {len(extra.labels):,} new image(s), "
        f"{config.epochs} epoch(s) at most")
    record = decision(meta)  # the champion's costs, from its one decision record
    # The CNN alone (no blend check, no baselines: the champion is what it is compared with), at the
    # champion's reject threshold and costs.
    outcome = service.train_and_decide(
        combined, config=config, ok_class=ok, ensemble=False, baselines=False,
        threshold=float(get_decision_settings(meta)["threshold"]),
        cost_escape=float(record.get("cost_escape", service.COST_ESCAPE)),
        cost_false_reject=float(record.get("cost_false_reject", service.COST_FALSE_REJECT)),
        progress=lambda e, n, _l: say(f"Epoch {e} of {n}"))
    run, threshold = outcome.run, outcome.decision.threshold
    p_new = get_defect_scores(run.predict_proba(new.images[scored]), classes, ok)
    verdict = compare_binary(y, p_new, {"champion": p_old[scored]}, metric="roc_auc",
                             names={"champion": "the champion"}, seed=0)
    recall = _recall_interval(y, p_new, p_old[scored], threshold)
    lineage = {"champion": run_dir.name, "champion_path": str(run_dir.resolve()), "holdout_period": PERIOD,
               "holdout_rows": int(scored.sum()), "new_rows": int(len(extra.labels)), "file_rows": int(len(new.labels)),
               "original_images": int(len(original.labels)), "trained_at": utc_now().isoformat(timespec="seconds")}
    name = f"{workspace(meta).get('name') or meta.get('run_id') or run_dir.name} · challenger"
    say("Saving the challenger")
    folder = service.save(outcome, Path(save_to), name=name, dataset_name="original images + newly inspected images",
                          lineage=lineage)
    notices = [recall_sentence(recall)]
    if extra.labels.size == 0:
        notices.append("Every new image is a comparison image, so the challenger learnt from the original images "
                       "only: inspect images the run has not scored too, to give it something new to learn.")
    return RetrainResult(run_dir.name, Path(folder), PERIOD, int(scored.sum()), int(len(extra.labels)),
                         int(len(new.labels)), verdict, notices, unit="images", more={"defect_recall": recall})
