"""Quality page, export tab: test predictions, the model download and saving the run."""

from __future__ import annotations

import streamlit as st

from core.data.safety import safe_csv_bytes
from ui.common import plain_columns
from ui.quality.base import K
from ui.origin import trained_name
from ui.workspace import save_to_workspace


def show_export(run, data) -> None:
    """Test predictions, the model download and saving the run (``data``: the image set still loaded)."""
    from core.quality.export import get_model_zip, get_test_predictions

    threshold = float(st.session_state.get(K + "threshold", 0.5))
    preds = get_test_predictions(run, threshold)
    shown = preds.head(50)
    st.markdown(f"**Test predictions** (the first {len(shown):,} of {len(preds):,} test images; all in the download)")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=plain_columns(
        shown.columns, decimals={c: 3 for c in shown.columns if c == "confidence" or c.startswith("p_")}))
    st.caption("The CSV keeps the machine column names (file, actual, predicted, p_<class>, verdict) for other "
               "tools; hover a header above to see it.")
    st.download_button("Download test predictions (CSV)", safe_csv_bytes(preds),
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
        from core.quality import service
        from core.store.registry import new_run_id
        from ui.search import kept_baselines, kept_search

        ce = float(st.session_state.get(K + "cost_escape") or service.COST_ESCAPE)
        cf = float(st.session_state.get(K + "cost_fr") or service.COST_FALSE_REJECT)
        # Fingerprint the image set the model was trained on (the one still loaded, if it matches).
        same = data is not None and tuple(data.class_names) == tuple(run.class_names) and \
            data.image_size == run.image_size
        # The page's own decision (the threshold and costs the analyst set), saved by the service as every door.
        outcome = service.QualityOutcome(run, service.QualityDecision(float(threshold), ce, cf),
                                         data=data if same else None, baselines=kept_baselines(K, run) or {},
                                         search=kept_search(K, run))
        return service.save(outcome, root / new_run_id("quality"), name=name, dataset_name=dataset_name)

    dataset_name = trained_name(K, run)  # the images the model was trained on, whatever the page shows now
    save_to_workspace("quality", run, save_quality, dataset_name=dataset_name)
