"""The leakage audit's notice before training on the credit and fraud pages: each suspected column with its
evidence, and one click to keep it as a model input. The audit itself is in core.audit."""

from __future__ import annotations

import streamlit as st

from core.audit import KEPT, MAPPED, NOT_INPUT, LeakAudit
from core.data.safety import escape_markdown


def kept_columns(keep_key: str) -> list[str]:
    """The suspects the analyst chose to keep (per data: a new file starts from the safe default)."""
    return list(st.session_state.setdefault(keep_key, []))


def leak_callout(audit: LeakAudit | None, keep_key: str, *, button_key: str) -> None:
    """Say which columns are left out as possible leaks and why, with a button to keep each (and to leave a
    kept one out again); identifiers that encode the outcome are only reported (they are never inputs), and
    a column mapped to a role (the fraud amount) stays an input with a warning."""
    if audit is None:
        return
    if not audit.findings:
        st.caption(f":material/policy: Leakage audit: no column gives the outcome away ({len(audit.checked)} input "
                   f"columns checked on {audit.rows:,} training rows).")
        return
    with st.container(border=True):
        left = [f for f in audit.findings if f.action not in (KEPT, NOT_INPUT, MAPPED)]
        if left:
            st.markdown(":material/policy: **Left out of the model as possible leaks** — each gives the outcome "
                        "away on the training rows, so a model using it would look far better than it is on new "
                        "cases:\n\n" + "\n".join(f"- {escape_markdown(f.evidence)}." for f in left))
        for f in audit.findings:
            if f.action == MAPPED:  # a mapped role (the fraud amount) is never left out: a warning instead
                st.warning(escape_markdown(f.mapped_warning()), icon=":material/warning:")
            elif f.action == KEPT:
                st.warning(f"Kept as a model input at your request: {escape_markdown(f.evidence)}. Keep it only if "
                           "it is known before the outcome; the figures may look better than they will be.",
                           icon=":material/warning:")
            elif f.action == NOT_INPUT:
                st.info(f"{escape_markdown(f.evidence[:1].upper() + f.evidence[1:])}: an identifier, never a model "
                        "input, but it encodes the "
                        "outcome. The file may have been put together from separate extracts per outcome; check "
                        "that the other columns were recorded the same way for every row.", icon=":material/badge:")
        cols = [f for f in audit.findings if f.action not in (NOT_INPUT, MAPPED)]
        if not cols:
            return
        buttons = st.columns(min(len(cols), 4))
        for i, f in enumerate(cols):
            kept = f.action == KEPT
            name = escape_markdown(f.column)
            label = f"Leave {name} out" if kept else f"Keep {name} as a feature"
            if buttons[i % len(buttons)].button(label, key=f"{button_key}:{f.column}",
                                                icon=":material/remove_circle:" if kept else ":material/add_circle:"):
                now = kept_columns(keep_key)
                st.session_state[keep_key] = [c for c in now if c != f.column] if kept else [*now, f.column]
                st.rerun()
