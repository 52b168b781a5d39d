"""AI Use-Case Studio: the router. Each screen lives in pages/."""

import streamlit as st

from core.scenarios import SCENARIOS

st.set_page_config(page_title="AI Use-Case Studio", page_icon=":material/insights:", layout="wide")

pages = [st.Page("pages/home.py", title="Overview", icon=":material/home:", url_path="home", default=True)]
pages += [
    st.Page(spec.page, title=spec.title, icon=spec.icon, url_path=spec.key)
    for spec in SCENARIOS.values()
    if spec.available
]
st.navigation(pages).run()
