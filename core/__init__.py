"""AI Use-Case Studio engine: pure Python, no Streamlit.

Everything a page shows can be produced headless from here, through tests, benchmarks and the CLI
(``python -m core ...``).
"""

__version__ = "0.1.0"
