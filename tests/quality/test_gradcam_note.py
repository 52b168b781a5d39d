"""An empty Grad-CAM map (no region raises the target) is said in words, not left as a blank chart."""

from streamlit.testing.v1 import AppTest


def _page(cam_peak: float):
    def app(peak):
        from types import SimpleNamespace as N

        import numpy as np

        from ui.quality.explain import show_explanation

        cam = np.zeros((8, 8), dtype="float32")
        cam[2, 3] = peak
        image = np.full((8, 8, 3), 128, dtype="uint8")
        exp = N(image=image, gradcam=N(maps=[cam], target="P(defect)"),
                shap=N(maps=[np.zeros((8, 8), dtype="float32")], target="P(defect)"),
                proba={"ok": 0.6, "scratch": 0.4}, predicted="ok")
        show_explanation(exp, "t.")

    return AppTest.from_function(app, kwargs={"peak": cam_peak}, default_timeout=120).run()


def test_empty_gradcam_map_says_why_and_a_drawn_one_does_not():
    empty = _page(0.0)
    assert not empty.exception
    assert any(i.value.startswith("Grad-CAM finds no region that raises P(defect)") for i in empty.info)
    drawn = _page(1.0)
    assert not drawn.exception and not any("Grad-CAM finds no region" in i.value for i in drawn.info)
