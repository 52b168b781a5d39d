"""Table uploads on every page: any file, whatever its extension (the content decides: CSV and other
text, gzip, zip, Excel, Parquet), the table to read picked when a zip holds several, the sheet
picked when a workbook has several, and a failed upload that keeps the data loaded before it.

Use right after ``st.file_uploader(..., type=TABLE_TYPES)``::

    got = read_table_upload(up, K + "upload.", max_rows=None)
    if got is not None:
        df, key = got.table.df, got.key     # key changes with the file, the pick and the privacy choice
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.data.archivefile import TableChoiceNeeded
from core.data.datasets import DEFAULT_MAX_ROWS, LoadedTable
from core.errors import DataValidationError
from core.data.safety import escape_markdown
from ui.common import show_error
from ui.privacy import read_upload, upload_key

TABLE_TYPES = None  # every extension: .csv, .txt, .tsv, .data, none … are read by content, never refused by name
FORMATS = "CSV or any text table, Excel, Parquet; zipped or gzipped too"


@dataclass
class Upload:
    """The table read from an upload, the key of what was read, and whether it is an earlier file
    kept because the new one could not be read."""

    table: LoadedTable
    key: str
    kept: bool = False
    name: str = ""  # the file's name (the earlier file's, when it was kept)


def _fid(up: Any) -> str:
    return str(getattr(up, "file_id", None) or getattr(up, "name", "file"))


def get_picks(ns: str, up: Any) -> dict:
    """The table and sheet picked for this upload so far (None until picked)."""
    fid = _fid(up)
    return {"member": st.session_state.get(f"{ns}member:{fid}"), "sheet": st.session_state.get(f"{ns}sheet:{fid}")}


def draw_picks(ns: str, up: Any, *, members: list[str] | None = None, sheets: list[str] | None = None,
               sheet: str | None = None) -> bool:
    """A pick of the table in a zip of several, and of the sheet of a workbook with several;
    whether there was one to draw."""
    fid, picked = _fid(up), get_picks(ns, up)
    if members and len(members) > 1:
        st.selectbox("Table in the zip", members, key=f"{ns}member:{fid}", placeholder="Pick the table to read",
                     index=members.index(picked["member"]) if picked["member"] in members else None,
                     help="The zip holds several tables; the one picked here is read.")
    if sheets and len(sheets) > 1:
        current = picked["sheet"] if picked["sheet"] in sheets else sheet if sheet in sheets else sheets[0]
        st.selectbox("Sheet", sheets, index=sheets.index(current), key=f"{ns}sheet:{fid}",
                     help="The workbook has several sheets; the one picked here is read.")
    return bool(members and len(members) > 1) or bool(sheets and len(sheets) > 1)


def read_table_upload(up: Any, ns: str, *, max_rows: int | None = DEFAULT_MAX_ROWS, keys=None) -> Upload | None:
    """The table of ``up``, read once per file, pick and personal-data choice (reruns reuse it);
    ``keys`` (a ``core.data.pseudonym.KeyRule``) keeps key columns as keyed pseudonyms.

    Draws the personal-data choice, the table / sheet picks and any message. Returns None while a
    zip's table is not yet picked, or when the file cannot be read and no earlier file was; when
    an earlier file was read, it is kept (``Upload.kept``) and the page says so.
    """
    picks = get_picks(ns, up)
    key = f"{upload_key(up)}|{picks['member']}|{picks['sheet']}"
    state = st.session_state.get(ns + "state")
    if state is None or state["key"] != key:
        state = {"key": key, "name": getattr(up, "name", "")}
        try:
            state["table"] = read_upload(up, max_rows=max_rows, keys=keys, **picks)
            st.session_state[ns + "good"] = (key, state["table"], state["name"])
        except TableChoiceNeeded as exc:
            state["members"] = exc.options
        except DataValidationError as exc:
            state["error"] = exc
        st.session_state[ns + "state"] = state
    table = state.get("table")
    # A workbook's other sheets stay on offer when the sheet read is empty or broken.
    source = table if table is not None else state.get("error")
    draw_picks(ns, up, members=state.get("members") or getattr(source, "members", None),
               sheets=getattr(source, "sheets", None), sheet=getattr(source, "sheet", None))
    if "members" in state:
        st.info(f"This zip holds {len(state['members'])} tables: pick the one to read above.", icon=":material/folder_zip:")
        return None
    if table is not None:
        return Upload(table, key, name=state["name"])
    show_error(state["error"])
    good = st.session_state.get(ns + "good")
    if good is None:
        return None
    earlier = good[1]
    st.warning(escape_markdown(f"'{state['name']}' was not loaded. The page keeps using '{good[2]}' "
                               f"({len(earlier.df):,} rows) loaded before; upload a corrected file to replace it."),
               icon=":material/history:")
    return Upload(earlier, good[0], kept=True, name=good[2])


def read_name(ns: str) -> str | None:
    """The name of the last file ``read_table_upload`` read well under ``ns`` (the one a page keeps using
    when a newer upload could not be read), or None."""
    good = st.session_state.get(ns + "good")
    return None if good is None else good[2]


def read_picked(up: Any, ns: str, **kwargs) -> LoadedTable:
    """``read_upload`` of ``up`` with its picks (for uploads read on a button or once per file); the
    tables and sheets found are remembered for ``show_picks``. Raises as ``read_upload`` does."""
    options: dict = {}
    try:
        table = read_upload(up, **get_picks(ns, up), **kwargs)
        options = {"members": table.members, "sheets": table.sheets, "sheet": table.sheet}
        return table
    except TableChoiceNeeded as exc:
        options = {"members": exc.options}
        raise
    except DataValidationError as exc:
        options = {"sheets": getattr(exc, "sheets", None), "sheet": getattr(exc, "sheet", None)}
        raise
    finally:
        st.session_state[f"{ns}options:{_fid(up)}"] = options


def show_picks(ns: str, up: Any) -> bool:
    """The table / sheet picks of an upload read with ``read_picked`` (nothing before it was read);
    whether there were any."""
    return up is not None and draw_picks(ns, up, **st.session_state.get(f"{ns}options:{_fid(up)}", {}))
