"""Wait until a browser page has drawn what it shows, instead of a fixed pause before a screenshot."""

# No element left over from before the last rerun (Streamlit shows those faded, as stale), no script run
# under way, and every Plotly chart on screen drawn (its SVG is there) with its images (thumbnails) loaded.
_DRAWN_JS = """() => document.querySelectorAll('[data-stale="true"]').length === 0
    && ![...document.querySelectorAll('[data-testid="stStatusWidget"]')].some(w => w.offsetParent !== null)
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(c => c.offsetParent !== null)
        .every(c => c.querySelector('.main-svg'))
    && [...document.querySelectorAll('img')].filter(i => i.offsetParent !== null).every(i => i.complete)"""


def drawn(page, timeout: float = 60_000) -> None:
    """Wait until ``page`` has redrawn after its last rerun, its visible charts and images included."""
    page.wait_for_function(_DRAWN_JS, timeout=timeout)
    page.wait_for_timeout(150)  # Plotly's transitions end a frame or two after its SVG is there
