"""Quality inspection in words: the cost chart's money axis carries the currency, and image sizes
read as 64×64 wherever a person reads them (the loader's resize notice: tests/quality/test_data.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.present.glossary import image_size_text, setting_text
from core.quality.charts import plot_inspection_cost


def _curve() -> pd.DataFrame:
    t = np.linspace(0, 1, 11)
    return pd.DataFrame({"threshold": t, "cost_per_part": 2.5 - t, "reject_rate": 1 - t})


def test_cost_chart_money_axis_has_the_currency():
    fig = json.loads(plot_inspection_cost(_curve(), threshold=0.5, best=0.3, currency="GBP").to_json())
    left = fig["layout"]["yaxis"]
    assert left["title"]["text"] == "Cost per inspected part (GBP)" and left["tickprefix"] == "£"
    assert "£" in fig["data"][0]["hovertemplate"]
    default = plot_inspection_cost(_curve(), threshold=0.5, best=0.3)
    assert default.layout.yaxis.title.text == "Cost per inspected part (EUR)" and default.layout.yaxis.tickprefix == "€"


def test_image_sizes_read_with_a_times_sign():
    assert image_size_text(64) == "64×64" and image_size_text("auto").startswith("Auto")
    assert setting_text("search.image_size", 96) == "96×96"

