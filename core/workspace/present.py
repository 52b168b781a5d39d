"""Presenter mode: one screen per scenario for the demo runs, in money a year, a chart and a plain verdict.

The scenario's own ``pitch`` hook (``core/<name>/pitch.py``) builds the money sentence and the chart
(``get_pitch``); the verdict in plain words and the analysts' line are the same for every scenario.
"""

from __future__ import annotations

from core.report.trust import Trust
from core.workspace.runs import format_figure, get_headline


def _verdict(d):
    from core.ml.verdict import Verdict

    try:
        return Verdict.from_dict(d) if isinstance(d, dict) else None
    except (TypeError, ValueError):
        return None


PLAIN_VERDICT = {
    "better": "Better than the best simple rule ({b}), outside the noise.",
    "on par": "Not better than the best simple rule ({b}): the difference is within the noise — do not present "
              "it as a win.",
    "worse": "The simple rule ({b}) does better than the model — do not present it as a win.",
}


def get_demo_runs(root) -> tuple[dict[str, dict], list[str]]:
    """The newest run the demo button saved for each scenario under ``root`` (by the demo's run name,
    ``core.report.runsummary.demo_run_name``), and notes on skipped runs; runs the analyst saved are left out."""
    from core.store.registry import list_runs
    from core.report.runsummary import demo_run_name
    from core.store.scenarios import scenario_keys
    from core.workspace.runs import get_run_name

    runs, skipped = list_runs(root)
    demos: dict[str, dict] = {}
    for meta in runs:  # newest first
        key = str(meta.get("scenario"))
        if key in scenario_keys() and get_run_name(meta) == demo_run_name(key):
            demos.setdefault(key, meta)
    return demos, skipped


def plain_verdict(meta: dict) -> tuple[str, str]:
    """The run's verdict in plain words and its tone (``"good"``, ``"warn"`` or ``"none"``): trust warnings
    first ("Not a result to present: ..."), then the saved comparison with the best simple rule."""
    head = get_headline(meta)
    trust = Trust.from_saved(head.get("trust"))
    if trust is not None and not trust.trusted:
        return "Not a result to present: " + "; ".join(trust.headlines()) + ".", "warn"
    verdict = _verdict(head.get("verdict"))
    if verdict is None:
        return ("No comparison with a simple rule was saved with this run, so it cannot be called better than "
                "one.", "none")
    return PLAIN_VERDICT[verdict.outcome].format(b=verdict.baseline.lower()), (
        "good" if verdict.outcome == "better" else "warn")


def analyst_note(meta: dict) -> str:
    """The figures behind the screen for analysts, acronyms and all, in one small line."""
    head = get_headline(meta)
    figs = [f"{f.get('label')} {format_figure(f)}" for f in head["quality"][:3]
            if isinstance(f, dict) and f.get("value") is not None]
    verdict = _verdict(head.get("verdict"))
    if verdict is not None:
        figs.append(f"{verdict.metric} vs {verdict.baseline.lower()} {verdict.diff:+.3f} "
                    f"({verdict.level:.0%} interval {verdict.low:+.3f} to {verdict.high:+.3f})")
    return "For analysts: " + " · ".join(figs) if figs else ""


def get_pitch(meta: dict):
    """The scenario's presenter screen for a saved run (``core.report.pitch.Pitch``), through its ``pitch`` hook;
    a plain 'cannot be stated' screen for a scenario without one."""
    from pathlib import Path

    from core.report.pitch import Pitch
    from core.store.scenarios import get_scenario

    spec = get_scenario(meta.get("scenario"))
    hook = getattr(spec, "pitch", None)
    run_dir = Path(meta["path"]) if meta.get("path") else None
    pitch = hook(meta, run_dir) if callable(hook) else None
    if pitch is None:
        return Pitch(sentence=f"The {spec.title.lower()} scenario states no yearly value in presenter mode yet.",
                     missing=["a presenter screen for this scenario"])
    return pitch
