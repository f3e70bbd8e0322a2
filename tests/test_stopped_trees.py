"""A booster trial's tree count: drawn, trimmed by one early-stopping fit, fitted on all rows, refitted alike."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from automl_pl import refit_best, tune
from automl_pl.models import FAMILIES
from automl_pl.models._base import tree_count
from automl_pl.models._early_stopping import MIN_ROWS
from automl_pl.stopped_trees import MAX_ROUNDS, MIN_ROUNDS, stopping_params, stopping_rounds
from automl_pl.trial_attrs import N_TREES, STOPPED_TREES

BOOSTERS = ("lightgbm", "xgboost", "catboost")
DRAWN = 400
"""The tree count each test trial draws (fixed), at a rate fast enough to overfit long before it."""


def _fixed(name: str) -> dict:
    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    return {"model": name, "sample_rate": 0.0, family.trees: DRAWN, f"{family.prefix}learning_rate": 0.3}


def test_the_drawn_count_is_the_stopping_fits_cap_and_it_waits_a_quarter_of_it():
    family = FAMILIES["lightgbm"]
    params = {"model": "lightgbm", family.trees: 300, "lgbm_learning_rate": 0.1}
    stopping = stopping_params(family, params)
    assert stopping[family.trees] == 300 and stopping[family.stopping_rounds] == 75
    assert family.stopping_rounds not in params  # the trial's own parameters are left as drawn
    assert [stopping_rounds(cap) for cap in (10, 100, 10_000)] == [MIN_ROUNDS, 25, MAX_ROUNDS]


@pytest.mark.parametrize("name", BOOSTERS)
def test_a_booster_trial_fits_every_fold_with_the_count_one_stopping_fit_trimmed(name, make_data, tmp_path):
    X, y = make_data(int(MIN_ROWS * 1.5) + 60, seed=2)  # 3 folds of more than MIN_ROWS training rows
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    result = tune(X, y, models=[name], n_trials=2, cv=3, portfolio=None, fixed_params=_fixed(name), storage=storage,
                  study_name="stop", n_jobs=1, show_progress_bar=False, verbosity=0, stacking=False)
    trials = result.study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert trials
    for trial in trials:
        trees = trial.user_attrs[STOPPED_TREES]
        assert 0 < trees < DRAWN  # at 0.3 the error stops falling long before 400 trees: trimmed
        assert trial.user_attrs[N_TREES] == [trees] * 3  # each fold fitted on all its training rows with it
    fitted = {tree_count(model) for model in result.best_estimator_.estimators_}
    by_number = {trial.number: trial for trial in trials}
    assert fitted == {by_number[number].user_attrs[STOPPED_TREES] for number in result.members_}

    refitted = refit_best(X, y, storage=storage, study_name="stop", n_jobs=1)  # from the storage: no fold model kept
    assert {tree_count(model) for model in refitted.best_estimator_.estimators_} == fitted


def test_folds_too_small_to_stop_on_fit_the_drawn_count(make_data):
    X, y = make_data(600, seed=2)
    result = tune(X, y, models=["lightgbm"], n_trials=1, cv=3, portfolio=None, fixed_params=_fixed("lightgbm"),
                  n_jobs=1, show_progress_bar=False, verbosity=0)
    trial = result.study.best_trial
    assert STOPPED_TREES not in trial.user_attrs and trial.user_attrs[N_TREES] == [DRAWN] * 3
