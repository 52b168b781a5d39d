"""A saved quality run as a predictor: each instance is one image (``{"image": {"b64": ...}, "name":
...}`` in JSON, or a file of a multipart upload), decoded as the batch scorer decodes an image
(``load_single_image``: same resizing and channels) and classified as ``python -m core score`` does
(``predict_proba`` and ``get_predictions_frame``): class probabilities, P(defect) and pass / reject at
the saved threshold, or the most likely defect type for a defect-typing model."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd

from core.serve.serving import Predictor, RequestError

IMAGE, NAME = "image", "name"


class QualityPredictor(Predictor):
    input_kind = "images"
    optional = (NAME,)

    def __init__(self, run_dir: Path, *, runtime: str):
        from core.serve.decisions import get_decision_settings
        from core.quality.export import load_quality_model
        from core.store.registry import read_metadata

        meta = read_metadata(run_dir)
        self.saved = load_quality_model(run_dir, runtime=runtime)
        super().__init__(run_dir, meta, runtime=runtime)
        self.threshold = float(get_decision_settings(meta)["threshold"])  # what the batch scorer rejects at

    def columns(self) -> dict[str, str]:
        return {IMAGE: "image"}

    def describe(self) -> dict:
        out = super().describe()
        out["input"].update(image_size=self.saved.image_size, channels=self.saved.channels,
                            classes=list(self.saved.class_names), good_class=self.saved.ok_class)
        return out

    def example_row(self) -> dict:
        """A plain mid-grey image of the model's size, as a PNG in base64."""
        from PIL import Image

        buf = io.BytesIO()
        size = self.saved.image_size
        Image.fromarray(np.full((size, size), 128, dtype=np.uint8), mode="L").save(buf, format="PNG")
        return {IMAGE: {"b64": base64.b64encode(buf.getvalue()).decode("ascii")}, NAME: "part.png"}

    def instances_from_files(self, files: list[tuple[str, bytes]]) -> list[dict]:
        return [{IMAGE: data, NAME: name} for name, data in files]

    def check(self, df: pd.DataFrame) -> pd.DataFrame:
        extra = [c for c in df.columns if c not in (IMAGE, NAME)]
        if IMAGE not in df.columns or extra:
            got = "no 'image'" if IMAGE not in df.columns else f"other field(s) {extra[:10]}"
            raise RequestError("instances with an 'image' (base64 as {\"b64\": ...} in JSON, or a multipart file) "
                               "and optionally a 'name'", got, "send one image per instance and nothing else")
        bad = [i for i, v in enumerate(df[IMAGE]) if not isinstance(v, (bytes, bytearray))]
        if bad:
            raise RequestError("each 'image' as base64 in an object {\"b64\": \"...\"}",
                               f"something else in instance(s) {bad[:10]}", "encode the image file's bytes "
                               "in base64 and send {\"image\": {\"b64\": \"...\"}}")
        return df.reset_index(drop=True)

    def predict(self, df: pd.DataFrame, *, remember: bool = True) -> pd.DataFrame:
        from core.errors import DataValidationError
        from core.quality.data import load_single_image
        from core.quality.service import score_images

        part = self.check(df)
        s = self.saved
        images = []
        for i, data in enumerate(part[IMAGE]):
            try:
                images.append(load_single_image(bytes(data), image_size=s.image_size, channels=s.channels)[0])
            except DataValidationError as exc:
                why = type(exc.__cause__).__name__ if exc.__cause__ is not None else "unreadable"
                raise RequestError("a readable image in every instance (PNG, JPEG, BMP, GIF, TIFF, WebP)",
                                   f"instance {i}: {len(data):,} bytes that cannot be decoded as an image ({why})",
                                   "send the original image file's bytes") from exc
        names = [str(n) if isinstance(n, str) and n else f"image-{i + 1}"
                 for i, n in enumerate(part[NAME] if NAME in part else [None] * len(part))]
        return score_images(s, np.stack(images), names, threshold=self.threshold)


def make_predictor(run_dir: Path, *, runtime: str) -> QualityPredictor:
    return QualityPredictor(run_dir, runtime=runtime)
