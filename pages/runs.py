"""Runs: every saved run of every scenario; filter, compare side by side, report, delete."""

from __future__ import annotations

import html

import streamlit as st

from core.errors import DataValidationError
from core.present.glossary import metric_label, metric_text, setting_label, setting_text
from core.store.runmeta import has_summary, section, workspace
from core.workspace.pdf import build_message_pdf, build_report_pdf, get_pdf_filename
from core.workspace.report import build_report_html, get_report_filename
from core.workspace.runs import (NOT_RECORDED, compute_comparison, delete_run, filter_runs,
                                 format_figure, get_curve_names, get_headline, get_params, get_recommended_text,
                                 get_run_labels, get_run_name, get_run_row, list_workspace_runs, plot_run_curves)
from core.workspace.summary import SCENARIO_KEYS
from ui.common import ensure_router, get_currency, show_error
from ui.deploy import render_deploy_panel
from ui.monitor import log_panel
from ui.trust import show_saved_trust
from ui.workspace import pick_runs_dir, scenario_title, show_runs_list

ensure_router()

ALL = "All scenarios"
K = "runs."  # session-state namespace of this page

st.title("Runs")
st.caption("Every model saved from a scenario page or the command line. Filter them, compare runs of one "
           "scenario side by side, download a model card, or delete what you no longer need.")

root = pick_runs_dir()

# A deletion confirmed in the previous rerun reports here, once.
done = st.session_state.pop(K + "deleted", None)
if done:
    st.success(f"Deleted run “{done}”.", icon=":material/delete:")

runs, skipped = list_workspace_runs(root)
if skipped:
    st.warning(f"{len(skipped)} run folder(s) could not be read and are left out of the list below.",
               icon=":material/warning:")
    with st.expander("Why runs were skipped"):
        for note in skipped:
            st.markdown(f"- {note}")
if not runs:
    st.info("No saved runs yet in this folder. Train a model on a scenario page and press **Save to "
            "workspace**, or use `python -m core train --scenario credit --data FILE --save DIR`.",
            icon=":material/folder_open:")
    st.stop()

# ---------------------------------------------------------------- filters and list
c1, c2, c3, c4 = st.columns([1.2, 2, 1, 1])
present = sorted({str(m.get("scenario")) for m in runs})
choices = [ALL, *[s for s in SCENARIO_KEYS if s in present], *[s for s in present if s not in SCENARIO_KEYS]]
scenario = c1.selectbox("Scenario", choices, key=K + "scenario", format_func=lambda s: s if s == ALL else scenario_title(s))
text = c2.text_input("Name contains", key=K + "text", placeholder="e.g. smote")
date_from = c3.date_input("Saved from", value=None, key=K + "from")
date_to = c4.date_input("Saved until", value=None, key=K + "to")
try:
    shown = filter_runs(runs, scenario=None if scenario == ALL else scenario, text=text,
                        date_from=date_from, date_to=date_to)
except DataValidationError as exc:
    show_error(exc)
    shown = filter_runs(runs, scenario=None if scenario == ALL else scenario, text=text)

st.subheader(f"{len(shown)} of {len(runs)} runs")
if not shown:
    st.info("No run matches these filters. Clear the name or widen the dates.", icon=":material/filter_alt:")
    st.stop()
rows = [get_run_row(m) for m in shown]


# One click on a row opens that run's details below (the id, the data and the model card are there).
clicked = show_runs_list(rows, key=K + "list")

DATA_ITEMS = {"name": "File", "rows": "Rows", "sha256": "SHA-256 of the file as uploaded (first 12 characters)"}


def _item_label(section: str, item: str) -> str:
    """The comparison row's name as a reader knows it (the raw key stays in the table's hover)."""
    if section == "Metrics":
        return metric_label(item)
    if section in ("Decision", "Parameters"):
        return setting_label(item)
    if section == "Data":
        return DATA_ITEMS.get(item, item)
    return item  # headline labels are already plain


def _setting_value(key: str, value) -> str:
    """A saved setting as text: money with the currency, switches as Yes / No, options in words."""
    if value == NOT_RECORDED:
        return value
    if isinstance(value, str):  # the comparison's cells are text already: read them back as values
        value = {"True": True, "False": False, "None": None}.get(value, value)
        try:
            value = float(value) if isinstance(value, str) else value
        except ValueError:
            pass
    return setting_text(key, value, get_currency())


def _metric_value(key: str, value: str) -> str:
    """A compared metric as the model card shows it: shares as %, scores to three decimals."""
    try:
        return metric_text(key, float(value))
    except (TypeError, ValueError):
        return value


by_id = {r["run_id"]: m for r, m in zip(rows, shown)}
label_of = dict(zip(by_id, (f"{lbl} ({scenario_title(m.get('scenario'))})" for lbl, m in zip(get_run_labels(shown), shown))))

# ---------------------------------------------------------------- comparison
st.subheader("Compare runs")
# Runs deleted or filtered out since the last rerun leave the selection (a multiselect refuses them).
if K + "compare" in st.session_state:
    st.session_state[K + "compare"] = [r for r in st.session_state[K + "compare"] if r in by_id]
picked = st.multiselect("Runs to compare (two or more of one scenario)", list(by_id), key=K + "compare",
                        format_func=lambda r: label_of[r], placeholder="Pick runs from the list")
if len(picked) == 1:
    st.caption("Pick at least one more run of the same scenario.")
elif len(picked) >= 2:
    chosen = [by_id[r] for r in picked]
    try:
        table = compute_comparison(chosen)
    except DataValidationError as exc:
        show_error(exc)
    else:
        only_diff = st.toggle("Only rows that differ", key=K + "only_diff")
        view = table[table["differs"]] if only_diff else table
        run_cols = [c for c in view.columns if c not in ("section", "item", "differs")]
        highlight = view["differs"] & view["section"].isin(["Parameters", "Decision", "Data"])

        def _style(row):
            color = "background-color: #fef3c7" if highlight.loc[row.name] else ""
            return [color] * len(row)

        shown_table = view[["section", "item", *run_cols]].copy()
        for col in run_cols:  # settings in words and money with the currency, as on the scenario pages
            setting_rows = shown_table["section"].isin(["Decision", "Parameters"])
            shown_table.loc[setting_rows, col] = [_setting_value(k, v) for k, v in
                                                  zip(shown_table.loc[setting_rows, "item"], shown_table.loc[setting_rows, col])]
        metric_rows = shown_table["section"].eq("Metrics")
        for col in run_cols:  # shares as percentages, scores to three decimals, counts whole
            shown_table.loc[metric_rows, col] = [_metric_value(k, v) for k, v in
                                                 zip(shown_table.loc[metric_rows, "item"], shown_table.loc[metric_rows, col])]
        shown_table["item"] = [_item_label(sec, it) for sec, it in zip(shown_table["section"], shown_table["item"])]
        shown_table = shown_table.rename(columns={"section": "Section", "item": "Item"})
        st.dataframe(shown_table.style.apply(_style, axis=1), hide_index=True, width="stretch",
                     height=min(35 * (len(shown_table) + 1) + 3, 700))
        st.caption("Settings that differ between the runs are highlighted. "
                   f"“{NOT_RECORDED}”: that run was saved without this field.")
        names = get_curve_names(chosen)
        if names:
            curve = st.selectbox("Curve", names, key=K + "curve",
                                 format_func=lambda c: {"roc": "ROC", "pr": "Precision–recall"}.get(
                                     c, c.replace("_", " ").capitalize()))
            st.plotly_chart(plot_run_curves(chosen, curve), width="stretch", key=K + "curve_chart")
        else:
            st.caption("None of these runs recorded curves to overlay.")

# ---------------------------------------------------------------- one run: details, report, delete
st.subheader("Run details")
# A run filtered out or deleted gives way to the first compared run, else the newest listed one.
# (Setting the value, rather than dropping it, keeps the box's text in step with what is shown.)
if clicked in by_id and st.session_state.get(K + "clicked") != clicked:  # a new click, not a kept one
    st.session_state[K + "detail"] = clicked
st.session_state[K + "clicked"] = clicked
if st.session_state.get(K + "detail") not in by_id:
    st.session_state[K + "detail"] = picked[0] if picked else next(iter(by_id))
rid = st.selectbox("Run", list(by_id), key=K + "detail", format_func=lambda r: label_of[r])
meta = by_id[rid]
ws = workspace(meta)
head = get_headline(meta)
if not has_summary(meta):
    st.caption("This run was saved without the workspace summary (older version or command line): only its "
               "metrics and settings are shown.")
st.markdown(f"**{html.escape(get_run_name(meta))}** · run id for the command line: `{rid}`")
show_saved_trust(head.get("trust"))  # before the figures: they must not be read as a result
figs = head["quality"] + head["impact"]
if figs:
    cols = st.columns(min(len(figs), 5))
    for i, f in enumerate(figs):
        cols[i % len(cols)].metric(str(f.get("label", "?")), format_figure(f))
else:
    st.caption(f"Headline figures: {NOT_RECORDED}.")
recommended = get_recommended_text(meta)
if recommended:
    st.markdown(f"**Recommended model** (saved, scored and explained): {recommended}")
if head["assumptions"]:
    st.markdown("**Assumptions**\n" + "\n".join(f"- {a}" for a in head["assumptions"]))
left, right = st.columns(2)
ds = section(meta, "dataset")
with left:
    st.markdown("**Data**")
    rows_text = f"{ds['rows']:,}" if isinstance(ds.get("rows"), int) else NOT_RECORDED
    st.markdown(f"- **File:** {ds.get('name') or NOT_RECORDED}\n- **Rows:** {rows_text}\n"
                "- **SHA-256 of the file as uploaded** (`sha256sum FILE` prints the same for the file trained on):")
    st.code(str(ds.get("sha256") or NOT_RECORDED), language=None, wrap_lines=True)
with right:
    st.markdown("**Parameters**")
    params = [{"Setting": setting_label(k), "Value": _setting_value(k, v)} for k, v in get_params(meta).items()] or [
        {"Setting": NOT_RECORDED, "Value": ""}]
    st.dataframe(params, hide_index=True, width="stretch", height=min(35 * (len(params) + 1) + 3, 320))
if ws.get("intended_use"):
    st.markdown(f"**Intended use.** {ws['intended_use']}")
with st.container(border=True):
    log_panel(meta)  # the prediction log's size, location and retention; champion / challenger links


def _report() -> str:
    """The model card, built when the button is pressed (a few MB with plotly.js inlined)."""
    try:
        return build_report_html(meta["path"])
    except DataValidationError as exc:  # deleted or damaged since the list was read
        return f"<!DOCTYPE html><meta charset='utf-8'><p>{html.escape(str(exc))}</p>"


def _report_pdf() -> bytes:
    """The same model card as PDF (curves drawn as lines, the SHAP chart as a table)."""
    try:
        return build_report_pdf(meta["path"])
    except DataValidationError as exc:
        return build_message_pdf("Model card", str(exc))


b1, b4, b3, b2 = st.columns([1, 1, 1, 1])
b1.download_button("Download report", data=_report, file_name=get_report_filename(meta), mime="text/html",
                   icon=":material/description:", key=K + "report", on_click="ignore", width="stretch",
                   help="A self-contained HTML model card: opens offline, charts stay interactive.")
b4.download_button("Report as PDF", data=_report_pdf, file_name=get_pdf_filename(meta), mime="application/pdf",
                   icon=":material/picture_as_pdf:", key=K + "report_pdf", on_click="ignore", width="stretch",
                   help="The same model card as a PDF to file or print: sections, figures and tables.")
if b3.button("Score new data…", icon=":material/batch_prediction:", key=K + "to_score", width="stretch",
             help="Open the Score page with this run selected."):
    st.session_state["score.run"] = rid
    try:
        st.switch_page("pages/score.py")
    except Exception:  # page run outside the router (tests): the Score page is not registered there
        st.caption("Open the Score page from the navigation; this run is selected there.")
if b2.button("Delete run…", icon=":material/delete:", key=K + "ask_delete", width="stretch"):
    st.session_state[K + "confirm"] = rid
if st.session_state.get(K + "confirm") == rid:
    with st.container(border=True):
        st.warning(f"Delete run “{label_of[rid]}” (`{rid}`) permanently? Its model file and figures are removed; "
                   "this cannot be undone.", icon=":material/warning:")
        y, n, _ = st.columns([1, 1, 4])
        if y.button("Yes, delete", type="primary", key=K + "confirm_yes"):
            try:
                delete_run(root, rid)
            except (DataValidationError, OSError) as exc:
                show_error(exc)
            else:
                st.session_state.pop(K + "confirm", None)
                st.session_state[K + "deleted"] = label_of[rid]
                st.rerun()
        if n.button("Cancel", key=K + "confirm_no"):
            st.session_state.pop(K + "confirm", None)
            st.rerun()

# ---------------------------------------------------------------- deploy: serve the run, try a request
render_deploy_panel(meta)
