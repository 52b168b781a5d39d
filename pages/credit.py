"""Credit scoring: from loan applications to a trained network, a profit-optimal approval line,
scorecard grades, reason codes, fairness, drift and a scored file. Layout only; the work is in core."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from core.charts import (
    plot_calibration, plot_class_counts, plot_confusion, plot_pr, plot_roc, plot_score_distribution,
    plot_shap_bar, plot_shap_beeswarm, plot_shap_waterfall, plot_training_history,
)
from core.credit import charts as cc
from core.credit.fairness import (PROXY_ASSOCIATION, compute_fairness_table, find_proxy_features, make_groups,
                                  summarise_fairness)
from core.credit.pipeline import CREDIT_DEFAULTS, FEATURE_ROLES, SAMPLE_PATH, find_id_column, guess_target, train_credit
from core.credit.profit import compute_decision_kpis, compute_profit_curve, find_optimal_threshold
from core.credit.psi import check_population, compute_psi_table
from core.credit.reasons import get_reason_codes, humanise
from core.credit.scorecard import (
    ScorecardConfig, compute_grade_table, compute_score_points, parse_grade_cuts, threshold_to_points,
)
from core.credit.scoring import build_scored_frame, compute_reasons_for_rows, decide, score_applicant
from core.datasets import ROLES, check_outcome_column, detect_sensitive, guess_positive, infer_roles, read_table
from core.errors import DataValidationError
from core.imbalance import IMBALANCE_METHODS
from core.metrics import compute_binary_metrics, compute_calibration, compute_confusion, compute_pr, compute_roc
from core.glossary import MODELS, feature_label, metric_help, metric_label, model_label
from core.scenarios import SCENARIOS
from core.training import describe_epochs, summarize_epochs
from core.verdict import compare_binary

from ui.common import ensure_router, get_currency, get_verdicts, money, money_label, show_verdict
from ui.search import SearchLive, search_options, show_search
from ui.workspace import save_to_workspace

ensure_router()

K = "credit."  # namespace of this page's session state
UPLOAD_TYPES = ["csv", "txt", "tsv", "gz", "parquet"]
SHAP_ROWS = 300
MAX_REASON_ROWS = 20_000  # reason codes on the page; the CLI explains every declined row

st.title(":material/credit_score: Credit scoring")
st.caption("Who will repay, and where should the approval line be? Train a Keras network against "
           "scikit-learn baselines, then set the decline threshold by profit, read scorecard grades, "
           "explain declines and check fairness and drift.")


@st.cache_resource(show_spinner=False)
def load_sample() -> pd.DataFrame:
    """The bundled sample, shared by all sessions: never modified in place."""
    return read_table(SAMPLE_PATH).df


def fail(exc: Exception) -> None:
    st.error(str(exc) if isinstance(exc, DataValidationError) else f"Something went wrong: {exc}",
             icon=":material/error:")


class timed:
    """Server time of one section of this rerun, kept in session state for the benchmark."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        st.session_state.setdefault(K + "section_seconds", {})[self.name] = time.perf_counter() - self.t0


def pct(v: float) -> str:
    return f"{v:.1%}"


# ---------------------------------------------------------------- data
def get_data() -> tuple[pd.DataFrame | None, str, list[str]]:
    choice = st.radio("Data", ["Bundled sample (5,000 applications)", "Upload my file"], horizontal=True,
                      key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample", []
    up = st.file_uploader("Loan applications (CSV or Parquet, one row per application, with an outcome "
                          "column)", type=UPLOAD_TYPES, key=K + "upload")
    if up is None:
        st.info("Upload a file to work on your own data, or switch back to the bundled sample.")
        return None, "", []
    if st.session_state.get(K + "upload_id") != up.file_id:
        st.session_state[K + "upload_id"] = up.file_id
        try:
            table = read_table(up, name=up.name)
            st.session_state[K + "upload_data"] = (table.df, table.notices, None)
        except DataValidationError as exc:
            st.session_state[K + "upload_data"] = (None, [], exc)
    df, notices, err = st.session_state[K + "upload_data"]
    if err is not None:
        fail(err)
        return None, "", []
    return df, f"upload:{up.file_id}", notices


def schema_editor(df: pd.DataFrame, data_key: str) -> tuple[str, object, dict, list[str]] | None:
    if st.session_state.get(K + "schema_key") != data_key:
        st.session_state[K + "schema_key"] = data_key
        st.session_state[K + "roles"] = infer_roles(df)
    roles = st.session_state[K + "roles"]
    cols = list(df.columns)
    target_guess = guess_target(cols) or cols[-1]
    c1, c2 = st.columns(2)
    target = c1.selectbox("Outcome column (target)", cols, index=cols.index(target_guess), key=K + f"target:{data_key}")
    try:
        values = check_outcome_column(df, target)
    except DataValidationError as exc:
        fail(exc)
        return None
    if len(values) < 2:
        fail(DataValidationError(f"Target column '{target}' has only one value ({values[:1]}); a model needs "
                                 "both outcomes. Pick another column or upload data with defaults and repayments."))
        return None
    guess = guess_positive(values)
    positive = c2.selectbox("Value that means default (positive class)", values, index=values.index(guess),
                            key=K + f"positive:{data_key}:{target}", format_func=str)
    # Columns the analyst chose to use as features despite a protected-looking name ("Use as a
    # feature" in the callout below); per upload, so a new file starts from the safe default.
    released = st.session_state.setdefault(K + f"released:{data_key}", [])
    sensitive_default = set(detect_sensitive([c for c in cols if c != target])) - set(released)
    table = pd.DataFrame({
        "column": cols,
        "role": [roles.get(c, "categorical") for c in cols],
        "sensitive": [c in sensitive_default for c in cols],
        "missing": [f"{df[c].isna().mean():.1%}" for c in cols],
        "example": [str(df[c].dropna().iloc[0]) if df[c].notna().any() else "" for c in cols],
    })
    st.markdown("**Columns** — check the guessed roles; sensitive columns are kept out of the model and used "
                "for the fairness check only. Identifier, date and text columns are not used as features.")
    edited = st.data_editor(
        table, key=K + f"schema:{data_key}" + "".join(f":{c}" for c in released), hide_index=True, width="stretch", disabled=["column", "missing", "example"],
        column_config={"role": st.column_config.SelectboxColumn("role", options=list(ROLES), required=True),
                       "sensitive": st.column_config.CheckboxColumn("sensitive")},
    )
    new_roles = dict(zip(edited["column"], edited["role"]))
    sensitive = [c for c, s in zip(edited["column"], edited["sensitive"]) if s and c != target]
    sensitive_callout(sensitive, data_key)
    usable = [c for c, r in new_roles.items() if r in FEATURE_ROLES and c != target and c not in sensitive]
    if not usable:
        fail(DataValidationError(
            f"No column is left for the model to learn from: besides the outcome '{target}', every column is "
            "an identifier, a date, free text or marked sensitive. Fix: set the role of at least one column to "
            "numeric or categorical in the table above (or untick 'sensitive'), or upload a file with "
            "applicant attributes such as income, loan amount or debt ratio."))
        return None
    return target, positive, new_roles, sensitive


def sensitive_callout(sensitive: list[str], data_key: str) -> None:
    """Say which columns are kept out of the model, and offer one click to use each as a feature."""
    if not sensitive:
        return
    names = ", ".join(f"`{c}`" for c in sensitive)
    with st.container(border=True):
        st.markdown(f":material/shield_person: **Kept out of the model: {names}.** "
                    + ("It looks like a protected attribute, so the model does not use it; it is used only "
                       "for the fairness check. Using it may raise accuracy, but lending decisions based on "
                       "it can be unlawful discrimination." if len(sensitive) == 1 else
                       "They look like protected attributes, so the model does not use them; they are used "
                       "only for the fairness check. Using one may raise accuracy, but lending decisions based "
                       "on it can be unlawful discrimination."))
        buttons = st.columns(min(len(sensitive), 4))
        for i, col in enumerate(sensitive):
            if buttons[i % len(buttons)].button(f"Use {col} as a feature", key=K + f"release:{data_key}:{col}",
                                                icon=":material/add_circle:"):
                st.session_state[K + f"released:{data_key}"].append(col)
                st.rerun()


def training_form() -> dict | None:
    d = CREDIT_DEFAULTS
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c1, c2, c3, c4 = st.columns(4)
        methods = list(IMBALANCE_METHODS)
        imbalance = c1.selectbox("Imbalance handling", methods, index=methods.index(d["imbalance"]),
                                 format_func=lambda m: IMBALANCE_METHODS[m].split(":")[0],
                                 help="'None' keeps the network's probabilities calibrated, which scorecard "
                                      "points and the profit curve rely on.")
        width = c2.number_input("Width (units in first layer)", 4, 1024, d["width"], step=8)
        depth = c3.number_input("Depth (hidden layers)", 1, 6, d["depth"])
        dropout = c4.slider("Dropout", 0.0, 0.7, float(d["dropout"]), 0.05)
        c1, c2, c3, c4 = st.columns(4)
        # "auto" scales L2 and the batch with the training rows (core.credit.pipeline.credit_l2,
        # core.tabular.auto_batch_size): fixed values suit a few thousand rows, not 150,000.
        l2 = c1.select_slider("L2 penalty", ["auto", 0.0, 1e-5, 1e-4, 1e-3, 1e-2], value="auto")
        lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=d["learning_rate"])
        epochs = c3.number_input("Epochs (early stopping may end sooner)", 1, 500, d["epochs"])
        batch = c4.select_slider("Batch size", ["auto", 32, 64, 128, 256, 512, 1024, 2048], value="auto")
        c1, c2, c3, c4 = st.columns(4)
        seed = c1.number_input("Seed", 0, 10_000, 0)
        test_size = c2.slider("Test share", 0.1, 0.4, 0.25, 0.05)
        max_rows = c3.number_input("Use at most this many rows (0 = all)", 0, 1_000_000, 0, step=500)
        shap_rows = c4.number_input("Rows explained with SHAP", 50, 1000, SHAP_ROWS, step=50)
        search = search_options(K)
        if not st.form_submit_button("Train model", type="primary", icon=":material/model_training:"):
            return None
    return dict(search=search, imbalance=imbalance, width=int(width), depth=int(depth), dropout=float(dropout),
                l2=None if l2 == "auto" else float(l2), learning_rate=float(lr), epochs=int(epochs),
                batch_size=None if batch == "auto" else int(batch), seed=int(seed),
                test_size=float(test_size), max_rows=int(max_rows), shap_rows=int(shap_rows))


def train(df, target, positive, roles, sensitive, opts) -> None:
    from core.credit.pipeline import default_credit_config

    if opts["max_rows"] and len(df) > opts["max_rows"]:
        df = df.sample(n=opts["max_rows"], random_state=opts["seed"]).reset_index(drop=True)
        st.info(f"Training on a random sample of {opts['max_rows']:,} rows (seeded).")
    config = default_credit_config(**{k: opts[k] for k in ("imbalance", "width", "depth", "dropout", "l2",
                                                           "learning_rate", "epochs", "batch_size", "seed")})
    bar = st.progress(0.0, text="Preparing the data")
    status = st.empty()
    curve_slot = st.empty()
    history: dict[str, list[float]] = {}

    def on_epoch(epoch, epochs, logs):
        for k, v in logs.items():
            if "loss" in k:
                history.setdefault(k, []).append(v)
        bar.progress(min(epoch / epochs, 1.0), text=f"Epoch {epoch} of {epochs} — loss {logs.get('loss', 0):.4f}, "
                                                    f"validation loss {logs.get('val_loss', 0):.4f}")
        curve_slot.plotly_chart(plot_training_history(history), key=f"{K}live{epoch}")

    t0 = time.perf_counter()
    search = None
    if opts["search"]["enabled"]:
        from core.search.scenarios import search_credit

        live = SearchLive()
        search = search_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive,
                               config=config, test_size=opts["test_size"], budget=opts["search"]["budget"],
                               ensemble=opts["search"]["ensemble"], progress=live)
        live.clear()
        config = search.config
    run = train_credit(df, target=target, positive=positive, roles=roles, sensitive=sensitive, config=config,
                       test_size=opts["test_size"], progress=on_epoch, status=lambda m: status.caption(m))
    status.caption("Explaining the test rows with SHAP")
    t1 = time.perf_counter()
    shap = run.explain(run.test_df.iloc[: opts["shap_rows"]])
    if search is not None:
        from core.search.tabular import ensemble_report

        st.session_state[K + "search"] = (run, search, *ensemble_report(
            run.tabular, search.ensemble, run.test_df.iloc[: opts["shap_rows"]], seed=opts["seed"]))
    run.timings["explain"] = time.perf_counter() - t1
    run.timings["total"] = time.perf_counter() - t0
    bar.progress(1.0, text=f"Done in {run.timings['total']:.1f} s")
    curve_slot.empty()
    status.empty()
    best = find_optimal_threshold(compute_profit_curve(run.y_test, run.p_test, loss_default=st.session_state[K + "loss"],
                                                       margin_good=st.session_state[K + "margin"]))
    for key in list(st.session_state):
        if key.startswith(K + "out:"):
            del st.session_state[key]
    st.session_state[K + "run"] = run
    st.session_state[K + "shap"] = shap
    st.session_state[K + "threshold"] = round(best["threshold"], 3)


st.session_state.setdefault(K + "loss", 5000.0)
st.session_state.setdefault(K + "margin", 1000.0)

tabs = st.tabs(["Data & training", "Performance", "Decision & profit", "Scorecard", "Explanations",
                "Reason codes", "Fairness", "Drift (PSI)", "What-if", "Export"])

with tabs[0], timed("data"):
    df, data_key, notices = get_data()
    if df is not None:
        st.caption(f"{len(df):,} rows × {df.shape[1]} columns")
        for n in notices:
            st.info(n)
        st.dataframe(df.head(8), width="stretch", hide_index=True)
        schema = schema_editor(df, data_key)
        if schema is not None:
            opts = training_form()
            if opts is not None:
                try:
                    train(df, *schema, opts)
                except DataValidationError as exc:
                    fail(exc)
    run = st.session_state.get(K + "run")
    if run is not None:
        rb = run.tabular.rebalance_info
        st.success(f"Model trained: {len(run.train_df):,} training and {len(run.test_df):,} test applicants, "
                   f"{len(run.setup.features)} features, on {run.tabular.device or 'CPU'}. "
                   f"{describe_epochs(summarize_epochs(run.tabular.history, run.tabular.config.epochs))} "
                   "Open the other tabs for results.", icon=":material/check_circle:")
        if run.setup.sensitive:
            st.info(f"Kept out of this model: {', '.join(f'`{c}`' for c in run.setup.sensitive)} (sensitive "
                    "attribute, used only for the fairness check). To use one as a feature, press its "
                    "**Use … as a feature** button above (or untick it in the column table) and train again.",
                    icon=":material/shield_person:")
        for n in [*run.setup.notices, *run.tabular.notices]:
            if not n.startswith("Sensitive attribute(s)"):
                st.caption(n)
        searched = st.session_state.get(K + "search")
        if searched is not None and searched[0] is run:
            show_search(searched[1], key=K + "search", ensemble_test=searched[2], ensemble_shap=searched[3])
        c1, c2 = st.columns(2)
        c1.plotly_chart(plot_class_counts({f"{k} ({'default' if k else 'repaid'})": v for k, v in rb.counts_before.items()},
                                          {f"{k} ({'default' if k else 'repaid'})": v for k, v in rb.counts_after.items()}),
                        key=K + "counts")
        c2.plotly_chart(plot_training_history(run.tabular.history), key=K + "history")

if run is None:
    for tab in tabs[1:]:
        with tab:
            st.info("Train a model in the first tab to see this view.")
    st.stop()

y, p = run.y_test, run.p_test
st.session_state.setdefault(K + "threshold", round(run.threshold, 3))
threshold = float(st.session_state[K + "threshold"])


def cached_fig(name: str, build):
    """Figures that do not depend on the threshold or costs are built once per trained model."""
    figs = st.session_state.setdefault(K + "figs", {})
    if figs.get("_run") is not run:
        figs.clear()
        figs["_run"] = run
    if name not in figs:
        figs[name] = build()
    return figs[name]


def use_best(value: float) -> None:
    # A callback runs before the script, so every tab sees the new threshold in the same rerun.
    st.session_state[K + "threshold"] = value


with tabs[1], timed("performance"):
    st.subheader("Network against the baselines (test rows)")
    rows = []
    keys = ("roc_auc", "pr_auc", "ks", "gini", "brier", "precision", "recall", "f1")
    for name, m in run.tabular.metrics.items():
        rows.append({"Model": model_label(name), **{metric_label(k): m[k] for k in keys}})
    table = pd.DataFrame(rows)
    st.dataframe(table.style.format(precision=3), hide_index=True, width="stretch", key=K + "models",
                 column_config={metric_label(k): st.column_config.NumberColumn(help=metric_help(k)) for k in keys})
    st.caption("Precision, recall and F1 are at each model's own threshold, chosen on validation rows for the "
               "best F1; the tiles below are at the decline threshold set in 'Decision & profit'.")
    baselines = {k: v for k, v in run.tabular.proba.items() if k != "network"}
    for verdict in get_verdicts(K + "verdicts", run, lambda: [
            compare_binary(run.y_test, run.p_test, baselines, metric=m, names=MODELS, seed=0)
            for m in ("roc_auc", "pr_auc")]):
        show_verdict(verdict)
    m = compute_binary_metrics(y, p, threshold)
    cols = st.columns(6)
    for col, (label, key) in zip(cols, [("ROC-AUC", "roc_auc"), ("PR-AUC", "pr_auc"), ("KS statistic", "ks"),
                                        ("Gini", "gini"), ("Brier score", "brier"), ("Recall of defaults", "recall")]):
        col.metric(label, f"{m[key]:.3f}", help=metric_help(key))
    st.caption(f"At the current decline threshold {threshold:.3f} (set in 'Decision & profit'); "
               f"timings: training {run.timings.get('train', 0):.1f} s, SHAP {run.timings.get('explain', 0):.1f} s.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(plot_confusion(compute_confusion(y, p, threshold), labels=("repaid", "default")), key=K + "cm")
    c2.plotly_chart(plot_score_distribution(y, p, labels=("repaid", "default"), threshold=threshold), key=K + "dist")
    proba = run.tabular.proba
    c1.plotly_chart(cached_fig("roc", lambda: plot_roc(
        {MODELS[k]: compute_roc(y, v) for k, v in proba.items()},
        {MODELS[k]: run.tabular.metrics[k]["roc_auc"] for k in proba})), key=K + "roc")
    c2.plotly_chart(cached_fig("pr", lambda: plot_pr(
        {MODELS[k]: compute_pr(y, v) for k, v in proba.items()},
        {MODELS[k]: run.tabular.metrics[k]["pr_auc"] for k in proba}, prevalence=float(y.mean()))), key=K + "pr")
    c1.plotly_chart(cached_fig("cal", lambda: plot_calibration(
        {MODELS[k]: compute_calibration(y, v) for k, v in proba.items()})), key=K + "cal")

with tabs[2], timed("decision"):
    st.subheader("Approve or decline: set the line by money")
    c1, c2, c3 = st.columns(3)
    c1.number_input(money_label("Loss from approving a defaulter"), 0.0, 1e9, step=500.0, key=K + "loss",
                    format="%.0f")
    c2.number_input(money_label("Margin lost by rejecting a good applicant"), 0.0, 1e9, step=100.0,
                    key=K + "margin", format="%.0f")
    loss, margin = st.session_state[K + "loss"], st.session_state[K + "margin"]
    try:
        curve = compute_profit_curve(y, p, loss_default=loss, margin_good=margin)
        best = find_optimal_threshold(curve)
        c3.button("Use the profit-optimal threshold", key=K + "use_best", on_click=use_best,
                  args=(round(best["threshold"], 3),))
        st.slider("Decline when the probability of default is at least", 0.0, 1.0, step=0.005, key=K + "threshold")
        threshold = float(st.session_state[K + "threshold"])
        kpi = compute_decision_kpis(y, p, threshold=threshold, loss_default=loss, margin_good=margin)
        cols = st.columns(5)
        cols[0].metric("Approval rate", pct(kpi["approval_rate"]))
        cols[1].metric("Bad rate of approved", pct(kpi["bad_rate"]))
        cols[2].metric("Expected profit (test rows)", money(kpi["profit"]),
                       delta=f"{money(kpi['profit'] - best['profit'])} vs optimal")
        cols[3].metric("Defaults declined", pct(kpi["defaults_caught"]))
        cols[4].metric("Profit-optimal threshold", f"{best['threshold']:.3f}")
        st.plotly_chart(cc.plot_profit_curve(curve, threshold=threshold, optimal=best["threshold"],
                                             currency=f"({get_currency()})"), key=K + "profit")
        st.caption(f"Profit is counted on the {len(y):,} test applicants against declining everyone: each approved "
                   f"good applicant earns {money(margin)}, each approved defaulter loses {money(loss)}.")
    except DataValidationError as exc:
        fail(exc)

with tabs[3], timed("scorecard"):
    st.subheader("Scorecard points and grades")
    c1, c2, c3, c4 = st.columns(4)
    base_score = c1.number_input("Base score", 100.0, 2000.0, 600.0, step=10.0, key=K + "base_score")
    base_odds = c2.number_input("Base odds (good : bad)", 1.0, 1000.0, 50.0, step=1.0, key=K + "base_odds")
    pdo = c3.number_input("Points to double the odds", 1.0, 200.0, 20.0, step=1.0, key=K + "pdo")
    cuts_text = c4.text_input("Grade cut points (blank = every PDO below the base)", key=K + "cuts")
    try:
        scorecard = ScorecardConfig(base_score=base_score, base_odds=base_odds, pdo=pdo,
                                    grade_cuts=parse_grade_cuts(cuts_text))
    except DataValidationError as exc:
        fail(exc)
        scorecard = ScorecardConfig()
    points = compute_score_points(p, scorecard)
    cut_points = threshold_to_points(threshold, scorecard)
    st.caption(f"{base_score:g} points = odds {base_odds:g}:1, +{pdo:g} points doubles the odds. The current "
               f"threshold {threshold:.3f} means declining below {cut_points:.0f} points.")
    grades = compute_grade_table(points, p, y, threshold=threshold, config=scorecard)
    st.dataframe(grades.style.format({"share": "{:.1%}", "predicted_default_rate": "{:.1%}", "default_rate": "{:.1%}"}),
                 hide_index=True, width="stretch", key=K + "grades")
    c1, c2 = st.columns(2)
    c1.plotly_chart(cc.plot_grade_table(grades), key=K + "grade_chart")
    c2.plotly_chart(cc.plot_points_distribution(points, y, cut_points=cut_points), key=K + "points")

shap = st.session_state[K + "shap"]
with tabs[4], timed("explanations"):
    st.subheader("What drives the predicted risk (SHAP)")
    st.caption(f"Computed on {len(shap.values):,} test applicants. Positive values push towards default.")
    imp = shap.importance()
    c1, c2 = st.columns(2)
    c1.plotly_chart(cached_fig("shap_bar", lambda: plot_shap_bar(imp)), key=K + "shap_bar")
    c2.plotly_chart(cached_fig("beeswarm", lambda: plot_shap_beeswarm(shap.values, shap.data, imp["feature"].tolist())),
                    key=K + "beeswarm")

    @st.fragment
    def local_view():
        i = st.number_input("Explain test applicant number", 0, len(run.test_df) - 1, 0, key=K + "local_row")
        if i < len(shap.values):
            res, j = shap, int(i)
        else:  # outside the explained sample: explain this one row now (a fraction of a second)
            res, j = run.explain(run.test_df.iloc[[int(i)]]), 0
        st.plotly_chart(plot_shap_waterfall(res.base_value, res.contributions(j), float(res.predictions[j])),
                        key=K + "waterfall")

    local_view()

def declined_explanations(idx: np.ndarray) -> dict[int, tuple[np.ndarray, float]]:
    """SHAP values of the test applicants ``idx``, computed once each and kept for the session (a
    threshold change only explains the newly declined)."""
    held = st.session_state.get(K + "reason_cache")
    if held is None or held[0] is not run:
        held = (run, {i: (shap.values[i], float(shap.predictions[i])) for i in range(len(shap.values))})
        st.session_state[K + "reason_cache"] = held
    cache = held[1]
    missing = [int(i) for i in idx if int(i) not in cache]
    if missing:
        with st.spinner(f"Explaining {len(missing):,} more declined applicants with SHAP"):
            res = run.explain(run.test_df.iloc[missing])
        cache.update({i: (res.values[k], float(res.predictions[k])) for k, i in enumerate(missing)})
    return cache


with tabs[5], timed("reasons"):
    st.subheader("Reason codes for declined applicants")
    declined = np.flatnonzero(p >= threshold)
    shown = declined[np.argsort(-p[declined], kind="stable")][:MAX_REASON_ROWS]
    st.caption(f"{len(declined):,} of the {len(p):,} test applicants are declined at threshold {threshold:.3f}, "
               "riskiest first. The four features that raised each one's risk most, in plain words"
               + (f" (the {MAX_REASON_ROWS:,} riskiest here; the command line gives them for all):"
                  if len(declined) > MAX_REASON_ROWS else ":"))
    if len(shown):
        explained = declined_explanations(shown)
        id_col = find_id_column(run.test_df)
        records = run.test_df.iloc[shown].to_dict("records")
        rows = []
        for rec, i in zip(records, shown):
            values, prob = explained[int(i)]
            reasons = get_reason_codes(values, shap.feature_names, rec, references=run.references)
            rows.append({"Applicant": rec[id_col] if id_col else int(i), "Probability of default": prob,
                         "Points": compute_score_points([prob], scorecard)[0],
                         **{f"Reason {k + 1}": (reasons[k] if k < len(reasons) else "") for k in range(4)}})
        st.dataframe(pd.DataFrame(rows).style.format({"Probability of default": "{:.3f}", "Points": "{:.0f}"}),
                     hide_index=True, width="stretch", key=K + "reasons",
                     column_config={f"Reason {k + 1}": st.column_config.TextColumn(width="large") for k in range(4)})
    else:
        st.info("No test applicant is declined at this threshold.")

with tabs[6], timed("fairness"):
    st.subheader("Fairness by sensitive group")
    candidates = [c for c in run.test_df.columns if c != run.setup.target and run.test_df[c].nunique() <= 200
                  and c not in run.setup.numeric] + [c for c in run.setup.sensitive if c in run.setup.numeric]
    candidates = list(dict.fromkeys([*run.setup.sensitive, *candidates]))
    if not candidates:
        st.info("No column to group by: mark a sensitive column (sex, age band, ...) in the first tab and retrain.")
    else:
        attr = st.selectbox("Group by", candidates, key=K + "fair_attr")
        ft = compute_fairness_table(y, p, make_groups(run.test_df[attr].rename(attr)), threshold=threshold)
        st.dataframe(ft.style.format({"default_rate": "{:.1%}", "approval_rate": "{:.1%}", "tpr": "{:.1%}",
                                      "fpr": "{:.1%}", "di_ratio": "{:.2f}"}),
                     hide_index=True, width="stretch", key=K + "fair")
        (st.warning if (ft["four_fifths"] == "FLAG").any() else st.success)(summarise_fairness(ft))
        st.caption("TPR: share of actual defaulters declined; FPR: share of good applicants declined; DI ratio: "
                   "approval rate over the best group's (four-fifths rule flags < 0.80).")
        st.plotly_chart(cc.plot_fairness(ft), key=K + "fair_chart")
    proxies = find_proxy_features(run.train_df, run.setup.features, run.setup.sensitive)
    flagged = proxies[proxies["flagged"]]
    if len(flagged):
        st.warning("**Features that may stand in for a protected attribute.** Leaving a sensitive column out "
                   "does not stop the model from learning it through these:\n\n"
                   + "\n".join(f"- **{feature_label(r.feature)}** (`{r.feature}`): {r.why}."
                                for r in flagged.itertuples()),
                   icon=":material/visibility:")
    elif run.setup.sensitive:
        st.caption(f"No model feature is strongly associated with {', '.join(run.setup.sensitive)} "
                   f"(Cramér's V below {PROXY_ASSOCIATION}) or named like a place or a person's origin.")

with tabs[7], timed("psi"):
    st.subheader("Has the applicant population shifted? (PSI)")
    new = st.file_uploader("New applications (same columns; the outcome is not needed)", type=UPLOAD_TYPES,
                           key=K + "psi_upload")
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
            cache_key = (batch.name if use_batch else new.file_id, id(run))
            if st.session_state.get(K + "psi_key") != cache_key:
                st.session_state.pop(K + "psi_new", None)
                st.session_state[K + "psi_key"] = cache_key
                new_df = read_table(batch if use_batch else new, name=batch.name if use_batch else new.name).df
                check_population(new_df, run.setup.features)
                p_new = run.predict(new_df)
                st.session_state[K + "psi_table"] = compute_psi_table(
                    run.train_df, new_df, numeric=run.setup.numeric, categorical=run.setup.categorical,
                    score_train=run.p_train, score_new=p_new)
                st.session_state[K + "psi_new"] = (new_df, p_new)
            psi = st.session_state[K + "psi_table"]
            st.dataframe(psi.style.format({"psi": "{:.3f}"}), hide_index=True, width="stretch", key=K + "psi")
            st.plotly_chart(cc.plot_psi(psi), key=K + "psi_chart")
            st.caption("Below 0.1 stable, 0.1–0.25 watch, above 0.25 shifted.")
        except DataValidationError as exc:
            st.session_state[K + "psi_key"] = None
            fail(exc)

with tabs[8], timed("whatif"):
    st.subheader("What if: edit one applicant")

    @st.fragment
    def what_if():
        start = st.number_input("Start from test applicant number", 0, len(run.test_df) - 1, 0, key=K + "wi_row")
        base = run.test_df.iloc[int(start)]
        row = {}
        cols = st.columns(3)
        for j, c in enumerate(run.setup.features):
            with cols[j % 3]:
                # Plain names, the column's own name on hover; whole-number columns (counts, terms,
                # ages) are edited as whole numbers, not 3.000.
                label, raw_name = humanise(c), f"Column `{c}`"
                if c in run.setup.numeric:
                    v = pd.to_numeric(base[c], errors="coerce")
                    start_value = float(v) if pd.notna(v) else float(run.references.get(c, 0.0))
                    whole = bool((run.train_df[c].dropna() % 1 == 0).all())
                    row[c] = st.number_input(label, value=int(round(start_value)) if whole else start_value,
                                             step=1 if whole else None, key=f"{K}wi:{start}:{c}", help=raw_name)
                else:
                    opts = sorted(run.train_df[c].dropna().astype(str).unique().tolist())
                    cur = str(base[c]) if pd.notna(base[c]) and str(base[c]) in opts else opts[0]
                    row[c] = st.selectbox(label, opts, index=opts.index(cur), key=f"{K}wi:{start}:{c}",
                                          help=raw_name)
        # The model call and SHAP for an edited row are kept, so moving the threshold elsewhere on the
        # page does not explain the same applicant again.
        memo = st.session_state.setdefault(K + "wi_memo", {})
        row_key = (id(run), tuple((c, str(v)) for c, v in row.items()))

        def explain_once(frame):
            if row_key not in memo:
                memo.clear()
                memo[row_key] = run.explain_fn(frame)
            return memo[row_key]

        try:
            res = score_applicant(row, predict_fn=run.predict, threshold=threshold, config=scorecard,
                                  explain_fn=explain_once, references=run.references)
        except DataValidationError as exc:
            fail(exc)
            return
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Probability of default", f"{res.probability:.3f}")
        c2.metric("Score points", f"{res.points:.0f}")
        c3.metric("Grade", res.grade)
        c4.metric("Decision", res.decision.upper())
        if res.decision == "decline":
            st.markdown("**Reasons for decline**\n" + "\n".join(f"1. {r}" for r in res.reasons))
        elif res.reasons:
            st.caption("Approved. Main risk factors: " + "; ".join(res.reasons))

    what_if()

with tabs[9], timed("export"):
    st.subheader("Downloads")
    psi_new = st.session_state.get(K + "psi_new")
    sources = ["Test applicants"] + (["File uploaded in 'Drift (PSI)'"] if psi_new is not None else [])
    which = st.radio("Rows to score", sources, horizontal=True, key=K + "export_src")
    signature = (which, threshold, scorecard)
    if st.button("Prepare scored CSV (with reason codes for declines)", key=K + "prep_csv"):
        frame, probs = (run.test_df, p) if which == sources[0] else psi_new
        with st.spinner("Explaining declined applicants"):
            reasons = compute_reasons_for_rows(frame, np.flatnonzero(decide(probs, threshold) == "decline"),
                                               explain_fn=run.explain_fn, references=run.references)
        st.session_state[K + "out:csv"] = (signature, build_scored_frame(
            frame, probs, threshold=threshold, config=scorecard, reasons=reasons).to_csv(index=False).encode())
    prepared = st.session_state.get(K + "out:csv")
    if prepared is not None and prepared[0] == signature:
        st.download_button("Download scored CSV", prepared[1], "credit_scored.csv", "text/csv", key=K + "dl_csv",
                           on_click="ignore")
    elif prepared is not None:
        st.caption("The threshold, scorecard or rows changed since the file was prepared: prepare it again.")
    if st.button("Prepare model download", key=K + "prep_zip"):
        from core.credit.persist import export_model_zip

        st.session_state[K + "out:zip"] = export_model_zip(run, threshold=threshold, scorecard=scorecard)
    if K + "out:zip" in st.session_state:
        st.download_button("Download model (zip: Keras file + JSON settings)", st.session_state[K + "out:zip"],
                           "credit_model.zip", "application/zip", key=K + "dl_zip", on_click="ignore")
        st.caption("Score new files headless with `python -m core score --model credit_model --data FILE --out FILE`.")

    def save_credit(name, root):
        from core.credit.persist import save_credit_run
        from core.registry import new_run_id
        from core.workspace.summary import build_credit_summary

        summary = build_credit_summary(run, name=name, threshold=threshold, loss_default=loss, margin_good=margin,
                                       dataset_name=dataset_name, shap=shap, scorecard=scorecard)
        searched = st.session_state.get(K + "search")
        if searched is not None and searched[0] is run:
            from core.search.scenarios import attach_search, search_section

            attach_search(summary, search_section(searched[1], run.tabular))
        return save_credit_run(run, root / new_run_id("credit"), threshold=threshold, scorecard=scorecard,
                               extra_metadata=summary)

    upload = st.session_state.get(K + "upload")
    dataset_name = (SAMPLE_PATH.name if st.session_state.get(K + "source", "Bundled").startswith("Bundled")
                    else getattr(upload, "name", None))
    save_to_workspace("credit", run, save_credit, dataset_name=dataset_name)
