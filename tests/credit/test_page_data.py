"""AppTest tests of the credit page before any training: it opens on the sample with its schema and the
sensitive columns called out, and an upload is read (its outcome column and value offered) or refused with a
clear error."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def test_opens_on_sample_with_schema_and_nothing_trained():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    assert any("5,000 rows" in c.value for c in at.caption)
    assert at.selectbox(key="credit.target:sample").value == "default"
    schema = at.dataframe(key="credit.schema:sample").value.set_index("column")
    assert schema.loc["debt_to_income", "role"] == "numeric"
    assert schema.loc["purpose", "role"] == "categorical"
    assert schema.loc["applicant_id", "role"] == "identifier"
    assert schema.loc["sex", "sensitive"] and not schema.loc["income" if "income" in schema.index else "purpose", "sensitive"]
    assert any("Train a model" in i.value for i in at.info)


def _callout(at):
    return [m.value for m in at.markdown if "Kept out of the model" in m.value]


def test_sensitive_columns_are_called_out_and_one_click_makes_one_a_feature():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    callout = _callout(at)
    assert len(callout) == 1 and "`age`" in callout[0] and "`sex`" in callout[0]
    next(b for b in at.button if b.label == "Use age as a feature").click().run()
    assert not at.exception and not errors_besides_trust(at)
    callout = _callout(at)
    assert len(callout) == 1 and "`age`" not in callout[0] and "`sex`" in callout[0]
    schema = at.dataframe(key="credit.schema:sample:age").value.set_index("column")
    assert not schema.loc["age", "sensitive"] and schema.loc["sex", "sensitive"]
    assert not [b for b in at.button if b.label == "Use age as a feature"]



@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"a,b,default\n", "no data rows"),
    (b"income,default\n1,0\n2,0\n3,0\n", "only one"),
])
def test_bad_upload_shows_error(content, match):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("bad.csv", content, "text/csv")).run()
    assert not at.exception
    assert any(match in e.value for e in at.error), [e.value for e in at.error]


def _upload(content: bytes) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("mine.csv", content, "text/csv")).run()
    assert not at.exception
    return at


def test_a_numeric_column_with_many_values_is_not_taken_as_the_outcome():
    rows = "\n".join(f"{20000 + 137 * i},{i % 7},{'north' if i % 2 else 'south'}" for i in range(60))
    at = _upload(f"income,dependants,region\n{rows}\n".encode())
    # No column is named like an outcome: the last one is offered; pick the income instead.
    at.selectbox(key="credit.target:upload:" + at.session_state["credit.schema_key"].split(":", 1)[1]).set_value(
        "income").run()
    err = [e.value for e in at.error]
    assert any("holds numbers with 60 different values" in e and "Fix: pick the column" in e for e in err), err
    assert not [b for b in at.button if b.label == "Train model"]  # nothing to train on a measurement


def test_a_file_with_no_usable_feature_is_refused_at_upload():
    rows = "\n".join(f"APP{i},2024-01-{1 + i % 28:02d},{i % 2}" for i in range(40))
    at = _upload(f"applicant_id,applied_on,default\n{rows}\n".encode())
    err = [e.value for e in at.error]
    assert any("No column is left for the model to learn from" in e and "Fix: set the role" in e for e in err), err
    assert not [b for b in at.button if b.label == "Train model"]


def test_good_upload_offers_target_and_positive_value(small_df):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    df = small_df.head(300).assign(default=small_df.head(300)["default"].map({1: "bad", 0: "good"}))
    at.file_uploader(key="credit.upload").set_value(("mine.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception and not errors_besides_trust(at)
    assert any("300 rows" in c.value for c in at.caption)
    target = next(s for s in at.selectbox if s.label.startswith("Outcome column"))
    positive = next(s for s in at.selectbox if s.label.startswith("Value that means default"))
    assert target.value == "default" and positive.value == "bad"
    assert sorted(positive.options) == ["bad", "good"]
