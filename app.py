"""AI Use-Case Studio: the router. Each screen lives in pages/."""

import gc
import os

import streamlit as st

from core.store.memory_guard import configure_allocator, start_memory_trimmer
from core.present.money import CURRENCIES, DEFAULT_CURRENCY
from core.store.scenarios import ROOT, SCENARIOS, discover, extension_problems
from ui.common import CURRENCY_KEY
from ui.auth import require_sign_in
from ui.jobs import browser_key
from ui.memory import release_and_report, trace_if_asked

# Saved runs scored in this process (Score page) run on ONNX Runtime: TensorFlow stays in the training workers.
os.environ.setdefault("STUDIO_RUNTIME", "onnx")
# Memory freed when visitors leave goes back to the system (every 30 s), not kept at the server's peak; the
# sessions of visitors gone longer than disconnectedSessionTTL are shut down first (Streamlit only marks them).
trace_if_asked()  # STUDIO_MEMORY_TRACE: tracemalloc in the server, for STUDIO_MEMORY_DEBUG's snapshots
if start_memory_trimmer(before=release_and_report):  # once per server process
    configure_allocator()  # freed blocks of 128 KB and more go straight back to the system (STUDIO_MALLOC)

st.set_page_config(page_title="AI Use-Case Studio", page_icon=":material/insights:", layout="wide")

# Sign-in first when the deployment configures it in its secrets; open otherwise.
require_sign_in()
# The browser's key (kept in the address) owns its trainings: a reload finds them again.
browser_key()

# Scenario packages named in STUDIO_SCENARIOS that could not be loaded are left out, saying why; the
# others (the built-in ones at least) stay usable.
discover()
for problem in extension_problems():
    st.error(problem, icon=":material/extension_off:")

overview = st.Page("pages/home.py", title="Overview", icon=":material/home:", url_path="overview", default=True)


def _to_overview() -> None:
    st.switch_page(overview)


# The overview is served at "/"; links to "/home" (older shares, bookmarks) land on it too instead
# of Streamlit's "Page not found" dialog, through a hidden page that only forwards.
pages = [overview, st.Page(_to_overview, title="Overview", url_path="home", visibility="hidden")]
pages += [
    st.Page(spec.page, title=spec.title, icon=spec.icon, url_path=spec.key)
    for spec in SCENARIOS.values()
    if spec.available
]
# Workspace pages: saved runs, batch scoring and monitoring over every scenario.
for path, title, icon, url in (("pages/runs.py", "Runs", ":material/folder_open:", "runs"),
                               ("pages/score.py", "Score", ":material/batch_prediction:", "score"),
                               ("pages/monitor.py", "Monitor", ":material/monitoring:", "monitor")):
    if (ROOT / path).exists():
        pages.append(st.Page(path, title=title, icon=icon, url_path=url))
navigation = st.navigation(pages)
# One money setting for every page, the overview and the reports of this session.
st.sidebar.selectbox("Currency", list(CURRENCIES), key=CURRENCY_KEY,
                     index=list(CURRENCIES).index(DEFAULT_CURRENCY),
                     help="Costs and gains are typed and shown in this currency (no conversion).")
try:
    navigation.run()
finally:
    # After the whole page's run, as Streamlit's runner.postScriptGC did after every run (switched off in
    # .streamlit/config.toml: it also ran after each of the progress fragment's once-a-second runs).
    gc.collect()
