"""Credit page, first tab: where the applications come from, and the column roles the model uses."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.credit.pipeline import FEATURE_ROLES, SAMPLE_PATH, guess_target
from core.credit.reasons import humanise
from core.data.datasets import ROLES, check_outcome_column, detect_sensitive, guess_positive, infer_roles
from core.errors import DataValidationError
from core.data.outcome import choose_outcome_rows

from ui.audit import kept_columns, leak_callout
from ui.credit.base import K, fail, load_sample
from ui.outcome import pick_outcome_rows
from ui.upload import FORMATS, TABLE_TYPES, read_table_upload


def get_data() -> tuple[pd.DataFrame | None, str, str, list[str]]:
    """(the applications, the key of what was read, the file's name, notices); (None, "", "", []) until there
    is data."""
    choice = st.radio("Data", ["Bundled sample (5,000 applications)", "Upload my file"], horizontal=True,
                      key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample", SAMPLE_PATH.name, []
    up = st.file_uploader(f"Loan applications ({FORMATS}; one row per application, with an outcome column)",
                          type=TABLE_TYPES, key=K + "upload")
    if up is None:
        st.info("Upload a file to work on your own data, or switch back to the bundled sample.")
        return None, "", "", []
    # Personal data found in the file (left out or hashed), the table / sheet picks, and a failed
    # upload keeping the file read before it.
    got = read_table_upload(up, K + "upload.")
    if got is None:
        return None, "", "", []
    return got.table.df, f"upload:{got.key}", got.name, got.table.notices


def schema_editor(df: pd.DataFrame, data_key: str) -> tuple[str, object, dict, list[str], list | None] | None:
    """The outcome column, its positive value, the column roles, the sensitive columns and the
    values that mean repaid (None: the outcome's other value); None until the choices are complete."""
    if st.session_state.get(K + "schema_key") != data_key:
        st.session_state[K + "schema_key"] = data_key
        st.session_state[K + "roles"] = infer_roles(df)
    roles = st.session_state[K + "roles"]
    cols = list(df.columns)
    target_guess = guess_target(cols) or cols[-1]
    c1, c2 = st.columns(2)
    target = c1.selectbox("Outcome column (target)", cols, index=cols.index(target_guess), key=K + f"target:{data_key}")
    try:
        values = check_outcome_column(df, target)
    except DataValidationError as exc:
        fail(exc)
        return None
    if len(values) < 2:
        fail(DataValidationError(f"Target column '{target}' has only one value ({values[:1]}); a model needs "
                                 "both outcomes. Pick another column or upload data with defaults and repayments."))
        return None
    guess = guess_positive(values)
    positive = c2.selectbox("Value that means default (positive class)", values, index=values.index(guess),
                            key=K + f"positive:{data_key}:{target}", format_func=str)
    # An outcome with more values (good / bad / unknown), or rows without one: what the others mean.
    negatives = pick_outcome_rows(df, target, positive, key=K + f"rest:{data_key}:{target}",
                                  event="default", non_event="repaid")
    # Columns the analyst chose to use as features despite a protected-looking name ("Use as a
    # feature" in the callout below); per upload, so a new file starts from the safe default.
    released = st.session_state.setdefault(K + f"released:{data_key}", [])
    sensitive_default = set(detect_sensitive([c for c in cols if c != target])) - set(released)
    table = pd.DataFrame({
        "column": cols,
        "name": [humanise(c) for c in cols],
        "role": [roles.get(c, "categorical") for c in cols],
        "sensitive": [c in sensitive_default for c in cols],
        "missing": [f"{df[c].isna().mean():.1%}" for c in cols],
        "example": [str(df[c].dropna().iloc[0]) if df[c].notna().any() else "" for c in cols],
    })
    st.markdown("**Columns** — check the guessed roles; sensitive columns are kept out of the model and used "
                "for the fairness check only. Identifier, date and text columns are not used as features.")
    edited = st.data_editor(
        table, key=K + f"schema:{data_key}" + "".join(f":{c}" for c in released), hide_index=True, width="stretch",
        disabled=["column", "name", "missing", "example"],
        column_config={
            "column": st.column_config.TextColumn("Column", help="The column's name in your file"),
            "name": st.column_config.TextColumn("Shown as", help="The plain name the charts and reason codes use"),
            "role": st.column_config.SelectboxColumn("Role", options=list(ROLES), required=True,
                                                     help="How the model uses the column"),
            "sensitive": st.column_config.CheckboxColumn(
                "Sensitive", help="Kept out of the model; used for the fairness check only"),
            "missing": st.column_config.TextColumn("Missing", help="Share of rows with no value"),
            "example": st.column_config.TextColumn("Example", help="The first value in the file")},
    )
    new_roles = dict(zip(edited["column"], edited["role"]))
    sensitive = [c for c, s in zip(edited["column"], edited["sensitive"]) if s and c != target]
    sensitive_callout(sensitive, data_key)
    usable = [c for c, r in new_roles.items() if r in FEATURE_ROLES and c != target and c not in sensitive]
    if not usable:
        fail(DataValidationError(
            f"No column is left for the model to learn from: besides the outcome '{target}', every column is "
            "an identifier, a date, free text or marked sensitive. Fix: set the role of at least one column to "
            "numeric or categorical in the table above (or untick 'sensitive'), or upload a file with "
            "applicant attributes such as income, loan amount or debt ratio."))
        return None
    if negatives is False:  # the analyst has not yet said what the other outcome values mean
        return None
    return target, positive, new_roles, sensitive, negatives


def sensitive_callout(sensitive: list[str], data_key: str) -> None:
    """Say which columns are kept out of the model, and offer one click to use each as a feature."""
    if not sensitive:
        return
    names = ", ".join(f"`{c}`" for c in sensitive)
    with st.container(border=True):
        st.markdown(f":material/shield_person: **Kept out of the model: {names}.** "
                    + ("It looks like a protected attribute, so the model does not use it; it is used only "
                       "for the fairness check. Using it may raise accuracy, but lending decisions based on "
                       "it can be unlawful discrimination." if len(sensitive) == 1 else
                       "They look like protected attributes, so the model does not use them; they are used "
                       "only for the fairness check. Using one may raise accuracy, but lending decisions based "
                       "on it can be unlawful discrimination."))
        buttons = st.columns(min(len(sensitive), 4))
        for i, col in enumerate(sensitive):
            if buttons[i % len(buttons)].button(f"Use {col} as a feature", key=K + f"release:{data_key}:{col}",
                                                icon=":material/add_circle:"):
                st.session_state[K + f"released:{data_key}"].append(col)
                st.rerun()


def outcome_rows(df: pd.DataFrame, data_key: str, schema) -> tuple | None:
    """(the rows to train on, target, positive, roles, sensitive, notices, their key): the rows whose outcome
    is the positive value or one picked as repaid (``core.data.outcome.choose_outcome_rows``), once per choice;
    None, with the message shown, when they cannot be chosen."""
    target, positive, roles, sensitive, negatives = schema
    sig = (data_key, target, str(positive), None if negatives is None else tuple(map(str, negatives)))
    if st.session_state.get(K + "outcome_sig") != sig:
        try:
            st.session_state[K + "outcome"] = (*choose_outcome_rows(df, target, positive=positive, negative=negatives),
                                               None)
        except DataValidationError as exc:
            st.session_state[K + "outcome"] = (None, [], exc)
        st.session_state[K + "outcome_sig"] = sig
    rows, notices, err = st.session_state[K + "outcome"]
    if err is not None:
        fail(err)
        return None
    return rows, target, positive, roles, sensitive, notices, repr(sig[2:])


def leak_check(df: pd.DataFrame, data_key: str, schema, *, rows_key: str = "") -> list[str] | None:
    """The leakage audit training will run (the form's default split), with one click to keep each suspect;
    returns the columns kept, or None (with the message shown) when the data cannot be audited. ``rows_key``
    names the rows ``df`` holds (the outcome values kept), so a new choice is audited again."""
    from core.credit.pipeline import get_credit_audit

    target, positive, roles, sensitive = schema
    keep_key = K + f"keep_leaks:{data_key}"
    keep = [c for c in kept_columns(keep_key) if c in df.columns]
    sig = (data_key, rows_key, target, str(positive), tuple(sorted(roles.items())), tuple(sensitive), tuple(keep))
    if st.session_state.get(K + "audit_sig") != sig:
        try:
            st.session_state[K + "audit"] = (get_credit_audit(df, target=target, positive=positive, roles=roles,
                                                              sensitive=sensitive, keep=keep), None)
        except DataValidationError as exc:
            st.session_state[K + "audit"] = (None, exc)
        st.session_state[K + "audit_sig"] = sig
    audit, err = st.session_state[K + "audit"]
    if err is not None:
        fail(err)
        return None
    leak_callout(audit, keep_key, button_key=K + f"leak:{data_key}")
    return keep
