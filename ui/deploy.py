"""The Runs page's Deploy panel: a saved run as a prediction service.

The command that serves it (``python -m core serve``), a curl request built from the run's own
input columns (an example from its training profile; personal-data columns are never among them),
the ONNX file to download, and "Try it": one request, editable, sent to the same predictor the
service runs (in this process, no server needed). The predictor runs on ONNX Runtime, so TensorFlow
stays out of the app's process: the first use exports the network in a child process and caches it
beside the run.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import streamlit as st

from core.errors import DataValidationError
from ui.common import show_error, show_notices
from ui.memory import release_when_empty

K = "deploy."
INLINE_LIMIT = 1_200  # characters of JSON shown inside the curl command; longer bodies go in a file


@st.cache_resource(max_entries=4, show_spinner=False)
def _predictor(path: str, saved_at: float):
    """The run's predictor on ONNX Runtime, shared by every visitor: read-only here (``remember=False``)."""
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    return get_scenario(read_metadata(path).get("scenario")).predictor(Path(path), runtime="onnx")


# The predictors (their ONNX sessions) go when the last visitor has gone: the next one loads them again.
release_when_empty(_predictor.clear)


def run_folder_for_command(path: str) -> str:
    """The run's folder as the serve command names it: under the runs folder the operator set
    (``$STUDIO_RUNS_DIR``, else ./runs beside the app), so the server's own path is never shown to a
    visitor (a run outside that folder is named by its folder alone)."""
    from core.workspace import DEFAULT_RUNS_DIR, RUNS_DIR_ENV
    from ui.workspace import path_in_runs

    return f'"${{{RUNS_DIR_ENV}:-{DEFAULT_RUNS_DIR}}}"/{shlex.quote(path_in_runs(path))}'


def serve_command(path: str, *, network: bool = False) -> str:
    base = f"python -m core serve --model {run_folder_for_command(path)} --runtime onnx"
    return base + (" \\\n  --host 0.0.0.0 --api-key-file api-keys.txt" if network else "")


def curl_command(name: str, body: dict, *, images: bool) -> tuple[str, str | None]:
    """The curl request and, for a long body, the JSON file it reads (``-d @request.json``)."""
    url = f"http://127.0.0.1:8000/v1/models/{name}:predict"
    if images:
        return f"curl -s -X POST {url} \\\n  -F 'file=@part.png'", None
    text = json.dumps(body)
    if len(text) <= INLINE_LIMIT:
        return f"curl -s -X POST {url} \\\n  -H 'Content-Type: application/json' \\\n  -d {shlex.quote(text)}", None
    return f"curl -s -X POST {url} \\\n  -H 'Content-Type: application/json' \\\n  -d @request.json", text


def _onnx_bytes(path: str) -> bytes:
    from core.runtime.onnx import ensure_onnx

    return ensure_onnx(path).read_bytes()


def render_deploy_panel(meta: dict) -> None:
    """The Deploy panel for the run ``meta`` (a listed run, with its ``path``)."""
    path, name = str(meta["path"]), Path(str(meta["path"])).name
    st.subheader("Deploy")
    st.caption("Serve this run as a prediction endpoint (TensorFlow Serving's REST convention): every request is "
               "scored by the same code as the Score page and `python -m core score`.")
    if not st.toggle("Show the service for this run", key=K + "open"):
        return
    try:
        with st.spinner("Preparing the model (the first time, its network is exported to ONNX: about ten seconds)"):
            predictor = _predictor(path, float(meta.get("saved_at") or 0))
    except DataValidationError as exc:
        show_error(exc)
        return
    images = predictor.input_kind == "images"
    body = {"instances": predictor.example_instances()}
    left, right = st.columns(2)
    with left:
        st.markdown("**Start the service** (this machine only, from the studio's folder with its environment)")
        st.code(serve_command(path), language="bash", wrap_lines=True)
        st.markdown("**On a network** (clients send `Authorization: Bearer KEY`)")
        st.code(serve_command(path, network=True), language="bash", wrap_lines=True)
    with right:
        curl, file_body = curl_command(name, body, images=images)
        st.markdown("**Ask for a prediction**")
        st.code(curl, language="bash", wrap_lines=True)
        if file_body is not None:
            st.download_button("Download request.json", data=file_body, file_name="request.json",
                               mime="application/json", key=K + "request", icon=":material/download:")
        st.download_button("Download the ONNX model", data=lambda: _onnx_bytes(path), file_name=f"{name}.onnx",
                           mime="application/octet-stream", key=K + "onnx", on_click="ignore",
                           icon=":material/download:",
                           help="The network for ONNX Runtime (no TensorFlow needed). Preprocessing and decisions "
                                "stay in the studio's code: serve the run to get the same answers.")
    st.markdown("**Try it**")
    _try_it(predictor, body, images=images, name=name)


def _try_it(predictor, body: dict, *, images: bool, name: str) -> None:
    key = f"{K}{name}."
    if images:
        upload = st.file_uploader("An image to classify", type=["png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff",
                                                                  "webp"], key=key + "image")
        rows = predictor.instances_from_files([(upload.name, upload.getvalue())]) if upload is not None else None
        request = pd.DataFrame(rows) if rows else None
    else:
        st.caption("Edit the values and press Predict. The example comes from the run's training data profile "
                   "(typical values), never from a person's record.")
        request = st.data_editor(pd.DataFrame(body["instances"]), key=key + "rows", hide_index=True,
                                 num_rows="fixed", width="stretch")
    if st.button("Predict", key=key + "go", icon=":material/play_arrow:", disabled=request is None):
        try:
            out = predictor.predict(request, remember=False)
        except DataValidationError as exc:
            show_error(exc)
            return
        st.session_state[key + "result"] = out
    out = st.session_state.get(key + "result")
    if out is not None:
        st.dataframe(out, hide_index=True, width="stretch")
        show_notices(list(out.attrs.get("notices") or []), title="Notes")
        from core.serve.serving import to_records

        st.caption("What the service answers to this request:")
        st.code(json.dumps({"predictions": to_records(out)}, indent=1)[:4000], language="json")
