"""`python -m core train` with the leakage audit, end to end on generated leaks (tests/audit/leaks.py): the notice
on standard error, the ``leakage`` section of the JSON, ``--keep-column``, the saved run and its model card.

The bike-rental look-alike shows why: read for the forecast day, ``casual`` + ``registered`` (and the day's
measured weather) give a backtest MASE near 0.2 that no real forecast can reach; read through their past values
only, the network reports an honest error."""

import html
import json

import pytest

from core.store.registry import read_metadata
from core.workspace.report import build_report_html
from tests.audit.leaks import bike_rentals, credit_applications, fraud_log, fraud_log_leaky_amount

BIKE = ["--target", "cnt", "--horizon", "7", "--epochs", "15", "--event-level", "0", "--json"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaks")
    bike_rentals().to_csv(root / "bike.csv", index=False)
    credit_applications().to_csv(root / "credit.csv", index=False)
    fraud_log().to_csv(root / "fraud.csv", index=False)
    fraud_log_leaky_amount().to_csv(root / "fraud_amount.csv", index=False)
    return root


def _train(capsys, scenario, *args):
    from core.cli import main

    code = main(["train", "--scenario", scenario, *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out), out.err


def test_bike_rentals_leak_free_run_reports_an_honest_error_and_keeping_the_leak_does_not(files, capsys):
    res, err = _train(capsys, "demand", "--data", str(files / "bike.csv"), *BIKE)
    assert ("demand leakage audit: Not a same-period input, used through its past values only: 'casual' + "
            "'registered' sum to 'cnt' on 100% of 723 training rows") in err
    findings = {f["column"]: f for f in res["leakage"]["findings"]}
    assert set(findings) == {"casual", "registered", "temp", "hum", "windspeed"}
    assert {f["action"] for f in findings.values()} == {"past_only"}
    assert res["window"]["lagged"] == ["temp", "hum", "windspeed", "casual", "registered"]
    assert [r["column"] for r in res["leakage"]["roles"] if r["role"] == "past values only"] == res["window"]["lagged"]
    roles = {r["column"]: r["role"] for r in res["data"]["column_roles"]}
    assert roles["casual"] == "covariate (past values only)" and roles["holiday"] == "covariate (same period)"
    honest = res["metrics"]["mase"]
    assert honest > 0.5  # no longer the fiction of a forecast 5x better than seasonal naive
    leaky, err = _train(capsys, "demand", "--data", str(files / "bike.csv"), *BIKE, "--keep-column", "casual",
                        "--keep-column", "registered,temp,hum,windspeed")
    assert "Possible leak kept at your request: 'casual' + 'registered' sum to 'cnt'" in err
    assert leaky["window"]["lagged"] == [] and {f["action"] for f in leaky["leakage"]["findings"]} == {"kept"}
    assert leaky["metrics"]["mase"] < 0.4 < honest  # what the audit keeps the analyst from reporting


def test_credit_cli_leaves_the_leaks_out_saves_the_audit_and_keeps_on_request(files, tmp_path, capsys):
    args = ["--data", str(files / "credit.csv"), "--epochs", "2", "--no-explain", "--json"]
    res, err = _train(capsys, "credit", *args, "--save", str(tmp_path / "run"))
    assert "credit leakage audit: Possible leak, left out: 'chargeback_flag' alone separates default at ROC-AUC" in err
    assert "credit leakage audit: Identifier that encodes the outcome (not a model input): the first character of " \
           "identifier 'loan_ref'" in err
    assert res["data"]["features"] == ["annual_income", "debt_to_income", "credit_utilisation", "purpose"]
    actions = {f["column"]: f["action"] for f in res["leakage"]["findings"]}
    assert actions == {"account_no": "left_out", "chargeback_flag": "left_out", "loan_ref": "not_an_input"}
    saved = read_metadata(tmp_path / "run")["workspace"]["dataset"]["leakage"]
    assert saved == res["leakage"]
    card = build_report_html(tmp_path / "run").split("<h2>Data summary</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<b>Leakage audit</b>" in card and "<b>chargeback_flag</b> — left out" in card
    assert html.escape(res["leakage"]["findings"][1]["evidence"], quote=True) in card
    kept, err = _train(capsys, "credit", *args, "--keep-column", "chargeback_flag")
    assert "chargeback_flag" in kept["data"]["features"] and "account_no" not in kept["data"]["features"]
    assert "Possible leak kept at your request: 'chargeback_flag'" in err


def test_credit_cli_refuses_a_keep_column_that_is_not_in_the_file(files, capsys):
    from core.cli import main

    code = main(["train", "--scenario", "credit", "--data", str(files / "credit.csv"), "--epochs", "1",
                 "--keep-column", "charge_back", "--json"])
    assert code == 1
    assert "error: --keep-column must name columns of the data; ['charge_back'] is not among" in capsys.readouterr().err


def test_fraud_cli_leaves_the_post_hoc_column_out(files, capsys):
    res, err = _train(capsys, "fraud", "--data", str(files / "fraud.csv"), "--epochs", "1", "--no-explain", "--json")
    assert "fraud leakage audit: Possible leak, left out: 'case_outcome' alone separates fraud at ROC-AUC" in err
    assert res["leakage"]["findings"][0]["column"] == "case_outcome"
    assert "case_outcome" not in res["features"] and "channel" in res["features"]
    assert any(n.startswith("Possible leak, left out: 'case_outcome'") for n in res["data"]["notices"])


def test_fraud_cli_keeps_a_mapped_amount_that_separates_and_warns(files, capsys):
    res, err = _train(capsys, "fraud", "--data", str(files / "fraud_amount.csv"), "--amount-col", "amount",
                      "--epochs", "1", "--no-explain", "--json")
    (warning,) = res["warnings"]
    assert warning.startswith("Check the amount column: 'amount' alone separates fraud at ROC-AUC 1.000")
    assert f"fraud leakage audit: {warning}" in err
    assert {f["column"]: f["action"] for f in res["leakage"]["findings"]} == {"amount": "kept_mapped",
                                                                               "case_outcome": "left_out"}
    assert "amount" in res["features"] and "case_outcome" not in res["features"]


def test_fraud_cli_refuses_a_test_file_it_would_not_read(files, capsys):
    from core.cli import main

    assert main(["train", "--scenario", "fraud", "--data", str(files / "fraud.csv"), "--test-data",
                 str(files / "fraud.csv"), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "The fraud scenario evaluates on the later days of --data, not on a separate file" in err
    assert "--test-start DATE" in err
