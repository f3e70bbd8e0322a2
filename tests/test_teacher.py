"""The ensemble as teacher: fold-correct students, kept only when they lower the out-of-fold RMSE."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from automl_pl import tune
from automl_pl.budget import TimeBudget
from automl_pl.teacher import FoldMix, teach_with_the_ensemble
from automl_pl.trial_attrs import TEACHER_ROUND


@pytest.fixture(scope="module")
def taught(make_data):
    X, y = make_data(160, seed=5)
    X_unlabeled, _ = make_data(240, seed=6)
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], n_trials=5, cv=3,
                  storage=optuna.storages.InMemoryStorage(), n_jobs=1, verbosity=0, teacher_round=True)
    return result


def test_the_round_is_recorded_and_decided_by_the_out_of_fold_rmse(taught):
    record = taught.study.user_attrs[TEACHER_ROUND]
    assert record["skipped"] is None
    assert record["students"] and set(record["students"]) <= set(taught.members_)
    assert record["pseudo_labeled"] > 0
    assert record["kept"] == (record["cv_rmse_after"] < record["cv_rmse_before"])
    ensemble = taught.study.user_attrs["ensemble"]
    assert math.isclose(record["cv_rmse_before"], ensemble["cv_rmse"], rel_tol=1e-9)


def test_kept_students_are_the_final_models_fold_models(taught):
    record = taught.study.user_attrs[TEACHER_ROUND]
    students = [e.estimator for e in taught.best_estimator_.estimators_
                if getattr(e.estimator, "teacher_", None) is not None and isinstance(e.estimator.teacher_, FoldMix)]
    assert bool(students) == record["kept"]
    for student in students:  # each learnt from its fold's mix, on as many pool rows as recorded
        assert student.n_pseudo_labeled_ == record["pseudo_labeled"]


def test_fold_k_teacher_is_the_mix_of_the_members_fold_k_models(make_data):
    from sklearn.linear_model import LinearRegression

    X, y = make_data(60, seed=1)
    numeric = X[["num_b", "count"]]
    a, b = LinearRegression().fit(numeric, y), LinearRegression(fit_intercept=False).fit(numeric, y)
    mix = FoldMix([a, b], [0.25, 0.75])
    np.testing.assert_allclose(mix.predict(numeric), 0.25 * a.predict(numeric) + 0.75 * b.predict(numeric))


def test_without_time_left_the_round_is_skipped_and_says_why(taught):
    study, data = taught.study, taught.data
    members = dict(taught.members_)
    trials = {t.number: t for t in study.trials}
    spent = TimeBudget(1.0, started=-1e9)  # its end passed long ago
    outcome = teach_with_the_ensemble(members, trials, {}, {n: np.zeros(len(data.y)) for n in members}, data,
                                      [(np.arange(10), np.arange(10, 20))], random_state=0, n_jobs=1)
    assert outcome.skipped == "a member's fold models were not kept" and not outcome.kept
    fold_models = {n: [object()] for n in members}
    outcome = teach_with_the_ensemble(members, trials, fold_models, {n: np.zeros(len(data.y)) for n in members}, data,
                                      [(np.arange(10), np.arange(10, 20))], random_state=0, n_jobs=1, budget=spent)
    assert outcome.skipped.startswith("not enough time") and not outcome.students


def test_a_timed_study_with_the_round_ends_on_time_and_returns_a_model(make_data):
    X, y = make_data(200, seed=8)
    X_unlabeled, _ = make_data(300, seed=9)
    import time

    started = time.monotonic()
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], n_trials=None, timeout=6, cv=3,
                  storage=optuna.storages.InMemoryStorage(), n_jobs=1, verbosity=0, teacher_round=True)
    assert time.monotonic() - started <= 6 * 1.05
    assert result.best_estimator_ is not None and TEACHER_ROUND in result.study.user_attrs


def test_without_unlabelled_rows_there_is_no_round(make_data):
    X, y = make_data(80, seed=2)
    result = tune(X, y, models=["ridge"], n_trials=2, cv=3, storage=optuna.storages.InMemoryStorage(), n_jobs=1,
                  verbosity=0, teacher_round=True)
    assert TEACHER_ROUND not in result.study.user_attrs


def test_a_students_time_is_foreseen_from_the_rows_its_trial_fitted():
    from optuna.trial import create_trial

    from automl_pl.teacher import student_seconds

    trial = create_trial(value=1.0, params={}, distributions={}, user_attrs={"fit_seconds": 10.0})
    # A pseudo-labelled trial fitted 400 rows per fold (teacher 100, students 300); a student fits 150.
    assert student_seconds(trial, student_rows=150, trial_rows=400) == pytest.approx(3.75)
    assert student_seconds(trial, student_rows=200, trial_rows=100) == pytest.approx(20.0)
