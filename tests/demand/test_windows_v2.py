"""The version 2 network inputs: holiday-aligned references, low-rank smoothing, masked weighted targets."""

import numpy as np
import pandas as pd
import pytest

from core.demand.data import ColumnMap, load_sales
from core.demand.features import covariate_scales, make_config, make_windows, series_arrays, to_units
from core.demand.seasonal import aligned_lags, easter_sunday
from core.demand.smoothing import group_rank, low_rank_smooth, smooth_column
from core.demand.windows import HOLIDAY_WEIGHT, plan_origins_v2, target_weights


def test_easter_sunday_known_dates():
    known = {2010: "2010-04-04", 2011: "2011-04-24", 2012: "2012-04-08", 2013: "2013-03-31", 2019: "2019-04-21",
             2024: "2024-03-31", 2038: "2038-04-25", 2285: "2285-03-22"}
    for year, day in known.items():
        assert easter_sunday(year) == pd.Timestamp(day)


def test_aligned_lags_follow_easter_and_the_holiday_flag():
    dates = pd.date_range("2010-02-05", periods=143, freq="W-FRI")  # weeks ending on Friday, as in retail exports
    flag = np.zeros(len(dates))
    for d in ("2010-11-26", "2011-11-25", "2012-11-23", "2010-02-12", "2011-02-11"):
        if pd.Timestamp(d) in dates:
            flag[dates.get_loc(pd.Timestamp(d))] = 1
    lags = pd.Series(aligned_lags(dates, 52, "weekly", flag), index=dates)
    # Easter 2011 (24 April) was 55 weeks after Easter 2010 (4 April): both Easter weeks match.
    assert lags["2011-04-22"] == 55 and lags["2011-04-29"] == 55
    # The ordinary week 52 weeks after an Easter week steps off it.
    assert lags["2011-04-01"] == 53 and lags["2011-04-08"] == 51
    assert lags["2011-11-25"] == 52 and lags["2011-06-03"] == 52
    # Other frequencies keep the season.
    assert set(aligned_lags(pd.date_range("2020-01-01", periods=40, freq="D"), 7, "daily")) == {7}


def test_flagged_week_finds_last_years_flag_a_week_away():
    dates = pd.date_range("2020-01-03", periods=110, freq="W-FRI")
    flag = np.zeros(len(dates))
    flag[[10, 63]] = 1  # 53 weeks apart (a 53-week year)
    lags = aligned_lags(dates, 52, "weekly", flag)
    assert lags[63] == 53
    assert lags[62] == 53  # an ordinary week steps off last year's flagged week (52 back) ...
    assert lags[61] == 52  # ... and keeps 52 weeks otherwise


def _two_column_sales(stores=6, depts=2, weeks=80, seed=0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-03", periods=weeks, freq="W-SUN")
    shape = 100 + 40 * np.sin(np.arange(weeks) / 5.0)
    rows = []
    for s in range(stores):
        for d in range(depts):
            y = shape * (1 + s / 3) * (1 + d) + rng.normal(0, 8, weeks)
            rows.append(pd.DataFrame({"store": f"S{s}", "dept": f"D{d}", "date": dates, "units": np.round(y, 2)}))
    return pd.concat(rows, ignore_index=True)


def test_low_rank_smoothing_removes_one_stores_noise_and_learns_from_the_past_only():
    df = _two_column_sales()
    sales = load_sales(df, ColumnMap("date", "units", ("store", "dept")))
    assert smooth_column(("store", "dept")) == "dept" and smooth_column(("store",)) is None
    assert (group_rank(2), group_rank(6), group_rank(100)) == (0, 3, 8)
    frame = sales.frame
    rows = frame.groupby("series", sort=False).indices
    sm = low_rank_smooth(frame, rows, 1, 2, rank=1)
    clean = (100 + 40 * np.sin(np.arange(80) / 5.0))
    sid = "S2 / D1"
    truth = clean * (1 + 2 / 3) * 2
    raw = frame["y"].to_numpy()[rows[sid]]
    assert np.abs(sm[sid] - truth).mean() < 0.6 * np.abs(raw - truth).mean()
    # The components are learnt from the first 50 periods: later values change later smoothed values only.
    cut = {s: 50 for s in rows}
    before = low_rank_smooth(frame, rows, 1, 2, fit_until=cut, rank=1)
    changed = frame.copy()
    late = changed.groupby("series").cumcount().to_numpy() >= 50
    changed.loc[late, "y"] *= 3
    after = low_rank_smooth(changed, rows, 1, 2, fit_until=cut, rank=1)
    np.testing.assert_allclose(before[sid][:50], after[sid][:50])
    assert not np.allclose(before[sid][50:], after[sid][50:])


def test_masked_targets_weights_and_validation_periods():
    df = _two_column_sales(weeks=100)
    df["IsHoliday"] = (df["date"].dt.month == 12) & (df["date"].dt.day <= 7)
    sales = load_sales(df, ColumnMap("date", "units", ("store", "dept")))
    cfg = make_config(sales, 8)
    assert cfg.smooth_by == "dept" and cfg.version == 2
    n_train = {sid: 90 for sid in sales.series_ids}
    arrs = series_arrays(sales, cfg, covariate_scales(sales, cfg, n_train), fit_until=n_train)
    tr, va, tr_rng, va_rng, stride = plan_origins_v2(n_train, cfg, 10 ** 6, 6)
    sid = sales.series_ids[0]
    assert stride == 1 and tr_rng[sid] == (0, 83) and va_rng[sid] == (84, 89)
    assert tr[sid].max() == 82 and va[sid].min() == 84 - 8 and va[sid].max() == 88
    w = make_windows(arrs, cfg, {sid: tr[sid]}, target_range={sid: tr_rng[sid]}, holiday_idx=0)
    live = w.weight[..., 0] > 0
    steps = w.origin[:, None] + np.arange(1, 9)
    assert not live[steps > 83].any()  # validation periods are never training targets
    assert not live[steps < 51].any()  # no reference a year back: masked
    assert live[(steps >= 53) & (steps <= 83)].all()
    np.testing.assert_allclose(w.weight[..., 0][live], np.repeat(np.expm1(w.level), 8).reshape(live.shape)[live],
                               rtol=1e-5)
    flagged = np.asarray(arrs[sid].cov[steps, 0] > 0.5)
    assert flagged.any() and np.all(w.weight[..., 1][flagged] == HOLIDAY_WEIGHT)
    y, norm = target_weights(w)
    assert y.shape == (len(w), 8, 3) and y[..., 1][live].mean() == pytest.approx(1.0, rel=1e-5)
    assert np.all(y[..., 1][~live] == 0) and np.all(y[..., 0][~live] == 0)
    # The smoothed reference input is the smoothed series a year back, relative to the window's level.
    i = 20
    T = w.origin[i]
    names_idx = -4  # reference known, aligned, smoothed, before, after, naive
    r = T + 1 - arrs[sid].lags[T + 1]
    assert np.expm1(w.fut[i, 0, names_idx] + w.level[i]) == pytest.approx(np.expm1(arrs[sid].smooth[r]), rel=1e-4)


def test_weighted_loss_matches_numpy():
    import keras

    from core.demand.model import get_weighted_quantile_loss

    rng = np.random.default_rng(0)
    target, w50, wt = rng.normal(size=(4, 5)), rng.random((4, 5)), rng.random((4, 5))
    w50[0] = wt[0] = 0.0  # a masked window counts for nothing
    pred = rng.normal(size=(4, 5, 3))
    loss = get_weighted_quantile_loss(0.1, 2.0)
    got = float(keras.ops.convert_to_numpy(loss(np.stack([target, w50, wt], -1).astype("float32"),
                                                pred.astype("float32"))))
    q = np.array([0.1, 0.5, 0.9])
    err = target[..., None] - pred
    pin = np.maximum(q * err, (q - 1) * err)
    w = np.stack([wt, 2.0 * w50, wt], -1)
    assert got == pytest.approx(float((w * pin).sum() / w.sum() * 3), rel=1e-5)


def test_averaged_members_load_in_a_fresh_process(tmp_path):
    """The members' loss is custom: a saved average must still load where nothing registered it."""
    import subprocess
    import sys
    from pathlib import Path

    from core.demand.fitting import average_models
    from core.demand.model import build_quantile_model

    members = [build_quantile_model(6, 3, 2, width=8, weighted=True, name=f"member_{k + 1}") for k in range(2)]
    model = average_models(members, 3)
    rng = np.random.default_rng(0)
    x = [rng.random((4, 6)).astype("float32"), rng.random((4, 3, 2)).astype("float32"),
         rng.random((4, 3, 1)).astype("float32")]
    expect = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expect, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", np.concatenate([x[0], x[1].reshape(4, -1), x[2].reshape(4, -1)], axis=1))
    code = ("import keras, numpy as np, sys; m = keras.saving.load_model(sys.argv[1], compile=False, safe_mode=True); "
            "a = np.load(sys.argv[2]); x = [a[:, :6], a[:, 6:12].reshape(4, 3, 2), a[:, 12:].reshape(4, 3, 1)]; "
            "np.save(sys.argv[3], m.predict(x, verbose=0))")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model.keras"), str(tmp_path / "x.npy"),
                           str(tmp_path / "out.npy")], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expect, rtol=1e-5, atol=1e-6)


def test_observed_covariates_enter_through_their_past_only():
    """A covariate the leakage audit marks as observed (``ColumnMap.lagged``) has past values in the
    history input and no forecast-period input; the season of history needed follows the horizon."""
    from core.demand.features import feature_names, history_needed

    df = _two_column_sales(weeks=100)
    df["temperature"] = np.arange(len(df)) % 37 + 0.5
    df["promo"] = (np.arange(len(df)) % 5 == 0).astype(int)
    sales = load_sales(df, ColumnMap("date", "units", ("store", "dept"), lagged=("temperature",)))
    cfg = make_config(sales, 8)
    assert cfg.lagged == ("temperature",) and "temperature" in cfg.past
    hist, fut = feature_names(cfg)
    assert "temperature (forecast period)" not in fut and "promo (forecast period)" in fut
    assert f"past temperature (lag {cfg.input_len})" in hist
    n_train = {sid: 90 for sid in sales.series_ids}
    arrs = series_arrays(sales, cfg, covariate_scales(sales, cfg, n_train), fit_until=n_train)
    sid = sales.series_ids[0]
    w = make_windows(arrs, cfg, {sid: np.array([60, 70])}, with_target=False)
    assert w.hist.shape[1] == len(hist) and w.fut.shape[2] == len(fut)
    assert (history_needed(cfg), history_needed(make_config(sales, 60))) == (52, 104)
