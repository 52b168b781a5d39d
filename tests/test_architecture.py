"""The layering rules of docs/ARCHITECTURE.md, checked on the source tree."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"sklearn", "imblearn", "keras", "tensorflow", "shap", "optuna"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_pages_never_import_ml_libraries():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & HEAVY)
                 for p in list((ROOT / "pages").glob("*.py")) + list((ROOT / "ui").glob("*.py"))
                 if _imports(p) & HEAVY}
    assert offenders == {}


def test_every_page_file_is_routed():
    from core.scenarios import SCENARIOS

    routed = {"pages/home.py", "pages/runs.py", "pages/score.py"} | {s.page for s in SCENARIOS.values()}
    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert files <= routed, f"pages not in the navigation: {files - routed}"


def test_every_page_goes_through_the_router_first():
    """A deep link must not run a page on its own (it would skip sign-in and the layout):
    each page calls ``ensure_router()`` as its first statement after the imports."""
    offenders = []
    for p in (ROOT / "pages").glob("*.py"):
        body = [n for n in ast.parse(p.read_text(encoding="utf-8")).body
                if not isinstance(n, (ast.Import, ast.ImportFrom))
                and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        first = body[0] if body else None
        ok = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
              and getattr(first.value.func, "id", None) == "ensure_router")
        if not ok:
            offenders.append(p.name)
    assert offenders == []
