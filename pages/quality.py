"""Quality inspection: labelled product images -> CNN -> reject threshold by cost -> heatmaps.
Layout only; the work is in core/quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.charts import plot_training_history
from core.errors import DataValidationError
from core.quality.charts import (
    plot_class_bar, plot_image_heatmap, plot_inspection_cost, plot_multiclass_confusion, plot_per_class_metrics,
)
from core.quality.data import LoadOptions, find_ok_class, load_image_dataset, load_single_image
from core.quality.evaluate import (
    DEFECT_TYPING_NOTE, compute_cost_analysis, compute_defect_metrics, get_defect_labels, get_defect_scores,
    get_error_gallery, get_misclassified,
)
from core.quality.labels import describe_layout
from core.quality.models import BACKBONES

from ui.common import ensure_router, money, money_label
from ui.workspace import save_to_workspace

ensure_router()

K = "quality."  # namespace of this page's session state
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data" / "quality_images"
IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"]
SIZES = {"auto": "Auto (fits the time budget)", 64: "64 × 64 (fastest)", 96: "96 × 96",
         128: "128 × 128 (finer texture, ~4× slower than 64)", "native": "Native (the images' own size)"}
SHORT_BACKBONES = {"cnn": "Small CNN, from scratch", "mobilenetv2": "MobileNetV2, ImageNet"}
IMBALANCE = {"class_weight": "Class weights", "oversample": "Over-sample defect images",
             "none": "None", "undersample": "Under-sample OK images"}

st.title(":material/center_focus_strong: Quality inspection")
st.caption("Which parts are defective, and why does the model think so? Train a CNN on labelled product "
           "images, set the reject threshold by the cost of escapes versus false rejects, and see where in "
           "each image the model looked (Grad-CAM and SHAP).")


def fail(exc: Exception) -> None:
    st.error(str(exc) if isinstance(exc, DataValidationError) else f"Something went wrong: {exc}",
             icon=":material/error:")


@st.cache_resource(show_spinner="Loading the sample images")
def load_sample(image_size):
    """The bundled sample, shared by all sessions and never modified."""
    return load_image_dataset(SAMPLE_DIR, options=LoadOptions(image_size=image_size))


def pct(v: float) -> str:
    return f"{v:.1%}"


def max_images(image_size) -> int:
    """Cap decoded pixels at ~150 MB (colour worst case) so one session fits a small cloud server;
    the loader says so with a notice when it keeps a subset.  'auto' never decodes above 128 pixels
    for more than ~600 images; 'native' is capped as if 256."""
    side = {"auto": 128, "native": 256}.get(image_size, image_size)
    return int(min(5_000, 150e6 // (side * side * 3)))


def thumb(img: np.ndarray) -> np.ndarray:
    """st.image wants (H, W) for grey images, not (H, W, 1)."""
    return img[..., 0] if img.shape[-1] == 1 else img


# ---------------------------------------------------------------- data
def get_data(image_size: int):
    choice = st.radio("Images", ["Bundled sample (1,000 synthetic surfaces)", "Upload a zip"], horizontal=True,
                      key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(image_size)
    up = st.file_uploader("Zip with one folder per class (e.g. ok/, scratch/), images named after their class "
                          "(scratches_12.jpg, rolled-in_scale_7.jpg, Cr_1.bmp), or images plus a labels CSV "
                          "(columns filename,label)", type=["zip"], key=K + "upload")
    if up is None:
        st.info("Upload a zip to work on your own images, or switch back to the bundled sample.")
        return None
    key = (up.file_id, image_size)
    if st.session_state.get(K + "upload_key") != key:
        st.session_state[K + "upload_key"] = key
        try:
            with st.spinner("Checking and decoding the images"):
                st.session_state[K + "upload_data"] = (load_image_dataset(
                    up, options=LoadOptions(image_size=image_size, max_images=max_images(image_size))), None)
        except Exception as exc:  # any unreadable upload is a message, never a traceback
            st.session_state[K + "upload_data"] = (None, exc)
    data, err = st.session_state[K + "upload_data"]
    if err is not None:
        fail(err)
    return data


def show_summary(data) -> None:
    counts = data.counts()
    ok = find_ok_class(data.class_names)
    n = len(data.labels)
    defects = n - counts.get(ok, 0) if ok else n
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Images", f"{n:,}")
    c2.metric("Classes", len(counts))
    c3.metric("Defect share", pct(defects / n) if ok else "n/a")
    c4.metric("Size used", f"{data.image_size}×{data.image_size}×{data.channels}")
    for note in data.notices:
        st.warning(note, icon=":material/info:")
    # Confirm where the labels came from: a wrong split of file names shows up here, before training.
    st.info(describe_layout(data.layout, counts) + ("" if data.layout != "filenames" else
            " Check these classes before training; if one is wrong, rename the files or sort them into folders."),
            icon=":material/label:")
    if data.layout == "filenames":
        st.dataframe(pd.DataFrame({"class (from file names)": list(counts), "images": list(counts.values()),
                                   "example file": [data.names[int(np.flatnonzero(data.labels == i)[0])]
                                                    for i in range(len(counts))]}),
                     hide_index=True, key=K + "layout_table")
    if ok is None:
        st.info(DEFECT_TYPING_NOTE, icon=":material/category:")
    left, right = st.columns([1, 2])
    left.plotly_chart(plot_class_bar(counts, ok), key=K + "class_bar")
    with right:
        st.markdown("**Examples per class**")
        for i, name in enumerate(data.class_names):
            idx = np.flatnonzero(data.labels == i)[:6]
            st.image([thumb(data.images[j]) for j in idx], caption=[name] * len(idx), width=72)


def training_form(data) -> dict | None:
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c1, c2, c3, c4 = st.columns(4)
        # Short names in the box (a long one is cut off in a quarter-width column); the detail on hover.
        backbone = c1.selectbox("Model", list(BACKBONES), format_func=SHORT_BACKBONES.get, key=K + "backbone",
                                help=" · ".join(BACKBONES.values()))
        imbalance = c2.selectbox("Class imbalance", list(IMBALANCE), format_func=IMBALANCE.get, key=K + "imbalance")
        epochs = c3.number_input("Epochs (early stopping may end sooner)", 1, 200, 60, key=K + "epochs")
        augment = c4.checkbox("Augment (flips, rotations, contrast)", True, key=K + "augment")
        c1, c2, c3, c4 = st.columns(4)
        names = list(data.class_names)
        guess = find_ok_class(names)
        ok_choice = c1.selectbox("'No defect' class", names + ["(none: defect types only)"],
                                 index=names.index(guess) if guess else len(names), key=K + "ok_class")
        test_size = c2.slider("Test share", 0.1, 0.4, 0.2, 0.05, key=K + "test_size")
        batch = c3.select_slider("Batch size", [16, 32, 64, 128], value=32, key=K + "batch")
        seed = c4.number_input("Seed", 0, 10_000, 0, key=K + "seed")
        if not st.form_submit_button("Train model", type="primary", icon=":material/model_training:"):
            return None
    return dict(backbone=backbone, imbalance=imbalance, epochs=int(epochs), augment=bool(augment),
                ok_class=ok_choice if ok_choice in names else None, test_size=float(test_size),
                batch_size=int(batch), seed=int(seed))


def train(data, opts) -> None:
    from core.quality.engine import QualityConfig, train_quality

    ok_class = opts.pop("ok_class")
    config = QualityConfig(**opts)
    bar = st.progress(0.0, text="Preparing the images")
    history: dict[str, list[float]] = {}
    slot = st.empty()

    def on_epoch(epoch, epochs, logs):
        for k, v in logs.items():
            history.setdefault(k, []).append(v)
        bar.progress(min(epoch / epochs, 1.0), text=f"Epoch {epoch} of {epochs} — loss {logs.get('loss', 0):.3f}, "
                                                    f"validation accuracy {logs.get('val_accuracy', 0):.3f}")
        slot.plotly_chart(plot_training_history({k: v for k, v in history.items() if "loss" in k}),
                          key=f"{K}live{epoch}")

    run = train_quality(data, config=config, ok_class=ok_class, progress=on_epoch)
    bar.progress(1.0, text=f"Done in {run.timings['train_s']:.1f} s")
    slot.empty()
    for key in [k for k in st.session_state if k.startswith(K + "out:") or k.startswith(K + "exp:")]:
        del st.session_state[key]
    st.session_state[K + "run"] = run
    st.session_state[K + "threshold"] = float(config.threshold)


# The third tab is the reject decision when a class means 'good part', the error analysis when
# every class is a defect type; its label follows the run on screen.
shown = st.session_state.get(K + "run")
third = "Decision & costs" if shown is None or shown.ok_class is not None else "Errors by class"
tabs = st.tabs(["Data & training", "Performance", third, "Heatmaps", "Export"])

with tabs[0]:
    size = st.selectbox("Input size (images are resized to a square)", list(SIZES), format_func=SIZES.get,
                        key=K + "image_size",
                        help="Auto picks the largest of native, 128, 96 and 64 pixels that keeps training within "
                             "a few minutes on 2 CPU cores; 64 is fast, 128 keeps finer texture, native the images' "
                             "own size.")
    try:
        data = get_data(size)
    except DataValidationError as exc:
        fail(exc)
        data = None
    if data is not None:
        show_summary(data)
        opts = training_form(data)
        if opts is not None:
            try:
                train(data, opts)
            except Exception as exc:  # shown as a message; the previous run stays available
                fail(exc)
            new = st.session_state.get(K + "run")
            if new is not None and (new.ok_class is not None) != (third == "Decision & costs"):
                st.rerun()  # redraw the tab bar for the new framing (decision vs. defect typing)
    run = st.session_state.get(K + "run")
    if run is not None:
        st.success(f"Model trained ({run.backbone_used}, {run.timings['epochs_run']} epochs, "
                   f"{run.timings['train_s']:.1f} s on {run.device}); tested on {len(run.test.labels)} held-out "
                   "images. Open the other tabs for results.", icon=":material/check_circle:")
        for note in run.notices:
            st.warning(note, icon=":material/info:")
        st.plotly_chart(plot_training_history(run.history), key=K + "history")

if run is None:
    for tab in tabs[1:]:
        with tab:
            st.info("Train a model in the first tab to see this view.")
    st.stop()

m = run.metrics
has_ok = run.ok_class is not None
if has_ok:
    y_def = get_defect_labels(run.test.labels, run.class_names, run.ok_class)
    p_def = get_defect_scores(run.test_proba, run.class_names, run.ok_class)

with tabs[1]:
    if not has_ok:
        st.info(DEFECT_TYPING_NOTE, icon=":material/category:")
    c = st.columns(5)
    c[0].metric("Accuracy", pct(m["accuracy"]))
    c[1].metric("Macro recall", pct(m["macro_recall"]))
    c[2].metric("Macro F1", pct(m["macro_f1"]))
    c[3].metric("ROC-AUC (one-vs-rest)", f"{m['roc_auc']:.3f}")
    if has_ok:
        c[4].metric("Defect recall at 0.5", pct(m["defect_recall"]),
                    help=f"Escape rate {pct(m['escape_rate'])}: defective parts the model would pass.")
    else:
        weakest = min(m["per_class"], key=lambda name: m["per_class"][name]["recall"])
        c[4].metric("Lowest class recall", pct(m["per_class"][weakest]["recall"]), help=f"class {weakest}")
    left, right = st.columns(2)
    left.plotly_chart(plot_multiclass_confusion(m["confusion"], run.class_names), key=K + "cm")
    right.plotly_chart(plot_per_class_metrics(m["per_class"]), key=K + "per_class")
    table = pd.DataFrame(m["per_class"]).T.reset_index(names="class")
    st.dataframe(table.round(3), hide_index=True, width="stretch")

with tabs[2]:
    if not has_ok:
        st.markdown("**Per-class precision and recall**: of the images predicted as a class, the share that "
                    "are; of the images of a class, the share found.")
        st.dataframe(pd.DataFrame(m["per_class"]).T.reset_index(names="class")[
            ["class", "precision", "recall", "f1", "support"]].round(3), hide_index=True, key=K + "typing_table")
        st.plotly_chart(plot_multiclass_confusion(m["confusion"], run.class_names), key=K + "typing_cm")
        wrong = get_misclassified(run.test.labels, run.test_proba, run.class_names, limit=24)
        n_wrong = int(np.sum(run.test_proba.argmax(axis=1) != run.test.labels))
        st.markdown(f"**Misclassified test images: {n_wrong} of {len(run.test.labels)}**"
                    + (" — most confidently wrong first" if n_wrong else ""))
        if len(wrong):
            st.image([thumb(run.test.images[int(i)]) for i in wrong["position"]], width=88,
                     caption=[f"{a} → {p} ({c:.2f})" for a, p, c in
                              zip(wrong["actual"], wrong["predicted"], wrong["confidence"])])
        else:
            st.caption("Every test image got its class.")
    else:
        c1, c2, c3 = st.columns(3)
        cost_escape = c1.number_input(money_label("Cost of an escaped defect"), 0.0, 1e7, 50.0, step=5.0,
                                      key=K + "cost_escape", format="%.2f")
        cost_fr = c2.number_input(money_label("Cost of a false reject (good part scrapped)"), 0.0, 1e7, 2.0,
                                  step=0.5, key=K + "cost_fr", format="%.2f")
        threshold = c3.slider("Reject when P(defect) ≥", 0.0, 1.0, key=K + "threshold", step=0.01)
        try:
            cost = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_fr,
                                         threshold=threshold)
        except DataValidationError as exc:
            fail(exc)
            st.stop()
        dm = compute_defect_metrics(y_def, p_def, threshold)
        c = st.columns(5)
        c[0].metric("Defect recall", pct(dm["defect_recall"]))
        c[1].metric("Escape rate", pct(dm["escape_rate"]), help=f"{dm['escapes']} defective test parts pass")
        c[2].metric("Reject rate", pct(dm["reject_rate"]), help=f"{dm['false_rejects']} good parts rejected")
        c[3].metric("Cost per part", money(cost.cost_at_threshold, cents=True))
        c[4].metric("Optimal threshold", f"{cost.best_threshold:.2f}",
                    help=f"cost per part {money(cost.best_cost, cents=True)}")

        def use_best():
            st.session_state[K + "threshold"] = round(cost.best_threshold, 2)

        st.button("Use the optimal threshold", on_click=use_best, key=K + "use_best")
        st.plotly_chart(plot_inspection_cost(cost.curve, threshold=threshold, best=cost.best_threshold),
                        key=K + "cost_curve")
        gallery = get_error_gallery(y_def, p_def, threshold, limit=12)
        for title, key in (("False rejects (good parts the model rejects)", "false_rejects"),
                           ("Escapes (defects the model passes)", "escapes")):
            st.markdown(f"**{title}: {int(dm[key])}**" + (" — most confident first" if dm[key] else ""))
            idx = gallery[key]
            if len(idx):
                st.image([thumb(run.test.images[i]) for i in idx], width=88,
                         caption=[f"{run.class_names[run.test.labels[i]]} · P(defect) {p_def[i]:.2f}" for i in idx])
            else:
                st.caption("None at this threshold.")


def show_explanation(exp, key: str) -> None:
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(plot_image_heatmap(exp.image, title="Image"), key=key + "img")
    c2.plotly_chart(plot_image_heatmap(exp.image, exp.gradcam.maps[0], title=f"Grad-CAM · {exp.gradcam.target}"),
                    key=key + "cam")
    c3.plotly_chart(plot_image_heatmap(exp.image, exp.shap.maps[0], signed=True,
                                       title=f"SHAP · {exp.shap.target}"), key=key + "shap")
    probs = ", ".join(f"{c} {p:.2f}" for c, p in sorted(exp.proba.items(), key=lambda kv: -kv[1]))
    st.caption(f"Predicted **{exp.predicted}** ({probs}). Grad-CAM: where the last convolution layer's evidence "
               "sits. SHAP: each pixel's push on the score, red raising it, blue lowering it.")


with tabs[3]:
    from core.quality.explain import explain_image

    threshold = float(st.session_state.get(K + "threshold", 0.5))
    st.subheader("A test image")
    labels = [f"#{i} · {run.test.names[i]} · actual {run.class_names[run.test.labels[i]]}"
              + (f" · P(defect) {p_def[i]:.2f}" if has_ok else "") for i in range(len(run.test.labels))]
    order = np.argsort(-p_def) if has_ok else np.arange(len(labels))
    pick = st.selectbox("Image (most suspicious first)", order, format_func=lambda i: labels[i], key=K + "pick")
    targets = (["defect"] if has_ok else []) + list(run.class_names)
    target = st.selectbox("Explain", targets, format_func=lambda t: "P(defect)" if t == "defect" else f"P({t})",
                          key=K + "target")
    exp_key = f"{K}exp:{pick}:{target}"
    if st.button("Compute heatmaps", key=K + "explain_btn", icon=":material/visibility:"):
        try:
            with st.spinner("Grad-CAM and SHAP"):
                st.session_state[exp_key] = explain_image(run, run.test.images[int(pick)], threshold=threshold,
                                                          target=target)
        except Exception as exc:  # shown as a message, never a traceback
            fail(exc)
    if exp_key in st.session_state:
        exp = st.session_state[exp_key]
        if exp.verdict:
            st.markdown(f"Verdict at threshold {threshold:.2f}: **{exp.verdict.upper()}** "
                        f"(P(defect) {exp.p_defect:.2f})")
        show_explanation(exp, K + "test_")

    st.subheader("A new image")
    one = st.file_uploader("One product image", type=IMAGE_TYPES, key=K + "single")
    if one is not None:
        try:
            x = load_single_image(one, image_size=run.image_size, channels=run.channels)
            key = f"{K}exp:upload:{one.file_id}:{threshold}"
            if key not in st.session_state:
                with st.spinner("Scoring and explaining the image"):
                    st.session_state[key] = explain_image(run, x[0], threshold=threshold)
            exp = st.session_state[key]
            if exp.verdict:
                (st.error if exp.verdict == "reject" else st.success)(
                    f"Verdict: {exp.verdict.upper()} — P(defect) {exp.p_defect:.2f} at threshold {threshold:.2f}; "
                    f"most likely class: {exp.predicted}.")
            else:
                st.info(f"Most likely class: {exp.predicted}.")
            show_explanation(exp, K + "upload_")
        except Exception as exc:  # a bad image is a message; the trained model is kept
            fail(exc)

with tabs[4]:
    from core.quality.export import get_model_zip, get_test_predictions

    threshold = float(st.session_state.get(K + "threshold", 0.5))
    preds = get_test_predictions(run, threshold)
    st.dataframe(preds.head(50), hide_index=True, width="stretch")
    st.download_button("Download test predictions (CSV)", preds.to_csv(index=False).encode(),
                       "quality_predictions.csv", "text/csv", key=K + "dl_csv", on_click="ignore")
    zip_key = f"{K}out:zip:{threshold}"
    if st.button("Prepare model download", key=K + "prep_zip"):
        with st.spinner("Saving the model"):
            st.session_state[zip_key] = get_model_zip(run, threshold=threshold, costs={
                "escape": st.session_state.get(K + "cost_escape"), "false_reject": st.session_state.get(K + "cost_fr")})
    if zip_key in st.session_state:
        st.download_button("Download model (zip: Keras file + JSON settings + predictions)",
                           st.session_state[zip_key], "quality_model.zip", "application/zip", key=K + "dl_zip",
                           on_click="ignore")
        st.caption("Score a folder or zip headless: unzip, then `python -m core score --model DIR --data IMAGES "
                   "--out scored.csv`.")

    def save_quality(name, root):
        from core.quality.export import save_quality_run
        from core.workspace.summary import build_quality_summary

        ce = float(st.session_state.get(K + "cost_escape") or 50.0)
        cf = float(st.session_state.get(K + "cost_fr") or 2.0)
        # Fingerprint the image set the model was trained on (the one still loaded, if it matches).
        same = data is not None and tuple(data.class_names) == tuple(run.class_names) and \
            data.image_size == run.image_size
        summary = build_quality_summary(run, name=name, threshold=threshold, cost_escape=ce, cost_false_reject=cf,
                                        data=data if same else None, dataset_name=dataset_name)
        return save_quality_run(root, run, threshold=threshold, costs={"escape": ce, "false_reject": cf},
                                extra_metadata=summary)

    upload = st.session_state.get(K + "upload")
    dataset_name = (SAMPLE_DIR.name if st.session_state.get(K + "source", "Bundled").startswith("Bundled")
                    else getattr(upload, "name", None))
    save_to_workspace("quality", run, save_quality, dataset_name=dataset_name)
