"""Boosters stop early on rows of their own fit, keep their best iteration, and export that model."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from automl_pl import PseudoLabelRegressor, load_model
from automl_pl.artifact import export_model
from automl_pl.data import FeatureSchema
from automl_pl.models import FAMILIES, build_model
from automl_pl.models._base import tree_count
from automl_pl.models._early_stopping import MAX_TREES, MIN_ROWS, STOPPING_SHARE, split_off_stopping_rows

BOOSTERS = {"lightgbm": "lgbm_n_estimators", "xgboost": "xgb_n_estimators", "catboost": "cb_iterations",
            "hist_gradient_boosting": "hgb_max_iter"}
"""Each early-stopping family and the tree-count parameter it tunes on few rows only."""

FAST = {"lgbm_learning_rate": 0.3, "xgb_learning_rate": 0.3, "cb_learning_rate": 0.3, "hgb_learning_rate": 0.3,
        "cb_depth": 4}
"""Drawn parameters overridden so that a fit stops within a second."""


def _drawn(name: str, n_rows: int) -> dict:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    FAMILIES[name].suggest(trial, n_rows)
    return {"model": name, **trial.params}


def _available(name: str):
    if not FAMILIES[name].is_available():
        pytest.skip(f"{FAMILIES[name].requires} is not installed")


def test_the_stopping_rows_are_a_seeded_share_of_the_fits_own_rows():
    X = np.arange(200.0).reshape(100, 2)
    y, weight = np.arange(100.0), np.linspace(0.5, 1.0, 100)
    (_, y_fit, _), (X_stop, y_stop, w_stop) = split_off_stopping_rows(X, y, weight, random_state=3)
    assert len(y_stop) == round(STOPPING_SHARE * 100) and len(y_fit) + len(y_stop) == 100
    assert sorted(np.concatenate([y_fit, y_stop])) == list(y)  # a partition of the rows given, nothing else
    np.testing.assert_array_equal(X_stop[:, 0], 2 * y_stop)  # rows, targets and weights stay together
    np.testing.assert_array_equal(w_stop, weight[y_stop.astype(int)])
    again = split_off_stopping_rows(X, y, None, random_state=3)[1]
    np.testing.assert_array_equal(again[1], y_stop)
    assert again[2] is None


@pytest.mark.parametrize("name", list(BOOSTERS))
def test_on_enough_rows_a_booster_stops_early_instead_of_having_its_trees_tuned(name, make_data):
    _available(name)
    assert BOOSTERS[name] not in _drawn(name, MIN_ROWS)
    assert BOOSTERS[name] in _drawn(name, MIN_ROWS - 1)  # on fewer rows the tree count stays tuned

    X, y = make_data(MIN_ROWS + 200, seed=4)
    params = {**_drawn(name, len(X)), **{k: v for k, v in FAST.items() if k.startswith(FAMILIES[name].prefix)}}
    model = build_model(FAMILIES[name], params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1).fit(X, y)
    assert 0 < tree_count(model) < MAX_TREES


@pytest.mark.parametrize("name", list(BOOSTERS))
def test_an_early_stopped_booster_exports_the_model_it_predicts_with(name, make_data, tmp_path):
    _available(name)
    X, y = make_data(MIN_ROWS + 200, seed=5)
    pool, _ = make_data(300, seed=6)
    params = {**_drawn(name, len(X)), **{k: v for k, v in FAST.items() if k.startswith(FAMILIES[name].prefix)}}
    family = FAMILIES[name]
    pipeline = build_model(family, params, schema=FeatureSchema.infer(X, pool), random_state=0, n_jobs=1)
    model = PseudoLabelRegressor(pipeline, sample_rate=0.5, pseudo_weight=0.5, random_state=0)
    model.fit(X, y, X_unlabeled=pool)
    path = export_model(model, tmp_path / "model", artifact_format=family.artifact_format,
                        metadata={"family": name, "params": params, "target": "target", "ignored_columns": []})
    np.testing.assert_allclose(load_model(path).predict(pool), model.predict(pool), rtol=1e-9, atol=1e-9)
