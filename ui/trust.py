"""The flags of ``core.report.trust`` on a page: one red box per flag, its headline in bold, then why and
what to do. The scenario pages, the Overview (cards, presenter mode, the demos' result) and the Runs
page all draw them here, so a result that must not be trusted reads the same everywhere."""

from __future__ import annotations

import streamlit as st

from core.data.safety import escape_markdown
from core.report.trust import Trust

ICON = ":material/report:"


def trust_markdown(flag) -> str:
    """``**No better than chance.** The network's ROC-AUC is ...``: the headline a bold sentence of its
    own (one of them holds a dash already: "Too good to be true — check for leakage"); the why may
    quote class names, so both are shown as typed."""
    return f"**{escape_markdown(flag.headline)}.** {escape_markdown(flag.why)}"


def show_trust(trust: Trust | None, container=None, *, prefix: str = "") -> None:
    """A box per flag (nothing for a trusted result, or a run saved before flags were recorded).
    ``prefix``: words before each headline, e.g. the scenario's name in the demos' result."""
    if trust is None or trust.trusted:
        return
    target = container if container is not None else st
    for flag in trust.flags:
        target.error(f"{escape_markdown(prefix)}{trust_markdown(flag)}", icon=ICON)


def show_saved_trust(saved, container=None, *, prefix: str = "") -> None:
    """The flags saved with a run (``headline.trust``); a run saved without them shows nothing."""
    show_trust(Trust.from_saved(saved), container, prefix=prefix)
