"""The automl-pl command end to end: run, predict, export, dashboard, and its error messages."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl_pl
from automl_pl.cli import main


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 160
    frame = pd.DataFrame({
        "id": np.arange(n),
        "x": rng.normal(size=n),
        "shop": rng.choice(["a", "b", "c"], size=n),
    })
    frame["sales"] = 3 * frame["x"] + frame["shop"].map({"a": 0.0, "b": 2.0, "c": -1.0}) + rng.normal(scale=0.1, size=n)
    frame.iloc[:120].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[120:].drop(columns="sales").to_csv(tmp_path / "test.csv", index=False)
    (tmp_path / "study.toml").write_text("""
[data]
labeled = "train.csv"
unlabeled = "test.csv"
target = "sales"
drop = ["id"]
[study]
n_trials = 3
cv = 3
models = ["ridge", "lightgbm"]
[export]
dir = "model"
""")
    return tmp_path


def test_run_export_predict(workdir, capsys):
    spec = str(workdir / "study.toml")
    assert main(["run", spec, "--no-progress", "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "CV RMSE" in out and "supervised CV RMSE" in out and "exported the best model" in out
    model = automl_pl.load_model(workdir / "model")
    assert model.metadata["study"]["name"] == "study" and model.metadata["ignored_columns"] == ["id"]

    # Flags override the spec: a total of 5 trials in the same study.
    assert main(["run", spec, "--no-progress", "--n-jobs", "1", "--n-trials", "5", "--export", str(workdir / "model5")]) == 0
    import optuna

    study = optuna.load_study(study_name="study", storage=f"sqlite:///{workdir / 'study.db'}")
    assert len(study.trials) == 5

    assert main(["predict", str(workdir / "model"), str(workdir / "test.csv"), "-o", str(workdir / "preds.csv")]) == 0
    preds = pd.read_csv(workdir / "preds.csv")
    test = pd.read_csv(workdir / "test.csv")
    assert list(preds.columns) == ["id", "sales"]
    assert np.allclose(preds["sales"], model.predict(test))

    assert main(["export", spec, "--out", str(workdir / "again")]) == 0
    again = automl_pl.load_model(workdir / "again")
    assert again.metadata["study"]["trial_number"] == study.best_trial.number
    assert np.allclose(again.predict(test), automl_pl.load_model(workdir / "model5").predict(test))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "{w}/absent.toml"], "no study spec at"),
        (["export", "{w}/study.toml", "--out", "{w}/o"], "no study named 'study'"),
        (["predict", "{w}/nomodel", "{w}/test.csv", "-o", "{w}/p.csv"], "is not a directory"),
        (["run", "{w}/study.toml", "--storage", "postgresql+psycopg://u:secret@127.0.0.1:1/db", "--no-progress"],
         "cannot open storage postgresql+psycopg://u:***@127.0.0.1:1/db"),
    ],
)
def test_errors_are_one_clear_line(workdir, capsys, args, message):
    assert main([a.format(w=workdir) for a in args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "secret" not in err


def test_predict_refuses_wrong_columns_and_writes_nothing(workdir, capsys):
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    pd.read_csv(workdir / "test.csv").drop(columns="x").to_csv(workdir / "bad.csv", index=False)
    assert main(["predict", str(workdir / "model"), str(workdir / "bad.csv"), "-o", str(workdir / "p.csv")]) == 1
    assert "missing columns ['x']" in capsys.readouterr().err
    assert not (workdir / "p.csv").exists()
    assert not list(workdir.glob(".p.csv*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_serves_the_study_on_localhost(workdir):
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl_pl.cli", "dashboard", str(workdir / "study.toml"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as response:
                    studies = json.load(response)["study_summaries"]
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode() if proc.poll() is not None else "dashboard did not start")
                time.sleep(0.3)
        assert [s["study_name"] for s in studies] == ["study"]
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        local_addresses = [line.split()[3] for line in listening.splitlines()]
        if local_addresses:  # where ss is installed
            assert local_addresses == [f"127.0.0.1:{port}"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_fixed_params_from_spec_and_flags(workdir):
    spec = workdir / "study.toml"
    spec.write_text(spec.read_text().replace("[export]", 'fixed_params = { selection = "confidence" }\n[export]'))
    assert main(["run", str(spec), "--no-progress", "--n-jobs", "1", "--fixed-param", "sample_rate=0.5",
                 "--fixed-param", "n_rounds=2"]) == 0
    import optuna

    study = optuna.load_study(study_name="study", storage=f"sqlite:///{workdir / 'study.db'}")
    for trial in study.trials:
        assert (trial.params["sample_rate"], trial.params["selection"], trial.params["n_rounds"]) == (0.5, "confidence", 2)


def test_malformed_fixed_param_flag(workdir, capsys):
    assert main(["run", str(workdir / "study.toml"), "--fixed-param", "sample_rate"]) == 1
    assert "--fixed-param takes NAME=VALUE" in capsys.readouterr().err


def test_report_command(workdir, capsys):
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "3", "--n-jobs", "1"]) == 0
    assert main(["report", str(workdir / "study.toml"), "-o", str(workdir / "report.html")]) == 0
    assert "Pseudo-labelled vs supervised" in (workdir / "report.html").read_text()
    assert main(["report", str(workdir / "study.toml"), "--study-name", "nope", "-o", str(workdir / "r2.html")]) == 1
    assert "no study named 'nope'" in capsys.readouterr().err
