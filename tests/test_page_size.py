"""Every page stays short enough to read its flow on one screen or two: the widgets of each step live
in ui/ (docs/ARCHITECTURE.md)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def test_every_page_file_is_at_most_400_lines():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (ROOT / "pages").glob("*.py")}
    assert sizes, "no page files found"
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_page_parts_under_ui_never_import_ml_libraries():
    """The tab renderers moved out of the pages keep the pages' rule (ML libraries only through core)."""
    from tests.test_architecture import HEAVY, _imports

    parts = list((ROOT / "ui").rglob("*.py"))
    assert any(p.parent.name == "credit" for p in parts)
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & HEAVY) for p in parts if _imports(p) & HEAVY}
    assert offenders == {}
