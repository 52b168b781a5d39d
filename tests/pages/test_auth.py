"""The sign-in gate in app.py, driven through AppTest with secrets set."""

from pathlib import Path

from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def _app(secrets: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def test_open_app_shows_the_overview():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert not at.text_input  # no password box
    assert "AI Use-Case Studio" in at.title[0].value


def test_password_gate_blocks_until_the_right_password():
    at = _app({"studio": {"password": "demo-pass-42"}}).run()
    assert not at.exception
    assert at.text_input(key="auth.password").label == "Password"
    assert not at.subheader  # no scenario cards behind the gate
    # Inside a form the typed value is sent with the submit click, in the same run.
    at.text_input(key="auth.password").input("wrong")
    at.button[0].click().run()  # the form's submit button
    assert any("Wrong password" in e.value for e in at.error)
    assert not at.subheader
    at.text_input(key="auth.password").input("demo-pass-42")
    at.button[0].click().run()
    assert not at.exception
    assert not errors_besides_trust(at)
    assert len(at.subheader) >= 4  # the overview's scenario cards
    # The secret never reaches the page.
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.title, *at.info])
    assert "demo-pass-42" not in shown


def test_oidc_configured_shows_sign_in_button():
    at = _app({"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "cid", "client_secret": "csecret",
                        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}}).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.subheader
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info])
    assert "csecret" not in shown and "cid" not in shown


def test_incomplete_oidc_is_a_message_not_an_open_app():
    at = _app({"auth": {"redirect_uri": "u"}}).run()
    assert not at.exception
    assert "incomplete" in at.error[0].value
    assert not at.subheader
