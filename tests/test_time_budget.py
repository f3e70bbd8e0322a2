"""tune(timeout=T) returns a model within T + 5 %: on a busy machine, and with a family that fits slowly.

Tiny data and budgets of a few seconds: these check the promise, they are not timed benchmarks
(``benchmarks/peers.py --loads`` measures it on real data).
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import optuna
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

import automl_pl
from automl_pl.budget import check_fit_time
from automl_pl.models import FAMILIES
from automl_pl.models._base import ModelFamily

T = 8.0
PROMISE = 1.05

BURSTY = "import time\nwhile True:\n    t = time.monotonic()\n    while time.monotonic() - t < 1.0: pass\n    time.sleep(1.0)"
"""Busy for a second, idle for a second: estimates made in one phase are spent in the other."""


def _tune(X, y, X_unlabeled, *, timeout: float = T, **options):
    started = time.monotonic()
    result = automl_pl.tune(X, y, X_unlabeled=X_unlabeled, n_trials=None, timeout=timeout, n_jobs=2,
                            storage=optuna.storages.InMemoryStorage(), show_progress_bar=False, **options)
    return result, time.monotonic() - started


def _check_model(result, X):
    assert result.best_estimator_ is not None
    assert np.all(np.isfinite(result.best_estimator_.predict(X)))


@pytest.mark.parametrize("load", ["steady", "bursty"])
def test_a_study_on_a_busy_machine_ends_on_time_with_a_model(X, y, X_unlabeled, load):
    code = "while True: pass" if load == "steady" else BURSTY
    busy = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    try:
        result, wall = _tune(X, y, X_unlabeled, models=["lightgbm", "ridge", "random_forest", "catboost"])
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert wall <= PROMISE * T
    _check_model(result, X)


class SleepingRegressor(RegressorMixin, BaseEstimator):
    """Predicts the mean; a fit sleeps ``SLEEP_SECONDS``, in one piece (``steps=1``, it cannot be stopped)
    or in ``steps`` pieces that check the study's time between them, as the boosters' callbacks do."""

    def __init__(self, steps: int = 1) -> None:
        self.steps = steps

    def fit(self, X, y, sample_weight=None):
        for _ in range(self.steps):
            time.sleep(SLEEP_SECONDS / self.steps)
            if self.steps > 1:
                check_fit_time()
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


SLEEP_SECONDS = 3.0


def _sleeping(name: str, *, steps: int) -> ModelFamily:
    return ModelFamily(name=name, prefix=f"{name}_", suggest=lambda trial, n_rows: {},
                       build=lambda params, **kw: SleepingRegressor(steps), relative_cost=1.0,
                       stops_on_time=steps > 1)


@pytest.mark.parametrize("steps", [1, 100], ids=["cannot_stop", "stops_on_time"])
def test_a_study_with_a_family_that_fits_slowly_ends_on_time_with_a_model(X, y, X_unlabeled, monkeypatch, steps):
    monkeypatch.setitem(FAMILIES, "sleeping", _sleeping("sleeping", steps=steps))
    # 1.5 T: room for two quick trials besides a slow fit, even with the rest of the suite running alongside
    result, wall = _tune(X, y, X_unlabeled, timeout=1.5 * T, models=["sleeping", "ridge"])
    assert wall <= PROMISE * 1.5 * T
    _check_model(result, X)
    trials = result.study.trials
    assert any(t.params.get("model") == "sleeping" for t in trials)  # it was tried (a queued trial never ran: no params)
    states = [(t.params.get("model"), t.state.name, t.user_attrs.get("pruned_by")) for t in trials]
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 2, states  # ... and the rest of the time was used


def test_a_study_too_short_for_its_slow_family_still_returns_the_quickest_model(X, y, X_unlabeled, monkeypatch):
    monkeypatch.setitem(FAMILIES, "sleeping", _sleeping("sleeping", steps=100))
    # One ridge configuration (its alpha fixed): every later ridge draw is a duplicate, so however fast the
    # machine, one trial completes and the sleeping ones are stopped for time, which is what the warning is for.
    with pytest.warns(UserWarning, match="short"):
        result = automl_pl.tune(X, y, X_unlabeled=X_unlabeled, models=["sleeping", "ridge"], n_trials=None,
                                timeout=4.0, storage=optuna.storages.InMemoryStorage(), show_progress_bar=False,
                                fixed_params={"sample_rate": 0.0, "ridge_alpha": 1.0})
    assert result.best_params["model"] == "ridge"  # the quickest sound candidate ran first and was kept
    assert sum(t.state.name == "COMPLETE" for t in result.study.trials) == 1
    _check_model(result, X)
