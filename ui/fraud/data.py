"""Fraud page, data steps: the transaction log, its column mapping, what it holds, and the time split."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from core.data.datasets import check_outcome_column, guess_positive
from core.errors import DataValidationError
from core.data.outcome import as_binary_labels
from core.data.safety import escape_markdown
from core.fraud.clock import CHOICES, is_numeric_time
from core.fraud.columns import (KEY_ROLE, ROLE_NAMES, customer_key_rule, detect_columns, extra_feature_columns,
                                lost_key_notice, make_columns, prepare_log)
from core.fraud.features import FeatureConfig, compute_features
from core.present.glossary import feature_label
from core.fraud.split import SHORT_DAYS, fit_to_span, split_by_time, suggest_split

from ui.audit import kept_columns, leak_callout
from ui.fraud.base import K, MAX_ROWS, NONE, fail, load_sample
from ui.outcome import pick_outcome_rows
from ui.privacy import session_key_rule
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
        # keeping the log read before it. A card number that is also the customer key is kept as a
        # keyed pseudonym (this session's secret).
        got = read_table_upload(up, K + "upload.", max_rows=None,
                                keys=session_key_rule(pick=customer_key_rule(), role=KEY_ROLE))
        if got is None:
            return None, ""
        if not got.kept or K + "upload" not in st.session_state:
            st.session_state[K + "upload"] = (got.table.df, up.name, f"upload:{up.name}|{got.key}")
        df, key = got.table.df, st.session_state[K + "upload"][2]  # a kept earlier file keeps its own name
    elif K + "upload" not in st.session_state:
        st.info("Upload a transaction log, or switch back to the bundled sample.")
        return None, ""
    else:
        df, name, key = st.session_state[K + "upload"]
        st.caption(f"Using the file uploaded earlier: {name}")
        key = key or f"upload:{name}"
    lost = lost_key_notice(df)
    if lost:
        st.warning(lost, icon=":material/person_off:")
    return df, key


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
    unit = "auto"
    if chosen["time"] and is_numeric_time(df[chosen["time"]]):
        # Numbers, not dates: elapsed time since the log's start, in a unit guessed or chosen here.
        unit = st.columns(5)[0].selectbox(
            "Time unit", CHOICES, key=f"{K}unit:{key}:{chosen['time']}",
            format_func=lambda u: "automatic" if u == "auto" else u,
            help="The time column holds numbers: time since the log's start. Automatic reads the unit from the "
                 "column's name, else takes steps for whole numbers shared by many transactions, else the smallest "
                 "unit in which the log covers at least a day.")
    cols = make_columns(df, **chosen, time_unit=unit)
    if cols.time_notice:
        (st.info if unit == "auto" else st.caption)(cols.time_notice, **({"icon": ":material/schedule:"}
                                                                         if unit == "auto" else {}))
    return cols


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
    cache_key = (key, tuple(cols.roles().items()), cols.time_unit)
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


def fitted(log: pd.DataFrame, cols, data_key: str):
    """(the gap and feature settings for this log, the notice when they were fitted to a short span):
    the defaults, or what ``fit_to_span`` makes of them, with the label delay the analyst set."""
    from core.fraud.pipeline import FraudConfig

    delay = int(st.session_state.get(f"{K}delay:{data_key}", 7))
    base = FraudConfig(gap_days=7, features=FeatureConfig(delay_days=delay))
    cfg, notice = fit_to_span(log[cols.time], base, cols.clock, has_ids=bool(cols.customer or cols.terminal))
    return cfg, notice


def show_log(log: pd.DataFrame, cols, data_key: str = "") -> FeatureConfig:
    """Transactions, fraud rate, days and cards, and the engineered features; returns the feature settings."""
    t = log[cols.time]
    clock = cols.clock
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Transactions", f"{len(log):,}")
    c2.metric("Fraud rate", f"{log[cols.target].mean():.2%}")
    c3.metric(clock.period_word.capitalize() + "s", f"{(t.max().normalize() - t.min().normalize()).days + 1}")
    c4.metric("Cards", f"{log[cols.customer].nunique():,}" if cols.customer else "–")
    st.caption(clock.span(t.min(), t.max()).replace("the data run", "Transactions run", 1) + ".")
    fcfg = fitted(log, cols, data_key)[0].features
    if not cols.customer and not cols.terminal:
        st.info("No customer / card or terminal / merchant column: the model trains on the log's own columns, "
                "with no history features. Map a customer or terminal column above if the file has one.",
                icon=":material/table_rows:")
    with st.expander("Engineered features (computed from each transaction's past only)"):
        extra = extra_feature_columns(log.drop(columns="_row"), cols)
        fs = compute_features(log.head(50), cols, config=fcfg, extra=extra)
        st.dataframe(pd.DataFrame({"Feature": [feature_label(n) for n in fs.names], "Column": fs.names,
                              "What it measures": [fs.descriptions[n] for n in fs.names]}), hide_index=True, width="stretch")
    return fcfg


def time_split(log: pd.DataFrame, cols, data_key: str) -> dict | None:
    """The train / test period, gap, label delay and known-card rule, checked on the log; None (with
    the message shown) when the split does not work. A log shorter than the windows + delay + a test
    week gets fitted settings, said in a notice; a log of a few days is split by a share of its span."""
    t = log[cols.time]
    clock, word = cols.clock, cols.clock.period_word
    st.markdown("**Time split** — earlier rows are history for the features; the gap mirrors "
                "the delay before fraud labels are known.")
    cfg, notice = fitted(log, cols, data_key)
    if notice:
        st.info(notice, icon=":material/compress:")
    c1, c2, c3, c4 = st.columns(4)
    if t.max() - t.min() < pd.Timedelta(days=SHORT_DAYS):  # hours, not days: the last share of the span is tested
        share = c1.slider("Share of the span tested (the latest part)", 0.1, 0.5, 0.25, 0.05,
                          key=f"{K}test_share:{data_key}")
        train_start = t.min()
        test_start = (t.min() + (1 - share) * (t.max() - t.min())).floor("min")
        gap = c3.number_input(f"Gap ({word}s)", 0, 0, 0, key=f"{K}gap:{data_key}", disabled=True,
                              help="No room for a gap or a label delay in a log this short.")
    else:
        auto_train, auto_test = suggest_split(t, gap_days=cfg.gap_days)
        if clock.elapsed:  # numbers in the time column's own unit, as the command line takes them
            unit = clock.unit
            train_start = clock.parse(c1.number_input(f"Train from ({unit})", value=float(clock.value(auto_train)),
                                                      key=f"{K}train_from:{data_key}"), "Train from")
            test_start = clock.parse(c2.number_input(f"Test from ({unit})", value=float(clock.value(auto_test)),
                                                     key=f"{K}test_from:{data_key}"), "Test from")
        else:
            train_start = c1.date_input("Train from", auto_train.date(), key=f"{K}train_start:{data_key}")
            test_start = c2.date_input("Test from", auto_test.date(), key=f"{K}test_start:{data_key}")
        gap = c3.number_input(f"Gap ({word}s)", 0, 60, cfg.gap_days, key=f"{K}gap:{data_key}")
    delay = c4.number_input(f"Label delay for terminal risk ({word}s)", 0, 60, cfg.features.delay_days,
                            key=f"{K}delay:{data_key}", disabled=not cfg.features.history)
    drop_known = st.checkbox("Set aside test transactions of cards already known to be compromised "
                             "(handbook convention)", True, key=K + "drop_known")
    try:
        split = split_by_time(log, cols, train_start=train_start, test_start=test_start,
                              gap_days=int(gap), drop_known_cards=drop_known)
        s = split.summary()
        st.caption(f"History: {s['history']} · Train: {s['train']} · Gap: {s['gap_days']} {word}s · "
                   f"Test: {s['test']}")
    except DataValidationError as exc:
        fail(exc)
        return None
    features = replace(cfg.features, delay_days=int(delay))
    return dict(gap=int(gap), train_start=train_start, test_start=test_start, drop_known=drop_known,
                features=features, split_notice=notice)


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
                             features=split["features"], drop_known_cards=split["drop_known"],
                             keep_columns=tuple(keep))
        st.session_state[K + "audit"] = get_fraud_audit(log, cols, config)
        st.session_state[K + "audit_sig"] = sig
    leak_callout(st.session_state[K + "audit"], keep_key, button_key=K + f"leak:{data_key}")
    return keep
