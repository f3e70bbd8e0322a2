"""MLflow export: the pyfunc model, loaded in a fresh process and served by ``mlflow models serve``, predicts
what the automl_pl artifact predicts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlflow", reason="the mlflow extra is not installed: pip install 'automl_pl[mlflow]'")

from automl_pl import ArtifactError, load_model, tune  # noqa: E402
from automl_pl.export import save_mlflow_model  # noqa: E402

SERVER_START_SECONDS = 120


@pytest.fixture(scope="module")
def exported(tmp_path_factory, make_data):
    """A tuned ensemble's artifact and its MLflow model."""
    folder = tmp_path_factory.mktemp("mlflow")
    X, y = make_data(90, seed=51)
    pool, _ = make_data(60, seed=53)
    result = tune(X, y, X_unlabeled=pool, models=["lightgbm", "ridge"], n_trials=2, cv=3,
                  show_progress_bar=False, n_jobs=1)
    return result.export(folder / "artifact"), result.export_mlflow(folder / "mlflow_model")


def test_the_mlflow_model_holds_the_artifact_and_no_pickle(exported):
    artifact, model = exported
    files = {p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()}
    assert "MLmodel" in files and "_mlflow_pyfunc.py" in files
    assert {f"artifacts/artifact/{p.name}" for p in artifact.iterdir() if p.name != "metadata.json"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))]
    assert "automl_pl==" in (model / "requirements.txt").read_text()


def test_a_fresh_process_loads_it_with_mlflow_and_predicts_as_the_artifact(exported, new_rows, tmp_path):
    artifact, model = exported
    rows = tmp_path / "rows.parquet"
    new_rows.to_parquet(rows)
    child = subprocess.run(
        [sys.executable, "-c", "import sys, json, mlflow.pyfunc, pandas as pd; "
         "model = mlflow.pyfunc.load_model(sys.argv[1]); "
         "print(json.dumps(list(map(float, model.predict(pd.read_parquet(sys.argv[2]))))))", str(model), str(rows)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    got = np.array(json.loads(child.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(got, load_model(artifact).predict(new_rows), rtol=1e-12, atol=1e-12)


def _with_interpreter_on_path() -> dict[str, str]:
    """The environment with this interpreter's scripts first on PATH: ``mlflow models serve`` starts ``uvicorn``
    by name, which an unactivated virtual environment (``.venv/bin/python -m pytest``) would not find."""
    return {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def test_mlflow_models_serve_answers_over_http(exported, new_rows, tmp_path):
    artifact, model = exported
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model), "--env-manager",
                               "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
                              env=_with_interpreter_on_path())
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/ping", server, tmp_path / "server.log")
        frame = new_rows.astype({"size": object}).astype(object).where(new_rows.notna(), None)
        body = json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": frame.values.tolist()}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        np.testing.assert_allclose(answer["predictions"], load_model(artifact).predict(new_rows), rtol=1e-12)

        bad = json.dumps({"dataframe_split": {"columns": ["num_a"], "data": [[1.0]]}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=bad,
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=60)
        assert "missing columns" in info.value.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its worker, started here in their own session
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_re_export_replaces_its_own_model_and_refuses_anything_else(exported, tmp_path):
    artifact, _ = exported
    path = save_mlflow_model(artifact, tmp_path / "model")
    save_mlflow_model(artifact, path)  # its own: replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(ArtifactError, match="not an MLflow model written by automl_pl"):
        save_mlflow_model(artifact, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    with pytest.raises(ArtifactError, match="not an automl_pl model directory"):
        save_mlflow_model(tmp_path / "mine", tmp_path / "other")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow models serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"mlflow models serve did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")

