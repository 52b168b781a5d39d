"""The live panel of a training job: its curve marks the epoch whose weights are kept, a curve that fails
to draw is a line of text while the training goes on, and the figure templates are built once, at import,
before sessions draw at the same time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]

EVENTS = [("epoch", 0.0, (e, 10, {"loss": l, "val_loss": v, "val_fit_loss": v}))
          for e, l, v in [(1, 1.0, 1.0), (2, 0.8, 0.8), (3, 0.7, 0.7995), (4, 0.65, 0.79949)]]


def _panel():
    def script(events):
        import streamlit as st

        from ui.jobs import draw_progress

        draw_progress(events, "test.")
        st.write("after the panel")

    return AppTest.from_function(script, args=(EVENTS,), default_timeout=60).run()


def test_a_curve_that_fails_to_draw_is_a_line_of_text_and_the_panel_goes_on(monkeypatch):
    def fail(history, kept=None):
        raise ValueError("Invalid value")

    monkeypatch.setattr("core.present.charts.plot_training_history", fail)
    at = _panel()
    assert not at.exception and not at.error
    said = [c.value for c in at.caption if "training curve could not be drawn" in c.value]
    assert said == ["The training curve could not be drawn at this update (ValueError: Invalid value); the "
                    "training goes on, and the next update draws it again."]
    assert [m.value for m in at.markdown][-1] == "after the panel"
    assert "Epoch 4 of 10" in at.get("progress")[0].proto.text
    monkeypatch.undo()
    at = _panel()  # drawn again at the next update
    assert not at.exception and not [c for c in at.caption if "could not be drawn" in c.value]
    assert len(at.get("plotly_chart")) == 1


def test_the_curve_marks_the_epoch_whose_weights_are_kept():
    from ui.common import training_curve

    history = {"loss": [1.0, 0.8, 0.7, 0.65], "val_loss": [1.0, 0.8, 0.7995, 0.79949],
               "val_fit_loss": [1.0, 0.8, 0.7995, 0.79949]}
    fig = training_curve(history)
    marks = [a.text for a in fig.layout.annotations]
    assert marks == ["best epoch 2 (kept)"]  # epoch 4 is lower by less than 0.1 %: its weights are not kept
    # A missing or broken loss value draws no mark instead of failing.
    fig = training_curve({"loss": [1.0, 0.9], "val_fit_loss": [None, float("nan")]})
    assert not fig.layout.annotations


def test_the_templates_are_built_when_the_charts_are_imported():
    code = ("import plotly.io as pio, core.present.charts as c\n"
            "t = pio.templates['plotly']\n"
            "print(sorted(c.TEMPLATES), 'scatter' in t.data._compound_array_props, "
            "'xaxis' in t.layout._compound_props)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['plotly',", "'plotly_white']", "True", "True"]
