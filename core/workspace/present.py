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
