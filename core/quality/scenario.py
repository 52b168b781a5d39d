"""Quality inspection as the workspace sees it: the ``Scenario`` hooks (``core.store.scenarios``) for saved
runs, batch scoring of images, the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.store.scenarios import ROOT, DecisionControl, Demo, ScenarioBase, ScenarioSpec, register

SAMPLE = ROOT / "sample_data" / "quality_images"


# Titles, question and page for the Overview and the navigation.
SPEC = ScenarioSpec(
    "quality", "Quality inspection", ":material/center_focus_strong:",
    "Which parts coming off the line are defective, and why does the model think so?",
    "Trains a CNN on labelled product images, sets the reject threshold by the cost of "
    "escapes versus false rejects, and shows Grad-CAM and SHAP heatmaps for every image.",
    "A zip with one folder per class, or images plus a labels CSV.",
    "pages/quality.py",
    "sample_data/quality_new_batch.zip",
    short_title="Quality",
)


class QualityScenario(ScenarioBase):
    key = "quality"
    title = SPEC.title
    spec = SPEC
    order = 40  # quality is listed fourth
    model_kind = "image"
    input_kind = "images"
    decision_words = "pass / reject per image with the class probabilities"
    intended_use = ("Flag product images that probably show a defect, so that an inspector checks or rejects "
                    "the part; heatmaps show where the model looked.")
    limitations = (
        "Trained on the labelled images provided; defect types or lighting not seen in training may pass.",
        "Test sets of a few hundred images give wide uncertainty on escape rates.",
        "Heatmaps show where the model looked, not a proof that the defect is there.",
    )
    model_text = "Keras convolutional network on product images, evaluated on held-out images."

    def build_summary(self, run, **settings) -> dict:
        from core.quality.summary import build_quality_summary

        return build_quality_summary(run, **settings)

    def expected_input(self, meta: dict) -> dict:
        from core.store.saved import images_input

        return images_input(meta)

    def decision_settings(self, meta: dict) -> dict:
        from core.serve.decisions import saved_decision

        return {"threshold": float(saved_decision(meta).get("threshold", 0.5))}

    def upgrade_metadata(self, meta: dict, version: int) -> dict:
        """Runs saved before schema 1 kept the reject threshold at the top of the metadata as well as in
        ``workspace.decision``, runs saved before schema 2 the costs (``costs``: escape, false_reject): the one
        record is ``workspace.decision`` (``core.store.runmeta.migrate``; ``cost_escape``, ``cost_false_reject``).
        A defect-typing run (no good-part class) rejects nothing, so its top-level threshold and costs, which
        no decision used, are dropped rather than shown as a decision."""
        from core.quality.export import decision_costs
        from core.store.runmeta import decision_record, move_to_decision

        key = {0: "threshold", 1: "costs"}.get(version)
        if key is None or key not in meta:
            return meta
        if meta.get("ok_class") is None:
            meta.pop(key)
        elif key == "threshold":
            move_to_decision(meta, None, ("threshold",))
        else:
            moved = decision_costs(meta.pop(key))
            if moved:
                decision_record(meta).update(moved)  # the moved costs win, as the moved threshold does
        return meta

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        if meta.get("task") == "defect_typing":
            return ()
        return (DecisionControl("threshold", "Reject when P(defect) is at or above", 0.0, 1.0, 0.01, key="thr"),)

    def decision_note(self, meta: dict) -> str:
        if meta.get("task") == "defect_typing":
            return ("This model types defects (no class means 'good part'): each image gets its most likely "
                    "class, with no reject threshold to set.")
        return ""

    def training_profile(self, meta: dict) -> dict | None:
        return None  # images have no column profile (drift would need image embeddings)

    def score(self, run_dir, meta, data, s, *, progress, reason_rows):
        return score_quality_batch(Path(run_dir), meta, data, s, progress)

    def demo(self) -> Demo:
        return Demo(sample=SAMPLE, weight=0.2, run=run_demo,
                    settings={"quality_images": None,  # images kept (stratified by class)
                    "image_size": 48,
                    # The costs the quality page opens with.
                    "cost_escape": 50.0, "cost_false_reject": 2.0})


def score_quality_batch(run_dir: Path, meta, data, s, progress):
    """Pass / reject every image at the threshold (or its most likely defect type), with the class
    probabilities, and accuracy when the images are sorted into class folders."""
    from core.serve.batch import BatchResult
    from core.serve.decisions import check_probability
    from core.quality.data import load_images_for_scoring
    from core.quality.service import load, score_images

    thr = check_probability("reject threshold", s["threshold"])
    progress(0.05, "Reading the images")
    saved = load(run_dir)
    images, names, labels, notices = load_images_for_scoring(
        data, image_size=saved.image_size, channels=saved.channels, class_names=saved.class_names,
        keep_masks=bool(s.get("keep_masks", False)))
    progress(0.4, f"Classifying {len(images):,} images")
    scored = score_images(saved, images, names, labels, threshold=thr)
    figures = [("Images scored", f"{len(scored):,}")]
    if "verdict" in scored:
        rej = scored["verdict"] == "reject"
        decisions = pd.DataFrame({"decision": ["pass", "reject"],
                                  "images": [int((~rej).sum()), int(rej.sum())]})
        figures += [("Rejected", f"{int(rej.sum()):,}"), ("Reject rate", f"{rej.mean():.1%}")]
    else:
        decisions = scored["predicted"].value_counts().rename_axis("predicted").reset_index(name="images")
        notices.append("Every class of this model is a defect type and none means 'good part' (defect typing), "
                       "so there is no pass / reject verdict and the threshold is not used; the predicted "
                       "defect type is given per image.")
    if labels is not None:
        figures.append(("Accuracy on labelled images", f"{(scored['actual'] == scored['predicted']).mean():.1%}"))
        if "verdict" not in scored:
            # Defect typing: the weakest class is the figure to watch, not a reject rate.
            recall = (scored["actual"] == scored["predicted"]).groupby(scored["actual"]).mean()
            figures.append(("Lowest class recall", f"{recall.min():.1%} ({recall.idxmin()})"))
    progress(1.0, "Done")
    return BatchResult("quality", run_dir.name, scored, figures, decisions, {"threshold": thr}, notices=notices)


def run_demo(root: Path, s, progress) -> Path:
    """Train on the bundled images with the demo settings (stratified when shrunk), pick the
    cheapest reject threshold and save the run with its workspace summary."""
    from core.quality import service
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig
    from core.report.runsummary import demo_run_name
    from core.store.registry import new_run_id

    progress(0.0, "Loading the sample images")
    data = load_image_dataset(SAMPLE, options=LoadOptions(image_size=s.image_size))
    if s.quality_images and len(data.labels) > s.quality_images:
        rng = np.random.default_rng(s.seed)
        frac = s.quality_images / len(data.labels)
        idx = np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[: max(8, round(frac * n))]
                              for c, n in enumerate(np.bincount(data.labels))])
        data = data.subset(np.sort(idx))
    # The CNN alone (no blend check, no baselines), at the cheapest reject threshold for the demo's costs.
    outcome = service.train_and_decide(data, config=QualityConfig(epochs=s.epochs, seed=s.seed), ensemble=False,
                                       baselines=False, cost_escape=s.cost_escape,
                                       cost_false_reject=s.cost_false_reject, digits=2,
                                       progress=lambda e, n, _l: progress(0.1 + 0.8 * e / n, f"Epoch {e} of {n}"))
    progress(0.95, "Saving the run")
    return service.save(outcome, root / new_run_id("quality"), name=demo_run_name("quality"),
                        dataset_name=SAMPLE.name, gallery=True)


SCENARIO = register(QualityScenario())
