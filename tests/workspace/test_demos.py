"""Run all four demos: every scenario trains on its sample and is saved with a workspace summary;
progress moves forward to 1; one failing demo does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import DataValidationError
from core.store.registry import load_run, read_metadata
from core.workspace import demos
from core.workspace.demos import DemoSettings, run_all_demos
from core.workspace.summary import get_latest_runs


@pytest.fixture(scope="module")
def demo_result(demo_runs_report):
    """The session's tiny demo runs (tests/conftest.py), which the scoring, page and monitor tests read
    too: one ``run_all_demos`` call per test process, its report and progress checked here."""
    return demo_runs_report


def test_all_four_demos_are_saved_with_summaries(demo_result):
    root, report, _ = demo_result
    assert report.ok, report.errors
    assert set(report.saved) == {"credit", "fraud", "demand", "quality"}
    for key, path in report.saved.items():
        assert Path(path).parent == root
        meta = read_metadata(path)
        ws = meta["workspace"]
        assert meta["scenario"] == key and ws["name"].startswith(f"{key} demo")
        assert ws["headline"]["quality"] and ws["headline"]["impact"] and ws["headline"]["assumptions"]
        assert ws["input"]["kind"] == ("images" if key == "quality" else "table")
        # The trust flags are saved with every run (one-epoch demos may well raise some), and the
        # report names exactly the demos that raised any.
        flags = ws["headline"]["trust"]
        assert isinstance(flags, list) and all({"kind", "headline", "why"} <= set(f) for f in flags)
        assert report.trust.get(key, []) == flags
    latest, skipped = get_latest_runs(root)
    assert set(latest) == set(report.saved) and not skipped
    # Shrunk samples are what the fingerprint records.
    assert read_metadata(report.saved["credit"])["workspace"]["dataset"]["rows"] == 700
    # A saved demo loads back through the registry (Keras safe mode).
    assert load_run(report.saved["demand"]).model is not None


def test_progress_moves_forward_to_one(demo_result):
    _, _, events = demo_result
    fractions = [f for _, f, _ in events]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and 0 < fractions[len(fractions) // 2] < 1
    seen = [s for s, _, _ in events if s]
    assert list(dict.fromkeys(seen)) == ["credit", "fraud", "demand", "quality"]
    assert any("Epoch" in m for _, _, m in events)


def test_one_failing_demo_does_not_stop_the_others(tmp_path, monkeypatch):
    calls = []

    def fake(key):
        def run(root, settings, progress):
            calls.append(key)
            progress(0.5, "half way")
            if key == "fraud":
                raise DataValidationError("Expected a log; got nothing. Fix: check the sample.")
            if key == "demand":
                raise RuntimeError("out of memory")
            path = root / f"{key}-run"
            path.mkdir(parents=True)
            return path
        return run

    monkeypatch.setattr(demos, "DEMOS", {k: fake(k) for k in demos.DEMOS})
    events = []
    report = run_all_demos(tmp_path, progress=lambda *e: events.append(e))
    assert calls == ["credit", "fraud", "demand", "quality"]
    assert set(report.saved) == {"credit", "quality"}
    assert report.errors["fraud"] == "Expected a log; got nothing. Fix: check the sample."
    assert report.errors["demand"] == "RuntimeError: out of memory"
    assert not report.ok and events[-1] == ("", 1.0, "2 demo(s) failed")
    assert ("fraud", pytest.approx(0.55), "Failed: Expected a log; got nothing. Fix: check the sample.") in events


def test_bad_demo_requests_are_refused(tmp_path):
    with pytest.raises(DataValidationError, match="Demos exist for credit, fraud, demand, quality"):
        run_all_demos(tmp_path, scenarios=("weather",))
    with pytest.raises(DataValidationError, match="Demo epochs must be between 1 and 200"):
        run_all_demos(tmp_path, settings=DemoSettings(epochs=0))
    with pytest.raises(DataValidationError, match=r"Demo settings must be epochs, seed, shap_rows or a scenario's "
                                                  r"own \(.*credit_rows.*\); got \['credit_row'\]. Fix: check"):
        run_all_demos(tmp_path, settings=DemoSettings(epochs=1, credit_row=700))


def test_demo_settings_are_each_scenarios_own_with_its_defaults():
    from core.store.scenarios import get_scenario

    tiny = DemoSettings(epochs=1, credit_rows=700, review_fee=7.5)
    assert tiny.credit_rows == 700 and tiny.review_fee == 7.5  # given
    # Not given: the default the scenario declares with its demo, e.g. the costs its page opens with.
    assert tiny.cost_escape == get_scenario("quality").demo().settings["cost_escape"] == 50.0
    assert tiny.image_size == get_scenario("quality").demo().settings["image_size"] and tiny.quality_images is None
    assert tiny == DemoSettings(epochs=1, credit_rows=700, review_fee=7.5) != DemoSettings(epochs=1)
    with pytest.raises(AttributeError):
        tiny.epochs = 3


def test_demo_settings_are_a_frozen_dataclass_a_worker_can_receive():
    """Settings travel to the demos' worker process and are varied with ``dataclasses.replace``."""
    import copy
    import dataclasses
    import pickle

    tiny = DemoSettings(epochs=1, credit_rows=700, review_fee=7.5)
    assert dataclasses.is_dataclass(tiny) and [f.name for f in dataclasses.fields(tiny)] == [
        "epochs", "seed", "shap_rows", "own"]
    assert pickle.loads(pickle.dumps(tiny)) == tiny and copy.deepcopy(tiny) == tiny
    assert pickle.loads(pickle.dumps(tiny)).credit_rows == 700
    more = dataclasses.replace(tiny, epochs=3)
    assert (more.epochs, more.credit_rows, more.review_fee) == (3, 700, 7.5) and tiny.epochs == 1
    assert dataclasses.replace(tiny, credit_rows=900).credit_rows == 900
    assert hash(tiny) == hash(DemoSettings(review_fee=7.5, credit_rows=700, epochs=1))  # the order given is no matter
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.seed = 2
    with pytest.raises(AttributeError, match="No demo setting 'credit_row'"):
        tiny.credit_row


def test_the_credit_demo_decides_with_the_credit_pages_cost_defaults(tmp_path, monkeypatch):
    """The demo has no cost figures of its own: it reads the credit scenario's (the page's and the
    CLI's), so changing them there changes the demo's saved decision; settings naming costs still win."""
    from core.credit import profit

    assert DemoSettings().loss_default is None and DemoSettings().margin_good is None
    monkeypatch.setattr(profit, "LOSS_DEFAULT", 1234.0)
    monkeypatch.setattr(profit, "MARGIN_GOOD", 321.0)
    tiny = DemoSettings(epochs=1, shap_rows=0, credit_rows=400)
    report = run_all_demos(tmp_path / "own", settings=tiny, scenarios=["credit"])
    assert report.ok, report.errors
    decision = read_metadata(report.saved["credit"])["workspace"]["decision"]
    assert (decision["loss_default"], decision["margin_good"]) == (1234.0, 321.0)
    named = run_all_demos(tmp_path / "named", scenarios=["credit"],
                          settings=DemoSettings(epochs=1, shap_rows=0, credit_rows=400, loss_default=50.0,
                                                margin_good=5.0))
    decision = read_metadata(named.saved["credit"])["workspace"]["decision"]
    assert (decision["loss_default"], decision["margin_good"]) == (50.0, 5.0)
