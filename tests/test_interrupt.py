"""Ctrl-C in the middle of a trial: one line, the trial recorded as interrupted, and the next run continues."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from automl_pl.trial_attrs import FAIL_REASON, INTERRUPTED, WORKER

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# A forest of fixed size, so that a trial lasts long enough to be interrupted inside: seconds, not the
# fraction of one that a poll of the study can take on a busy machine (with 200 trees the whole study
# once ended before the signal was sent).
SPEC = """
[data]
dataset = "diabetes"
labeled_fraction = 0.5
[study]
n_trials = 2
cv = 3
cv_repeats = 1
models = ["random_forest"]
fixed_params = { rf_n_estimators = 800, rf_max_features = 1.0, rf_min_samples_leaf = 1 }
"""


def run(spec: Path) -> subprocess.Popen:
    # Ctrl-C as at a terminal, however the tests were started: a shell starting them in the background
    # (`pytest &`, nohup) makes SIGINT ignored, the child inherits that, and Python then never raises
    # KeyboardInterrupt, so the study would finish its trials as a background job should.
    return subprocess.Popen([sys.executable, "-m", "automl_pl.cli", "run", str(spec), "--n-jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def running_trial(spec: Path) -> bool:
    try:
        study = optuna.load_study(study_name="study", storage=f"sqlite:///{spec.with_suffix('.db')}")
    except KeyError:
        return False
    return any(WORKER in t.user_attrs for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def test_ctrl_c_says_one_line_records_the_trial_and_the_next_run_continues(tmp_path):
    spec = tmp_path / "study.toml"
    spec.write_text(SPEC)
    process = run(spec)
    end = time.monotonic() + 120
    while not running_trial(spec):  # the objective has started: it sets the worker first
        assert process.poll() is None and time.monotonic() < end, process.communicate()
        time.sleep(0.05)
    time.sleep(0.3)  # inside the forest's fit
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1] == ("interrupted: finished trials are kept in the study; "
                                            "run the same command again to continue.")
    study = optuna.load_study(study_name="study", storage=f"sqlite:///{spec.with_suffix('.db')}")
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    assert [t.user_attrs.get(FAIL_REASON) for t in failed] == [INTERRUPTED]
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))

    again = run(spec)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    study = optuna.load_study(study_name="study", storage=f"sqlite:///{spec.with_suffix('.db')}")
    assert len(study.get_trials(deepcopy=False, states=FINISHED)) == 2
    assert "not exported" in out
