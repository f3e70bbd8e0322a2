"""Tune, export as an MLflow model, serve it with MLflow's own server and ask it over HTTP; then ONNX.

    pip install -e ".[mlflow,onnx]"
    python examples/mlflow_serving.py

The same as, in a shell:

    automl-pl export studies/demo.toml --format mlflow --out models/demo_mlflow
    mlflow models serve -m models/demo_mlflow --env-manager local --host 127.0.0.1 --port 5001
    curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
         -d '{"dataframe_split": {"columns": [...], "data": [[...]]}}'
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np

import automl_pl
from automl_pl.datasets import hide_labels, load_dataset

PORT = 5001

X, y = load_dataset("gapminder")
X_labeled, y_labeled, X_unlabeled = hide_labels(X, y, labeled_fraction=0.3, random_state=0)
result = automl_pl.tune(X_labeled, y_labeled, X_unlabeled=X_unlabeled, models=["lightgbm", "ridge"], n_trials=10,
                        random_state=0)
model_dir = result.export_mlflow("models/gapminder_mlflow")  # the automl_pl artifact inside an MLflow pyfunc model
print(f"MLflow model written to {model_dir}")

server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
                           "--env-manager", "local", "--host", "127.0.0.1", "--port", str(PORT)],
                          start_new_session=True)
try:
    for _ in range(120):  # the server takes a few seconds to start
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ping", timeout=2)
            break
        except OSError:
            time.sleep(1)
    rows = X_unlabeled.head(5)
    body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/invocations", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    served = json.loads(urllib.request.urlopen(request, timeout=60).read())["predictions"]
    print("served:   ", np.round(served, 3))
    print("in Python:", np.round(result.best_estimator_.predict(rows), 3))
finally:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait()

# ONNX: one graph for onnxruntime, one input per column (float, or string for categoricals).
try:
    onnx_file = result.export_onnx("models/gapminder.onnx")
except automl_pl.export.OnnxExportError as exc:  # a family without an ONNX converter was chosen
    print(exc)
else:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file))
    feeds = {i.name: (rows[i.name].astype(str).to_numpy(object) if i.type == "tensor(string)"
                      else rows[i.name].to_numpy("float32")).reshape(-1, 1) for i in session.get_inputs()}
    print("ONNX:     ", np.round(session.run(["prediction"], feeds)[0], 3))
