"""Overview: the scenarios found (counted and named by ``core.workspace.overview``), the headline figures of
each one's latest saved run, a button that runs every demo, presenter mode over the demo runs
(``ui/present.py``), and the device models train on."""

import time

import streamlit as st

from core.store.scenarios import SCENARIOS
from core.store.runmeta import headline, workspace
from core.ml.verdict import Verdict
from core.workspace.overview import demo_keys, demo_runs_phrase, demos_scope, run_demos_label, scenarios_sentence
from core.workspace.runs import get_recommended_text
from core.workspace.summary import format_figure, get_latest_runs
from ui.common import ensure_router, fit_metric_values, show_device
from ui.present import demos_panel, run_demos, show_presenter
from ui.trust import show_saved_trust
from ui.workspace import current_runs_dir, link_to_workspace_pages, runs_dir_label

ensure_router()

K = "home."
PRESENT = K + "present"

st.title("AI Use-Case Studio")
st.toggle("Presenter mode", key=PRESENT, help=f"Hides the settings and walks {demo_runs_phrase()}, one screen "
          "each: what the model is worth in money a year, the chart behind it and the honest verdict.")
runs_dir = current_runs_dir()  # the folder Runs and Score show, and the scenario pages save into
latest, skipped = get_latest_runs(runs_dir)
if st.session_state.get(PRESENT):
    show_presenter(runs_dir)
    st.stop()
fit_metric_values()
st.markdown(
    "Take an industry scenario from **raw data** to a **trained Keras model**, its **metrics**, the "
    "**business decision** it drives and an **explanation of every prediction** — in the browser, "
    f"without code. {scenarios_sentence()} A scenario with bundled sample data opens on it; upload your own "
    "file to work on yours."
)

with st.container(border=True):
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    c1.markdown(f"**{run_demos_label()}** — trains {demos_scope()} on its sample data with fast demo settings "
                "(a few epochs each) and saves each as a run, so the figures below fill in. Under a minute "
                "on a laptop, a few minutes on a small cloud server.")
    # The click only leaves a request in session state; the script then runs the demos here, under
    # the button, with a progress bar (a rerun between click and body cannot lose the request).
    c2.button(run_demos_label(), key=K + "run_demos", type="primary", icon=":material/play_arrow:",
              width="stretch", on_click=lambda: st.session_state.update({K + "demos_requested": True}))
    if st.session_state.pop(K + "demos_requested", False):
        run_demos(runs_dir)
    demos_panel()
    report = st.session_state.get(K + "demo_report")
    if report:
        if report["saved"]:
            st.success(f"{len(report['saved'])} demo run(s) saved in {report['seconds']:.0f} s: "
                       + ", ".join(f"{SCENARIOS[k].title} (`{v}`)" for k, v in report["saved"].items()),
                       icon=":material/check_circle:")
        for key, flags in report.get("trust", {}).items():
            show_saved_trust(flags, prefix=f"{SCENARIOS[key].title} demo: ")
        for key, msg in report["errors"].items():
            st.error(f"{SCENARIOS[key].title} demo failed: {msg}", icon=":material/error:")

def verdict_line(verdict: dict) -> str:
    """'On par with logistic regression (ROC-AUC +0.002, 95% interval -0.010 to +0.014)'."""
    v = Verdict.from_dict(verdict)
    words = {"better": f":green[**Better than {v.baseline}**]", "on par": f"**On par with {v.baseline}**",
             "worse": f":orange[**{v.baseline.capitalize()} does better**]"}[v.outcome]
    return (f"{words} ({v.metric} {v.diff:+.3f}, {v.level:.0%} interval {v.low:+.3f} to {v.high:+.3f} on the "
            "test rows)")


def show_latest(meta: dict | None, has_demo: bool = True) -> None:
    """The headline of a scenario's newest saved run, or a plain 'no run yet' (and the demo button, when the
    scenario has a demo)."""
    if meta is None:
        st.markdown("**Latest run:** no run yet. Train on the scenario page and press *Save to workspace*"
                    + (f", or *{run_demos_label()}* above." if has_demo else "."))
        return
    ws = workspace(meta)
    saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(meta.get("saved_at", 0))))
    st.markdown(f"**Latest run:** {ws.get('name') or meta.get('run_id')} · saved {saved}")
    head = headline(meta)
    show_saved_trust(head.get("trust"))  # before the figures: they must not be read as a result
    rows = [figs[:3] for figs in (head.get("quality") or [], head.get("impact") or []) if figs]
    if not rows:
        st.caption("Saved without headline figures (an older run, or saved before the workspace existed).")
        return
    for figs in rows:  # model quality on one row, money on the next
        for col, fig in zip(st.columns(3), figs):
            col.metric(fig.get("label", ""), format_figure(fig))
    recommended = get_recommended_text(meta)
    if recommended:
        st.markdown(f"**Recommended model:** {recommended}")
    verdict = head.get("verdict")
    if isinstance(verdict, dict):
        st.markdown(verdict_line(verdict))
    if head.get("assumptions"):
        st.caption("Assumptions: " + " · ".join(head["assumptions"]))


cols = st.columns(2)
with_demo = set(demo_keys())
for i, spec in enumerate(SCENARIOS.values()):
    with cols[i % 2].container(border=True):
        st.subheader(f"{spec.icon} {spec.title}")
        st.markdown(f"*{spec.question}*")
        st.markdown(spec.summary)
        st.caption(f"Data: {spec.data_format}")
        show_latest(latest.get(spec.key), spec.key in with_demo)
        if spec.available:
            st.page_link(spec.page, label=f"Open {spec.title.lower()}", icon=":material/arrow_forward:")
        else:
            st.info("Not built yet: this scenario is on the roadmap and has no page in this version.")

st.caption(f"Saved runs are read from {runs_dir_label(runs_dir)}"
           + (f"; {len(skipped)} damaged or incompatible run(s) skipped." if skipped else "."))
link_to_workspace_pages()
st.divider()
st.markdown(
    "**How every scenario works:** load → validate → split → preprocess (fitted on training rows "
    "only) → rebalance the rare class → train a Keras network beside scikit-learn baselines → "
    "evaluate → decide with costs → explain with SHAP → export."
)
# The device line comes last: it may ask the GPU driver, and the rest of the page
# should not wait for it.
device_slot = st.empty()
device_slot.caption(":material/memory: Detecting the compute device…")
show_device(device_slot)
