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
    shown = capsys.readouterr()
    assert "CV RMSE" in shown.err and "supervised CV RMSE" in shown.err  # the summary, with the progress
    assert shown.out.startswith("exported the best model")  # the result
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


def test_predict_ignores_the_target_writes_by_type_and_to_stdout(workdir, capsys):
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    model = automl_pl.load_model(workdir / "model")
    labelled = pd.read_csv(workdir / "train.csv").tail(10)
    labelled.to_csv(workdir / "labelled.csv", index=False)
    capsys.readouterr()

    assert main(["predict", str(workdir / "model"), str(workdir / "labelled.csv"), "-o", str(workdir / "p.parquet")]) == 0
    assert "ignoring the column 'sales' of labelled.csv: it is the target" in capsys.readouterr().err
    written = pd.read_parquet(workdir / "p.parquet")
    assert list(written.columns) == ["id", "sales"]
    assert np.allclose(written["sales"], model.predict(labelled.drop(columns="sales")))

    assert main(["predict", str(workdir / "model"), str(workdir / "labelled.csv"), "-o", "-", "-q"]) == 0
    shown = capsys.readouterr()
    assert shown.err == "" and not (Path.cwd() / "-").exists()
    from io import StringIO

    assert np.allclose(pd.read_csv(StringIO(shown.out))["sales"], written["sales"])


def test_evaluate_prints_the_scores_and_writes_the_residual_plot(workdir, capsys):
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    labelled = pd.read_csv(workdir / "train.csv").tail(20)
    labelled.loc[labelled.index[0], "sales"] = np.nan  # a row without its truth is skipped, and said so
    labelled.to_csv(workdir / "labelled.csv", index=False)
    capsys.readouterr()
    assert main(["evaluate", str(workdir / "model"), str(workdir / "labelled.csv"), "-o", str(workdir / "r.html")]) == 0
    shown = capsys.readouterr()
    scored = labelled.dropna(subset=["sales"])
    residual = scored["sales"] - automl_pl.load_model(workdir / "model").predict(scored.drop(columns="sales"))
    rmse, mae = np.sqrt(np.mean(residual**2)), np.mean(np.abs(residual))
    r2 = 1 - np.sum(residual**2) / np.sum((scored["sales"] - scored["sales"].mean()) ** 2)
    assert shown.out.splitlines() == ["'sales' on 19 rows of labelled.csv:", f"  RMSE  {rmse:.6g}", f"  MAE   {mae:.6g}",
                                      f"  R²    {r2:.6g}"]
    assert "skipping 1 rows of labelled.csv whose 'sales' is missing" in shown.err
    page = (workdir / "r.html").read_text()
    assert "Residual against predicted" in page and "plotly" in page

    assert main(["evaluate", str(workdir / "model"), str(workdir / "labelled.csv"), "-o", str(workdir / "r.png")]) == 1
    assert "the residual plot is an HTML page" in capsys.readouterr().err and not (workdir / "r.png").exists()


def test_run_without_export_dir_says_how_and_export_takes_the_spec_dir(workdir, capsys):
    spec = workdir / "study.toml"
    spec.write_text(spec.read_text().replace('[export]\ndir = "model"\n', ""))
    assert main(["run", str(spec), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    assert f"not exported: study.toml has no [export] dir. Export the best model with `automl-pl export {spec} " \
           "--out DIR`" in capsys.readouterr().out
    assert not (workdir / "model").exists()
    spec.write_text(spec.read_text() + '[export]\ndir = "from_spec"\n')
    assert main(["export", str(spec)]) == 0
    assert automl_pl.load_model(workdir / "from_spec").metadata["study"]["name"] == "study"


def test_n_trials_zero_refits_the_study_without_new_or_waiting_trials(workdir, capsys):
    import optuna

    spec = str(workdir / "study.toml")
    assert main(["run", spec, "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    storage = f"sqlite:///{workdir / 'study.db'}"
    before = [(t.number, t.state) for t in optuna.load_study(study_name="study", storage=storage).trials]
    assert main(["run", spec, "--no-progress", "--n-trials", "0", "--export", str(workdir / "again")]) == 0
    after = [(t.number, t.state) for t in optuna.load_study(study_name="study", storage=storage).trials]
    assert after == before and automl_pl.load_model(workdir / "again").metadata["study"]["name"] == "study"


def test_data_warnings_name_the_file_and_column(workdir, capsys):
    train = pd.read_csv(workdir / "train.csv")
    train["opened"] = pd.date_range("2013-01-01", periods=len(train), freq="D").strftime("%d/%m/%Y")
    train.to_csv(workdir / "train.csv", index=False)
    test = pd.read_csv(workdir / "test.csv")
    test["opened"] = "01/01/2014"
    test["sales"] = 1.0  # known targets in the unlabelled file: ignored, and said so
    test.to_csv(workdir / "test.csv", index=False)
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "1", "--n-jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert f"automl-pl: warning: {workdir / 'test.csv'} has 40 values of the target 'sales': they are ignored" in err
    assert ("automl-pl: warning: column 'opened' holds dates (e.g. '01/01/2013') that do not all read as ISO 8601 "
            "dates (2013-01-05): it is used as a category with 121 levels") in err


def test_iso_dates_in_a_csv_are_dates_and_a_bad_one_is_named_by_file_and_line(workdir, capsys):
    for name, start in (("train.csv", "2013-01-01"), ("test.csv", "2013-06-01")):
        frame = pd.read_csv(workdir / name)
        frame["opened"] = pd.date_range(start, periods=len(frame), freq="D").strftime("%Y-%m-%d")
        frame.to_csv(workdir / name, index=False)
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    assert "holds dates" not in capsys.readouterr().err
    assert automl_pl.load_model(workdir / "model").metadata["schema"][-1]["kind"] == "datetime"

    assert main(["predict", str(workdir / "model"), str(workdir / "test.csv"), "-o", str(workdir / "p.csv")]) == 0
    assert len(pd.read_csv(workdir / "p.csv")) == 40
    frame = pd.read_csv(workdir / "test.csv")
    frame.loc[4, "opened"] = "next Tuesday"
    frame.to_csv(workdir / "bad.csv", index=False)
    assert main(["predict", str(workdir / "model"), str(workdir / "bad.csv"), "-o", str(workdir / "p2.csv")]) == 1
    err = capsys.readouterr().err
    assert (f"{workdir / 'bad.csv'} column 'opened' must hold dates, as in training, but 'next Tuesday' (on line 6) "
            "is not a date in ISO 8601 form") in err
    assert not (workdir / "p2.csv").exists()


def test_a_question_mark_in_a_numeric_column_is_a_missing_value(workdir, capsys):
    for name, rows in (("train.csv", [3, 7, 11]), ("test.csv", [0])):
        frame = pd.read_csv(workdir / name)
        frame["x"] = frame["x"].astype(object)
        frame.loc[rows, "x"] = "?"
        frame.to_csv(workdir / name, index=False)
    assert main(["run", str(workdir / "study.toml"), "--no-progress", "--n-trials", "2", "--n-jobs", "1"]) == 0
    assert "automl-pl: warning: column 'x' holds numbers and '?' (3 rows), which are read as missing" \
        in capsys.readouterr().err
    assert automl_pl.load_model(workdir / "model").metadata["schema"][0] == {"name": "x", "kind": "numeric"}
    assert main(["predict", str(workdir / "model"), str(workdir / "test.csv"), "-o", str(workdir / "p.csv")]) == 0
    assert pd.read_csv(workdir / "p.csv").notna().all().all()


@pytest.mark.parametrize(
    ("flags", "trial_lines", "summary"),
    [([], True, True), (["--no-progress"], False, True), (["-q"], False, False), (["--no-progress", "-v"], True, True)],
)
def test_verbosity_off_a_terminal(workdir, flags, trial_lines, summary):
    """Off a terminal the progress is plain lines, never a redrawn bar; Optuna's parameter dicts only at -vv."""
    run = subprocess.run([sys.executable, "-m", "automl_pl.cli", "run", str(workdir / "study.toml"), "--n-jobs", "1",
                          *flags], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "parameters: {" not in run.stderr and "[I " not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert (len(lines) == 3) == trial_lines and (not lines) == (not trial_lines), run.stderr
    if trial_lines:
        assert lines[0].startswith("[1/3] trial #0 ")
    assert ("best trial #" in run.stderr) == summary
    assert run.stdout.startswith("exported the best model")


def test_most_verbose_shows_optuna_lines_with_parameters(workdir):
    run = subprocess.run([sys.executable, "-m", "automl_pl.cli", "run", str(workdir / "study.toml"), "--n-jobs", "1",
                          "--n-trials", "1", "-vv"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Trial 0 finished with value" in run.stderr and "parameters: {'model':" in run.stderr


def test_tune_verbosity_in_python(capfd):
    from conftest import make_features, make_target

    X = make_features(60, seed=0)
    y = make_target(X, seed=1)
    automl_pl.tune(X, y, n_trials=2, cv=2, models=["ridge"], verbosity=0)
    assert capfd.readouterr().err == ""
    automl_pl.tune(X, y, n_trials=2, cv=2, models=["ridge"], verbosity=1, show_progress_bar=False)
    err = capfd.readouterr().err
    assert "best trial #" in err and "trial #0 ridge" not in err
    automl_pl.tune(X, y, n_trials=2, cv=2, models=["ridge"], verbosity=2, show_progress_bar=False)
    err = capfd.readouterr().err
    assert "[1/2] trial #0 ridge: CV RMSE" in err and "[2/2] trial #1 ridge" in err
