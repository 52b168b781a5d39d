"""Overview: what the studio does, the four scenarios, and the device models train on."""

import streamlit as st

from core.scenarios import SCENARIOS
from ui.common import ensure_router, show_device

ensure_router()

st.title("AI Use-Case Studio")
st.markdown(
    "Take an industry scenario from **raw data** to a **trained Keras model**, its **metrics**, the "
    "**business decision** it drives and an **explanation of every prediction** — in the browser, "
    "without code. Each scenario opens on bundled sample data; upload your own file to work on it."
)

cols = st.columns(2)
for i, spec in enumerate(SCENARIOS.values()):
    with cols[i % 2].container(border=True):
        st.subheader(f"{spec.icon} {spec.title}")
        st.markdown(f"*{spec.question}*")
        st.markdown(spec.summary)
        st.caption(f"Data: {spec.data_format}")
        if spec.available:
            st.page_link(spec.page, label=f"Open {spec.title.lower()}", icon=":material/arrow_forward:")
        else:
            st.info("Not built yet: this scenario is on the roadmap and has no page in this version.")

st.divider()
st.markdown(
    "**How every scenario works:** load → validate → split → preprocess (fitted on training rows "
    "only) → rebalance the rare class → train a Keras network beside scikit-learn baselines → "
    "evaluate → decide with costs → explain with SHAP → export."
)
# The device line comes last: it imports TensorFlow, which takes seconds, and the rest of the page
# should not wait for it.
device_slot = st.empty()
device_slot.caption(":material/memory: Detecting the compute device…")
show_device(device_slot)
