"""One visitor who opens every page of the app and every tab on it, trains nothing, and leaves: what the
server's libraries weigh once the pages have imported them (bench/bench_load.py ``--browse-first``).

The scenario pages open on their sample data (the default source), so their data tabs draw the sample's
preview and charts; the tabs that need a trained model show what they show before one.
"""

from __future__ import annotations

import time

from tests.browser.concurrent_scenarios import _error_on, _text
from tests.conftest import click_tab

# url path, a text the page shows once drawn (the scenario pages: once the sample is loaded)
PAGES = (("", "AI Use-Case Studio"), ("credit", "Training options"), ("fraud", "Epochs (early stopping)"),
         ("demand", "Training options"), ("quality", "Training options"), ("runs", "No saved runs yet"),
         ("score", "Score"), ("monitor", "Monitor"))


def _settled(page, quiet: float = 2.0, most: float = 120.0) -> None:
    """Wait until the script run has ended (Streamlit's running indicator gone for ``quiet`` seconds)."""
    running = page.locator('[data-testid="stStatusWidget"]')
    end = time.monotonic() + most
    calm = None
    while time.monotonic() < end:
        if running.count() and running.first.is_visible():
            calm = None
        elif calm is None:
            calm = time.monotonic()
        elif time.monotonic() - calm >= quiet:
            return
        page.wait_for_timeout(250)


def browse_every_page(browser, url: str, shots=None) -> dict:
    """Open every page and click every tab in one browser context, then close it (the visitor leaves).
    Returns the pages opened, the tabs clicked per page and any error a page showed."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    tabs: dict[str, list[str]] = {}
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        for path, marker in PAGES:
            name = path or "overview"
            page.goto(f"{url}/{path}")
            try:
                page.get_by_text(marker).first.wait_for()
            except Exception as exc:
                errors.append(f"{name}: '{marker}' not shown ({str(exc).splitlines()[0][:120]})")
            _settled(page)
            names = [t.inner_text().strip() for t in page.get_by_role("tab").all()]
            for tab in names:
                click_tab(page, tab)
                _settled(page, quiet=1.0)
            tabs[name] = names
            if shots is not None:
                page.screenshot(path=str(shots / f"browse_{name}.png"), full_page=True)
            problem = _error_on(_text(page, visible=False))
            if problem:
                errors.append(f"{name}: {problem}")
    finally:
        ctx.close()
    return {"pages": [p or "overview" for p, _ in PAGES], "tabs": tabs, "errors": errors}
