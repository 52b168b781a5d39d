"""Quality page, heatmaps tab: where in each image the model looked (Grad-CAM and SHAP)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.quality.charts import plot_image_heatmap
from core.quality.data import load_single_image
from core.quality.service import defect_scores

from ui.quality.base import IMAGE_TYPES, K, fail


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
    if not float(exp.gradcam.maps[0].max()) > 0:
        # Rectified Grad-CAM keeps only evidence for the target; with none anywhere the map is empty, which
        # must not read as a chart that failed to draw.
        st.info(f"Grad-CAM finds no region that raises {exp.gradcam.target} in this image: the last convolution "
                "layer's evidence all points the other way, so its map is empty. SHAP on the right still shows each "
                "pixel's push.", icon=":material/info:")


EXPLAIN_TARGET = "core.quality.jobs:explain_page"
TEST_JOB, UPLOAD_JOB = "quality-heatmaps", "quality-heatmaps-upload"  # one job at a time of each


def submit_heatmaps(ns: str, scenario: str, run, image, *, threshold: float, target="auto", key: str):
    """Grad-CAM and SHAP for one image as a job (they need the Keras network, which only a worker loads);
    ``collect_heatmaps`` keeps the explanation under ``key``. ``None`` while the previous one still runs."""
    from ui.jobs import start_job

    return start_job(ns, scenario, EXPLAIN_TARGET, dict(
        model=run.model, image=np.asarray(image), class_names=list(run.class_names), ok_class=run.ok_class,
        background=np.asarray(run.background), seed=int(run.config.seed), threshold=float(threshold), target=target),
        label="heatmap computation", meta={"key": key, "run": id(run)})


def collect_heatmaps(result, job) -> None:
    """A finished heatmap job's explanation into the session, when it belongs to the model on the page."""
    run = st.session_state.get(K + "run")
    if run is not None and job.meta.get("run") == id(run):
        st.session_state[job.meta["key"]] = result


def show_heatmaps(run) -> None:
    """Grad-CAM and SHAP for a test image, or for a new image the user uploads (each computed by a job)."""
    from ui.jobs import job_panel

    has_ok = run.ok_class is not None
    _, p_def = defect_scores(run)
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
            submit_heatmaps(K + "hm.", TEST_JOB, run, run.test.images[int(pick)], threshold=threshold,
                            target=target, key=exp_key)
        except Exception as exc:  # shown as a message, never a traceback
            fail(exc)
    job_panel(K + "hm.", TEST_JOB, collect_heatmaps, noun="heatmap computation")
    if exp_key in st.session_state:
        exp = st.session_state[exp_key]
        if exp.verdict:
            st.markdown(f"Verdict at threshold {threshold:.2f}: **{exp.verdict.upper()}** "
                        f"(P(defect) {exp.p_defect:.2f})")
        show_explanation(exp, K + "test_")

    st.subheader("A new image")
    one = st.file_uploader("One product image", type=IMAGE_TYPES, key=K + "single")
    if one is None:
        return
    try:
        x = load_single_image(one, image_size=run.image_size, channels=run.channels)
        key = f"{K}exp:upload:{one.file_id}:{threshold}"
        if key not in st.session_state:
            from core.jobs.manager import get_job_manager
            from ui.jobs import browser_key

            latest = get_job_manager().latest(browser_key(), UPLOAD_JOB)
            if latest is None or latest.meta.get("key") != key or latest.meta.get("run") != id(run):
                submit_heatmaps(K + "hm_up.", UPLOAD_JOB, run, x[0], threshold=threshold, key=key)
        # The verdict at once (the network on ONNX Runtime); the heatmaps when their job has finished.
        proba = run.predict_proba(x)[0]
        predicted = run.class_names[int(proba.argmax())]
        if run.ok_class is not None:
            p_def = float(1.0 - proba[run.class_names.index(run.ok_class)])
            verdict = "reject" if p_def >= threshold else "pass"
            (st.error if verdict == "reject" else st.success)(
                f"Verdict: {verdict.upper()} — P(defect) {p_def:.2f} at threshold {threshold:.2f}; "
                f"most likely class: {predicted}.")
        else:
            st.info(f"Most likely class: {predicted}.")
        job_panel(K + "hm_up.", UPLOAD_JOB, collect_heatmaps, noun="heatmap computation")
        if key in st.session_state:
            show_explanation(st.session_state[key], K + "upload_")
    except Exception as exc:  # a bad image is a message; the trained model is kept
        fail(exc)
