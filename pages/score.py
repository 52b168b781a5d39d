"""Score: pick a saved run, upload new data, get predictions with the scenario's decision and reasons."""

from __future__ import annotations

import streamlit as st

from core.credit.charts import plot_psi
from core.errors import DataValidationError
from core.data.safety import safe_csv_bytes
from core.workspace.inputs import ColumnMismatchError, get_expected_input
from core.workspace.runs import format_figure, get_headline
from core.present.glossary import column_label, feature_label, is_money_setting
from core.monitor.record import open_recorder
from core.store.scenarios import SCENARIOS, find_scenario
from core.workspace.scoring import (PAGE_MAX_ROWS, REASON_ROWS, describe_overlap, get_decision_settings,
                                   score_with_run)
from core.data.pseudonym import run_key_rule
from ui.common import ensure_router, money_label, plain_columns, show_error, show_notices
from ui.privacy import read_upload
from ui.trust import show_saved_trust
from ui.upload import FORMATS, TABLE_TYPES, read_picked, show_picks
from ui.workspace import pick_saved_run

ensure_router()

K = "score."  # session-state namespace of this page
PREVIEW_ROWS = 1_000


st.title("Score")
st.caption("Score new data with a saved run: predictions with the scenario's decision and reasons, a check of "
           "the columns against what the model reads, and drift against the training data. Download the "
           "result as CSV.")

meta, labels = pick_saved_run(K + "run", empty="No saved runs yet in this folder. Train a model on a scenario page "
                                              "and press **Save to workspace**, then come back here to score new files.")
rid = meta["run_id"]
scenario = str(meta.get("scenario"))
contract = find_scenario(scenario)  # None for a run saved by a scenario that is no longer registered
head = get_headline(meta)
show_saved_trust(head.get("trust"))  # a run whose figures must not be trusted says so before it scores anything
figs = [f for f in head["quality"] if isinstance(f, dict)][:4]
if figs:
    cols = st.columns(len(figs))
    for c, f in zip(cols, figs):
        c.metric(str(f.get("label", "?")), format_figure(f))
st.caption(f"Decision: {contract.decision_words if contract is not None else 'predictions'}.")

# ---------------------------------------------------------------- what the file must contain
try:
    expected = get_expected_input(meta)
    saved_settings = get_decision_settings(meta)
except DataValidationError as exc:
    show_error(exc)
    st.stop()
with st.expander("What the file must contain", expanded=False):
    if expected["kind"] == "images":
        st.markdown(f"A **zip of images** (PNG, JPEG, BMP, GIF, TIFF, WebP); they are resized to "
                    f"{expected['image_size']}×{expected['image_size']} px. Images in folders named after the "
                    f"training classes ({', '.join(expected['class_names'])}) are compared with their label.")
    else:
        st.markdown(f"A table ({FORMATS}; any extension) with these columns (same names); other columns are "
                    "ignored and kept in the scored file.")
        st.dataframe([{"Column": c, "Kind": k} for c, k in expected["columns"].items()], hide_index=True,
                     width="stretch")
        if contract is not None and contract.input_hint:
            st.caption(contract.input_hint)

# ---------------------------------------------------------------- decision settings and upload
with st.form(K + "form"):
    st.markdown("**Decision settings** (saved with the run; change them for this scoring only)")
    settings: dict = {}
    controls = contract.decision_controls(meta) if contract is not None else ()
    for row in range(0, len(controls), 3):
        chunk = controls[row:row + 3]
        for col, ctl in zip(st.columns(len(chunk)) if len(chunk) > 1 else [st], chunk):
            label = money_label(ctl.label) if is_money_setting(ctl.name) else ctl.label
            value = int(saved_settings[ctl.name]) if ctl.whole else float(saved_settings[ctl.name])
            low, high = (int(ctl.low), int(ctl.high)) if ctl.whole else (float(ctl.low), float(ctl.high))
            step = (int(ctl.step or 1) if ctl.whole else ctl.step)
            widget = col.slider if ctl.slider else col.number_input
            settings[ctl.name] = widget(label, low, high, value, step, key=K + f"{rid}.{ctl.key or ctl.name}",
                                        help=ctl.help or None)
    note = contract.decision_note(meta) if contract is not None else ""
    if note or not controls:
        st.caption(note or "This run has no decision settings to change: it is scored as saved.")
    images = expected["kind"] == "images"
    up = st.file_uploader("Images to score (zip)" if images else f"File to score ({FORMATS})",
                          type=["zip"] if images else TABLE_TYPES, key=K + f"upload.{images}")
    if images:  # as training and --keep-masks: masks beside the photos are left out unless kept (with a notice)
        settings["keep_masks"] = st.checkbox(
            "Keep mask-like images as photos", value=False, key=K + "keep_masks",
            help="Images that look like masks or annotations (x.png beside x.jpg, a ground_truth/ folder, x_mask.png, "
                 "two-valued images among photos) are left out of the scoring, with a notice naming them. Tick to "
                 "score them as photos (only when they really are photos).")
    record = st.checkbox("Record these predictions in the run's prediction log", value=True, key=K + "log",
                         help="Logged rows appear on the Monitor page, where their outcomes can be fed back. Leave "
                              "unticked for files that are not production data (tests, training rows).")
    c1, c2 = st.columns([1, 2])
    clicked = c1.form_submit_button("Score file", type="primary", icon=":material/batch_prediction:")
    spec = SCENARIOS.get(scenario)
    batch = spec.sample_batch_path if spec is not None else None
    use_sample = batch is not None and c2.form_submit_button(
        f"Use the sample batch ({batch.name})", icon=":material/science:",
        help="Bundled new data made by the sample scripts: the month after the credit and fraud samples (with "
             "mild drift), the quarter after the demand sample (with stock on hand), new parts for inspection. "
             "Shows scoring without bringing a file.")

if clicked or use_sample:
    source = (batch, batch.name) if use_sample else (up, up.name if up is not None else "")
    if source[0] is None:
        st.error("No file to score yet. Fix: choose a file above, then press **Score file**.", icon=":material/error:")
    else:
        bar = st.progress(0.0, text="Reading the file")
        try:
            # A zip's table and a workbook's sheet are the ones picked below the form (see show_picks). A run
            # that keeps a key (a card number) as keyed pseudonyms reads the file with its own secret.
            keys = run_key_rule(meta["path"])
            data = source[0] if images else (read_upload(batch, name=batch.name, max_rows=None, keys=keys)
                                             if use_sample else read_picked(up, K + "pick.", max_rows=None,
                                                                            keys=keys)).df
            result = score_with_run(meta["path"], data, settings=settings, max_rows=PAGE_MAX_ROWS,
                                    reason_rows=(contract.page_reason_rows if contract is not None
                                                 and contract.page_reason_rows else REASON_ROWS),
                                    progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                                    log=open_recorder(meta["path"], source="page", enabled=record))
        except ColumnMismatchError as exc:
            show_error(exc)
            check = exc.report.table()
            st.dataframe(check, hide_index=True, width="stretch", column_config=plain_columns(check.columns))
            st.session_state[K + "failed"] = True
        except Exception as exc:  # any failure is a message; the previous result stays below
            show_error(exc)
            st.session_state[K + "failed"] = True
        else:
            st.session_state[K + "result"] = (rid, source[1], result)
            st.session_state[K + "failed"] = False
        finally:
            bar.empty()
if not images and up is not None and show_picks(K + "pick.", up):  # the tables of a zip, the sheets of a workbook
    st.caption("Pick the table or sheet to read, then press **Score file** again.")

# ---------------------------------------------------------------- result
held = st.session_state.get(K + "result")
if held is None:
    st.info("Choose a run and a file, then press **Score file**.", icon=":material/upload_file:")
    st.stop()
held_rid, held_name, result = held
if st.session_state.get(K + "failed"):
    st.caption("Showing the previous result below; it was not replaced.")
if held_rid != rid:
    st.caption(f"Showing the result of run “{labels.get(held_rid, held_rid)}” on {held_name}; press **Score file** "
               "to score with the run selected above.")

st.subheader(f"Scored: {held_name}")
cols = st.columns(min(len(result.figures), 6))
for i, (label, value) in enumerate(result.figures):
    cols[i % len(cols)].metric(label, value)
if result.training_overlap:
    st.warning(describe_overlap(result), icon=":material/warning:")
show_notices(result.notices, title="Notes on this scoring")

held_contract = find_scenario(result.scenario)
left, right = st.columns([1, 1])
with left:
    st.markdown(f"**{held_contract.decisions_title if held_contract is not None else 'Decisions'}**")
    # Plain headers in the data too (the decisions are not downloaded); each column's kind from its raw name.
    table = result.decisions.rename(columns=column_label)
    config = {column_label(c): v for c, v in plain_columns(result.decisions.columns).items()}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
with right:
    st.markdown("**Drift against the training data (PSI)**")
    if result.drift is not None and len(result.drift):
        # Plain feature names in the chart and the warning (the model's own score keeps its name).
        named = result.drift.assign(variable=["Model score" if v == "score" else feature_label(v)
                                              for v in result.drift["variable"]])
        worst = named["status"].iloc[0]
        shifted = named[named["status"] != "stable"]["variable"].tolist()
        if worst == "stable":
            st.success("Every column is stable (PSI < 0.1).", icon=":material/check_circle:")
        else:
            st.warning(f"{len(shifted)} column(s) to watch or shifted: {', '.join(shifted[:6])}. Below 0.1 "
                       "stable, 0.1–0.25 watch, above 0.25 shifted.", icon=":material/warning:")
        st.plotly_chart(plot_psi(named), width="stretch", key=K + "psi")
    elif held_contract is not None and held_contract.input_kind == "images":
        st.caption("Drift is not measured for images (it would need image embeddings).")
    else:
        st.caption("No drift: this run was saved without a profile of its training data.")
if result.columns is not None:
    with st.expander("Column check"):
        check = result.columns.table()
        st.dataframe(check, hide_index=True, width="stretch", column_config=plain_columns(check.columns))

st.markdown(f"**Scored rows** ({len(result.scored):,}; the first {min(PREVIEW_ROWS, len(result.scored)):,} "
            "shown, all in the download)")
preview = result.scored.head(PREVIEW_ROWS)
# The model's own columns: those the upload did not have (every column, for images).
given = set() if result.columns is None else {*map(str, result.columns.expected), *map(str, result.columns.extra)}
machine = [str(c) for c in preview.columns if str(c) not in given]
# The model's answers first on screen (the file's own columns after them); the download keeps the file's order.
order = [c for c in preview.columns if str(c) in machine] + [c for c in preview.columns if str(c) not in machine]
st.dataframe(preview, hide_index=True, width="stretch", height=380, column_config=plain_columns(preview.columns),
             column_order=order)
st.caption("The download keeps the file's own column names and the model's machine names"
           + (f" ({', '.join(machine[:5])}{', …' if len(machine) > 5 else ''})" if machine else "")
           + " so that other tools can read it; hover a header above to see each one.")
stem = held_name.rsplit(".", 1)[0] if "." in held_name else held_name
# The CSV is built when the button is pressed, not on every rerun (200,000 rows take a second).
st.download_button("Download scored file (CSV)", data=lambda: safe_csv_bytes(result.scored),
                   file_name=f"{stem}_scored.csv", mime="text/csv", icon=":material/download:", type="primary",
                   key=K + "download", on_click="ignore")
