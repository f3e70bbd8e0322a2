"""The starting portfolio: what a study runs first, clipped to its data, and the one that ships."""

from __future__ import annotations

import optuna
import pytest

from automl_pl import tune
from automl_pl.models import FAMILIES
from automl_pl.models._base import max_trees, starting_params
from automl_pl.portfolio import PORTFOLIO_FILE, Portfolio

LGBM_BIG = {"model": "lightgbm", "lgbm_n_estimators": 1500, "lgbm_num_leaves": 200, "lgbm_learning_rate": 0.02}
RIDGE = {"model": "ridge", "ridge_alpha": 3.0}


def test_configurations_are_clipped_into_the_bounds_of_the_data():
    families = {name: FAMILIES[name] for name in ("lightgbm", "ridge")}
    (lgbm, ridge) = Portfolio.from_configurations([LGBM_BIG, RIDGE]).for_study(families, n_rows=40)

    assert lgbm["lgbm_n_estimators"] == max_trees(40) < LGBM_BIG["lgbm_n_estimators"]
    assert lgbm["lgbm_num_leaves"] < 200
    assert lgbm["lgbm_learning_rate"] == 0.02
    assert lgbm["lgbm_reg_lambda"] == FAMILIES["lightgbm"].defaults["lgbm_reg_lambda"]  # missing: the default
    assert ridge == {"model": "ridge", "ridge_alpha": 3.0}


def test_families_the_study_may_not_choose_are_left_out():
    portfolio = Portfolio.from_configurations([LGBM_BIG, RIDGE, LGBM_BIG])
    assert portfolio.for_study({"ridge": FAMILIES["ridge"]}, n_rows=500) == [RIDGE]
    both = {name: FAMILIES[name] for name in ("lightgbm", "ridge")}
    assert [c["model"] for c in portfolio.for_study(both, n_rows=500, fixed={"model": "lightgbm"})] == ["lightgbm"]


def test_a_configuration_without_a_model_is_refused():
    with pytest.raises(ValueError, match="'model'"):
        Portfolio.from_configurations([{"lgbm_num_leaves": 31}])


def test_the_shipped_portfolio_loads_and_names_installed_families(tmp_path):
    portfolio = Portfolio.default()
    assert len(portfolio) >= 2
    assert all(c["model"] in FAMILIES for c in portfolio.configurations)
    assert portfolio.for_study(FAMILIES, n_rows=1000)
    portfolio.write(tmp_path / "copy.json")
    assert Portfolio.read(tmp_path / "copy.json") == portfolio
    assert PORTFOLIO_FILE.is_file()


def test_a_study_runs_the_portfolio_first_in_order(make_data):
    X, y = make_data(150, seed=3)
    ridge_first = Portfolio.from_configurations([RIDGE, {"model": "ridge", "ridge_alpha": 0.01}])
    result = tune(X, y, models=["ridge", "lightgbm"], n_trials=3, cv=3, portfolio=ridge_first,
                  storage=optuna.storages.InMemoryStorage(), fixed_params={"sample_rate": 0.0},
                  show_progress_bar=False, n_jobs=1, refit=False)
    first, second = result.study.trials[:2]
    assert first.params == {"model": "ridge", "ridge_alpha": 3.0, "sample_rate": 0.0}
    assert second.params["ridge_alpha"] == 0.01


def test_without_a_portfolio_the_study_starts_with_the_defaults(make_data):
    X, y = make_data(150, seed=3)
    result = tune(X, y, models=["ridge", "lightgbm"], n_trials=1, cv=3, portfolio=None,
                  storage=optuna.storages.InMemoryStorage(), show_progress_bar=False, n_jobs=1, refit=False)
    fold_rows = 100  # two thirds of 150
    assert result.study.trials[0].params == {"model": "lightgbm", "sample_rate": 0.0,
                                             **starting_params(FAMILIES["lightgbm"], fold_rows)}


def test_an_unknown_portfolio_name_is_refused(make_data):
    X, y = make_data(50, seed=3)
    with pytest.raises(ValueError, match="portfolio='best'.*default"):
        tune(X, y, n_trials=1, portfolio="best", storage=optuna.storages.InMemoryStorage())


def test_the_rest_of_the_portfolio_is_queued_one_at_a_time_and_none_is_left_behind(make_data):
    from optuna.trial import TrialState

    X, y = make_data(150, seed=3)
    alphas = [3.0, 0.01, 30.0, 0.3, 10.0]
    five = [{"model": "ridge", "ridge_alpha": a} for a in alphas]
    short = tune(X, y, models=["ridge"], n_trials=2, cv=3, portfolio=five, storage=optuna.storages.InMemoryStorage(),
                 fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1, refit=False)
    assert len(short.study.trials) == 2 and not short.study.get_trials(states=(TrialState.WAITING,))
    longer = tune(X, y, models=["ridge"], n_trials=5, cv=3, portfolio=five, storage=optuna.storages.InMemoryStorage(),
                  fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1, refit=False)
    assert [t.params["ridge_alpha"] for t in longer.study.trials] == alphas
