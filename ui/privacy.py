"""Personal data at upload: every table upload is read through here, so columns holding e-mail
addresses, phone numbers, card or account numbers, national id numbers or names are left out
(the default) or replaced by salted hashes before any page, model, saved run or report sees them.

Use in a page, right after ``st.file_uploader``::

    key = upload_key(up)                          # draws the notice and the choice; call it once per run
    if st.session_state.get(K + "upload_id") != key:
        st.session_state[K + "upload_id"] = key
        table = read_upload(up, max_rows=None)     # read_table with the choice

``upload_key`` draws, under the uploader, what was found and the choice (leave out / keep as
hashed codes) and returns a key that changes with the choice, so the page reads the file again
when the analyst changes it. The salt is made once per session and lives only in
``st.session_state``: it is never written to disk, so a saved hash cannot be looked up later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.data.datasets import DEFAULT_MAX_ROWS, LoadedTable, read_table
from core.data.safety import escape_markdown

MODE_KEY = "privacy.mode."  # + upload id: "drop" or "hash" for that file
LAST_KEY = "privacy.last"  # the choice made last in this session, for uploads without a choice of their own
FOUND_KEY = "privacy.found"  # {upload id: [{"column", "kind", "action"}]}
SALT_KEY = "privacy.salt"
KEY_SECRET_KEY = "privacy.key_secret"
SLOT_KEY = "privacy.slot"
CHOICES = {"drop": "Leave them out (recommended)", "hash": "Keep them as hashed codes (salted SHA-256)"}


def get_salt() -> bytes:
    """This session's random salt for hashing personal data (memory only, never saved)."""
    from core.data.privacy import new_salt

    if SALT_KEY not in st.session_state:
        st.session_state[SALT_KEY] = new_salt()
    return st.session_state[SALT_KEY]


def get_key_secret() -> bytes:
    """This session's secret for keyed pseudonyms of key columns (a card number kept as the customer
    key); memory only, written into a run folder only when a run made with it is saved."""
    from core.data.pseudonym import new_secret

    if KEY_SECRET_KEY not in st.session_state:
        st.session_state[KEY_SECRET_KEY] = new_secret()
    return st.session_state[KEY_SECRET_KEY]


def session_key_rule(*, pick=None, columns=(), role: str = "key"):
    """A ``core.data.pseudonym.KeyRule`` with this session's secret: ``pick`` chooses key columns in an
    upload (training), ``columns`` fixes them (scoring with a run trained in this session)."""
    from core.data.pseudonym import KeyRule

    return KeyRule(get_key_secret(), tuple(columns), pick=pick, role=role)


def _upload_id(source: Any) -> str:
    if hasattr(source, "file_id"):
        return str(source.file_id)
    if isinstance(source, (str, Path)):
        return f"path:{source}"
    return f"obj:{id(source)}"


def get_mode(source: Any) -> str:
    """How personal data in this upload is handled: its own choice, else the session's last choice
    (a file to score is hashed like the training file, so the same card gets the same code), else
    "drop"."""
    return str(st.session_state.get(MODE_KEY + _upload_id(source)) or st.session_state.get(LAST_KEY) or "drop")


def _draw(slot, upload_id: str, found: list[dict]) -> None:
    names = ", ".join(f"{f['column']} ({f['kind']})" for f in found if not f.get("key"))
    from core.data.privacy import KINDS
    from core.data.pseudonym import VALUE_WORDS

    kind_of = {label: kind for kind, label in KINDS.items()}
    keys = "; ".join(f"{f['column']} ({f['kind']}): {VALUE_WORDS.get(kind_of.get(f['kind']), 'value')} "
                     f"{f['action']}" for f in found if f.get("key"))
    with slot:
        with st.container(border=True):
            st.markdown(":material/privacy_tip: **Personal data found**")
            if keys:  # a card number that is also the customer key: kept, as a keyed pseudonym
                st.caption(escape_markdown(f"Kept as a key: {keys}. Equal values still match, so each customer's "
                                           "history stays together; the secret is this session's and is never shown."))
            if not names:
                return
            st.caption(escape_markdown(f"{sum(1 for f in found if not f.get('key'))} column(s) hold personal data: "
                                       f"{names}."))
            current = str(st.session_state.get(MODE_KEY + upload_id) or st.session_state.get(LAST_KEY) or "drop")
            st.radio("What to do with these columns", list(CHOICES), format_func=CHOICES.get,
                     index=list(CHOICES).index(current), key=MODE_KEY + upload_id, horizontal=True,
                     help="Left out: removed as the file is read, so no model, saved run, report or log sees "
                          "them. Hashed: each value becomes a code that still matches equal values (e.g. the "
                          "same card), made with a salt kept only for this session.")


def upload_key(up: Any) -> str:
    """A key for the page's read-once check that changes when the analyst changes the choice;
    draws what was found in this upload and the choice under the uploader."""
    uid = _upload_id(up)
    st.session_state.pop(SLOT_KEY, None)  # a slot left from an earlier run is never drawn into
    slot = st.container()
    found = st.session_state.get(FOUND_KEY, {}).get(uid)
    if found:
        _draw(slot, uid, found)
    # Filled by read_upload in this same run when the file turns out to hold personal data.
    st.session_state[SLOT_KEY] = (uid, slot, bool(found))
    return f"{uid}:{get_mode(up)}"


def read_upload(up: Any, *, name: str | None = None, max_rows: int | None = DEFAULT_MAX_ROWS,
                member: str | None = None, sheet: str | None = None, keys=None) -> LoadedTable:
    """``read_table`` of an upload with this session's handling of personal data (left out by
    default, or hashed with the session's salt); remembers what was found for ``upload_key``.
    ``member`` / ``sheet``: the table to read in a zip or a workbook (``ui.upload``'s picks);
    ``keys`` (a ``core.data.pseudonym.KeyRule``) keeps key columns as keyed pseudonyms."""
    uid = _upload_id(up)
    mode = get_mode(up)
    table = read_table(up, name=name or getattr(up, "name", None), max_rows=max_rows, personal=mode,
                       salt=get_salt() if mode == "hash" else None, member=member, sheet=sheet, keys=keys)
    st.session_state.setdefault(FOUND_KEY, {})[uid] = table.personal
    if MODE_KEY + uid in st.session_state:
        st.session_state[LAST_KEY] = mode
    pending = st.session_state.pop(SLOT_KEY, None)
    if table.personal:
        if pending is not None and pending[0] == uid:
            if not pending[2]:
                _draw(pending[1], uid, table.personal)
        else:
            # No choice drawn for this upload (a form, a bundled file): say what was left out.
            st.caption(":material/privacy_tip: " + escape_markdown(table.notices[0]))
    return table
