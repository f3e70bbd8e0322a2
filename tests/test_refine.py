"""Refining the best booster: half the learning rate, twice the trees, queued when a booster's trial becomes the best."""

from __future__ import annotations

import optuna
import pytest

from automl_pl import tune
from automl_pl.models import FAMILIES
from automl_pl.models._base import max_trees, refined_params
from automl_pl.trial_attrs import REFINED_FROM

LGBM = {"model": "lightgbm", "lgbm_n_estimators": 60, "lgbm_learning_rate": 0.2, "lgbm_num_leaves": 7,
        "lgbm_min_child_samples": 5}


BOOSTERS = {
    "lightgbm": LGBM,
    "xgboost": {"model": "xgboost", "xgb_n_estimators": 300, "xgb_learning_rate": 0.05, "xgb_max_depth": 6},
    "catboost": {"model": "catboost", "cb_iterations": 280, "cb_learning_rate": 0.08, "cb_depth": 6},
    "gradient_boosting": {"model": "gradient_boosting", "gb_n_estimators": 100, "gb_learning_rate": 0.1,
                          "gb_max_depth": 3},
    "hist_gradient_boosting": {"model": "hist_gradient_boosting", "hgb_max_iter": 100, "hgb_learning_rate": 0.1},
}


@pytest.mark.parametrize("family", sorted(BOOSTERS))
def test_every_booster_refines_to_half_the_rate_and_twice_the_trees(family):
    booster, params = FAMILIES[family], BOOSTERS[family]
    rate, count = booster.shrinkage
    refined = refined_params(booster, params, 5000)

    assert refined[rate] == pytest.approx(params[rate] / 2)
    assert refined[count] == 2 * params[count]
    assert {k: v for k, v in refined.items() if k not in (rate, count)} == \
        {k: v for k, v in params.items() if k not in (rate, count)}


def test_no_refinement_past_the_family_bounds():
    lightgbm = FAMILIES["lightgbm"]
    at_the_cap = {**LGBM, "lgbm_n_estimators": max_trees(300)}
    at_the_floor = {**LGBM, "lgbm_learning_rate": 0.005}

    assert refined_params(lightgbm, at_the_cap, 300) is None  # twice the trees would pass the cap for 300 rows
    assert refined_params(lightgbm, at_the_cap, 5000) is not None  # more rows allow more trees
    assert refined_params(lightgbm, at_the_floor, 5000) is None
    assert refined_params(FAMILIES["ridge"], {"model": "ridge", "ridge_alpha": 1.0}, 5000) is None


def test_a_study_refines_its_best_booster_and_keeps_its_other_settings(make_data):
    X, y = make_data(150, seed=4)
    result = tune(X, y, models=["lightgbm"], n_trials=3, cv=3, portfolio=[LGBM], storage=optuna.storages.InMemoryStorage(),
                  fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1, refit=False)
    first, second = result.study.trials[:2]

    assert first.params["lgbm_learning_rate"] == LGBM["lgbm_learning_rate"]
    assert second.user_attrs[REFINED_FROM] == first.number
    assert second.params["lgbm_learning_rate"] == pytest.approx(LGBM["lgbm_learning_rate"] / 2)
    assert second.params["lgbm_n_estimators"] == 2 * LGBM["lgbm_n_estimators"]
    same = {k: v for k, v in first.params.items() if k not in ("lgbm_learning_rate", "lgbm_n_estimators")}
    assert {k: second.params[k] for k in same} == same
    assert second.state == optuna.trial.TrialState.COMPLETE and second.value > 0


def test_a_fixed_learning_rate_or_tree_count_is_never_refined(make_data):
    X, y = make_data(150, seed=4)
    for fixed in ({"lgbm_learning_rate": 0.2}, {"lgbm_n_estimators": 60}):
        result = tune(X, y, models=["lightgbm"], n_trials=3, cv=3, portfolio=[LGBM],
                      storage=optuna.storages.InMemoryStorage(), fixed_params={"sample_rate": 0.0, **fixed},
                      show_progress_bar=False, n_jobs=1, refit=False)
        assert not [t for t in result.study.trials if REFINED_FROM in t.user_attrs]


def test_a_trial_that_is_not_the_best_is_not_refined(make_data):
    X, y = make_data(150, seed=4)
    ridge_first = [{"model": "ridge", "ridge_alpha": 1.0}, {**LGBM, "lgbm_n_estimators": 2, "lgbm_learning_rate": 0.01}]
    result = tune(X, y, models=["ridge", "lightgbm"], n_trials=3, cv=3, portfolio=ridge_first,
                  storage=optuna.storages.InMemoryStorage(), fixed_params={"sample_rate": 0.0},
                  show_progress_bar=False, n_jobs=1, refit=False)
    ridge, weak = result.study.trials[:2]
    assert weak.params["model"] == "lightgbm" and weak.value > ridge.value  # two trees at a tiny rate: worse than ridge
    assert not [t for t in result.study.trials if REFINED_FROM in t.user_attrs]


def test_a_study_that_ends_leaves_no_refinement_queued_behind(make_data):
    from optuna.trial import TrialState

    X, y = make_data(150, seed=4)
    result = tune(X, y, models=["lightgbm"], n_trials=1, cv=3, portfolio=[LGBM], storage=optuna.storages.InMemoryStorage(),
                  fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1, refit=False)
    assert len(result.study.trials) == 1 and not result.study.get_trials(states=(TrialState.WAITING,))
