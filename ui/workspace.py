"""The "Save to workspace" control every scenario page shows beside its downloads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from core.data.safety import escape_markdown
from core.errors import DataValidationError
from core.store.scenarios import ROOT
from core.workspace import get_runs_dir
from core.workspace.summary import default_run_name

RUNS_PAGE = "pages/runs.py"
SCORE_PAGE = "pages/score.py"


# With STUDIO_RUNS_PER_SESSION=1 (a demo link shared by many visitors) every browser session saves
# into, and lists, its own hidden sub-folder of the runs folder, so no visitor sees another's runs.
PER_SESSION_ENV = "STUDIO_RUNS_PER_SESSION"


def session_runs_dir() -> Path:
    """The runs folder this session saves into and lists by default: ``get_runs_dir()``, or its
    private sub-folder ``.session-<random>`` when STUDIO_RUNS_PER_SESSION=1 (hidden folders are left
    out of every runs listing, so the shared folder shows none of them)."""
    root = get_runs_dir()
    if os.environ.get(PER_SESSION_ENV, "").strip().lower() not in ("1", "true", "yes"):
        return root
    token = st.session_state.setdefault("workspace.session_token", secrets.token_hex(8))
    return root / f".session-{token}"


def _per_session() -> bool:
    return os.environ.get(PER_SESSION_ENV, "").strip().lower() in ("1", "true", "yes")


FOLDER_KEY = "workspace.folder"  # the sub-folder of the session's runs folder picked on Runs / Score


def current_runs_dir() -> Path:
    """The runs folder this session works in — every page saves into it and lists it (scenario pages,
    Overview and its demos, Runs, Score): ``session_runs_dir()``, or the sub-folder of it picked with
    ``pick_runs_dir`` (only one that ``core.workspace.runs.list_run_folders`` offers; a visitor never
    types a server path)."""
    from core.workspace.runs import resolve_run_folder

    return resolve_run_folder(session_runs_dir(), st.session_state.get(FOLDER_KEY))


def runs_dir_label(path: Path | None = None) -> str:
    """The folder as a visitor sees it, relative to the runs root, never the server path: "the main
    runs folder", "“team-a”", "your private folder" (STUDIO_RUNS_PER_SESSION=1)."""
    path = Path(path) if path is not None else current_runs_dir()
    base = session_runs_dir()
    top = "your private folder" if _per_session() else "the main runs folder"
    return top if path == base else f"“{path.relative_to(base).as_posix()}”" + (
        " in your private folder" if _per_session() else "")


def path_in_runs(path) -> str:
    """A file or folder of a run as a visitor may see it: relative to the runs folder the operator set
    (``team-a/credit-1/monitor``), never the server's path (its last part alone when it is elsewhere)."""
    try:
        return Path(path).resolve().relative_to(get_runs_dir()).as_posix()
    except ValueError:
        return Path(path).name


def link_to_workspace_pages() -> None:
    """Links to the Runs and Score pages when they exist (and are in the navigation)."""
    links = ((RUNS_PAGE, "Open the Runs page", ":material/folder_open:",
              "Open the Runs page from the navigation to compare, score and report on it."),
             (SCORE_PAGE, "Score new data with a saved run", ":material/batch_prediction:",
              "Open the Score page from the navigation to score new files with a saved run."))
    for page, label, icon, fallback in links:
        if not (ROOT / page).exists():
            continue
        try:
            st.page_link(page, label=label, icon=icon)
        except Exception:  # page run outside the router (tests): the page is not registered there
            st.caption(fallback)


def save_to_workspace(scenario: str, run: Any, save: Callable[[str, Path], Path], *,
                      dataset_name: str | None = None, disabled_reason: str | None = None) -> Path | None:
    """Run-name input and a button that saves ``run`` under the workspace's runs folder.

    ``save(name, root)`` builds the workspace summary with the page's current decision settings and
    saves the run (the scenario's save function); it returns the run folder. The result stays on
    screen until another model is trained; a failure is shown as a message and keeps the model.
    """
    k = f"{scenario}.ws_"
    root = current_runs_dir()
    # A new model gets a fresh default name; the analyst's edits to the name are kept otherwise.
    if st.session_state.get(k + "for") is not run:
        st.session_state[k + "for"] = run
        st.session_state[k + "name"] = default_run_name(scenario, dataset_name)
        st.session_state.pop(k + "saved", None)
    with st.container(border=True):
        st.markdown("**Save to workspace** — keep this model with its figures and decision settings, to "
                    "compare runs, score new files and print a report later.")
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.text_input("Run name", key=k + "name", max_chars=120)
        clicked = c2.button("Save to workspace", key=k + "save", icon=":material/save:", type="primary",
                            disabled=bool(disabled_reason), width="stretch")
        if disabled_reason:
            st.caption(disabled_reason)
        st.caption(f"Saved into {runs_dir_label(root)}"
                   + (" (another can be picked on the Runs page)." if runs_folder_choices() else "."))
        if clicked:
            st.session_state.pop(k + "saved", None)  # the message below is about this click only
            try:
                with st.spinner("Saving the run"):
                    path = Path(save(st.session_state[k + "name"], root))
                st.session_state[k + "saved"] = (path.name, st.session_state[k + "name"])
            except Exception as exc:  # shown as a message; the trained model stays on the page
                show_save_error(exc)
        saved = st.session_state.get(k + "saved")
        if saved is not None:
            st.success(f"Saved as run `{saved[0]}` — “{saved[1]}”.", icon=":material/check_circle:")
            link_to_workspace_pages()
            return root / saved[0]
    return None


SAVE_FAILED = ("The trained model is still on this page: press **Save to workspace** again (nothing needs retraining). If it fails again, take the model and "
               "its predictions with the download buttons of this tab.")


def show_save_error(exc: Exception) -> None:
    """Why a save failed and what to do, as a message (never a traceback): a ``DataValidationError``
    says what was expected and found itself; any other error is named with its type."""
    reason = (escape_markdown(exc) if isinstance(exc, DataValidationError) else
              f"Saving stopped on an unexpected error ({type(exc).__name__}: {escape_markdown(exc)}).")
    st.error(f"**The run was not saved.** {reason} {SAVE_FAILED}", icon=":material/error:")


def runs_folder_choices() -> list[str]:
    """The sub-folders of the session's runs folder a visitor may pick (none: only the folder itself)."""
    from core.workspace.runs import list_run_folders

    return list_run_folders(session_runs_dir())


def pick_runs_dir() -> str:
    """The runs folder this session browses (every page follows it), with a pick among the sub-folders
    of the runs folder when there are any. Only the operator chooses where runs live
    (``STUDIO_RUNS_DIR``, ``STUDIO_RUNS_PER_SESSION``, as environment variables or top-level secrets);
    the page names folders relative to it and never shows the server path."""
    choices = runs_folder_choices()
    if st.session_state.get(FOLDER_KEY) not in choices:
        st.session_state.pop(FOLDER_KEY, None)  # none picked, or removed since: the runs folder itself
    if choices:
        # The widget's own state is forgotten on pages that do not draw it (the Overview, the scenario
        # pages): the choice lives under FOLDER_KEY and the box is set from it each time it is drawn.
        st.session_state[FOLDER_KEY + "_pick"] = st.session_state.get(FOLDER_KEY, "")
        st.selectbox("Runs folder", ["", *choices], key=FOLDER_KEY + "_pick",
                     format_func=lambda name: name or runs_dir_label(session_runs_dir()).capitalize(),
                     on_change=lambda: st.session_state.update({FOLDER_KEY: st.session_state[FOLDER_KEY + "_pick"]}),
                     help="Sub-folders of the runs folder, set up by the server's operator. Scenario pages, the "
                          "Overview and its demos save into the folder picked here.")
    else:
        st.caption(f"Runs folder: {runs_dir_label()}.")
    return str(current_runs_dir())


def scenario_title(key) -> str:
    """A scenario's title ("Credit scoring") for a run's key; the key itself for an unknown scenario."""
    from core.store.scenarios import find_scenario

    found = find_scenario(key)
    return found.title if found is not None else str(key)


def scenario_short(key) -> str:
    """A scenario's short name ("Credit") for a run's key (its spec's ``short``); the key for an unknown one."""
    from core.store.scenarios import find_scenario

    found = find_scenario(key)
    if found is None:
        return str(key)
    spec = getattr(found, "spec", None)
    return spec.short if spec is not None else found.title


def pick_saved_run(key: str, *, empty: str) -> tuple[dict, dict]:
    """The runs folder pick, then a "Saved run" box over its runs (the newest first, each labelled with
    its scenario); returns the picked run's metadata and every run's label by id. Folders that cannot be read are counted in a
    warning; with no run at all, ``empty`` is shown and the page stops. ``key``: the box's session key."""
    from core.workspace.runs import get_run_labels, list_workspace_runs

    runs, skipped = list_workspace_runs(pick_runs_dir())
    if skipped:
        st.warning(f"{len(skipped)} run folder(s) could not be read and are not offered below.",
                   icon=":material/warning:")
    if not runs:
        st.info(empty, icon=":material/folder_open:")
        st.stop()
    by_id = {m["run_id"]: m for m in runs}
    labels = dict(zip(by_id, (f"{lbl} ({scenario_title(m.get('scenario'))})"
                              for lbl, m in zip(get_run_labels(runs), runs))))
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = next(iter(by_id))  # the newest run
    return by_id[st.selectbox("Saved run", list(by_id), key=key, format_func=lambda r: labels[r])], labels


# The runs list fits a 1280-px laptop window with the sidebar open (about 800 px of table; the grid cuts
# text, it never wraps it): the scenario by its short name, the date without seconds or year, a trust
# warning as a marker in front of the run's name, and a name too long for its column shortened in the
# middle (its start and its file's end both stay). The run id, the full name, the trust warning's words and
# the data are in the run's details below, opened by clicking its row.
LIST_WIDTH = 800
_PX_PER_CHAR, _PAD = 6.0, 20  # the grid's 14 px font (5.7 px a character measured), a cell's padding


def _fit(texts, label: str, cap: int) -> int:
    return int(min(cap, _PAD + _PX_PER_CHAR * max([len(label), *(len(str(t)) for t in texts)])))


def shorten_middle(text: str, chars: int) -> str:
    """``text`` whole when it has at most ``chars`` characters, else its start and end around "…"."""
    text = str(text)
    if len(text) <= chars:
        return text
    tail = max(1, (chars - 1) * 2 // 5)
    return text[:chars - 1 - tail].rstrip() + "…" + text[-tail:].lstrip()


def get_list_records(rows: list[dict]) -> tuple[list[dict], dict]:
    """The runs list's lines (``core.workspace.runs.get_run_row``) as shown, and the grid's column
    widths in px. ``run``: the name, marked "⚠" when its figures are flagged, shortened to its column;
    ``trust``, ``rows`` and ``run_id`` ride along unseen (for the details and the selection)."""
    import datetime as dt

    from core.workspace.runs import NOT_RECORDED

    def saved(text):
        try:
            return dt.datetime.strptime(str(text), "%Y-%m-%d %H:%M")
        except ValueError:
            return None  # not recorded: an empty cell, sorted last

    flagged = [r["trust"] not in ("none", NOT_RECORDED) for r in rows]
    widths = {"scenario": 74, "saved": 96,
              "quality": _fit([r["quality"] for r in rows], "Model quality", 170),
              "impact": _fit([r["impact"] for r in rows], "Money", 210)}
    widths = {"run": max(200, LIST_WIDTH - 40 - sum(widths.values())), **widths}  # 40: the row's checkbox
    chars = int((widths["run"] - _PAD) / _PX_PER_CHAR)
    records = [{"run": shorten_middle(("⚠ " if f else "") + str(r["name"]), chars), "name": r["name"],
                "scenario": scenario_short(r["scenario"]), "saved": saved(r["saved"]),
                "quality": r["quality"], "impact": r["impact"],
                "trust": f"⚠ {r['trust']}" if f else r["trust"],
                "rows": f"{r['rows']:,}" if isinstance(r["rows"], int) else "—",  # a dash, not the grid's None
                "run_id": r["run_id"]} for r, f in zip(rows, flagged)]
    return records, widths


def show_runs_list(rows: list[dict], *, key: str) -> str | None:
    """The runs list as a table that fits the page; returns the run id of the row clicked, or None."""
    records, widths = get_list_records(rows)
    col = st.column_config
    config = {"run": col.TextColumn("Run", width=widths["run"],
                                    help="The run's name; ⚠: its figures are flagged (the run's details say why)."),
              "scenario": col.TextColumn("Scenario", width=widths["scenario"]),
              "saved": col.DatetimeColumn("Saved", width=widths["saved"], format="D MMM HH:mm"),
              "quality": col.TextColumn("Model quality", width=widths["quality"]),
              "impact": col.TextColumn("Money", width=widths["impact"])}
    event = st.dataframe(records, hide_index=True, width="stretch", column_order=list(widths),
                         column_config=config, key=key, on_select="rerun", selection_mode="single-row",
                         height=min(35 * len(records) + 38, 35 * 10 + 38))
    note = "Click a row to open its details below: the run id for the command line, its data and model card."
    if any(r["trust"].startswith("⚠") for r in records):
        note = "⚠: the run's figures are flagged and must not be trusted as they stand. " + note
    st.caption(note)
    picked = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    return records[picked[0]]["run_id"] if picked and picked[0] < len(records) else None
