"""Fraud page, last tabs: scoring a file of newer transactions, the downloads and saving the run."""

from __future__ import annotations

import streamlit as st

from core.errors import DataValidationError
from core.fraud.alerts import get_reasons
from core.fraud.columns import KEY_ROLE
from core.data.safety import safe_csv_bytes

from ui.common import get_currency, plain_columns
from ui.fraud.base import K, fail
from ui.privacy import get_key_secret, session_key_rule
from ui.upload import FORMATS, TABLE_TYPES, get_picks, read_picked, show_picks
from ui.origin import trained_name
from ui.workspace import save_to_workspace


def show_score_new_file(run, ex) -> None:
    """Score transactions that arrived after training, with reasons for the riskiest."""
    from core.fraud.pipeline import score_new_file

    st.markdown("Score transactions that arrived after training. Their features use the training log as "
                "history, so they should follow it in time and use the same column names.")
    new = st.file_uploader(f"New transactions ({FORMATS})", type=TABLE_TYPES, key=K + "new")
    picks = get_picks(K + "new.", new) if new is not None else {}  # a zip's table, a workbook's sheet
    if new is not None and st.session_state.get(K + "scored_id") != (new.file_id, tuple(picks.values())):
        try:
            # The run's key columns (a card number) get the same keyed pseudonyms as in training.
            keys = session_key_rule(columns=[k["column"] for k in run.keyed], role=KEY_ROLE) if run.keyed else None
            new_df = read_picked(new, K + "new.", max_rows=None, keys=keys).df
            scored_new, X_new = score_new_file(run, new_df)
            top = min(50, len(scored_new))
            res_new = run.tabular.explain(X_new.iloc[:top])
            reasons = get_reasons(res_new, ex.typical, k=3, currency=get_currency())
            scored_new.insert(1, "top_reasons", reasons + [""] * (len(scored_new) - top))
            st.session_state[K + "scored"] = scored_new
        except DataValidationError as exc:
            st.session_state[K + "scored"] = exc
        st.session_state[K + "scored_id"] = (new.file_id, tuple(picks.values()))
    show_picks(K + "new.", new)
    out = st.session_state.get(K + "scored")
    if isinstance(out, Exception):
        fail(out)
    elif out is not None:
        thr = st.session_state.get(K + "review_t", 0.5)
        st.caption(f"{int((out['risk'] >= thr).sum()):,} of {len(out):,} transactions at or above the review "
                   f"threshold {thr:.3f}; reasons for the 50 riskiest. The CSV keeps the file's and the "
                   "model's machine column names (risk, top_reasons); hover a header to see it.")
        st.dataframe(out, hide_index=True, width="stretch", column_config=plain_columns(out.columns, risk=("risk",)))
        st.download_button("Download scored file (CSV)", safe_csv_bytes(out), "fraud_scored.csv",
                           "text/csv", icon=":material/download:", on_click="ignore")


def page_thresholds() -> tuple[float, float]:
    """(review, block) of the page's alert policy, by the rule every door decides with
    (``core.fraud.service.decision_thresholds``): a block line below the review line is refused."""
    from core.fraud.service import decision_thresholds

    block = st.session_state.get(K + "block_t")
    return decision_thresholds(None, float(st.session_state.get(K + "review_t", 0.5)),
                               None if block is None else float(block), review_name="the review threshold")


def show_export(run) -> None:
    """Every test-period transaction with its risk and the band the alert policy puts it in."""
    import numpy as np

    from core.serve.decisions import fraud_decisions

    st.subheader("Downloads")
    try:
        review, block = page_thresholds()
    except DataValidationError as exc:
        fail(exc)
        return
    test = run.test
    risk = test[run.score_column].to_numpy()  # the recommended model's risk
    scored = test[["time", "customer", "terminal", "amount", "label"]].assign(
        risk=np.round(risk, 6), band=fraud_decisions(risk, review, block))
    st.caption(f"Every transaction of the test period ({len(scored):,}) with its risk and band at the alert "
               f"policy's lines: review at risk ≥ {review:.3f}, block at ≥ {block:.3f}. The CSV keeps the "
               "machine column names (risk, label, band) for other tools.")
    st.download_button("Download scored test period (CSV)", safe_csv_bytes(scored), "fraud_test_scored.csv",
                       "text/csv", icon=":material/download:", key=K + "dl_test", on_click="ignore")


def save_panel(run, ex) -> None:
    """The "Save to workspace" control, with the page's current alert policy."""
    searched = st.session_state.get(K + "search")

    def save_fraud(name, root):
        from core.fraud import service
        from core.store.registry import new_run_id

        # The page's own alert policy (review and block thresholds, review fee), saved by the service as every door.
        review, block = page_thresholds()
        decision = service.FraudDecision(review, block, float(st.session_state.get(K + "fee", 5.0)), {})
        outcome = service.FraudOutcome(run, decision, explanations=ex,
                                       search=searched[1] if searched is not None and searched[0] is run else None)
        # A run with a keyed pseudonym keeps this session's secret in its folder, to score new files alike.
        return service.save(outcome, root / new_run_id("fraud"), name=name, dataset_name=fraud_dataset,
                            secret=get_key_secret() if run.keyed else None)

    fraud_dataset = trained_name(K, run)  # the log the model was trained on, whatever the page shows now
    save_to_workspace("fraud", run, save_fraud, dataset_name=fraud_dataset)
