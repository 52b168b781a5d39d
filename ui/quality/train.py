"""Quality page, first tab: the training options, the training run with its live progress,
and what was trained."""

from __future__ import annotations

import streamlit as st

from core.quality.data import find_ok_class
from core.quality.engine import QualityConfig
from core.quality.models import BACKBONES

from ui.common import NETWORK_HELP, advanced_settings, training_curve
from ui.quality.base import IMBALANCE, K, SHORT_BACKBONES
from ui.search import keep_search, search_options, show_kept_search


def training_form(data) -> dict | None:
    with st.form(K + "train_form"):
        st.markdown("**Training options**")
        c1, c2, c3, c4 = st.columns(4)
        # Short names in the box (a long one is cut off in a quarter-width column); the detail on hover.
        backbone = c1.selectbox("Model", list(BACKBONES), format_func=SHORT_BACKBONES.get, key=K + "backbone",
                                help=" · ".join(BACKBONES.values()))
        imbalance = c2.selectbox("Class imbalance", list(IMBALANCE), format_func=IMBALANCE.get, key=K + "imbalance")
        epochs = c3.number_input("Epochs (early stopping may end sooner)", 1, 200, 60, key=K + "epochs")
        augment = c4.checkbox("Augment images", True, key=K + "augment",
                              help="Random flips and quarter turns of the training images (and of each patch when large "
                                   "texture images train on patches); MobileNetV2 also rotates and changes contrast.")
        c1, c2, c4 = st.columns([2, 1, 1])
        names = list(data.class_names)
        guess = find_ok_class(names)
        ok_choice = c1.selectbox("'No defect' class", names + ["(none: defect types only)"],
                                 index=names.index(guess) if guess else len(names), key=K + "ok_class")
        test_size = c2.slider("Test share", 0.1, 0.4, 0.2, 0.05, key=K + "test_size")
        seed = c4.number_input("Seed", 0, 10_000, 0, key=K + "seed")
        d = QualityConfig()
        with advanced_settings():
            c1, c2, c3 = st.columns(3)
            dropout = c1.slider("Dropout", 0.0, 0.7, float(d.dropout), 0.05, key=K + "dropout",
                                help=NETWORK_HELP["dropout"])
            lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], d.learning_rate,
                                  key=K + "lr", help=NETWORK_HELP["learning_rate"])
            batch = c3.select_slider("Batch size", [16, 32, 64, 128], value=d.batch_size, key=K + "batch",
                                     help="Images per weight update. Larger is faster, smaller adds noise that can "
                                          "help small data.")
        search = search_options(K, kind="quality")
        if not st.form_submit_button("Train model", type="primary", icon=":material/model_training:"):
            return None
    return dict(backbone=backbone, imbalance=imbalance, epochs=int(epochs), augment=bool(augment),
                ok_class=ok_choice if ok_choice in names else None, test_size=float(test_size),
                batch_size=int(batch), seed=int(seed), search=search, dropout=float(dropout), learning_rate=float(lr))


TARGET = "core.quality.jobs:train_page"


def train(data, opts, *, data_key: str = "", data_name: str = "") -> None:
    """Start the training on ``data`` with the form's choices as a job (a worker process); ``collect``
    takes its result. Settings out of range are refused here, before anything is submitted."""
    from ui.jobs import start_job

    opts = dict(opts)
    ok_class = opts.pop("ok_class")
    search = opts.pop("search", None)
    QualityConfig(**opts).validate()
    start_job(K, "quality", TARGET, dict(data=data, ok_class=ok_class, config_options=opts, search=search),
              data=data, seed=opts["seed"], label="quality training",
              meta={"data_key": data_key, "data_name": data_name, "rows": len(data.labels)})


def collect(result: dict, job) -> None:
    """A finished training job's result into the session: the run, its search, baselines and ensemble
    SHAP, and the reject threshold at its optimum for the page's costs."""
    from ui.origin import record_origin

    run = result["run"]
    before = st.session_state.get(K + "run")
    for key in [k for k in st.session_state if k.startswith(K + "out:") or k.startswith(K + "exp:")]:
        del st.session_state[key]
    st.session_state[K + "run"] = run
    keep_search(K, run, result["search"])
    st.session_state[K + "baselines"] = (run, result["baselines"])
    st.session_state[K + "ensemble_shap"] = (run, result["ensemble_shap"])
    st.session_state[K + "threshold"] = optimal_threshold(run)  # the reject line starts at its optimum
    record_origin(K, before, key=job.meta.get("data_key", ""), name=job.meta.get("data_name"),
                  rows=job.meta.get("rows", len(run.test.labels)), unit="images")


def optimal_threshold(run) -> float:
    """The cheapest reject threshold at the page's costs (the 'Use the optimal threshold' button's value);
    the training's own threshold when every class is a defect type (no reject decision)."""
    from core.quality import service

    return service.decide(run, cost_escape=float(st.session_state.get(K + "cost_escape", service.COST_ESCAPE)),
                          cost_false_reject=float(st.session_state.get(K + "cost_fr", service.COST_FALSE_REJECT)),
                          digits=2).threshold


def show_trained(run) -> None:
    """What was trained, its notices and the training curves."""
    st.success(f"Model trained ({run.backbone_used}, {run.timings['epochs_run']} epochs, "
               f"{run.timings['train_s']:.1f} s on {run.device}); tested on {len(run.test.labels)} held-out "
               "images. Open the other tabs for results.", icon=":material/check_circle:")
    for note in run.notices:
        st.warning(note, icon=":material/info:")
    show_recommended(run)
    st.plotly_chart(training_curve(run.history), key=K + "history")
    show_kept_search(K, run)


def show_recommended(run) -> None:
    """Which model the run recommends (the one saved, scored, explained and decided on): the CNN, or its
    blend with the best baseline when that won on the validation images."""
    from ui.search import ensemble_text

    ens = getattr(run, "ensemble", None) or {}
    if not ens:
        st.caption("Recommended model: the CNN (the blend with the best baseline was switched off).")
        return
    if not ens.get("checked"):
        st.caption(f"Recommended model: the CNN. {ens.get('note', '')}")
        return
    text = ensemble_text(ens, "validation log loss", recommended=True)
    if run.recommended == "ensemble":
        net = run.network_metrics or {}
        st.success(f"{text} **On the {len(run.test.labels)} test images** — accuracy {run.metrics['accuracy']:.1%} "
                   f"(the CNN alone {net.get('accuracy', float('nan')):.1%}), macro F1 {run.metrics['macro_f1']:.3f}. "
                   "Grad-CAM shows where its CNN part looked (the thumbnail regression has no convolution); "
                   "SHAP explains the whole blend.", icon=":material/join:")
    else:
        st.caption(f"Recommended model: the CNN. {text}")
