"""AppTest test of the model search on the credit page: options in the form, the search section
after training, and today's recipe with a clear message when the budget is too small."""

from pathlib import Path

from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def test_search_section_after_training_with_a_short_budget():
    at = AppTest.from_file(PAGE, default_timeout=600)
    at.run()
    ni = {w.label: w for w in at.number_input}
    ni["Epochs (early stopping may end sooner)"].set_value(2)
    ni["Use at most this many rows (0 = all)"].set_value(800)
    ni["Rows explained with SHAP"].set_value(50)
    at.toggle(key="credit.search_on").set_value(True)
    at.number_input(key="credit.search_budget").set_value(5)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert any(s.value.startswith("Model trained") for s in at.success)
    section = [e for e in at.expander if e.label.startswith("Model search —")]
    assert len(section) == 1 and section[0].label.endswith("of 5 s")
    frames = [d.value for d in at.dataframe]
    (trials,) = [f for f in frames if {"trial", "state", "epochs"} <= set(f.columns)]
    assert len(trials) >= 1 and trials["trial"].iloc[0] == 0
    (settings,) = [f for f in frames if "Setting" in f.columns]
    assert set(settings["Setting"]) >= {"Hidden layers", "Units per layer", "Learning rate", "Imbalance handling"}
    metrics = {m.label: m.value for m in at.metric}
    if (trials["state"] == "Complete").any():
        assert metrics["Best validation ROC-AUC"] != "–"
    else:  # not even today's recipe finished in 5 s: said so, and the recipe is what was trained
        assert any("too small for one trial" in i.value for i in at.info)
        assert metrics["Model trained with"] == "today's recipe"
        assert (settings["Today's recipe"] == settings["Chosen"]).all()
