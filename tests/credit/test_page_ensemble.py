"""The credit Performance tab draws the recommended blend beside the network and the baselines: its
ROC and PR curves are labelled with the blend's own test figures (kept with the ensemble check, not in
the per-model table), so a run whose blend won on validation renders without an error."""

import copy
import re

import numpy as np
from streamlit.testing.v1 import AppTest

from core.ml.blend import _metrics
from core.search.ensemble import blend, ensemble_label
from ui.credit.results import MODELS

SCRIPT = """
import streamlit as st
from ui.credit.results import show_performance

show_performance(st.session_state["run_under_test"], 0.3)
"""


def _with_blend(credit_run):
    run = copy.copy(credit_run)
    tab = run.tabular = copy.copy(credit_run.tabular)
    ens = {"checked": True, "use": True, "baseline": "logistic_regression", "weight": 0.5, "metric": "roc_auc",
           "threshold": 0.3, "scores": {}}
    ens["label"] = ensemble_label(ens)
    p = blend(tab.proba["network"], tab.proba["logistic_regression"], 0.5)
    ens["test_metrics"] = _metrics(np.asarray(tab.y_test).astype(int), p, 0.3)
    tab.ensemble = ens
    return run, ens


def test_performance_tab_draws_the_recommended_blend(credit_run):
    run, ens = _with_blend(credit_run)
    assert run.tabular.recommended == "ensemble" and "ensemble" not in run.tabular.metrics
    at = AppTest.from_string(SCRIPT, default_timeout=120)
    at.session_state["run_under_test"] = run
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    names = [re.findall(r'"name":"([^"]*)"', c.proto.spec) for c in at.get("plotly_chart")]
    blend_name = MODELS["ensemble"]
    assert [blend_name + f" (AUC {ens['test_metrics']['roc_auc']:.3f})" in n for n in names].count(True) == 1
    assert [blend_name + f" (AP {ens['test_metrics']['pr_auc']:.3f})" in n for n in names].count(True) == 1
