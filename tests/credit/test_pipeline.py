import numpy as np
import pandas as pd
import pytest

from core.credit.pipeline import find_id_column, guess_target, prepare_credit_data, split_rows
from core.credit.scoring import compute_reasons_for_rows, score_applicant
from core.errors import DataValidationError


def test_guess_target_and_id_column():
    assert guess_target(["applicant_id", "income", "default"]) == "default"
    assert guess_target(["x", "creditability"]) == "creditability"
    assert guess_target(["x", "default.payment.next.month"]) == "default.payment.next.month"
    assert guess_target(["x", "y_value"]) is None
    df = pd.DataFrame({"applicant_id": [1, 2, 3], "present_residence_since": [1, 1, 2]})
    assert find_id_column(df) == "applicant_id"
    assert find_id_column(df[["present_residence_since"]]) is None


def test_prepare_excludes_sensitive_and_identifiers(sample_df):
    data, y, setup = prepare_credit_data(sample_df, target="default")
    assert set(setup.sensitive) == {"sex", "age"}
    assert "sex" not in setup.features and "age" not in setup.features
    assert "applicant_id" not in setup.features and "default" not in setup.features
    assert {"purpose", "housing", "region"} <= set(setup.categorical)
    assert "debt_to_income" in setup.numeric
    assert y.mean() == pytest.approx(sample_df["default"].mean())
    assert any("excluded" in n for n in setup.notices)
    # The analyst can put a sensitive column back.
    _, _, setup2 = prepare_credit_data(sample_df, target="default", sensitive=["sex"])
    assert "age" in setup2.numeric and "sex" not in setup2.features


def test_prepare_errors(sample_df):
    with pytest.raises(DataValidationError, match="Target column 'nope' is not in the data"):
        prepare_credit_data(sample_df, target="nope")
    with pytest.raises(DataValidationError, match="Sensitive columns must be in the data"):
        prepare_credit_data(sample_df, target="default", sensitive=["gender"])
    with pytest.raises(DataValidationError, match="only one class"):
        prepare_credit_data(sample_df.assign(default=0), target="default")
    only_ids = sample_df[["applicant_id", "sex", "default"]]
    with pytest.raises(DataValidationError, match="needs at least one feature column"):
        prepare_credit_data(only_ids, target="default")


def test_split_rows_is_stratified_and_checked():
    y = np.array([0] * 90 + [1] * 10)
    tr, te = split_rows(y, test_size=0.2, seed=0)
    assert len(te) == 20 and y[te].sum() == 2 and len(np.intersect1d(tr, te)) == 0
    with pytest.raises(DataValidationError, match="Too few rows in the rarer class"):
        split_rows(np.array([0] * 20 + [1] * 3))
    with pytest.raises(DataValidationError, match="Test share must be between"):
        split_rows(y, test_size=0.9)


def test_trained_run_scores_and_explains(credit_run):
    run = credit_run
    assert len(run.test_df) == len(run.y_test) == len(run.p_test)
    assert run.tabular.metrics["network"]["roc_auc"] > 0.6  # learns something on 1,500 rows
    assert np.all((run.p_test >= 0) & (run.p_test <= 1))
    assert set(run.references) == set(run.setup.numeric)
    # Sensitive columns stay on the raw rows for fairness, never in the model.
    assert "sex" in run.test_df.columns and "sex" not in run.tabular.preprocessor.columns
    np.testing.assert_allclose(run.predict(run.test_df), run.p_test, atol=1e-6)


def test_what_if_moves_with_risk_drivers(credit_run):
    run = credit_run
    row = run.test_df.iloc[0][run.setup.features].to_dict()
    safe = {**row, "debt_to_income": 0.05, "credit_utilisation": 0.05, "past_delinquencies": 0}
    risky = {**row, "debt_to_income": 1.2, "credit_utilisation": 1.0, "past_delinquencies": 5}
    a = score_applicant(safe, predict_fn=run.predict, threshold=0.5, explain_fn=run.explain_fn,
                        references=run.references)
    b = score_applicant(risky, predict_fn=run.predict, threshold=0.5, explain_fn=run.explain_fn,
                        references=run.references)
    assert b.probability > a.probability and b.points < a.points
    assert 1 <= len(b.reasons) <= 4
    assert any(r.startswith(("Debt-to-income ratio is high", "Credit utilisation is high",
                             "Past delinquencies is high")) for r in b.reasons)


def test_reasons_for_declined_rows_come_from_shap(credit_run):
    run = credit_run
    rows = list(np.argsort(-run.p_test)[:3])
    reasons = compute_reasons_for_rows(run.test_df, rows, explain_fn=run.explain_fn, references=run.references)
    assert set(reasons) == set(rows)
    for r in rows:
        assert 1 <= len(reasons[r]) <= 4
        assert all(isinstance(s, str) and s for s in reasons[r])


def test_automatic_bins_and_l2_follow_the_fitting_rows(credit_run):
    from core.credit.pipeline import BINS_FROM_ROWS, credit_l2, default_credit_config, resolve_credit_config

    auto = default_credit_config()
    assert auto.bins is None and auto.l2 is None
    big, small = resolve_credit_config(auto, BINS_FROM_ROWS), resolve_credit_config(auto, BINS_FROM_ROWS - 1)
    assert big.bins == 16 and small.bins == 0
    assert big.l2 == credit_l2(BINS_FROM_ROWS) and big.validate() is not None
    # A value the user chose is kept; a small table's run records the resolved settings.
    assert resolve_credit_config(default_credit_config(bins=8, l2=1e-3), 10).bins == 8
    assert credit_run.tabular.config.bins == 0 and credit_run.tabular.config.l2 is not None


def test_refit_epochs_follow_the_rows_ratio_and_the_setting_is_checked():
    from core.credit.pipeline import default_credit_config, resolve_credit_config
    from core.ml.tabular import TabularConfig
    from core.ml.tabular_fit import refit_epochs

    # Credit refits (scaled) from BINS_FROM_ROWS fitting rows on and not below; the plain tabular pipeline
    # (fraud) never unless asked; a value the user chose is kept either way.
    from core.credit.pipeline import BINS_FROM_ROWS

    assert default_credit_config().refit is None and TabularConfig().refit == "off"
    assert resolve_credit_config(default_credit_config(), BINS_FROM_ROWS).refit == "scaled"
    assert resolve_credit_config(default_credit_config(), BINS_FROM_ROWS - 1).refit == "off"
    assert resolve_credit_config(default_credit_config(refit="scaled"), 10).refit == "scaled"
    assert resolve_credit_config(default_credit_config(refit="off"), 10**6).refit == "off"
    # 24 kept epochs on 96,000 fitting rows: 24 again, or 30 on all 120,000 rows when scaled.
    assert refit_epochs(24, 96_000, 120_000, "epochs") == 24
    assert refit_epochs(24, 96_000, 120_000, "scaled") == 30
    assert refit_epochs(0, 100, 125, "scaled") == 1  # at least one epoch
    with pytest.raises(DataValidationError, match=r"Refit must be one of \['off', 'epochs', 'scaled'\]; got 'twice'"):
        TabularConfig(refit="twice").validate()


def test_the_refit_trains_up_to_the_lowest_validation_loss_not_the_kept_epoch(monkeypatch):
    """Early stopping keeps the last epoch to lower the validation loss by 0.1 % (here 2); the refit, which has
    no early stopping, trains as far as the lowest validation loss went (here epoch 4), times the rows' ratio."""
    from types import SimpleNamespace

    import core.ml.training as training
    from core.ml.tabular import TabularConfig
    from core.ml.tabular_fit import refit_epochs, train_networks

    calls = []

    def fake_train_keras(build, X, y, X_val, y_val, *, epochs, **kw):
        calls.append(epochs)
        history = {"val_fit_loss": [1.0, 0.9, 0.8995, 0.8994, 0.95]} if len(calls) == 1 else {"loss": [0.5] * epochs}
        return training.FitResult(model=f"model {len(calls)}", history=history, epochs_run=len(history.get(
            "val_fit_loss", [])), best_epoch=training.kept_epoch(history.get("val_fit_loss", [])), seconds=1.0)

    monkeypatch.setattr(training, "train_keras", fake_train_keras)
    rb, rb_all = SimpleNamespace(y=np.zeros(80), class_weight=None), SimpleNamespace(y=np.zeros(100), class_weight=None)
    config = TabularConfig(refit="scaled", epochs=50)
    fit, validated = train_networks(np.zeros((80, 2)), rb, np.zeros((20, 2)), np.zeros(20), config, None,
                                    None, lambda _m: None, refit_rows=(np.zeros((100, 2)), rb_all))
    assert fit.best_epoch == 2 and calls == [50, refit_epochs(4, 80, 100, "scaled")] and calls[1] == 5
    assert fit.model == "model 2" and validated == "model 1" and len(fit.history["refit_loss"]) == 5
