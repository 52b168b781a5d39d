"""The Monitor page's parts (and the Runs page's log panel): headline, alerts, charts, the outcomes
upload, retraining and promotion. Everything shown comes from ``core.monitor``."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import DataValidationError
from core.data.safety import escape_markdown, safe_csv_bytes
from ui.common import plain_columns, show_error, show_notices
from ui.workspace import path_in_runs

K = "monitor."  # session-state namespace of the Monitor page


def get_report(run_dir: str, by: str):
    """The run's monitor, recomputed only when its log (or status) changed since the last rerun."""
    from core.monitor.report import compute_monitor
    from core.monitor.store import log_signature

    key = (run_dir, by, log_signature(run_dir))
    held = st.session_state.get(K + "report")
    if held is not None and held[0] == key:
        return held[1]
    report = compute_monitor(run_dir, by=by)
    st.session_state[K + "report"] = (key, report)
    return report


def _fmt(value, metric: str = "") -> str:
    if value is None:
        return "–"
    if metric in ("bad_rate_approved", "default_rate", "fraud_rate", "alert_precision", "card_precision_at_k",
                  "escape_rate", "false_reject_rate", "defect_rate"):
        return f"{value:.1%}"
    return f"{value:,.3f}"


def show_headline(report) -> None:
    """Tiles for the latest period: rows, outcomes, the headline realized and estimated, score drift, alerts."""
    latest = report.periods[-1]
    spec, head = report.spec, report.spec.headline
    labels = report.metric_labels()
    st.markdown(f"**Latest {report.by}: {latest.start.date()} to {latest.end.date()}**")
    tiles = [("Rows scored", f"{latest.rows:,}"), ("With outcome", f"{int(latest.realized.get('labelled_rows') or 0):,}"),
             (f"Realized {labels.get(head, head)}", _fmt(latest.realized.get(head), head))]
    if spec.estimated_metrics:
        tiles.append((f"Estimated {labels.get(head, head)}", _fmt(latest.estimated.get(head), head)))
    tiles += [("PSI of the score", _fmt(latest.psi.get("score"))), ("Alerts", f"{len(latest.alerts):,}")]
    for col, (label, value) in zip(st.columns(len(tiles)), tiles):
        col.metric(label, value)
    if report.test.get(head) is not None:
        interval = (f" (95% interval {report.interval[0]:.3f} to {report.interval[1]:.3f})"
                    if report.interval is not None else "")
        st.caption(f"Test figure: {labels.get(head, head)} {report.test[head]:.3f}{interval}, on the run's test rows.")


def show_alerts(report) -> None:
    alerts = report.alerts
    if not alerts:
        st.success("No alerts: no figure crossed its threshold in any period.", icon=":material/check_circle:")
        return
    st.markdown(f"**Alerts ({len(alerts)})**")
    for period, alert in sorted(alerts, key=lambda pa: pa[0].start, reverse=True)[:12]:
        st.warning(f"**{period.start.date()}** — {escape_markdown(alert.reason)}", icon=":material/notifications:")
    if len(alerts) > 12:
        st.caption(f"{len(alerts) - 12} earlier alert(s) are in the table below and in the download.")


def show_charts(report) -> None:
    from core.monitor.charts import plot_monitor_decisions, plot_monitor_metric, plot_monitor_psi, plot_monitor_volume

    names = ["Performance", "Drift", "Volume"] + (["Decisions"] if any(p.decisions for p in report.periods) else [])
    names.append("Table")
    tabs = dict(zip(names, st.tabs(names)))
    table = report.table()
    with tabs["Performance"]:
        labels = report.metric_labels()
        metrics = list(dict.fromkeys([report.spec.headline, *report.spec.realized_metrics,
                                      *report.spec.estimated_metrics]))
        metric = st.selectbox("Figure", metrics, key=K + "metric", format_func=lambda m: labels.get(m, m))
        st.plotly_chart(plot_monitor_metric(report, metric), width="stretch", key=K + "metric_chart")
        if report.spec.estimated_metrics:
            st.caption("Estimated: expected from the calibrated scores of every row, before any outcome (CBPE). "
                       "Realized: measured on the rows whose outcome came back.")
    with tabs["Drift"]:
        st.plotly_chart(plot_monitor_psi(report), width="stretch", key=K + "psi_chart")
        st.caption("PSI below 0.1 stable, 0.1–0.25 watch, above 0.25 shifted. Inputs against the training rows, the "
                   "model's score against its scores on the test rows.")
    with tabs["Volume"]:
        st.plotly_chart(plot_monitor_volume(report), width="stretch", key=K + "volume_chart")
    if "Decisions" in tabs:
        with tabs["Decisions"]:
            st.plotly_chart(plot_monitor_decisions(report), width="stretch", key=K + "mix_chart")
    with tabs["Table"]:
        st.dataframe(table, hide_index=True, width="stretch", column_config=plain_columns(table.columns))
        st.download_button("Download the table (CSV)", data=safe_csv_bytes(table),
                           file_name=f"{report.run_id}_monitor_{report.by}.csv", mime="text/csv",
                           icon=":material/download:", key=K + "download", on_click="ignore")


def feedback_form(run_dir: str) -> None:
    """Upload a file of outcomes, pick its id and label columns, record them."""
    from core.data.datasets import read_table
    from core.monitor.feedback import read_outcomes_file, record_feedback

    with st.container(border=True):
        st.markdown("**Outcomes came back** — upload a CSV or Parquet file with each row's id (as logged: the file's "
                    "id column when it was scored, or the `prediction_id` given back) and its outcome.")
        up = st.file_uploader("Outcomes file", type=["csv", "gz", "parquet", "txt"], key=K + "outcomes")
        if up is None:
            return
        try:
            df = read_table(up, name=up.name, max_rows=None, personal="drop").df
        except DataValidationError as exc:
            show_error(exc)
            return
        auto = "(detected)"
        c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
        id_col = c1.selectbox("Id column", [auto, *map(str, df.columns)], key=K + "id_col")
        label_col = c2.selectbox("Outcome column", [auto, *map(str, df.columns)], key=K + "label_col")
        if c3.button("Record outcomes", type="primary", icon=":material/fact_check:", key=K + "record"):
            try:
                outcomes = read_outcomes_file(run_dir, df, id_column=None if id_col == auto else id_col,
                                              label_column=None if label_col == auto else label_col)
                result = record_feedback(run_dir, outcomes)
            except DataValidationError as exc:
                show_error(exc)
                return
            st.session_state[K + "fed"] = result
        result = st.session_state.get(K + "fed")
        if result is not None:
            (st.success if not result.unmatched else st.warning)(result.sentence(), icon=":material/fact_check:")
            show_notices(result.notices, title="Notes on these outcomes")


def retrain_panel(run_dir: str, meta: dict, report) -> None:
    """Train a challenger from the fed-back outcomes; promote a challenger on request."""
    from core.monitor.lineage import describe, get_lineage, read_status

    from core.monitor.spec import FORECAST

    status = read_status(run_dir)
    with st.container(border=True):
        uploads = report.spec.retrain_uploads
        if uploads:
            st.markdown("**Retrain** — a challenger trained with this run's settings on its original images plus the "
                        "newly inspected ones, compared with this run on the inspected images it scored (matched by "
                        "file name; the challenger never learns them) on the ROC-AUC of defect, with the defect "
                        "recall at the run's threshold. Nothing is promoted until you press Promote.")
        elif report.spec.task == FORECAST:
            st.markdown("**Retrain** — a challenger trained on the sales history up to this run's forecast origin "
                        "(the new weeks included), forecasting the latest period with actual sales, compared with "
                        "this run's forecasts of the same days on the mean absolute error. Nothing is promoted until "
                        "you press Promote.")
        else:
            st.markdown("**Retrain** — a challenger trained on the run's original data plus the newly labelled rows, "
                        "compared with this run on the later half of the latest labelled period (rows neither learnt "
                        "from). Nothing is promoted until you press Promote.")
        for line in describe(meta, status):
            st.markdown(f"- {escape_markdown(line)}")
        can = report.spec.can_retrain
        labelled = sum(int(p.realized.get("labelled_rows") or 0) for p in report.periods)
        scored = sum(int(p.rows or 0) for p in report.periods)
        reason = (report.spec.retrain_note if not can else
                  "Score images with this run first: a challenger is compared on images it scored." if uploads and
                  not scored else
                  "Feed outcomes back first: a challenger is compared on labelled rows." if not labelled and not uploads
                  else None)
        files = {}
        if uploads and reason is None:
            files, reason = _image_uploads()
        history = _history_upload(report.spec) if can and labelled and not uploads else None
        if history is False:
            reason = "Upload the sales history with the new weeks appended first: a demand run keeps no copy of it."
        c1, c2 = st.columns(2)
        if c1.button("Train a challenger", icon=":material/model_training:", key=K + "retrain",
                     disabled=reason is not None, width="stretch", help=reason):
            _retrain(run_dir, meta, report.by, **(files or {"data": history}))
        from ui.jobs import job_panel

        job_panel(K, "retrain", _collect_retrain, noun="challenger training")
        lineage = get_lineage(meta)
        if lineage.get("champion") and status.get("role") != "champion":
            if c2.button("Promote this challenger", icon=":material/workspace_premium:", key=K + "promote",
                         width="stretch", help=f"Make it the champion in place of run {lineage['champion']}."):
                from core.monitor.lineage import promote

                try:
                    done = promote(run_dir)
                except DataValidationError as exc:
                    show_error(exc)
                else:
                    st.session_state[K + "promoted"] = done
                    st.rerun()
        done = st.session_state.pop(K + "promoted", None)
        if done:
            st.success(f"Promoted `{done['promoted']}`; `{done['retired']}` is retired.", icon=":material/workspace_premium:")
        held = st.session_state.get(K + "retrained")
        if held is not None and held[0] == run_dir:
            box = {"better": st.success, "on par": st.info, "worse": st.warning}[held[1].verdict.outcome]
            box(f"Challenger `{held[1].challenger.name}` saved. {held[1].sentence()}", icon=":material/compare_arrows:")
            show_notices(held[1].notices, title="Notes on the challenger")
            # Set in the button's callback: the run box above already exists in this rerun.
            st.button("Open the challenger here", key=K + "open_challenger", on_click=st.session_state.update,
                      args=({K + "run": held[1].challenger.name},))


def _history_upload(spec):
    """For a forecast: the sales history with the new periods appended, as a frame (False until it is
    uploaded and read); None for other runs, which retrain from the fed-back outcomes."""
    from core.monitor.spec import FORECAST

    if spec.task != FORECAST:
        return None
    up = st.file_uploader("Sales history with the new weeks appended", type=["csv", "gz", "parquet", "xlsx", "txt"],
                          key=K + "history", help="The file the run was trained on plus the sales since, in the same "
                          "columns. The challenger learns every sale before the champion's forecast origin and "
                          "forecasts the latest period with outcomes; nothing after that origin is learnt.")
    if up is None:
        return False
    from core.data.datasets import read_table

    try:
        return read_table(up, name=up.name, max_rows=None, personal="drop").df
    except DataValidationError as exc:
        show_error(exc)
        return False


def _image_uploads() -> tuple[dict, str | None]:
    """For a quality run: its original training images and the newly inspected ones (zips of class
    folders), as bytes for the job; with the reason the button waits while one is missing."""
    c1, c2 = st.columns(2)
    original = c1.file_uploader("Original training images (zip)", type=["zip"], key=K + "train_images",
                                help="The zip the run was trained on: a quality run keeps none of its training "
                                     "images, and the challenger learns them again.")
    new = c2.file_uploader("Newly inspected images (zip of class folders)", type=["zip"], key=K + "new_images",
                           help="The inspected parts, one folder per class (ok/part_1.png, crack/part_2.png). Those "
                                "this run scored (same file names) are compared on; the others are learnt from.")
    if original is None or new is None:
        missing = " and ".join(w for w, up in (("the original training images", original),
                                               ("the newly inspected images", new)) if up is None)
        return {}, f"Upload {missing} first: a quality run keeps no copy of its images."
    return {"train_data": original.getvalue(), "data": new.getvalue()}, None


def _retrain(run_dir: str, meta: dict, by: str, data=None, train_data=None) -> None:
    """Train the challenger as a job in a worker process (its progress, Cancel and result: ``retrain_panel``)."""
    from ui.jobs import start_job

    kwargs = {"run_dir": run_dir, "data": data, "by": by}
    if train_data is not None:
        kwargs["train_data"] = train_data
    try:
        start_job(K, "retrain", "core.monitor.retrain:retrain_job", kwargs,
                  label="challenger training", meta={"run_dir": run_dir})
    except DataValidationError as exc:
        show_error(exc)


def _collect_retrain(result, job) -> None:
    st.session_state[K + "retrained"] = (job.meta["run_dir"], result)


def log_panel(meta: dict) -> None:
    """The Runs page's view of a run's prediction log: where, how big, retention (editable), lineage."""
    from core.monitor.lineage import describe
    from core.monitor.store import check_retention, get_log_size, set_retention

    run_dir = meta["path"]
    size = get_log_size(run_dir)
    st.markdown("**Prediction log**")
    st.markdown(f"{size.sentence()}  \nLocation: `{path_in_runs(size.location)}` in the runs folder")
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    days = c1.number_input("Keep the log for (days)", min_value=1, max_value=36_500, step=1,
                           value=int(size.retention_days), key=f"runs.retention.{meta.get('run_id')}",
                           help="Older days of predictions and outcomes are deleted. Also: --retention-days, or "
                                "STUDIO_LOG_RETENTION_DAYS for runs without their own setting.")
    if c2.button("Save retention", key=f"runs.retention_save.{meta.get('run_id')}", width="stretch"):
        try:
            set_retention(run_dir, check_retention(days))
        except DataValidationError as exc:
            show_error(exc)
        else:
            st.success(f"The log keeps {int(days):,} days.", icon=":material/check_circle:")
    for line in describe(meta):
        st.markdown(f"- {escape_markdown(line)}")
    if Path(run_dir).exists():
        st.caption("Open the Monitor page for drift, decisions, realized and estimated figures and alerts.")
