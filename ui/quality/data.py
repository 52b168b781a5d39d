"""Quality page, first tab: the images (sample or a zip), the input size, and what the set holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.quality.charts import plot_class_bar
from core.quality.data import LoadOptions, find_ok_class, load_image_dataset
from core.quality.evaluate import DEFECT_TYPING_NOTE
from core.quality.labels import describe_layout
from core.data.safety import escape_markdown

from ui.quality.base import K, SIZES, fail, load_sample, max_images, pct, thumb


def pick_image_size():
    """The input size every image is resized to."""
    return st.selectbox("Input size (images are resized to a square)", list(SIZES), format_func=SIZES.get,
                        key=K + "image_size",
                        help="Auto keeps the images' own resolution (up to 256 pixels) when training can read them "
                             "within a few minutes on 2 CPU cores — large texture images train on 128-pixel patches, "
                             "large inspection images with a first convolution of stride 2 — and otherwise the "
                             "largest of 128, 96 and 64; 64 is fastest, native the images' own size.")


def get_data(image_size: int):
    choice = st.radio("Images", ["Bundled sample (1,000 synthetic surfaces)", "Upload a zip"], horizontal=True,
                      key=K + "source")
    if choice.startswith("Bundled"):
        return load_sample(image_size)
    up = st.file_uploader("Zip with one folder per class (e.g. ok/, scratch/; levels such as Imgs/ or train/ "
                          "inside are fine), images named after their class (scratches_12.jpg, Cr_1.bmp), or "
                          "images plus a labels CSV (columns filename,label)", type=["zip"], key=K + "upload",
                          help="Masks or annotation images beside the photos (x.png beside x.jpg, ground_truth/, "
                               "x_mask.png) are left out with a notice.")
    if up is None:
        st.info("Upload a zip to work on your own images, or switch back to the bundled sample.")
        return None
    keep = bool(st.session_state.get(K + "keep_masks", False))
    key = (up.file_id, image_size, keep)
    if st.session_state.get(K + "upload_key") != key:
        st.session_state[K + "upload_key"] = key
        try:
            with st.spinner("Checking and decoding the images"):
                st.session_state[K + "upload_data"] = (load_image_dataset(
                    up, options=LoadOptions(image_size=image_size, max_images=max_images(image_size),
                                            keep_masks=keep)), None)
        except Exception as exc:  # any unreadable upload is a message, never a traceback
            st.session_state[K + "upload_data"] = (None, exc)
    data, err = st.session_state[K + "upload_data"]
    if err is not None:
        fail(err)
    return data


def show_summary(data) -> None:
    counts = data.counts()
    ok = find_ok_class(data.class_names)
    n = len(data.labels)
    defects = n - counts.get(ok, 0) if ok else n
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Images", f"{n:,}")
    c2.metric("Classes", len(counts))
    c3.metric("Defect share", pct(defects / n) if ok else "n/a")
    c4.metric("Size used", f"{data.image_size}×{data.image_size}×{data.channels}")
    for note in data.notices:  # notices quote file names from the upload: shown as typed
        st.warning(escape_markdown(note), icon=":material/info:")
    uploaded = str(st.session_state.get(K + "source", "")).startswith("Upload")
    if uploaded and (data.masks or st.session_state.get(K + "keep_masks")):
        st.checkbox("Keep mask-like images as photos", key=K + "keep_masks",
                    help="Read the images the notice lists as photos too (only when they really are photos).")
    # Confirm where the labels came from: a wrong split of file names shows up here, before training.
    st.info(describe_layout(data.layout, counts) + ("" if data.layout != "filenames" else
            " Check these classes before training; if one is wrong, rename the files or sort them into folders."),
            icon=":material/label:")
    if data.layout == "filenames":
        st.dataframe(pd.DataFrame({"Class (from file names)": list(counts), "Images": list(counts.values()),
                                   "Example file": [data.names[int(np.flatnonzero(data.labels == i)[0])]
                                                    for i in range(len(counts))]}),
                     hide_index=True, key=K + "layout_table")
    if ok is None:
        st.info(DEFECT_TYPING_NOTE, icon=":material/category:")
    else:
        st.info(f"Good-part class: **{escape_markdown(ok)}** (recognised by its name); every other class is a defect. Change it "
                "with 'No defect' class in the training options.", icon=":material/verified:")
    left, right = st.columns([1, 2])
    left.plotly_chart(plot_class_bar(counts, ok), key=K + "class_bar")
    with right:
        st.markdown("**Examples per class**")
        for i, name in enumerate(data.class_names):
            idx = np.flatnonzero(data.labels == i)[:6]
            st.image([thumb(data.images[j]) for j in idx], caption=[name] * len(idx), width=72)
