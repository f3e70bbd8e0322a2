"""AutoPLRegressor: the scikit-learn contract, and tune() behind it, on tiny real studies."""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import automl_pl
from automl_pl import AutoPLRegressor

QUICK = dict(time_budget=None, n_trials=2, models=["ridge"], cv=2, cv_repeats=1, n_jobs=1)
"""A study of two ridge trials on two folds: well under a second."""
PSEUDO = {"sample_rate": 0.5, "selection": "random", "n_rounds": 1}
"""Every trial pseudo-labels half the pool, so that its arrival shows in the leaderboard."""


@parametrize_with_checks([
    AutoPLRegressor(**{**QUICK, "n_trials": 1}, ensemble=False),
    AutoPLRegressor(**{**QUICK, "n_trials": 1, "time_budget": 30}, bagging=False),
])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_fit_runs_a_study_and_keeps_what_it_learnt(X, y, X_unlabeled, new_rows):
    model = AutoPLRegressor(**{**QUICK, "models": ["ridge", "lightgbm"], "n_trials": 3}, fixed_params=PSEUDO)
    assert model.fit(X, y, X_unlabeled=X_unlabeled) is model
    assert len(model.leaderboard_) == len(model.study_.trials) == model.n_trials_ == 3
    assert set(model.leaderboard_["trial"]) == {t.number for t in model.study_.trials}
    assert model.best_params_["model"] in ("ridge", "lightgbm")
    assert model.cv_rmse_ == model.study_.best_value
    assert model.n_features_in_ == 5 and list(model.feature_names_in_) == list(X.columns)
    # Unseen categories and missing values, as the final model takes them.
    assert np.array_equal(model.predict(new_rows), model.model_.predict(new_rows))
    assert model.score(X, y) > 0.5  # the target is a real function of the features


def test_unlabelled_rows_reach_the_study(X, y, X_unlabeled):
    with_pool = AutoPLRegressor(**QUICK, fixed_params=PSEUDO).fit(X, y, X_unlabeled=X_unlabeled)
    without = AutoPLRegressor(**QUICK, fixed_params=PSEUDO).fit(X, y)
    assert (_complete(with_pool)["n_pseudo_labeled"] == len(X_unlabeled) // 2).all()
    assert (_complete(without)["n_pseudo_labeled"] == 0).all()


def test_the_portfolio_and_the_teacher_round_reach_the_study(X, y, X_unlabeled):
    mine = [{"model": "ridge", "ridge_alpha": 7.0}]
    model = AutoPLRegressor(**QUICK, portfolio=mine, teacher_round=True).fit(X, y, X_unlabeled=X_unlabeled)
    assert model.study_.trials[0].params["ridge_alpha"] == 7.0
    assert "teacher_round" in model.study_.user_attrs
    assert clone(model).get_params()["portfolio"] == mine


class _CountingPruner(optuna.pruners.NopPruner):
    """Never prunes; counts how often the study asked it."""

    def __init__(self):
        self.asked = 0

    def prune(self, study, trial) -> bool:
        self.asked += 1
        return False


def test_the_pruner_given_is_asked_after_every_fold_but_the_last(X, y):
    model = AutoPLRegressor(**{**QUICK, "n_trials": 3}, pruner=_CountingPruner(), fixed_params={"sample_rate": 0.0})
    model.fit(X, y)
    evaluated = [t for t in model.study_.trials if "duplicate_of" not in t.user_attrs]
    assert model.pruner.asked == len(evaluated) > 0  # after fold 0 of two: none stopped, each asked once
    assert all(t.state.name == "COMPLETE" for t in evaluated)


def test_every_fit_is_a_fresh_study(X, y):
    model = AutoPLRegressor(**QUICK)
    first = model.fit(X, y).study_.study_name
    model.set_params(models=["lightgbm"]).fit(X.iloc[:120], y.iloc[:120])
    assert model.study_.study_name != first
    assert model.best_params_["model"] == "lightgbm" and model.n_trials_ == 2


def test_clone_keeps_the_params_and_not_the_fit(X, y):
    model = AutoPLRegressor(**QUICK, fixed_params={"sample_rate": 0.0}).fit(X, y)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "model_")
    assert model.get_params()["fixed_params"] == {"sample_rate": 0.0}  # fit changed no parameter


def test_a_fitted_model_pickles(X, y, new_rows):
    model = AutoPLRegressor(**QUICK).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(new_rows), model.predict(new_rows))


def test_arrays_work_and_predict_checks_their_width(X, y):
    numbers = X[["num_a", "num_b", "count"]].to_numpy()
    model = AutoPLRegressor(**QUICK).fit(numbers, y.to_numpy(), X_unlabeled=numbers[:50])
    assert model.n_features_in_ == 3 and not hasattr(model, "feature_names_in_")
    assert model.predict(numbers[:4]).shape == (4,)
    with pytest.raises(ValueError, match="X has 2 features, but AutoPLRegressor is expecting 3"):
        model.predict(numbers[:, :2])


def test_settings_are_checked_when_fit_runs_with_errors_that_say_the_fix(X, y):
    with pytest.raises(InvalidParameterError, match="'cv' parameter of AutoPLRegressor must be an int in the range"):
        AutoPLRegressor(cv=1).fit(X, y)  # __init__ took it: clone and get_params must work on any value
    with pytest.raises(ValueError, match="needs time_budget .seconds., n_trials or both"):
        AutoPLRegressor(time_budget=None).fit(X, y)
    with pytest.raises(ValueError, match=r"cv=5\) needs at least 5 labelled rows .* n_samples=3"):
        AutoPLRegressor(**{**QUICK, "cv": 5}).fit(X.iloc[:3], y.iloc[:3])


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_grid_search_routes_the_pool_as_metadata(routing, X, y, X_unlabeled):
    model = AutoPLRegressor(**QUICK, fixed_params=PSEUDO).set_fit_request(X_unlabeled=True)
    search = GridSearchCV(model, {"models": [["ridge"], ["knn"]]}, cv=2).fit(X, y, X_unlabeled=X_unlabeled)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_
    assert best.best_params_["model"] == search.best_params_["models"][0]
    assert (_complete(best)["n_pseudo_labeled"] == len(X_unlabeled) // 2).all()


def test_cross_val_score_and_a_pipeline_route_the_pool(routing, X, y, X_unlabeled):
    model = AutoPLRegressor(**QUICK, fixed_params=PSEUDO).set_fit_request(X_unlabeled=True)
    pipeline = make_pipeline(FunctionTransformer(), model)  # a transformer that keeps the DataFrame as it is
    scores = cross_val_score(pipeline, X, y, cv=KFold(2), params={"X_unlabeled": X_unlabeled}, error_score="raise")
    assert scores.shape == (2,) and (scores > 0.5).all()
    fitted = pipeline.fit(X, y, X_unlabeled=X_unlabeled)[-1]
    assert (_complete(fitted)["n_pseudo_labeled"] == len(X_unlabeled) // 2).all()


def test_without_a_request_routing_says_what_to_call(routing, X, y, X_unlabeled):
    with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError, match="set_fit_request"):
        cross_val_score(AutoPLRegressor(**QUICK), X, y, cv=KFold(2), params={"X_unlabeled": X_unlabeled},
                        error_score="raise")


def test_a_frame_with_numbered_columns_predicts_the_same_from_the_export(tmp_path, X, y):
    numbered = X.set_axis(range(X.shape[1]), axis=1)
    model = AutoPLRegressor(**QUICK).fit(numbered, y)
    exported = automl_pl.load_model(model.result_.export(tmp_path / "model"))
    assert exported.feature_names_in_ == [str(i) for i in range(X.shape[1])]
    np.testing.assert_allclose(exported.predict(numbered), model.predict(numbered), rtol=1e-9)


def _complete(model: AutoPLRegressor):
    """The leaderboard rows of the trials that ran (a repeated ridge draw is pruned as a duplicate before any fit)."""
    board = model.leaderboard_
    assert (board["state"] == "complete").any()
    return board[board["state"] == "complete"]
