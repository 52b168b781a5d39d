"""What every part of the quality page shares: its session-state namespace, the sample, the choices
offered and small helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from core.quality.data import LoadOptions, load_image_dataset
from ui.common import show_error

K = "quality."  # namespace of this page's session state
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data" / "quality_images"
IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp"]
SIZES = {"auto": "Auto (fits the time budget)", 64: "64×64 (fastest)", 96: "96×96",
         128: "128×128 (finer texture, ~4× slower than 64)", "native": "Native (the images' own size)"}
SHORT_BACKBONES = {"cnn": "Small CNN, from scratch", "mobilenetv2": "MobileNetV2, ImageNet"}
IMBALANCE = {"class_weight": "Class weights", "oversample": "Over-sample defect images",
             "none": "None", "undersample": "Under-sample OK images"}

fail = show_error


@st.cache_resource(show_spinner="Loading the sample images")
def load_sample(image_size):
    """The bundled sample, shared by all sessions and never modified."""
    return load_image_dataset(SAMPLE_DIR, options=LoadOptions(image_size=image_size))


def pct(v: float) -> str:
    return f"{v:.1%}"


def max_images(image_size) -> int:
    """Cap decoded pixels at ~150 MB (colour worst case) so one session fits a small cloud server;
    the loader says so with a notice when it keeps a subset.  'auto' chooses its size by the number of
    images (``core.quality.sizing.choose_image_size``): 3,000 images at 128 pixels, or up to 1,800 at
    256 (118 megapixels, 118 MB grey and 354 MB in colour at most); 'native' is capped as if 256."""
    side = {"auto": 128, "native": 256}.get(image_size, image_size)
    return int(min(5_000, 150e6 // (side * side * 3)))


def thumb(img: np.ndarray) -> np.ndarray:
    """st.image wants (H, W) for grey images, not (H, W, 1)."""
    return img[..., 0] if img.shape[-1] == 1 else img


