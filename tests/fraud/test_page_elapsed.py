"""AppTest of the fraud page on a log timed in seconds since its first transaction (the creditcard-style
generator of tests/fraud/test_elapsed_time.py: two days, V1..V28, Amount, Class, no ids): the time unit
is guessed and said, the split is a share of the span, the page says there are no history features,
training works, and choosing another unit changes the split's inputs. Nothing raises."""

from tests.fraud.page_steps import open_with_upload
from tests.fraud.test_elapsed_time import creditcard_like, short_log


def _texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_elapsed_seconds_upload_is_guessed_split_by_share_and_trains():
    at = open_with_upload(creditcard_like(n=1500, seed=4), "creditcard.csv")
    unit = at.selectbox(key="fraud.unit:upload:creditcard.csv:Time")
    assert unit.value == "auto"
    infos = _texts(at.info)
    assert "'Time' holds numbers from" in infos and "read as seconds since the log's start" in infos
    assert "too short for a 7-day label delay and a 7-day test period: it is split in time order" in infos
    assert "No customer / card or terminal / merchant column" in infos
    assert at.slider(key="fraud.test_share:upload:creditcard.csv").value == 0.25
    split = next(c.value for c in at.caption if c.value.startswith("History:"))
    assert "Test: 129,600 seconds (day 2)" in split or "seconds (day 2)" in split
    assert not at.error, [e.value for e in at.error]
    at.number_input(key="fraud.epochs").set_value(2)
    at.number_input(key="fraud.n_explain").set_value(20)
    next(b for b in at.button if b.label.startswith("Train model")).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    captions = _texts(at.caption)
    assert "read as seconds since the log's start" in captions and "trains on the log's own columns" in captions
    # Read as minutes the same numbers span 120 days: day inputs in minutes, the notice says it was chosen.
    unit.set_value("minutes").run()
    assert not at.exception, at.exception
    assert "(as chosen)" in _texts(at.caption)
    assert at.number_input(key="fraud.test_from:upload:creditcard.csv").label == "Test from (minutes)"


def test_short_dated_log_says_its_windows_shrink():
    at = open_with_upload(short_log(days=20, n=3000), name="short.csv")
    infos = _texts(at.info)
    assert "The log spans 20.0 days, less than the 30-day history windows" in infos
    assert "history windows shrink to 1/3/14 days" in infos
    assert not at.error and not at.exception
