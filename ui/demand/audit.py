"""Demand page, the leakage audit before training: each covariate's role (read for the forecast period, or
past values only) and why, with one click to change it. The work is in core.demand.leakage."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.audit import KEPT, LeakAudit
from core.demand.leakage import apply_audit, audit_sales, hold_periods, known_ahead
from core.data.safety import escape_markdown

from ui.demand.base import DEFAULT_H, K

PREVIEW_ORIGINS = 2  # the training form's default backtest origins: the preview's training rows


def get_audit(sales, join, *, hold: int, keep=(), lag=(), seed: int = 0) -> LeakAudit:
    """The audit of these sales on their training rows, worked out once per data, split and choices."""
    sig = (id(sales), id(join), hold, tuple(keep), tuple(lag), seed)
    if st.session_state.get(K + "audit_sig") != sig:
        st.session_state[K + "audit"] = audit_sales(sales, hold=hold, known=known_ahead(join, sales), keep=keep,
                                                    lag=lag, seed=seed)
        st.session_state[K + "audit_sig"] = sig
    return st.session_state[K + "audit"]


def covariate_audit(sales, join, data_key: str) -> dict:
    """The audit's notice, one button per suspect to read it for the forecast period anyway, the covariate
    role table and a picker for covariates the analyst knows are observed; returns the choices (``keep``,
    ``lag``) for ``train``, which audits again on the training rows of the horizon and origins chosen."""
    if not sales.covariates:
        return {"keep": (), "lag": ()}
    kept = st.session_state.setdefault(K + f"audit_keep:{data_key}", [])
    keep = tuple(c for c in sales.covariates if c in kept)
    lag = tuple(c for c in st.session_state.get(K + f"audit_lag:{data_key}", []) if c in sales.covariates)
    audit = get_audit(sales, join, hold=hold_periods(DEFAULT_H[sales.frequency], PREVIEW_ORIGINS), keep=keep, lag=lag)
    st.markdown("**Leakage audit: which covariates may be read for the period being forecast**")
    suspects = [f for f in audit.findings if f.action != KEPT]
    if suspects:
        st.warning(
            "**Not known in advance — used through their past values only:**\n\n"
            + "\n".join(f"- {escape_markdown(f.evidence)}." for f in {f.evidence: f for f in suspects}.values())
            + "\n\nTheir value for a period is known only once the period is over, so the network reads them up to "
            "the forecast origin (the newest value it sees for step h is h periods old). Read for the forecast "
            "period, they would give a backtest error no real forecast can reach. Press **Keep …** below to read "
            "one for the forecast period anyway.", icon=":material/policy:")
    for f in audit.findings:
        if f.action == KEPT:
            st.warning(f"Read for the forecast period at your request: {escape_markdown(f.evidence)}. The backtest "
                       "error will look "
                     "better than real forecasts can be.", icon=":material/warning:")
    flagged = [f.column for f in audit.findings]
    if flagged:
        buttons = st.columns(min(len(flagged), 4))
        for i, c in enumerate(flagged):
            name = escape_markdown(c)
            label, why = ((f"Past only: {name}", f"Read {name} through its past values only again") if c in keep else
                          (f"Keep {name}", f"Read {name}'s value for the forecast period (a same-period input)"))
            if buttons[i % len(buttons)].button(label, key=K + f"audit_toggle:{data_key}:{c}", help=why,
                                                icon=":material/history:" if c in keep else ":material/lock_open:"):
                st.session_state[K + f"audit_keep:{data_key}"] = ([k for k in kept if k != c] if c in keep
                                                                  else [*kept, c])
                st.rerun()
    st.dataframe(pd.DataFrame(audit.roles, columns=["column", "role", "why"]), hide_index=True, width="stretch",
                 key=K + "audit_roles", column_config={"column": st.column_config.TextColumn("Covariate", width="small"),
                                                       "role": st.column_config.TextColumn("Role", width="small"),
                                                       "why": st.column_config.TextColumn("Why", width="large")})
    others = [c for c in sales.covariates if c not in flagged]
    if others:
        st.multiselect("Also observed with demand (past values only), e.g. footfall or measured weather", others,
                       default=[c for c in lag if c in others], key=K + f"audit_lag:{data_key}")
    st.caption(f"Measured on the {audit.rows:,} training periods (before a held-out backtest of "
               f"{DEFAULT_H[sales.frequency]} periods × {PREVIEW_ORIGINS} origins; checked again on the split you "
               "train with). Calendar, prices, promotions, markdowns, holidays and values a covariates file gives "
               "for the forecast horizon are known in advance.")
    return {"keep": keep, "lag": tuple(st.session_state.get(K + f"audit_lag:{data_key}", lag))}


def audited(sales, join, opts: dict):
    """The sales to train on: audited on the training rows of the chosen horizon and origins, with the
    analyst's choices; observed covariates as past values only."""
    audit = audit_sales(sales, hold=hold_periods(opts["horizon"], opts["origins"]), known=known_ahead(join, sales),
                        keep=opts.get("keep", ()), lag=opts.get("lag", ()), seed=opts.get("seed", 0))
    return apply_audit(sales, audit)


def show_run_audit(run) -> None:
    """What the trained model's covariates were, from the audit saved with its data report."""
    audit = LeakAudit.from_dict(run.data.report.leakage)
    if audit is None or not audit.roles:
        return
    past = [r["column"] for r in audit.roles if r["role"] == "past values only"]
    kept = audit.kept
    text = (f"Past values only (observed with demand): {', '.join(past)}." if past else
            "Every covariate was read for the forecast period (known in advance).")
    if kept:
        text += f" Kept as same-period inputs at your request although flagged: {', '.join(kept)}."
    st.caption(f":material/policy: Leakage audit on {audit.rows:,} training periods — {escape_markdown(text)}")
