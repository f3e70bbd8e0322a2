"""The ensemble's guard: a trial whose predictions stray on the unlabelled rows is left out of the mix."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeRegressor

from automl_pl import tune
from automl_pl.pool_guard import POOL_SAMPLE, pool_sample, straying
from automl_pl.trial_attrs import ENSEMBLE


def _extrapolating_case(seed: int = 0):
    """Labelled x in [0, 1] where the target saturates; pool rows reach x = 5, where a line keeps climbing."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, 300)
    y = np.minimum(x, 0.8) + 0.05 * rng.normal(size=300)
    pool = np.r_[rng.uniform(0, 1, 270), rng.uniform(3, 5, 30)]
    models = [LinearRegression(), DecisionTreeRegressor(max_depth=4, random_state=0), KNeighborsRegressor(10),
              DecisionTreeRegressor(max_depth=6, random_state=1)]
    oof, on_pool = [], []
    for model in models:
        fitted = model.fit(x[:200, None], y[:200])
        oof.append(fitted.predict(x[200:, None]))
        on_pool.append(fitted.predict(pool[:, None]))
    return np.column_stack(on_pool), np.column_stack(oof)


def test_a_model_that_extrapolates_on_the_pool_strays_and_the_others_do_not():
    on_pool, oof = _extrapolating_case()
    assert straying(on_pool, oof).tolist() == [True, False, False, False]


def test_on_pool_rows_like_the_labelled_ones_nothing_strays():
    on_pool, oof = _extrapolating_case()
    assert not straying(on_pool[:270], oof).any()
    assert not straying(on_pool[:, :2], oof[:, :2]).any()  # two candidates: no consensus to stray from


def test_the_pool_sample_is_seeded_and_capped():
    assert pool_sample(10, random_state=0).tolist() == list(range(10))
    big = pool_sample(10 * POOL_SAMPLE, random_state=3)
    assert len(big) == POOL_SAMPLE and np.all(np.diff(big) > 0)
    np.testing.assert_array_equal(big, pool_sample(10 * POOL_SAMPLE, random_state=3))


def test_a_study_leaves_a_straying_trial_out_of_its_final_model():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.uniform(0, 1, 200), "z": rng.normal(size=200)})
    y = np.minimum(X["x"], 0.8).to_numpy() + 0.05 * rng.normal(size=200)
    pool = pd.DataFrame({"x": np.r_[rng.uniform(0, 1, 150), rng.uniform(3, 5, 50)], "z": rng.normal(size=200)})
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="guard", direction="minimize")
    for params in ({"model": "ridge", "ridge_alpha": 0.01}, {"model": "knn", "knn_n_neighbors": 5},
                   {"model": "knn", "knn_n_neighbors": 15}, {"model": "random_forest"},
                   {"model": "hist_gradient_boosting"}):
        study.enqueue_trial(params)
    result = tune(X, y, X_unlabeled=pool, models=["ridge", "knn", "random_forest", "hist_gradient_boosting"],
                  n_trials=5, cv=3, cv_repeats=1, fixed_params={"sample_rate": 0.0}, show_progress_bar=False,
                  n_jobs=1, storage=storage, study_name="guard")
    recorded = result.study.user_attrs[ENSEMBLE]
    trials = result.study.get_trials(deepcopy=False)
    assert [trials[n].params["model"] for n in recorded["strayed"]] == ["ridge"]  # the line climbs on the far rows
    assert 0 not in recorded["trials"]  # trees and neighbours stay flat there; the mix is theirs
