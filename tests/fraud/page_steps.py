"""Steps the fraud page tests share: the page opened on a log of the test's own, as an upload."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


def open_with_upload(df, name: str = "mine.csv", *, timeout: float = 300):
    """The fraud page with ``df`` uploaded as ``name`` and chosen as its data (AppTest)."""
    at = AppTest.from_file(PAGE, default_timeout=timeout)
    at.session_state["fraud.upload"] = (df, name, None)
    at.run()
    at.radio(key="fraud.source").set_value("Upload my file").run()
    assert not at.exception, at.exception
    return at
