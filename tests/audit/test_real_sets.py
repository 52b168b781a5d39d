"""The leakage audit must not fire on honest data: the bundled samples and the public sets in ../shared/datasets.
Only the audit runs (on the training rows each pipeline would use), no training."""

from pathlib import Path

import pandas as pd
import pytest

from core.credit.pipeline import get_credit_audit, guess_target
from core.data.datasets import read_table
from core.demand.covariates import join_covariates
from core.demand.data import ColumnMap, load_sales
from core.demand.leakage import audit_sales, hold_periods, known_ahead
from core.demand.roles import guess_roles
from core.fraud.columns import make_columns, prepare_log
from core.fraud.pipeline import FraudConfig, get_fraud_audit

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
HANDBOOK = "fraud_detection/handbook_simulated"
HANDBOOK_WEEKS = dict(train_start="2018-07-25", test_start="2018-08-08")


def _credit_findings(df):
    audit = get_credit_audit(df, target=guess_target(df.columns))
    assert audit.rows > 0 and len(audit.checked) >= 5
    return audit.findings


@pytest.mark.realdata
@pytest.mark.parametrize("path", ["credit_scoring/german_credit/germancredit.csv",
                                  "credit_scoring/taiwan_default/UCI_Credit_Card.csv",
                                  "credit_scoring/give_me_some_credit/cs-training.csv.zip"])
def test_public_credit_sets_have_no_suspected_leak(shared_data, path):
    assert _credit_findings(pd.read_csv(shared_data(path))) == []


def test_bundled_credit_sample_has_no_suspected_leak():
    assert _credit_findings(read_table(SAMPLES / "credit_applications.csv").df) == []


@pytest.mark.realdata
@pytest.mark.parametrize("path,split", [(f"{HANDBOOK}/raw_transactions_2018-06-25_2018-08-14.csv.gz", HANDBOOK_WEEKS),
                                        (f"{HANDBOOK}/transactions_2018-07-25_2018-08-14.csv.gz", HANDBOOK_WEEKS),
                                        ])
def test_handbook_logs_have_no_suspected_leak(shared_data, path, split):
    audit = _fraud_audit(pd.read_csv(shared_data(path)), split)
    assert audit.findings == []
    if "transactions_2018-07-25" in path:  # the transformed file: its risk-window features were audited
        assert {"TERMINAL_ID_RISK_7DAY_WINDOW", "TX_DURING_NIGHT"} <= set(audit.checked)
        assert "TX_FRAUD_SCENARIO" not in audit.checked  # describes the label: dropped before the audit


def _fraud_audit(df, split):
    cols = make_columns(df)
    return get_fraud_audit(prepare_log(df, cols), cols, FraudConfig(**split))


def test_bundled_fraud_sample_has_no_suspected_leak():
    audit = _fraud_audit(pd.read_csv(SAMPLES / "fraud_transactions.csv.gz"), {})
    assert audit.findings == [] and audit.checked == ["amount", "channel"]


def _demand_findings(df, hold, cov=None):
    guess = guess_roles(df)
    cm = guess.to_columns()
    join = None
    if cov is not None:
        join = join_covariates(df, cov, date_col=cm.date, series_cols=cm.series)
        cm = ColumnMap(cm.date, cm.target, cm.series, tuple(dict.fromkeys([*guess.covariates, *join.joined])))
        df = join.frame
    data = load_sales(df, cm)
    audit = audit_sales(data, hold=hold, known=known_ahead(join, data))
    return data, audit


@pytest.mark.realdata
def test_walmart_features_measured_in_the_week_enter_through_their_past_values(shared_data):
    """Stores 1-15 of 45 (every column, a third of the rows: loading all 421,570 rows takes most of a minute)."""
    folder = "demand_forecasting/walmart_weekly"
    sales = pd.read_csv(shared_data(f"{folder}/train.csv.zip"))
    data, audit = _demand_findings(sales[sales["Store"] <= 15], hold_periods(39),
                                   pd.read_csv(shared_data(f"{folder}/features.csv")))
    assert len(audit.checked) == 10 and "Temperature" in audit.checked  # measured weather, given for the horizon
    measured = {"Temperature", "Fuel_Price", "CPI", "Unemployment"}  # known only once the week is over
    assert {f.column for f in audit.findings} == measured and {f.kind for f in audit.findings} == {"observed"}
    roles = {r["column"]: r["role"] for r in audit.roles}
    assert {c for c, role in roles.items() if role == "past values only"} == measured
    assert {c for c, role in roles.items() if role == "same period"} == set(audit.checked) - measured


@pytest.mark.realdata
def test_air_passengers_has_no_covariate_to_audit(shared_data):
    _, air = _demand_findings(pd.read_csv(shared_data("demand_forecasting/air_passengers/airline_passengers.csv")),
                              hold_periods(24))
    assert air.findings == [] and air.rows == 120 and air.checked == []


def test_bundled_demand_sample_has_no_suspected_leak():
    _, sample = _demand_findings(read_table(SAMPLES / "demand_sales.csv").df, hold_periods(28, 2))
    assert sample.checked == ["price", "promo", "holiday"] and sample.findings == []
