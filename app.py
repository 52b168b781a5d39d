"""AI Use-Case Studio: the router. Each screen lives in pages/."""

import streamlit as st

st.set_page_config(page_title="AI Use-Case Studio", page_icon=":material/insights:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Overview", icon=":material/home:", url_path="home", default=True),
    st.Page("pages/credit.py", title="Credit scoring", icon=":material/credit_score:", url_path="credit"),
    st.Page("pages/fraud.py", title="Fraud detection", icon=":material/policy:", url_path="fraud"),
    st.Page("pages/demand.py", title="Demand forecasting", icon=":material/trending_up:", url_path="demand"),
    st.Page("pages/quality.py", title="Quality inspection", icon=":material/center_focus_strong:", url_path="quality"),
]
st.navigation(pages).run()
