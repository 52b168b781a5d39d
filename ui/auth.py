"""Sign-in gate for the whole app, run by app.py before any page (see core.serve.access)."""

from __future__ import annotations

import time

import streamlit as st

from core.serve.access import OIDC, OPEN, PASSWORD, check_password, get_access_mode
from core.errors import DataValidationError

K = "auth."


def _secrets():
    try:
        return st.secrets
    except Exception:  # no secrets file: the app is open
        return {}


def require_sign_in() -> None:
    """Stop the script with a sign-in screen unless the visitor may use the app."""
    try:
        mode = get_access_mode(_secrets())
    except DataValidationError as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()
    if mode == OPEN:
        return
    if mode == OIDC:
        if getattr(st.user, "is_logged_in", False):
            with st.sidebar:
                st.caption(f"Signed in as {st.user.get('email') or st.user.get('name') or 'user'}")
                if st.button("Sign out", key=K + "logout"):
                    st.logout()
            return
        st.title("AI Use-Case Studio")
        st.info("This studio is private. Sign in with your organisation's account to continue.",
                icon=":material/lock:")
        if st.button("Sign in", type="primary", key=K + "login"):
            st.login()
        st.stop()
    if mode == PASSWORD:
        if st.session_state.get(K + "ok"):
            with st.sidebar:
                if st.button("Sign out", key=K + "logout"):
                    st.session_state[K + "ok"] = False
                    st.rerun()
            return
        st.title("AI Use-Case Studio")
        st.info("This demo is protected by a password.", icon=":material/lock:")
        with st.form(K + "form"):
            given = st.text_input("Password", type="password", key=K + "password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            if check_password(given, _secrets()):
                st.session_state[K + "ok"] = True
                st.session_state.pop(K + "password", None)
                st.rerun()
            # A short pause makes guessing slow without bothering a person who mistyped.
            time.sleep(0.5)
            st.error("Wrong password. Check it with whoever shared this demo and try again.",
                     icon=":material/error:")
        st.stop()
