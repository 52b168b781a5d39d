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

    routed = {"pages/home.py", "pages/runs.py", "pages/score.py", "pages/monitor.py"} | {s.page for s in SCENARIOS.values()}
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


# ---------------------------------------------------------------- one scenario contract
SCENARIO_PACKAGES = ("credit", "fraud", "demand", "quality")


def _scenario_branches(path: Path) -> list[str]:
    """Comparisons against a scenario's name (``scenario == "credit"``, ``in ("credit", "fraud")``,
    ``!= "quality"``) and dispatch tables keyed by two or more scenario names."""
    def names(node) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value} & set(SCENARIO_PACKAGES)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(names(e) for e in node.elts)) if node.elts else set()
        return set()

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare) and any(names(x) for x in [node.left, *node.comparators]):
            found.append(f"{path.name}:{node.lineno} compares with a scenario name")
        elif isinstance(node, ast.Dict) and sum(bool(names(k)) for k in node.keys if k is not None) >= 2:
            found.append(f"{path.name}:{node.lineno} keys a table by scenario name")
    return found


def test_the_branch_detector_finds_branching_on_scenario_names(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('if meta.get("scenario") == "credit":\n    pass\nok = s in ("fraud", "demand")\n'
                      'no = s != "quality"\nT = {"credit": 1, "fraud": 2}\nfine = head["quality"]\n')
    assert [f.split(" ", 1)[0] for f in _scenario_branches(sample)] == [
        "sample.py:1", "sample.py:3", "sample.py:4", "sample.py:5"]


def test_workspace_never_branches_on_a_scenario_name():
    """The workspace and the Score page ask the scenario (``core.scenarios`` hooks: decision words,
    decision controls, input hints); adding a scenario edits no shared file."""
    shared = [*sorted((ROOT / "core" / "workspace").glob("*.py")), ROOT / "pages" / "score.py",
              *sorted((ROOT / "core" / "monitor").glob("*.py")), ROOT / "pages" / "monitor.py", ROOT / "ui" / "monitor.py"]
    offenders = [f for p in shared for f in _scenario_branches(p)]
    assert offenders == []


def _core_imports(path: Path) -> set[str]:
    """Full module names of every ``core...`` import in a file (function-level imports too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "core"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "core":
                out |= {f"core.{a.name}" for a in node.names}
            elif node.module.startswith("core."):
                out.add(node.module)
    return out


def test_scenario_packages_and_ground_floor_never_import_the_workspace():
    """Data flows one way: ground floor -> scenario packages -> workspace, never back up."""
    files = [p for name in SCENARIO_PACKAGES for p in (ROOT / "core" / name).rglob("*.py")]
    files += list((ROOT / "core").glob("*.py")) + list((ROOT / "core" / "scale").glob("*.py"))
    files += list((ROOT / "core" / "monitor").glob("*.py"))
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _core_imports(p) if m.startswith("core.workspace"))
                 for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(files) > 40  # the scan saw the packages


def test_every_scenario_package_registers_one_object_with_every_hook():
    from core.scenarios import SCENARIO_HOOKS, SCENARIOS, Scenario, get_scenario, scenario_keys

    assert scenario_keys()[:4] == SCENARIO_PACKAGES
    for key in SCENARIO_PACKAGES:
        scenario = get_scenario(key)
        assert isinstance(scenario, Scenario) and scenario.key == key and scenario.title == SCENARIOS[key].title
        assert all(hasattr(scenario, h) for h in SCENARIO_HOOKS)
        assert (ROOT / "core" / key / "scenario.py").exists() and (ROOT / "core" / key / "summary.py").exists()
        assert scenario.limitations and len(scenario.intended_use) > 40 and scenario.demo().sample.exists()
        assert callable(scenario.cli().run_train)
