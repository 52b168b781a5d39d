"""Steps the fraud page tests share: the page opened on a log of the test's own, as an upload."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


def open_with_upload(df, name: str = "mine.csv", *, timeout: float = 300):
    """The fraud page with ``df`` uploaded as ``name`` and chosen as its data (AppTest)."""
    at = AppTest.from_file(PAGE, default_timeout=timeout)
    at.session_state["fraud.upload"] = (df, name, None)
    # The data choice made before the first run, as a click on "Upload my file" leaves it: the page never
    # draws the bundled sample (its summary and split) only to leave it at once.
    at.session_state["fraud.source"] = "Upload my file"
    at.run()
    assert at.radio(key="fraud.source").value == "Upload my file"
    assert not at.exception, at.exception
    return at
