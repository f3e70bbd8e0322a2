"""Many workers on one study, and crashes: real processes, real PostgreSQL, real SIGKILL.

The PostgreSQL tests read the database URL from ``AUTOML_PL_TEST_POSTGRES_URL`` (``.ci/run``
sets it) and skip, saying so, where it is unset.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import automl_pl
from automl_pl.datasets import load_dataset
from automl_pl.storage import open_storage

POSTGRES_URL = os.environ.get("AUTOML_PL_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="set AUTOML_PL_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# Quick models for counting trials; a forest of fixed size where a trial must last long enough to be killed in.
QUICK = 'models = ["ridge", "elastic_net"]'
SLOW = 'models = ["random_forest"]\nfixed_params = { rf_n_estimators = 100, rf_max_features = 1.0, rf_min_samples_leaf = 1 }'


def write_spec(directory: Path, *, storage: str, n_trials: int, models: str = QUICK, name: str | None = None) -> Path:
    name = name or f"t{uuid.uuid4().hex[:12]}"
    spec = directory / f"{name}.toml"
    spec.write_text(f"""
[data]
dataset = "diabetes"
labeled_fraction = 0.5
[study]
name = "{name}"
storage = "{storage}"
heartbeat_seconds = 1
n_trials = {n_trials}
cv = 3
cv_repeats = 1
{models}
""")
    return spec


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "automl_pl.cli", *args]


def start(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cli(*args), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 240) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out + err


def wait_for(condition: Callable[[], bool], *, timeout: float = 120, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def load(spec: Path, storage: str) -> optuna.Study:
    return optuna.load_study(study_name=spec.stem, storage=open_storage(storage))


def counts(spec: Path, storage: str) -> tuple[int, int]:
    """Finished and running trials of the spec's study; (0, 0) before a worker has created it."""
    try:
        study = load(spec, storage)
    except KeyError:
        return 0, 0
    return len(trials(study, *FINISHED)), len(trials(study, TrialState.RUNNING))


def trials(study: optuna.Study, *states: TrialState) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=states or None)


@pytest.fixture
def postgres_study(tmp_path: Path):
    """A spec writer for PostgreSQL studies; every study it names is deleted afterwards."""
    names: list[Path] = []

    def make(**kwargs) -> Path:
        spec = write_spec(tmp_path, storage=POSTGRES_URL, **kwargs)
        names.append(spec)
        return spec

    yield make
    for spec in names:
        try:
            optuna.delete_study(study_name=spec.stem, storage=POSTGRES_URL)
        except KeyError:
            pass


@needs_postgres
def test_four_workers_share_one_postgres_study_exactly(postgres_study, tmp_path):
    spec = postgres_study(n_trials=60)
    workers = [start("worker", str(spec), "--n-jobs", "1", cwd=tmp_path) for _ in range(4)]
    outputs = [finish(w) for w in workers]

    study = load(spec, POSTGRES_URL)
    finished = trials(study, *FINISHED)
    assert len(finished) == 60
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    assert len({t.user_attrs["worker"] for t in finished}) >= 2, "the workers did not share the work"
    assert not trials(study, TrialState.RUNNING, TrialState.WAITING)
    assert all("automl-pl export" in out for out in outputs)

    export = subprocess.run(cli("export", str(spec), "--out", str(tmp_path / "model"), "--n-jobs", "1"),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr
    model = automl_pl.load_model(tmp_path / "model")
    assert model.metadata["study"]["trial_number"] == study.best_trial.number
    X, _ = load_dataset("diabetes")
    assert model.predict(X.head(5)).shape == (5,)


@needs_postgres
def test_a_killed_worker_s_trial_is_retried_and_the_total_reached(postgres_study, tmp_path):
    spec = postgres_study(n_trials=6, models=SLOW)
    workers = [start("worker", str(spec), "--n-jobs", "1", cwd=tmp_path) for _ in range(3)]
    victim = workers[0]
    found: list[int] = []  # the trial seen running, not looked up again after the wait (it may end meanwhile)

    def inside_folds() -> bool:
        number = _running_trial_of(spec, victim.pid)
        found.extend([] if number is None else [number])
        return number is not None

    wait_for(inside_folds, what="the victim to be inside a trial's folds")
    killed = found[-1]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    for w in workers[1:]:
        finish(w)

    study = load(spec, POSTGRES_URL)
    assert len(trials(study, *FINISHED)) == 6
    assert study.trials[killed].state == TrialState.FAIL
    retried = [t for t in study.trials
               if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed]
    assert len(retried) == 1 and retried[0].state in FINISHED
    assert retried[0].params == study.trials[killed].params


def _running_trial_of(spec: Path, pid: int) -> int | None:
    try:
        study = load(spec, POSTGRES_URL)
    except KeyError:
        return None
    for trial in trials(study, TrialState.RUNNING):
        # A reported fold means every parameter was drawn: killed earlier, the trial records only some of
        # them, and its retry draws the rest anew.
        if trial.user_attrs.get("worker", "").endswith(f":{pid}") and trial.intermediate_values:
            return trial.number
    return None


def test_run_killed_mid_study_continues_to_its_total_and_keeps_every_trial(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    spec = write_spec(tmp_path, storage=storage, n_trials=5, models=SLOW)
    run = start("run", str(spec), "--no-progress", "--n-jobs", "1", cwd=tmp_path)
    wait_for(lambda: (lambda f, r: f >= 2 and r == 1)(*counts(spec, storage)), what="2 finished trials and a running one")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    before = {t.number: (t.state, t.value) for t in trials(load(spec, storage), *FINISHED)}

    out = finish(start("run", str(spec), "--no-progress", "--n-jobs", "1", cwd=tmp_path))
    study = load(spec, storage)
    assert len(trials(study, *FINISHED)) == 5, out
    assert {n: (study.trials[n].state, study.trials[n].value) for n in before} == before
    assert not trials(study, TrialState.RUNNING)


def test_journal_workers_on_one_machine_share_a_study(tmp_path):
    storage = f"journal:{tmp_path / 'study.log'}"
    spec = write_spec(tmp_path, storage=storage, n_trials=12)
    workers = [start("worker", str(spec), cwd=tmp_path) for _ in range(2)]
    for w in workers:
        finish(w)
    study = load(spec, storage)
    assert len(trials(study, *FINISHED)) == 12
    assert len({t.user_attrs["worker"] for t in trials(study, *FINISHED)}) == 2


def test_worker_refuses_sqlite_and_creates_nothing(tmp_path):
    spec = write_spec(tmp_path, storage=f"sqlite:///{tmp_path / 'study.db'}", n_trials=2)
    result = subprocess.run(cli("worker", str(spec)), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "automl-pl: error: several workers cannot share a SQLite study safely (Optuna advises against it). "
        "On one machine use a journal file, e.g. storage 'journal:studies/x.log'; "
        "on several machines use PostgreSQL, e.g. 'postgresql+psycopg://user@host/db'."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.name]


@needs_postgres
def test_a_database_password_never_shows(postgres_study, tmp_path):
    """Trust authentication accepts any password, so a real one can travel in the URL."""
    url = POSTGRES_URL.replace("postgres@", "postgres:hunter2@", 1)
    assert "hunter2" in url, "the test URL has no user to add a password to"
    spec = postgres_study(n_trials=2)
    run = subprocess.run(cli("run", str(spec), "--storage", url, "--no-progress", "--n-jobs", "1",
                             "--export", str(tmp_path / "model")), cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    report = subprocess.run(cli("report", str(spec), "--storage", url, "-o", str(tmp_path / "report.html")),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    shown = [run.stdout, run.stderr, report.stdout, report.stderr, *(p.read_text(errors="replace")
                                                                      for p in tmp_path.rglob("*") if p.is_file())]
    assert "postgres:***@" in run.stderr
    assert not any("hunter2" in text for text in shown)


def test_a_trial_that_finds_the_total_claimed_steps_aside_before_fitting():
    from automl_pl.optimize import SurplusTrialError, _WithinTotal, failed_in_a_row

    study = optuna.create_study()
    other = study.ask()  # another worker's running trial: it claims the study's only place
    calls = []
    guarded = _WithinTotal(lambda trial: calls.append(trial.number) or 1.0, n_trials=1)
    mine = study.ask()
    with pytest.raises(SurplusTrialError, match="claimed by other workers"):
        guarded(mine)
    study.tell(mine, state=TrialState.FAIL)
    assert calls == [] and study.trials[mine.number].user_attrs["surplus"] is True
    assert study.trials[mine.number].user_attrs["worker"].endswith(f":{os.getpid()}")
    study.tell(other, 1.0)
    assert failed_in_a_row(study) == 0  # a surplus trial is not a failure


def test_run_trials_counts_other_workers_running_trials():
    from automl_pl.optimize import run_trials

    study = optuna.create_study()
    study.ask()  # a running trial of another worker, which will finish the total
    run_trials(study, lambda trial: 1.0, n_trials=3, deadline=None, wait_for_running=False)
    assert len(trials(study, *FINISHED)) == 2 and len(trials(study, TrialState.RUNNING)) == 1


# study.ask() below stands in for a worker that died before Study.optimize's first heartbeat.
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_killed_before_its_first_heartbeat_is_failed_retried_and_the_total_reached(tmp_path):
    """A worker killed between creating its trial and its first heartbeat leaves a trial Optuna never fails."""
    from automl_pl.optimize import run_trials

    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'x.db'}", heartbeat_seconds=1))
    silent = study.ask(fixed_distributions={"x": optuna.distributions.FloatDistribution(0, 1)})
    assert not study._storage._backend._get_stale_trial_ids(study._study_id)  # Optuna alone waits for ever
    run_trials(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=3, deadline=time.monotonic() + 60)

    assert study.trials[silent.number].state == TrialState.FAIL
    retried = [t for t in study.trials
               if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == silent.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == study.trials[silent.number].params
    assert len(trials(study, *FINISHED)) == 3 and not trials(study, TrialState.RUNNING)
