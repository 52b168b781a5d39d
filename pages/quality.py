"""Quality inspection: labelled product images -> CNN -> reject threshold by cost -> heatmaps.
The page's flow; each step is drawn by ui/quality, the work is in core/quality."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError

from ui.common import ensure_router, guarded_view
from ui.jobs import job_panel
from ui.origin import show_origin
from ui.quality.base import K, SAMPLE_DIR, fail
from ui.quality.data import get_data, pick_image_size, show_summary
from ui.quality.explain import show_heatmaps
from ui.quality.export import show_export
from ui.quality.results import show_decision, show_errors_by_class, show_performance, show_quality_trust
from ui.quality.train import collect, show_trained, train, training_form

ensure_router()

st.title(":material/center_focus_strong: Quality inspection")
st.caption("Which parts are defective, and why does the model think so? Train a CNN on labelled product "
           "images, set the reject threshold by the cost of escapes versus false rejects, and see where in "
           "each image the model looked (Grad-CAM and SHAP).")

# The third tab is the reject decision when a class means 'good part', the error analysis when
# every class is a defect type; its label follows the run on screen.
shown = st.session_state.get(K + "run")
third = "Decision & costs" if shown is None or shown.ok_class is not None else "Errors by class"
origin_slot = st.container()  # which images the results belong to
trust_slot = st.container()  # warnings on the trained model's figures, filled once the tabs have run
tabs = st.tabs(["Data & training", "Performance", third, "Heatmaps", "Export"])

# ---------------------------------------------------------------- images, training
with tabs[0]:
    size = pick_image_size()
    try:
        data = get_data(size)
    except DataValidationError as exc:
        fail(exc)
        data = None
    # The images on the page: the sample, or the zip uploaded (its key even when it could not be read).
    up = st.session_state.get(K + "upload")
    uploaded = str(st.session_state.get(K + "source", "")).startswith("Upload")
    data_key = "sample" if not uploaded else (f"upload:{up.file_id}" if up is not None else "")
    if data is not None:
        show_summary(data)
        opts = training_form(data)
        if opts is not None:
            try:  # settings found wrong here are refused before anything is submitted
                train(data, opts, data_key=data_key, data_name=up.name if uploaded else SAMPLE_DIR.name)
            except Exception as exc:  # shown as a message; the previous run stays available
                fail(exc)
    # The training job of this browser: its progress while it runs, its result once (kept by collect).
    job_panel(K, "quality", collect)
    new = st.session_state.get(K + "run")
    if new is not None and new is not shown and (new.ok_class is not None) != (third == "Decision & costs"):
        st.rerun()  # redraw the tab bar for the new framing (decision vs. defect typing)
    run = st.session_state.get(K + "run")
    if run is not None:
        show_trained(run)

with origin_slot:
    matches = show_origin(K, run, key=data_key if data is not None else None)
if run is None:
    for tab in tabs[1:]:
        with tab:
            st.info("Train a model in the first tab to see this view.")
    st.stop()

# ---------------------------------------------------------------- results of the trained model
# Each view is guarded: an error in one is a message in its place, and the tabs after it still run, so a
# click on the Export tab's buttons ("Save to workspace") is never lost with a traceback drawn above it.
with tabs[1], guarded_view("The Performance tab"):
    show_performance(run)
with tabs[2], guarded_view(f"The {third} tab"):
    if run.ok_class is None:
        show_errors_by_class(run)
    else:
        show_decision(run)
with tabs[3], guarded_view("The Heatmaps tab"):
    show_heatmaps(run)
with tabs[4], guarded_view("The Export tab"):
    show_export(run, data if matches else None)  # the images loaded, when they are the ones trained on
with guarded_view("The warnings on the model's figures"):
    show_quality_trust(run, trust_slot)
