"""Steps the demand page tests share: its widgets by label, and a small training (7 periods ahead, one
backtest origin, 2 epochs) headless and in the browser."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "demand.py")


def button(at, label):
    return next(b for b in at.button if b.label == label)


def number(at, label):
    return next(n for n in at.number_input if n.label == label)


def train_small():
    """The page on its sample, trained small (AppTest)."""
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception
    number(at, "Horizon (periods to forecast)").set_value(7)
    number(at, "Backtest origins").set_value(1)
    number(at, "Max epochs").set_value(2)
    button(at, "Train forecast model").click().run()
    assert not at.exception, at.exception
    return at


def fill_small_settings(page, epochs: int = 2) -> None:
    """The same small settings typed into the page in the browser."""
    for label, value in (("Horizon (periods to forecast)", "7"), ("Backtest origins", "1"),
                         ("Max epochs", str(epochs))):
        box = page.get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Tab")
