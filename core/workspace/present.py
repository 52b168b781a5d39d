"""Presenter mode: one sentence per scenario of what its latest model found and what it is worth."""

from __future__ import annotations

from core.trust import Trust
from core.workspace.runs import format_figure, get_headline

VERDICT_WORDS = {"better": "better than {b}, outside the noise", "on par": "on par with {b}",
                 "worse": "behind {b}"}


def _verdict(d):
    from core.verdict import Verdict

    try:
        return Verdict.from_dict(d) if isinstance(d, dict) else None
    except (TypeError, ValueError):
        return None


def presenter_sentence(title: str, meta: dict | None) -> str:
    """``"Credit scoring: the network reaches ROC-AUC 0.781 (on par with logistic regression); loss
    avoided €218,000."`` — from the run's saved headline, or what to do when there is no run. A run
    whose figures must not be trusted (``core.trust``) ends with its warnings in bold:
    ``"... Not a result to present: **No better than chance**."``"""
    if meta is None:
        return f"{title}: no saved run yet — run the demos or train and save a model on its page."
    head = get_headline(meta)
    quality = [f for f in head["quality"] if isinstance(f, dict) and f.get("value") is not None]
    impact = [f for f in head["impact"] if isinstance(f, dict) and f.get("value") is not None]
    parts = []
    if quality:
        q = quality[0]
        found = f"the model reaches {q.get('label', 'a score of')} {format_figure(q)}"
        verdict = _verdict(head.get("verdict"))
        if verdict is not None:
            found += f" ({VERDICT_WORDS[verdict.outcome].format(b=verdict.baseline.lower())})"
        parts.append(found)
    if impact:
        parts.append(f"{str(impact[0].get('label', 'worth')).lower()} {format_figure(impact[0])}")
    if not parts:
        return f"{title}: the latest run was saved without headline figures."
    trust = Trust.from_saved(head.get("trust"))
    warning = "" if trust is None or trust.trusted else (
        " Not a result to present: " + "; ".join(f"**{h}**" for h in trust.headlines()) + ".")
    return f"{title}: " + "; ".join(parts) + "." + warning


# ---------------------------------------------------------------- presenter screens (one per scenario)
PLAIN_VERDICT = {
    "better": "Better than the best simple rule ({b}), outside the noise.",
    "on par": "Not better than the best simple rule ({b}): the difference is within the noise — do not present "
              "it as a win.",
    "worse": "The simple rule ({b}) does better than the model — do not present it as a win.",
}


def get_demo_runs(root) -> tuple[dict[str, dict], list[str]]:
    """The newest run "Run all four demos" saved for each scenario under ``root`` (by the demo's run name,
    ``core.runsummary.demo_run_name``), and notes on skipped runs; runs the analyst saved are left out."""
    from core.registry import list_runs
    from core.runsummary import demo_run_name
    from core.scenarios import scenario_keys
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
    """The scenario's presenter screen for a saved run (``core.pitch.Pitch``), through its ``pitch`` hook;
    a plain 'cannot be stated' screen for a scenario without one."""
    from pathlib import Path

    from core.pitch import Pitch
    from core.scenarios import get_scenario

    spec = get_scenario(meta.get("scenario"))
    hook = getattr(spec, "pitch", None)
    run_dir = Path(meta["path"]) if meta.get("path") else None
    pitch = hook(meta, run_dir) if callable(hook) else None
    if pitch is None:
        return Pitch(sentence=f"The {spec.title.lower()} scenario states no yearly value in presenter mode yet.",
                     missing=["a presenter screen for this scenario"])
    return pitch
