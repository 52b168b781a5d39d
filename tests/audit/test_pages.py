"""The leakage audit on the pages (AppTest): the notice before training names each suspect with its evidence,
one click keeps it, and the choice reaches the trained model. Files from tests/audit/leaks.py."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.audit.leaks import bike_rentals, credit_applications, fraud_log, fraud_log_leaky_amount
from tests.conftest import errors_besides_trust

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _upload(page: str, radio: str, uploader: str, name: str, df) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=300).run()
    at.radio(key=radio).set_value("Upload my file").run()
    at.file_uploader(key=uploader).set_value((name, df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _roles(at) -> dict:
    # The last column / role / why table: the covariate roles under the data report (the first is the guess).
    table = [d.value for d in at.dataframe if list(d.value.columns) == ["column", "role", "why"]][-1]
    return dict(zip(table["column"], table["role"]))


def test_demand_role_table_says_why_and_one_click_reads_a_suspect_for_the_forecast_period():
    at = _upload("demand.py", "demand.source", "demand.upload", "bike.csv", bike_rentals())
    notice = next(w.value for w in at.warning if "Not known in advance" in w.value)
    assert "- 'casual' + 'registered' sum to 'cnt' on 100% of " in notice
    assert "- 'temp' is named like weather measured in the same period as 'cnt'" in notice
    roles = _roles(at)
    assert roles["casual"] == roles["temp"] == "past values only" and roles["holiday"] == "same period"
    _button(at, "Keep casual").click().run()
    assert _roles(at)["casual"] == "same period" and _roles(at)["registered"] == "past values only"
    assert any(w.value.startswith("Read for the forecast period at your request: 'casual' + 'registered'")
               for w in at.warning)
    assert [b for b in at.button if b.label == "Past only: casual"]
    next(m for m in at.multiselect if m.label.startswith("Also observed")).set_value(["weekday"]).run()
    assert _roles(at)["weekday"] == "past values only"
    for label, value in (("Horizon (periods to forecast)", 7), ("Backtest origins", 1), ("Max epochs", 1)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    _button(at, "Train forecast model").click().run()
    assert not at.exception, at.exception
    run = at.session_state["demand.run"]
    assert set(run.wcfg.lagged) == {"weekday", "temp", "hum", "windspeed", "registered"}  # casual kept, weekday added
    assert any("Leakage audit on " in c.value and "Kept as same-period inputs at your request although flagged: "
               "casual" in c.value for c in at.caption)


def test_credit_notice_names_the_leaks_and_one_click_keeps_one_as_a_feature():
    at = _upload("credit.py", "credit.source", "credit.upload", "loans.csv", credit_applications())
    callout = next(m.value for m in at.markdown if "Left out of the model as possible leaks" in m.value)
    assert "'chargeback_flag' alone separates default at ROC-AUC" in callout
    assert "'account_no' looks like an identifier, and its last digit alone separates default" in callout
    assert any("identifier 'loan_ref'" in i.value and "never a model input" in i.value for i in at.info)
    _button(at, "Keep chargeback_flag as a feature").click().run()
    assert any(w.value.startswith("Kept as a model input at your request: 'chargeback_flag'") for w in at.warning)
    assert [b for b in at.button if b.label == "Leave chargeback_flag out"]
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(1)
    next(n for n in at.number_input if n.label == "Rows explained with SHAP").set_value(50)
    _button(at, "Train model").click().run()
    assert not at.exception, at.exception
    run = at.session_state["credit.run"]
    assert "chargeback_flag" in run.setup.features and "account_no" not in run.setup.features
    assert {f["column"]: f["action"] for f in run.setup.leakage["findings"]}["chargeback_flag"] == "kept"


def test_fraud_notice_names_the_post_hoc_column_and_one_click_keeps_it():
    at = _upload("fraud.py", "fraud.source", "fraud.file", "log.csv", fraud_log())
    callout = next(m.value for m in at.markdown if "Left out of the model as possible leaks" in m.value)
    assert "'case_outcome' alone separates fraud at ROC-AUC" in callout
    _button(at, "Keep case_outcome as a feature").click().run()
    assert any(w.value.startswith("Kept as a model input at your request: 'case_outcome'") for w in at.warning)
    _button(at, "Leave case_outcome out").click().run()
    assert not [w for w in at.warning if "at your request" in w.value]
    assert [b for b in at.button if b.label == "Keep case_outcome as a feature"]


def test_fraud_mapped_amount_that_separates_stays_with_a_warning_and_no_keep_button():
    at = _upload("fraud.py", "fraud.source", "fraud.file", "log.csv", fraud_log_leaky_amount())
    warning = next(w.value for w in at.warning if w.value.startswith("Check the amount column"))
    assert "'amount' alone separates fraud at ROC-AUC 1.000" in warning and "mapped as the amount" in warning
    callout = next(m.value for m in at.markdown if "Left out of the model as possible leaks" in m.value)
    assert "case_outcome" in callout and "'amount'" not in callout
    labels = [b.label for b in at.button]
    assert "Keep case_outcome as a feature" in labels and "Keep amount as a feature" not in labels
