"""The outcome's other values on the credit and fraud pages: with more than two (good / bad /
unknown), the analyst sees how many rows hold each and says what the values other than the
positive one mean: all of them the negative outcome, or only those picked, the rest left out.
Rows without an outcome are left out. Nothing is counted as negative unasked."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.data.outcome import guess_negative, outcome_counts
from core.data.safety import escape_markdown, short_text


def pick_outcome_rows(df: pd.DataFrame, target: str, positive: Any, *, key: str, event: str,
                      non_event: str) -> list | None | bool:
    """The values that mean ``non_event`` (for ``core.data.outcome.choose_outcome_rows``); None for an
    outcome of two values and no missing ones (nothing to ask); False while the analyst has not
    said what the other values mean (training waits)."""
    counts = outcome_counts(df, target)
    missing = int(df[target].isna().sum())
    if len(counts) <= 2 and not missing:
        return None
    others = [v for v, _ in counts if str(v) != str(positive)]
    with st.container(border=True):
        n = len(df)
        table = pd.DataFrame({"Value": [str(v) for v, _ in counts] + (["(no outcome)"] if missing else []),
                              "Rows": [c for _, c in counts] + ([missing] if missing else [])})
        table["Share"] = 100 * table["Rows"] / max(n, 1)
        st.markdown(f"**{len(counts)} outcome values in `{escape_markdown(short_text(target))}`**"
                    + (f" and {missing:,} rows without one" if missing else ""))
        st.dataframe(table, hide_index=True, width="content",
                     column_config={"Rows": st.column_config.NumberColumn(format="%,d"),
                                    "Share": st.column_config.NumberColumn(format="%.1f %%")})
        if len(counts) > 2:
            shown = ", ".join(f"'{short_text(v)}'" for v in others)
            choice = st.radio(f"The values other than '{short_text(positive)}' ({shown}) mean", ["all", "some"],
                              index=None, key=f"{key}:{positive}", horizontal=True,
                              format_func={"all": f"{non_event}, all of them",
                                           "some": f"{non_event} only for the values I pick; leave the rest out"}.get)
            if choice is None:
                st.caption(f"Say what the other values mean before training: nothing is counted as {non_event} "
                           "unasked.")
                return False
            negatives = others
            if choice == "some":
                negatives = st.multiselect(f"Values that mean {non_event}", others,
                                           default=[guess_negative(others, positive)], key=f"{key}:{positive}:neg",
                                           format_func=str)
                if not negatives:
                    st.warning(f"Pick at least one value that means {non_event}.", icon=":material/rule:")
                    return False
        else:
            negatives = others
        kept = {str(positive), *map(str, negatives)}
        left = {str(v): c for v, c in counts if str(v) not in kept}
        if missing:
            left["(no outcome)"] = missing
        if left:
            st.caption(escape_markdown(
                f"{sum(left.values()):,} rows are left out of training and testing ("
                + ", ".join(f"{short_text(v)}: {c:,}" for v, c in left.items())
                + f"); '{short_text(positive)}' means {event}, "
                + " / ".join(f"'{short_text(v)}'" for v in negatives) + f" means {non_event}."))
    return negatives
