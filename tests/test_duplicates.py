"""No trial paid for twice: a configuration already evaluated is not fitted again."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial
from sklearn.linear_model import Ridge

import automl_pl
from automl_pl.duplicates import FAILURES_TO_SKIP, evaluated_twin, prediction_sketch
from automl_pl.models import FAMILIES
from automl_pl.models._base import ModelFamily
from automl_pl.trial_attrs import PRUNED_AS_DUPLICATE as DUPLICATE
from automl_pl.trial_attrs import PRUNED_AS_SAME_MODEL as SAME_MODEL
from automl_pl.verbosity import describe_trial

FIT_COUNT = {"n": 0}


class CountingRidge(Ridge):
    """A ridge that counts its fits: a configuration not paid for twice is not fitted twice."""

    def fit(self, X, y, sample_weight=None):
        FIT_COUNT["n"] += 1
        return super().fit(X, y, sample_weight)


def _family(name: str, *, param_matters: bool) -> ModelFamily:
    """A ridge family with one parameter, ``<name>_alpha``, that sets the penalty or is ignored."""

    def suggest(trial, n_rows):
        return {f"{name}_alpha": trial.suggest_float(f"{name}_alpha", 1e-3, 1e3, log=True)}

    def build(params, *, schema, random_state, n_jobs):
        from automl_pl.models.linear import RIDGE

        ridge = RIDGE.build({"ridge_alpha": params[f"{name}_alpha"] if param_matters else 1.0}, schema=schema,
                            random_state=random_state, n_jobs=n_jobs)
        ridge.set_params(model=CountingRidge(**ridge.named_steps["model"].get_params()))
        return ridge

    return ModelFamily(name=name, prefix=f"{name}_", suggest=suggest, build=build, relative_cost=0.1)


@pytest.fixture
def families(monkeypatch):
    FIT_COUNT["n"] = 0
    monkeypatch.setitem(FAMILIES, "tuned", _family("tuned", param_matters=True))
    monkeypatch.setitem(FAMILIES, "ignored", _family("ignored", param_matters=False))


def _study(X, y, X_unlabeled, *, models, enqueue, n_trials, **options):
    """The study of ``tune`` run on a study whose first trials are ``enqueue`` (no starting trials then)."""
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="seen", direction="minimize")
    for params in enqueue:
        study.enqueue_trial(params)
    return automl_pl.tune(X, y, X_unlabeled=X_unlabeled, models=models, n_trials=n_trials, storage=storage,
                          study_name="seen", cv=3, cv_repeats=1, fixed_params={"sample_rate": 0.0}, show_progress_bar=False,
                          **options).study


def test_a_configuration_evaluated_before_is_not_fitted_again(X, y, X_unlabeled, families):
    same = {"model": "tuned", "tuned_alpha": 3.0}
    study = _study(X, y, X_unlabeled, models=["tuned"], enqueue=[same, same, {**same, "tuned_alpha": 3.0000001}],
                   n_trials=3, refit=False)
    first, again, rounded = study.trials
    assert first.state == TrialState.COMPLETE
    for trial in (again, rounded):  # floats equal to six significant digits are the same value
        assert trial.state == TrialState.PRUNED
        assert trial.user_attrs["pruned_by"] == DUPLICATE and trial.user_attrs["duplicate_of"] == 0
    assert FIT_COUNT["n"] == 3  # the first trial's three folds only


def _frozen(number, state, alpha, *, value=1.0, pruned_by=None):
    return create_trial(state=state, value=value if state == TrialState.COMPLETE else None,
                        params={"model": "tuned", "tuned_alpha": alpha},
                        distributions={"model": CategoricalDistribution(["tuned"]),
                                       "tuned_alpha": FloatDistribution(1e-3, 1e3, log=True)},
                        user_attrs={} if pruned_by is None else {"pruned_by": pruned_by})


def test_only_evaluated_trials_count_as_seen():
    draw = _frozen(9, TrialState.COMPLETE, 2.0)
    draw.number = 9
    cut = _frozen(0, TrialState.PRUNED, 2.0, pruned_by="deadline")
    skipped = _frozen(1, TrialState.PRUNED, 2.0, pruned_by=DUPLICATE)
    assert evaluated_twin(draw, [cut, skipped]) is None  # never scored on their folds: may run again
    pruned_on_scores = _frozen(2, TrialState.PRUNED, 2.0)
    assert evaluated_twin(draw, [cut, pruned_on_scores]) is pruned_on_scores


def test_other_parameters_that_give_the_same_model_cost_one_fold(X, y, X_unlabeled, families):
    draws = [{"model": "ignored", "ignored_alpha": alpha} for alpha in (0.01, 1.0, 100.0)]
    study = _study(X, y, X_unlabeled, models=["ignored"], enqueue=draws, n_trials=3, refit=False)
    first, *same = study.trials
    assert first.state == TrialState.COMPLETE
    for trial in same:
        assert trial.state == TrialState.PRUNED
        assert trial.user_attrs["pruned_by"] == SAME_MODEL and trial.user_attrs["duplicate_of"] == 0
        assert trial.intermediate_values == {}  # no value reported: TPE ranks it below the evaluated trials
        assert "pruned, the same model as #0 (other parameters)" in describe_trial(study, trial)  # verbosity 2's line
    assert FIT_COUNT["n"] == 3 + 1 + 1  # the first trial's three folds, then one teacher per same-model draw


def test_parameters_that_change_the_model_are_all_fitted(X, y, X_unlabeled, families):
    draws = [{"model": "tuned", "tuned_alpha": alpha} for alpha in (0.01, 1.0, 100.0)]
    study = _study(X, y, X_unlabeled, models=["tuned"], enqueue=draws, n_trials=3, refit=False)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 3
    assert FIT_COUNT["n"] == 9


def test_a_draw_with_other_pseudo_label_settings_is_another_model(X, y, X_unlabeled, families):
    supervised = {"model": "ignored", "ignored_alpha": 1.0, "sample_rate": 0.0}
    pseudo = {"model": "ignored", "ignored_alpha": 2.0, "sample_rate": 0.3, "selection": "random",
              "pseudo_weight": 1.0, "n_rounds": 1}
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="settings", direction="minimize")
    for params in (supervised, pseudo, {**pseudo, "ignored_alpha": 3.0}):
        study.enqueue_trial(params)
    study = automl_pl.tune(X, y, X_unlabeled=X_unlabeled, models=["ignored"], n_trials=3, storage=storage,
                           study_name="settings", cv=3, cv_repeats=1, refit=False, show_progress_bar=False).study
    first, other_settings, same = [t for t in study.trials if t.state.is_finished()]
    assert first.state == other_settings.state == TrialState.COMPLETE  # same teachers, other students
    assert other_settings.user_attrs["n_pseudo_labeled"] > 0
    assert same.state == TrialState.PRUNED
    assert same.user_attrs["pruned_by"] == SAME_MODEL and same.user_attrs["duplicate_of"] == 1


def test_a_prediction_sketch_estimates_the_distance_between_predictions():
    rng = np.random.default_rng(5)
    a = rng.normal(scale=10.0, size=500)
    b = a + rng.normal(scale=0.1, size=500)  # root mean square difference 0.1
    distance = math.sqrt(np.mean(np.subtract(prediction_sketch(a), prediction_sketch(b)) ** 2))
    assert 0.03 < distance < 0.3
    assert prediction_sketch(a) == prediction_sketch(a.copy())
    assert prediction_sketch(a) != prediction_sketch(a[::-1])  # the rows' order matters: the same fold's rows


def test_a_family_that_fails_every_trial_is_not_fitted_again():
    """kNN asked for 500 neighbours among 80 rows fails in every fold: after three failures its draws are skipped."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120)})
    y = pd.Series(2 * X["a"] + rng.normal(size=120))
    result = automl_pl.tune(X, y, models=["knn", "ridge"], n_trials=20, cv=3, portfolio=None, show_progress_bar=False,
                            fixed_params={"knn_n_neighbors": 500}, storage=optuna.storages.InMemoryStorage())
    board = result.leaderboard()
    knn = board[board["family"] == "knn"]
    assert (knn["state"] == "fail").sum() == FAILURES_TO_SKIP
    skipped = knn[knn["state"] == "pruned"]
    assert len(skipped) >= 1 and (skipped["pruned_by"] == "failing_family").all()
    first_skip = skipped["trial"].min()
    assert (knn[knn["trial"] > first_skip]["state"] != "fail").all()  # none fitted after the third failure
    assert result.best_params["model"] == "ridge"
