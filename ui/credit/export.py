"""Credit page, last tab: the scored file, the model download and saving the run to the workspace."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.credit.scoring import build_scored_frame, compute_reasons_for_rows, decide
from core.data.safety import safe_csv_bytes

from ui.credit.base import K, reason_policy
from ui.origin import trained_name
from ui.workspace import save_to_workspace


def show_export(run, shap, threshold: float, scorecard, loss: float, margin: float) -> None:
    p = run.p_test
    st.subheader("Downloads")
    psi_new = st.session_state.get(K + "psi_new")
    sources = ["Test applicants"] + (["File uploaded in 'Drift (PSI)'"] if psi_new is not None else [])
    which = st.radio("Rows to score", sources, horizontal=True, key=K + "export_src")
    policy = reason_policy(run)  # possible proxies left out of the reasons, or marked (Reason codes tab)
    signature = (which, threshold, scorecard, repr(policy))
    if st.button("Prepare scored CSV (with reason codes for declines)", key=K + "prep_csv"):
        frame, probs = (run.test_df, p) if which == sources[0] else psi_new
        with st.spinner("Explaining declined applicants"):
            reasons = compute_reasons_for_rows(frame, np.flatnonzero(decide(probs, threshold) == "decline"),
                                               explain_fn=run.explain_fn, references=run.references, **policy)
        st.session_state[K + "out:csv"] = (signature, safe_csv_bytes(build_scored_frame(
            frame, probs, threshold=threshold, config=scorecard, reasons=reasons)))
    prepared = st.session_state.get(K + "out:csv")
    if prepared is not None and prepared[0] == signature:
        st.download_button("Download scored CSV", prepared[1], "credit_scored.csv", "text/csv", key=K + "dl_csv",
                           on_click="ignore")
    elif prepared is not None:
        st.caption("The threshold, scorecard, rows or reason codes changed since the file was prepared: prepare it "
                   "again.")
    if st.button("Prepare model download", key=K + "prep_zip"):
        from core.credit.persist import export_model_zip

        st.session_state[K + "out:zip"] = export_model_zip(run, threshold=threshold, scorecard=scorecard)
    if K + "out:zip" in st.session_state:
        st.download_button("Download model (zip: Keras file + JSON settings)", st.session_state[K + "out:zip"],
                           "credit_model.zip", "application/zip", key=K + "dl_zip", on_click="ignore")
        st.caption("Score new files headless with `python -m core score --model credit_model --data FILE --out FILE`.")

    def save_credit(name, root):
        from core.credit import service
        from core.store.registry import new_run_id

        # The page's own decision (the threshold and costs the analyst set), saved by the service as every door.
        searched = st.session_state.get(K + "search")
        outcome = service.CreditOutcome(run, service.decision_at(run, threshold, loss_default=loss, margin_good=margin),
                                        shap=shap, search=searched[1] if searched is not None and searched[0] is run
                                        else None)
        return service.save(outcome, root / new_run_id("credit"), name=name, dataset_name=dataset_name,
                            scorecard=scorecard, proxies_out=bool(st.session_state.get(K + "proxy_out", True)))

    dataset_name = trained_name(K, run)  # the data the model was trained on, whatever the page shows now
    save_to_workspace("credit", run, save_credit, dataset_name=dataset_name)
