"""The fraud page's money charts show what is on screen: an axis that fits the visible lines, every band
visible with legend colours that match the bars."""

import numpy as np
import pandas as pd

from core.fraud.charts import plot_decision_bands, plot_savings_curve


def test_savings_axis_fits_the_lines_on_screen_not_the_whole_log():
    alerts = np.arange(0, 20_001, 50)
    # Savings near 11k where the chart looks; reviewing everything would cost hundreds of thousands.
    savings = np.where(alerts <= 2_000, 11_000 - (alerts - 500) ** 2 / 1e3, -400_000)
    curve = pd.DataFrame({"alerts": alerts, "savings": savings, "total_cost": 20_000 - savings / 2,
                          "threshold": np.linspace(1, 0, len(alerts)), "fraud_caught": alerts // 10})
    fig = plot_savings_curve(curve, current_alerts=500, best_alerts=500, currency="(EUR)")
    right = fig.layout.xaxis.range[1]
    shown = curve[curve["alerts"] <= right]
    lo, hi = fig.layout.yaxis.range
    assert lo <= min(shown["savings"].min(), 0) and hi >= shown[["savings", "total_cost"]].to_numpy().max()
    assert lo > -100_000 and hi < 100_000  # not the ±400k of the whole log


def test_decision_bands_show_every_band_with_matching_legend_colours():
    bands = pd.DataFrame({"band": ["approve", "review", "block"], "amount": [962_217.0, 52_162.0, 11_508.0],
                          "fraud_amount": [2_497.0, 13_091.0, 5_164.0]})
    fig = plot_decision_bands(bands, currency="EUR")
    assert [t.name for t in fig.data] == ["Genuine money", "Fraud money"]
    # One colour per trace, so the legend swatch is the bars' colour.
    assert all(isinstance(t.marker.color, str) for t in fig.data)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "Amount (EUR, log scale)"
    assert list(fig.data[1].text) == ["€2,497", "€13,091", "€5,164"]
