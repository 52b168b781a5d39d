"""A job result pickled before core/ was grouped by layer (classes named by their old module) still loads."""

import pickle
import sys
import types

import pandas as pd
import pytest

from core.data.preprocess import TabularPreprocessor
from core.jobs.store import RESULT_FILE, load_result
from core.renamed import MOVED, current_module, find_class


def test_every_old_name_points_at_an_importable_module():
    import importlib

    for old, new in MOVED.items():
        assert old.count(".") == 1 and new.startswith("core.") and new.endswith(old.split(".")[1])
        assert importlib.import_module(new).__name__ == new


def test_current_module_maps_old_names_and_leaves_others():
    old = next(o for o, n in MOVED.items() if n.endswith(".preprocess"))
    assert current_module(old) == "core.data.preprocess"
    assert current_module("core.jobs.store") == "core.jobs.store"
    assert current_module("pandas.core.frame") == "pandas.core.frame"
    assert find_class(old, "TabularPreprocessor") is TabularPreprocessor
    with pytest.raises(AttributeError, match="NoSuchClass"):
        find_class(old, "NoSuchClass")


def test_a_result_pickled_under_the_old_module_name_loads(tmp_path, monkeypatch):
    old = next(o for o, n in MOVED.items() if n.endswith(".preprocess"))
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, None], "c": ["a", "b", "a", "b", "a"]})
    real = TabularPreprocessor(numeric=["x"], categorical=["c"]).fit(frame)

    # The class as a process saw it before the move: same fields, module named the old way.
    legacy = type("TabularPreprocessor", (), {"__module__": old})
    fake = types.ModuleType(old)
    fake.TabularPreprocessor = legacy
    monkeypatch.setitem(sys.modules, old, fake)
    before = legacy.__new__(legacy)
    before.__dict__.update(real.__dict__)
    data = pickle.dumps({"preprocessor": before, "epochs": 3}, protocol=pickle.HIGHEST_PROTOCOL)
    assert old.encode() in data
    monkeypatch.delitem(sys.modules, old)

    (tmp_path / RESULT_FILE).write_bytes(data)
    loaded = load_result(tmp_path)
    assert loaded["epochs"] == 3 and type(loaded["preprocessor"]) is TabularPreprocessor
    pd.testing.assert_frame_equal(pd.DataFrame(loaded["preprocessor"].transform(frame)),
                                  pd.DataFrame(real.transform(frame)))
