"""The command line on a weekly retail export (``walmart_like.make_walmart_like``: integer Store and
Dept ids, Friday dates over three years, Weekly_Sales dollars with near-zero and negative weeks, an
IsHoliday flag), trained once with a 39-week horizon as a planner would run it, with no column flags."""

import contextlib
import io
import json

import pytest

from core.cli import main
from tests.demand.walmart_like import make_walmart_like


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    path = tmp_path_factory.mktemp("retail") / "sales.csv"
    make_walmart_like(stores=3, depts=10, weeks=156).to_csv(path, index=False)
    code, out, err = run_cli(["train", "--scenario", "demand", "--data", str(path), "--horizon", "39",
                              "--epochs", "1", "--seed", "0", "--json"])
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def test_roles_guessed_from_names_and_values_and_printed(retail):
    out, err = retail
    assert out["data"]["columns"] == {"date": "Date", "target": "Weekly_Sales", "series": ["Store", "Dept"],
                                      "covariates": ["IsHoliday"]}
    assert out["data"]["series"] == 30
    roles = {r["column"]: r for r in out["data"]["column_roles"]}
    assert roles["Weekly_Sales"]["why"] == "numeric, and its name has the word 'sales'"
    assert roles["Dept"]["role"] == "series" and "a series id" in roles["Dept"]["why"]
    assert "demand column roles" in err
    assert "  quantity = Weekly_Sales: numeric, and its name has the word 'sales'" in err
    assert "  covariate = IsHoliday: 0/1 flag: a known-in-advance covariate, never the quantity" in err


def test_weak_guess_stops_before_training(tmp_path):
    path = tmp_path / "amounts.csv"
    make_walmart_like(stores=2, depts=2, weeks=60).rename(columns={"Weekly_Sales": "Amount"}).to_csv(path, index=False)
    argv = ["train", "--scenario", "demand", "--data", str(path), "--horizon", "8", "--epochs", "1", "--json"]
    code, out, err = run_cli(argv)
    assert code == 1 and out == ""
    assert "error: Could not tell which column holds the quantity to forecast" in err
    assert "Candidate columns: ['Amount']. Pass --target COLUMN" in err
    # The roles printed first say no column was taken as the quantity, and which one might be.
    assert "quantity = " not in err
    assert "  quantity? = Amount: numeric, could be the quantity, but its name does not say so" in err


def test_headline_leads_with_wape_and_mase_and_mape_is_withheld_near_zero(retail):
    out, _ = retail
    m = out["metrics"]
    assert list(m)[:2] == ["wape", "mase"]
    for name in ("seasonal_naive", "moving_average"):
        assert list(out["baselines"][name])[:2] == ["wape", "mase"]
        assert out["baselines"][name]["mape"] is None
    # Department 7 sells almost nothing and returns exceed sales in some weeks: MAPE would explode.
    assert m["mape"] is None and m["near_zero_actuals"] > 0 and 0 < m["wape"] < 100
    assert out["metric_notes"] == [f"MAPE not shown: {m['near_zero_actuals']} of {m['n']} actuals are near zero "
                                   "(at most 10% of their series' mean), where a percentage error explodes; "
                                   "read WAPE and MASE."]


def test_event_scores_carry_an_interval_and_a_chance_label(retail):
    out, _ = retail
    ev = out["events"]
    for name in ("event_classifier", "quantile_forecast"):
        row = ev[name]
        assert row["roc_auc_low"] <= row["roc_auc_high"]
        chance = row["roc_auc_low"] <= 0.5 <= row["roc_auc_high"]
        assert (row["verdict"] == "no better than chance") == chance
        assert any(n.startswith("Event classifier" if name == "event_classifier" else "Quantile forecast")
                   for n in ev.get("notes", [])) == chance


def test_policy_defaults_are_a_week_on_weekly_data_and_the_stock_is_explained(retail):
    out, _ = retail
    pol = out["policy"]
    # 7-day lead time and weekly review are 1 week each, not half of the 39-week horizon.
    assert (pol["params"]["lead_time"], pol["params"]["review_period"]) == (1, 1)
    assert pol["units"]["lead_time"] == {"periods": 1, "unit": "week", "days": 7.0}
    assert pol["units"]["lead_time_days"] == 7.0 and pol["units"]["review_days"] == 7.0
    assert pol["units"]["text"] == "lead time 1 week (~7 days), review every 1 week (~7 days)"
    assert pol["notes"] == []
    more = pol["stock_model"] > pol["stock_naive"] * 1.0005
    # Against the verdict's best baseline, named in the sentence (one comparison everywhere).
    assert pol["baseline"] and (f"more stock than the {pol['baseline']} one" in pol["explanation"]) == more
    assert f"{pol['stockouts_model']} " in pol["explanation"] and f"{pol['stockouts_naive']} " in pol["explanation"]


def test_policy_days_flags_convert_per_frequency(tmp_path):
    path = tmp_path / "sales.csv"
    make_walmart_like(stores=1, depts=3, weeks=120).to_csv(path, index=False)
    code, out, err = run_cli(["train", "--scenario", "demand", "--data", str(path), "--horizon", "8", "--epochs", "1",
                              "--lead-time-days", "10", "--review-days", "14", "--event-level", "0", "--json"])
    assert code == 0, err
    pol = json.loads(out.strip().splitlines()[-1])["policy"]
    assert (pol["params"]["lead_time"], pol["params"]["review_period"]) == (2, 2)
    assert pol["units"]["text"] == "lead time 2 weeks (~14 days), review every 2 weeks (~14 days)"
