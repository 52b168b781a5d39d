"""The "Save to workspace" control every scenario page shows beside its downloads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from core.scenarios import ROOT
from core.workspace import get_runs_dir
from core.workspace.summary import default_run_name
from ui.common import show_error

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
    root = session_runs_dir()
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
        st.caption(f"Runs folder: `{root}` (set `STUDIO_RUNS_DIR` to change it).")
        if clicked:
            st.session_state.pop(k + "saved", None)  # the message below is about this click only
            try:
                with st.spinner("Saving the run"):
                    path = Path(save(st.session_state[k + "name"], root))
                st.session_state[k + "saved"] = (path.name, st.session_state[k + "name"])
            except Exception as exc:  # shown as a message; the trained model stays on the page
                show_error(exc)
        saved = st.session_state.get(k + "saved")
        if saved is not None:
            st.success(f"Saved as run `{saved[0]}` — “{saved[1]}”.", icon=":material/check_circle:")
            link_to_workspace_pages()
            return root / saved[0]
    return None


def pick_runs_dir() -> str:
    """The runs folder this session browses (Runs and Score pages share it), with a box to change it.

    Starts at the folder the scenario pages save into; a folder that cannot be used is reported and
    the previous one stays in use.
    """
    from core.errors import DataValidationError
    from core.workspace.runs import check_runs_dir

    key = "workspace.dir"
    if key not in st.session_state:
        st.session_state[key] = str(session_runs_dir())
    # Streamlit forgets a widget's value on pages that do not show it: restore it from the choice.
    if key + "_text" not in st.session_state:
        st.session_state[key + "_text"] = st.session_state[key]
    with st.expander(f"Runs folder: `{st.session_state[key]}`"):
        typed = st.text_input("Runs folder for this session", key=key + "_text",
                              help="Scenario pages save into the folder set by STUDIO_RUNS_DIR (default: ./runs). "
                                   "Change this to browse another folder of runs.")
        try:
            st.session_state[key] = str(check_runs_dir(typed))
        except DataValidationError as exc:
            show_error(exc)
            st.caption(f"Still showing `{st.session_state[key]}`.")
    return st.session_state[key]
