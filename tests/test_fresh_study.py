"""tune() without a storage or a study name starts a fresh study; resuming is explicit."""

from __future__ import annotations

import optuna
import pytest

from automl_pl import refit_best, tune

SETTINGS = dict(n_trials=2, cv=3, show_progress_bar=False, n_jobs=1)


def test_each_call_without_a_name_is_a_fresh_study(X, y, X_unlabeled):
    first = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], **SETTINGS)
    # Other data and another family: before, this reused the first call's study and failed or returned its model.
    second = tune(X.iloc[:150], y.iloc[:150], models=["lightgbm"], **SETTINGS)
    assert first.study.study_name != second.study.study_name
    assert first.best_params["model"] == "ridge" and second.best_params["model"] == "lightgbm"
    assert len(second.study.trials) == 2


def test_a_named_storage_without_a_name_keeps_each_call_apart(X, y, storage_url):
    first = tune(X, y, models=["ridge"], storage=storage_url, **SETTINGS)
    second = tune(X, y, models=["ridge"], storage=storage_url, **SETTINGS)
    assert sorted(optuna.get_all_study_names(storage_url)) == sorted([first.study.study_name, second.study.study_name])


def test_a_named_study_in_a_storage_is_resumed(X, y, storage_url):
    tune(X, y, models=["ridge"], storage=storage_url, study_name="kept", **SETTINGS)
    again = tune(X, y, models=["ridge"], storage=storage_url, study_name="kept", **{**SETTINGS, "n_trials": 3})
    assert len(again.study.trials) == 3  # n_trials is the study's total: one more trial ran


def test_refit_best_needs_the_storage_and_finds_its_only_study(X, y, storage_url):
    with pytest.raises(ValueError, match="name the storage that holds the study"):
        refit_best(X, y)
    result = tune(X, y, models=["ridge"], storage=storage_url, **SETTINGS)
    refitted = refit_best(X, y, storage=storage_url, n_jobs=1)  # the storage's only study
    assert refitted.study.study_name == result.study.study_name
    tune(X, y, models=["ridge"], storage=storage_url, **SETTINGS)
    with pytest.raises(ValueError, match="holds 2 studies"):
        refit_best(X, y, storage=storage_url)


def test_a_worker_must_name_its_shared_study(X, y, tmp_path):
    with pytest.raises(ValueError, match="worker=True joins a study"):
        tune(X, y, models=["ridge"], storage=f"journal:{tmp_path}/x.log", worker=True, **SETTINGS)
