"""Fraud page, data steps: the transaction log, its column mapping, what it holds, and the time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.datasets import check_outcome_column, guess_positive
from core.errors import DataValidationError
from core.outcome import as_binary_labels
from core.safety import escape_markdown
from core.fraud.columns import ROLE_NAMES, detect_columns, extra_feature_columns, make_columns, prepare_log
from core.fraud.features import FeatureConfig, compute_features
from core.glossary import feature_label
from core.fraud.split import split_by_time, suggest_split

from ui.audit import kept_columns, leak_callout
from ui.fraud.base import K, MAX_ROWS, NONE, fail, load_sample
from ui.outcome import pick_outcome_rows
from ui.upload import FORMATS, TABLE_TYPES, read_table_upload


def get_data():
    choice = st.radio("Data", ["Bundled sample (~100,000 transactions, 9 weeks)", "Upload my file"],
                      horizontal=True, key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample"
    up = st.file_uploader(f"Transaction log ({FORMATS}): timestamp, amount, customer/card id, "
                          "terminal/merchant id, fraud label", type=TABLE_TYPES, key=K + "file")
    if up is not None:
        # Personal data found (left out or hashed), the table / sheet picks, and a failed upload
        # keeping the log read before it.
        got = read_table_upload(up, K + "upload.", max_rows=None)
        if got is None:
            return None, ""
        if not got.kept or K + "upload" not in st.session_state:
            st.session_state[K + "upload"] = (got.table.df, up.name, f"upload:{up.name}|{got.key}")
        return got.table.df, st.session_state[K + "upload"][2]  # a kept earlier file keeps its own name
    if K + "upload" not in st.session_state:
        st.info("Upload a transaction log, or switch back to the bundled sample.")
        return None, ""
    df, name, key = st.session_state[K + "upload"]
    st.caption(f"Using the file uploaded earlier: {name}")
    return df, key or f"upload:{name}"


def column_mapping(df: pd.DataFrame, key: str):
    guess = detect_columns(df)
    cols = [str(c) for c in df.columns]
    st.markdown("**Column mapping**")
    picks = {}
    for slot, role in zip(st.columns(5), ("time", "amount", "customer", "terminal", "target")):
        optional = role in ("customer", "terminal")
        options = ([NONE] if optional else ["(choose)"]) + cols
        default = options.index(guess[role]) if guess[role] in options else 0
        picks[role] = slot.selectbox(ROLE_NAMES[role].capitalize(), options, index=default,
                                     key=f"{K}map:{key}:{role}")
    chosen = {r: (None if v in (NONE, "(choose)") else v) for r, v in picks.items()}
    return make_columns(df, **chosen)


def label_values(df: pd.DataFrame, cols, key: str) -> tuple[pd.DataFrame | None, str]:
    """(the log, its key) with the fraud label as 0/1 when the file spells it otherwise (+/-, Y/N,
    fraud / ok / pending …): the analyst picks the value that means fraud and, with more than two,
    what the others mean; rows left out are said. The log as it is when the label reads as 0/1 or
    yes/no already; (None, "") while the choice is not made."""
    from core.fraud.columns import parse_labels

    target = cols.target
    if not target:
        return df, key
    try:
        if not np.isnan(parse_labels(df[target], target)).any():
            return df, key
    except DataValidationError:
        pass
    values = check_outcome_column(df, target)
    if len(values) < 2:
        return df, key  # the log check says there is no fraud to learn from
    positive = st.selectbox(f"Value of '{target}' that means fraud", values, key=f"{K}positive:{key}:{target}",
                            index=values.index(guess_positive(values)), format_func=str)
    negatives = pick_outcome_rows(df, target, positive, key=f"{K}rest:{key}:{target}", event="fraud",
                                  non_event="legitimate")
    if negatives is False:
        return None, ""
    sig = (key, target, str(positive), None if negatives is None else tuple(map(str, negatives)))
    if st.session_state.get(K + "labels_sig") != sig:
        st.session_state[K + "labels"] = as_binary_labels(df, target, positive=positive, negative=negatives)
        st.session_state[K + "labels_sig"] = sig
    rows, _, notices = st.session_state[K + "labels"]
    for n in notices:
        st.caption(escape_markdown(n))
    return rows, f"{key}|{positive}|{sig[3]}"


def prepared(df, cols, key):
    """The validated, time-sorted log, kept per data and mapping (cheap reruns)."""
    cache_key = (key, tuple(cols.roles().items()))
    if st.session_state.get(K + "prep_key") != cache_key:
        st.session_state[K + "prep"] = prepare_log(df, cols)
        st.session_state[K + "prep_key"] = cache_key
    return st.session_state[K + "prep"]


def keep_recent(log: pd.DataFrame) -> pd.DataFrame:
    """The log, cut to the most recent MAX_ROWS transactions (said on screen) when longer."""
    if len(log) > MAX_ROWS:
        # Keep the most recent rows, never a random sample: windows need every transaction.
        st.warning(f"The file has {len(log):,} transactions; the app keeps the {MAX_ROWS:,} most recent "
                   "(the command line has no limit).")
        log = log.iloc[-MAX_ROWS:].reset_index(drop=True)
    return log


def show_log(log: pd.DataFrame, cols) -> FeatureConfig:
    """Transactions, fraud rate, days and cards, and the engineered features; returns the feature settings."""
    t = log[cols.time]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Transactions", f"{len(log):,}")
    c2.metric("Fraud rate", f"{log[cols.target].mean():.2%}")
    c3.metric("Days", f"{(t.max().normalize() - t.min().normalize()).days + 1}")
    c4.metric("Cards", f"{log[cols.customer].nunique():,}" if cols.customer else "–")
    st.caption(f"From {t.min():%Y-%m-%d %H:%M} to {t.max():%Y-%m-%d %H:%M}.")
    fcfg_delay = st.session_state.get(K + "delay", 7)
    fcfg = FeatureConfig(delay_days=int(fcfg_delay))
    with st.expander("Engineered features (computed from each transaction's past only)"):
        extra = extra_feature_columns(log.drop(columns="_row"), cols)
        fs = compute_features(log.head(50), cols, config=fcfg, extra=extra)
        st.dataframe(pd.DataFrame({"Feature": [feature_label(n) for n in fs.names], "Column": fs.names,
                              "What it measures": [fs.descriptions[n] for n in fs.names]}), hide_index=True, width="stretch")
    return fcfg


def time_split(log: pd.DataFrame, cols, data_key: str) -> dict | None:
    """The train / test dates, gap and known-card rule, checked on the log; None (with the message
    shown) when the split does not work."""
    t = log[cols.time]
    st.markdown("**Time split** — earlier rows are history for the features; the gap mirrors "
                "the delay before fraud labels are known.")
    auto_train, auto_test = suggest_split(t, gap_days=7)
    c1, c2, c3, c4 = st.columns(4)
    train_start = c1.date_input("Train from", auto_train.date(), key=f"{K}train_start:{data_key}")
    test_start = c2.date_input("Test from", auto_test.date(), key=f"{K}test_start:{data_key}")
    gap = c3.number_input("Gap (days)", 0, 60, 7, key=K + "gap")
    c4.number_input("Label delay for terminal risk (days)", 0, 60, 7, key=K + "delay")
    drop_known = st.checkbox("Set aside test transactions of cards already known to be compromised "
                             "(handbook convention)", True, key=K + "drop_known")
    try:
        split = split_by_time(log, cols, train_start=train_start, test_start=test_start,
                              gap_days=int(gap), drop_known_cards=drop_known)
        s = split.summary()
        st.caption(f"History: {s['history']} · Train: {s['train']} · Gap: {s['gap_days']} days · "
                   f"Test: {s['test']}")
    except DataValidationError as exc:
        fail(exc)
        return None
    return dict(gap=int(gap), train_start=train_start, test_start=test_start, drop_known=drop_known)


def leak_check(log: pd.DataFrame, cols, split: dict, data_key: str) -> list[str]:
    """The leakage audit training will run on this split's training rows, with one click to keep each suspect;
    returns the columns kept."""
    from core.fraud.pipeline import FraudConfig, get_fraud_audit

    keep_key = K + f"keep_leaks:{data_key}"
    keep = [c for c in kept_columns(keep_key) if c in log.columns]
    sig = (data_key, tuple(cols.roles().items()), len(log), str(split["train_start"]), str(split["test_start"]),
           split["gap"], split["drop_known"], tuple(keep))
    if st.session_state.get(K + "audit_sig") != sig:
        config = FraudConfig(train_start=split["train_start"], test_start=split["test_start"], gap_days=split["gap"],
                             drop_known_cards=split["drop_known"], keep_columns=tuple(keep))
        st.session_state[K + "audit"] = get_fraud_audit(log, cols, config)
        st.session_state[K + "audit_sig"] = sig
    leak_callout(st.session_state[K + "audit"], keep_key, button_key=K + f"leak:{data_key}")
    return keep
