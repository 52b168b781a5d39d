"""Credit scoring on top of the shared tabular engine.

Credit conventions live here: scorecard points with PDO scaling and grades (`scorecard`), the
approve/decline profit curve (`profit`), plain-words reason codes from SHAP values (`reasons`),
population stability (`psi`), fairness by sensitive group (`fairness`), scoring of single applicants
and whole files (`scoring`), the end-to-end training pipeline (`pipeline`) and the CLI (`cli`).
Nothing here imports streamlit, and TensorFlow / SHAP are only imported inside functions.
"""
