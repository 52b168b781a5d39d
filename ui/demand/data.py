"""Demand page, data steps: the sales file (and an optional covariates file), the column
mapping, the checked sales and the data report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.demand.covariates import join_covariates
from core.demand.data import GAP_FILLS, ColumnMap, load_sales
from core.demand.roles import guess_roles
from core.errors import DataValidationError

from ui.demand.base import K, MAX_PERIODS, fail, load_sample
from ui.upload import FORMATS, TABLE_TYPES, read_table_upload


def get_raw() -> tuple[pd.DataFrame | None, str]:
    choice = st.radio("Data", ["Bundled sample (23 store × product series, 3 years daily)", "Upload my file"],
                      horizontal=True, key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(), "sample"
    up = st.file_uploader(f"Sales history ({FORMATS}): a date column, a quantity column, optional series "
                          "columns (store, product) and known-in-advance covariates (price, promo, holiday)",
                          type=TABLE_TYPES, key=K + "upload")
    if up is None:
        st.info("Upload a file to forecast your own sales, or switch back to the bundled sample.")
        return None, ""
    return read_upload_once(up, "upload")


def read_upload_once(up, name: str) -> tuple[pd.DataFrame | None, str]:
    """(the uploaded table, a key of what was read), read once per file, pick and personal-data choice
    (reruns reuse it); (None, "") with the message shown when the file cannot be read and none was
    before. No row sampling here: load_sales caps by keeping recent history instead."""
    got = read_table_upload(up, K + f"{name}.", max_rows=None)
    return (None, "") if got is None else (got.table.df, f"{name}:{got.key}")


def get_covariates_file() -> tuple[pd.DataFrame | None, str]:
    """An optional second file of known-in-advance covariates (per store and date, say)."""
    up = st.file_uploader(f"Covariates file (optional; {FORMATS}): known-in-advance values per date, or per "
                          "store and date (temperature, fuel price, markdowns, holiday flag), joined on the "
                          "columns it shares with the sales file's date and series columns", type=TABLE_TYPES,
                          key=K + "cov_upload")
    if up is None:
        return None, ""
    return read_upload_once(up, "cov")


def get_join(raw: pd.DataFrame, cov: pd.DataFrame, cmap: ColumnMap, key: str):
    """The covariates joined onto the sales rows, once per file pair and key columns; None when the join
    fails (the error is shown and the sales file is used on its own)."""
    sig = (key, cmap.date, cmap.series)
    if st.session_state.get(K + "join_sig") != sig:
        try:
            st.session_state[K + "join"] = (join_covariates(raw, cov, date_col=cmap.date, series_cols=cmap.series), None)
        except DataValidationError as exc:
            st.session_state[K + "join"] = (None, exc)
        st.session_state[K + "join_sig"] = sig
    join, err = st.session_state[K + "join"]
    if err is not None:
        fail(err)
        return None
    st.info(join.summary(), icon=":material/join:")
    for note in join.notices:
        st.caption(note)
    return join


def get_guess(df: pd.DataFrame, key: str):
    """The guessed column roles of this file, worked out once per file."""
    if st.session_state.get(K + "guess_key") != key:
        st.session_state[K + "guess"] = guess_roles(df)
        st.session_state[K + "guess_key"] = key
    return st.session_state[K + "guess"]


def column_mapping(df: pd.DataFrame, key: str, guess) -> tuple[ColumnMap | None, str]:
    """Column pickers preset from the guess, and why each column got its role. Returns no column map
    while the date or the quantity has not been picked: nothing trains on a guessed quantity."""
    cols = list(df.columns)
    c1, c2, c3 = st.columns(3)
    date = c1.selectbox("Date column", cols, index=cols.index(guess.date) if guess.date else None,
                        placeholder="Pick the date column", key=K + f"date:{key}")
    target = c2.selectbox("Quantity column", cols, index=cols.index(guess.target) if guess.target else None,
                          placeholder="Pick the quantity column", key=K + f"target:{key}")
    fill = c3.selectbox("Fill missing periods with", GAP_FILLS, key=K + f"fill:{key}")
    rest = [c for c in cols if c not in (date, target)]
    series = st.multiselect("Series columns (one forecast per combination)", rest,
                            default=[c for c in guess.series if c in rest], key=K + f"series:{key}")
    numeric = [c for c in rest if c not in series and pd.api.types.is_numeric_dtype(df[c])]
    covs = st.multiselect("Known-in-advance covariates (e.g. price, promotion, holiday)", [c for c in rest if c not in series],
                          default=numeric, key=K + f"covs:{key}")
    st.caption("Guessed from the column names and values — check each role before training, and change any above:")
    st.dataframe(pd.DataFrame(guess.roles(), columns=["column", "role", "why"]), hide_index=True, width="stretch",
                 column_config={"column": "Column", "role": "Role", "why": "Why"})
    if guess.problem and (date is None or target is None):
        st.warning(guess.problem, icon=":material/help:")
    if date is None or target is None:
        return None, fill
    return ColumnMap(date=date, target=target, series=tuple(series), covariates=tuple(covs)), fill


def get_sales(df: pd.DataFrame, cmap: ColumnMap, fill: str, key: str):
    sig = (key, cmap, fill)
    if st.session_state.get(K + "sales_sig") != sig:
        try:
            st.session_state[K + "sales"] = (load_sales(df, cmap, fill_gaps=fill, max_rows=MAX_PERIODS), None)
        except DataValidationError as exc:
            st.session_state[K + "sales"] = (None, exc)
        st.session_state[K + "sales_sig"] = sig
    return st.session_state[K + "sales"]


def data_report(sales) -> None:
    r = sales.report
    c = st.columns([1, 1, 1, 2])
    c[0].metric("Frequency", r.frequency)
    c[1].metric("Series", r.n_series)
    c[2].metric("Periods", f"{r.n_rows:,}")
    c[3].markdown(f"**Date range**  \n{r.start} → {r.end}")
    if r.issues:
        st.warning("The data needed fixing before training: "
                   + "; ".join(f"{i['count']:,} {i['issue']} ({i['action']})" for i in r.issues) + ".",
                   icon=":material/build:")
    else:
        st.success("No gaps, duplicates or negative quantities found.", icon=":material/check_circle:")
    lengths = sales.lengths()
    st.caption(f"Series length: shortest {lengths.min()}, longest {lengths.max()} periods. "
               f"Covariates: {', '.join(sales.covariates) or 'none'} "
               f"(0/1 flags: {', '.join(sales.binary_covariates) or 'none'}).")
