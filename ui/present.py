"""Presenter mode of the Overview: one screen per scenario for the runs the demo button saved.

Each screen says what the model is worth in money a year (with the assumptions in a caption), shows the
one chart behind it and the honest verdict in plain words; the metric names analysts use stay in one
small caption. The screens come from ``core.workspace.present`` (``get_demo_runs``, ``get_pitch``,
``plain_verdict``), so the same words can be produced headless.
"""

from __future__ import annotations

import streamlit as st

from core.data.safety import escape_markdown
from core.store.scenarios import SCENARIOS
from ui.common import show_error

K = "home."
STEP = K + "step"
DEMO_REPORT = K + "demo_report"

# Larger type for a projector; the sidebar and the app's header are hidden while presenting.
PRESENT_CSS = """<style>
[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display: none;}
.block-container {max-width: 100%; padding-top: 2.2rem; padding-left: 3rem; padding-right: 3rem;}
.pitch-money p {font-size: 1.9rem; line-height: 1.35; font-weight: 600;}
.pitch-verdict {font-size: 1.35rem; line-height: 1.4; padding: 0.8rem 1rem; border-radius: 0.5rem;}
.pitch-good {background: #dcfce7; color: #14532d;}
.pitch-warn {background: #ffedd5; color: #7c2d12;}
.pitch-none {background: #f1f5f9; color: #1e293b;}
[data-testid='stCaptionContainer'] p {font-size: 1rem;}
</style>"""


def run_demos(runs_dir) -> None:
    """Train every scenario on its sample and save it in ``runs_dir``, as a job in a worker process (its
    progress is drawn by ``demos_panel``); the visitor may leave the Overview and come back."""
    from ui.jobs import start_job

    try:
        start_job(K, "demos", "core.workspace.demos:demos_job", {"root": str(runs_dir)}, label="demo training")
    except Exception as exc:  # shown as a message, never a traceback
        show_error(exc)


def _collect_demos(result: dict, job) -> None:
    st.session_state[DEMO_REPORT] = result
    st.rerun()  # redraw with the runs just saved (the job is marked seen: this happens once)


def demos_panel() -> None:
    """The demos job of this browser: progress and Cancel while it runs, its report once it has finished."""
    from ui.jobs import job_panel

    job_panel(K, "demos", _collect_demos, noun="demo training")


def _run_button(runs_dir, label: str, key: str) -> None:
    # The click only leaves a request; the script runs the demos below it with a progress bar.
    st.button(label, key=key, type="primary", icon=":material/play_arrow:",
              on_click=lambda: st.session_state.update({key + ".requested": True}))
    if st.session_state.pop(key + ".requested", False):
        run_demos(runs_dir)
    demos_panel()


def show_presenter(runs_dir) -> None:
    """The presenter screens for the demo runs in ``runs_dir``; one button that runs the demos when there
    are none yet."""
    from core.workspace.overview import count_word, demo_keys, run_demos_label
    from core.workspace.present import get_demo_runs

    st.html(PRESENT_CSS)
    demos, _skipped = get_demo_runs(runs_dir)
    specs = [spec for spec in SCENARIOS.values() if spec.available]
    if not demos:
        n = count_word(len(demo_keys()))
        st.header(f"{n[:1].upper() + n[1:]} scenarios, one model each, in money a year", anchor=False)
        st.markdown("Presenter mode shows the demo runs: every scenario trained on its sample data with fast "
                    "settings. None has been run in this runs folder yet; it takes a few minutes.")
        _run_button(runs_dir, run_demos_label(), K + "present_run")
        return
    step = int(st.session_state.get(STEP, 0)) % len(specs)
    spec = specs[step]
    st.caption(f"Scenario {step + 1} of {len(specs)} · " + " → ".join(
        f"**{s.title}**" if i == step else s.title for i, s in enumerate(specs)))
    st.header(f"{spec.icon} {spec.title}", anchor=False)
    meta = demos.get(spec.key)
    if meta is None:
        st.warning(f"No demo run of {spec.title.lower()} in this runs folder: its demo failed or was deleted. "
                   "Run the demos again to present it.", icon=":material/warning:")
        _run_button(runs_dir, run_demos_label(again=True), K + "present_rerun")
    else:
        _screen(spec, meta)
    prev, nxt = st.columns(2)
    prev.button("Previous scenario", icon=":material/arrow_back:", width="stretch", disabled=step == 0,
                on_click=lambda: st.session_state.update({STEP: step - 1}))
    nxt.button("Next scenario", icon=":material/arrow_forward:", width="stretch", disabled=step == len(specs) - 1,
               on_click=lambda: st.session_state.update({STEP: step + 1}))


def _screen(spec, meta: dict) -> None:
    from core.workspace.present import analyst_note, get_pitch, plain_verdict

    try:
        pitch = get_pitch(meta)
    except Exception as exc:  # a damaged run file: a message, never a traceback
        show_error(exc)
        return
    verdict, tone = plain_verdict(meta)
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(f"*{escape_markdown(spec.question)}*")
        st.html(f"<div class='pitch-money'><p>{_html(pitch.sentence)}</p></div>")
        st.html(f"<div class='pitch-verdict pitch-{tone}'><b>Verdict:</b> {_html(verdict)}</div>")
        if pitch.assumptions:
            st.caption("Assumptions: " + " · ".join(escape_markdown(a) for a in pitch.assumptions))
    with right:
        if pitch.figure is not None:
            st.plotly_chart(pitch.figure, width="stretch", config={"displayModeBar": False},
                            key=f"{K}pitch_chart.{spec.key}")
        elif pitch.gallery:
            for i, (col, fig) in enumerate(zip(st.columns(2) + st.columns(2), pitch.gallery)):
                col.plotly_chart(fig, width="stretch", config={"displayModeBar": False},
                                 key=f"{K}pitch_gallery.{spec.key}.{i}")
        if pitch.chart_caption:
            st.caption(escape_markdown(pitch.chart_caption))
    note = analyst_note(meta)
    if note:
        st.caption(escape_markdown(note))


def _html(text: str) -> str:
    import html

    return html.escape(str(text))
