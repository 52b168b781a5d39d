"""Credit page, check tabs: fairness by sensitive group (with features that may proxy one) and
population drift (PSI) of a new batch of applications."""

from __future__ import annotations

import streamlit as st

from core.credit import charts as cc
from core.credit.fairness import (FAIRNESS_HEADERS, PROXY_ASSOCIATION, compute_fairness_table, fairness_columns,
                                  find_proxy_features, make_groups, summarise_fairness)
from core.credit.psi import check_population, compute_psi_table
from core.credit.reasons import humanise
from core.errors import DataValidationError
from core.present.glossary import feature_label, metric_help, metric_label
from core.store.scenarios import SCENARIOS

from ui.common import metric_columns
from ui.credit.base import K, fail, plain
from ui.privacy import read_upload
from ui.upload import FORMATS, TABLE_TYPES, get_picks, read_picked, show_picks


def show_fairness(run, threshold: float) -> None:
    y, p = run.y_test, run.p_test
    st.subheader("Fairness by sensitive group")
    candidates = fairness_columns(run)
    if not candidates:
        st.info("No column to group by: mark a sensitive column (sex, age band, ...) in the first tab and retrain.")
    else:
        attr = st.selectbox("Group by", candidates, key=K + "fair_attr", format_func=humanise)
        ft = compute_fairness_table(y, p, make_groups(run.test_df[attr].rename(attr)), threshold=threshold)
        st.dataframe(plain(ft, {"group": humanise(attr), **FAIRNESS_HEADERS},
                           {"default_rate": "{:.1%}", "approval_rate": "{:.1%}", "tpr": "{:.1%}", "fpr": "{:.1%}",
                            "di_ratio": "{:.2f}"}),
                     hide_index=True, width="stretch", key=K + "fair",
                     column_config=metric_columns({k: FAIRNESS_HEADERS[k] for k in ("tpr", "fpr", "di_ratio")}))
        (st.warning if (ft["four_fifths"] == "FLAG").any() else st.success)(summarise_fairness(ft))
        st.caption("TPR: share of actual defaulters declined; FPR: share of good applicants declined; DI ratio: "
                   "approval rate over the best group's (four-fifths rule flags < 0.80).")
        st.plotly_chart(cc.plot_fairness(ft), key=K + "fair_chart")
    found = find_proxy_features(run.train_df, run.setup.features, run.setup.sensitive)
    flagged = found[found["flagged"]]
    if len(flagged):
        kept_out = st.session_state.get(K + "proxy_out", True)
        st.warning("**Features that may stand in for a protected attribute.** Leaving a sensitive column out "
                   "does not stop the model from learning it through these:\n\n"
                   + "\n".join(f"- **{feature_label(r.feature)}** (`{r.feature}`): {r.why}."
                                for r in flagged.itertuples())
                   + ("\n\nThey are kept out of reason codes (the Reason codes tab can mark them instead)." if kept_out
                      else "\n\nReason codes citing them are marked (the Reason codes tab can keep them out)."),
                   icon=":material/visibility:")
    elif run.setup.sensitive:
        st.caption(f"No model feature is strongly associated with {', '.join(run.setup.sensitive)} "
                   f"(Cramér's V below {PROXY_ASSOCIATION}) or named like a place or a person's origin. "
                   f"{metric_label('cramers_v')}: {metric_help('cramers_v')}")
    st.caption("Saved with the run: this table for every sensitive attribute, at the decline threshold, and the "
               "features flagged above; the model card shows them.")


def show_drift(run) -> None:
    st.subheader("Has the applicant population shifted? (PSI)")
    new = st.file_uploader(f"New applications ({FORMATS}; same columns, the outcome is not needed)",
                           type=TABLE_TYPES, key=K + "psi_upload")
    batch = SCENARIOS["credit"].sample_batch_path
    if batch is not None:
        st.toggle(f"Use the sample batch instead ({batch.name}: the month after the sample, with mild drift)",
                  key=K + "psi_sample")
    use_batch = batch is not None and st.session_state.get(K + "psi_sample", False)
    if new is None and not use_batch:
        st.session_state.pop(K + "psi_new", None)
        st.info("Upload a recent batch of applications to compare it with the training population"
                + (", or use the sample batch above." if batch is not None else "."))
    else:
        try:
            # Read and score the file once per upload (and per model); slider reruns reuse the result.
            picks = {} if use_batch else get_picks(K + "psi.", new)  # a zip's table, a workbook's sheet
            cache_key = (batch.name if use_batch else new.file_id, id(run), tuple(picks.values()))
            if st.session_state.get(K + "psi_key") != cache_key:
                st.session_state.pop(K + "psi_new", None)
                st.session_state[K + "psi_key"] = cache_key
                new_df = (read_upload(batch, name=batch.name) if use_batch else read_picked(new, K + "psi.")).df
                check_population(new_df, run.setup.features)
                p_new = run.predict(new_df)
                st.session_state[K + "psi_table"] = compute_psi_table(
                    run.train_df, new_df, numeric=run.setup.numeric, categorical=run.setup.categorical,
                    score_train=run.p_train, score_new=p_new)
                st.session_state[K + "psi_new"] = (new_df, p_new)
            psi = st.session_state[K + "psi_table"]
            # Plain feature names, with the file's own column name beside them.
            named = psi.assign(column=psi["variable"]).assign(
                variable=[("Model score" if k == "score" else humanise(v)) for v, k in zip(psi["variable"], psi["kind"])])
            st.dataframe(plain(named[["variable", "column", *[c for c in psi.columns if c != "variable"]]],
                               {"variable": "Feature", "column": "Column in the file", "psi": "PSI"},
                               {"psi": "{:.3f}"}),
                         hide_index=True, width="stretch", key=K + "psi")
            st.plotly_chart(cc.plot_psi(named), key=K + "psi_chart")
            st.caption("Below 0.1 stable, 0.1–0.25 watch, above 0.25 shifted.")
        except DataValidationError as exc:
            st.session_state[K + "psi_key"] = None
            fail(exc)
        if not use_batch:
            show_picks(K + "psi.", new)
