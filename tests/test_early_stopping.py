"""The boosters, when told to, stop early on rows of their own fit, keep their best iteration, and export that
model; on few rows they grow every tree. The study's models do not stop early (see
``automl_pl/models/_early_stopping.py``).
"""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from automl_pl import PseudoLabelRegressor, load_model
from automl_pl.artifact import export_ensemble
from automl_pl.data import FeatureSchema
from automl_pl.models import FAMILIES, build_model
from automl_pl.models._base import final_estimator, tree_count
from automl_pl.models._early_stopping import (
    MIN_ROWS,
    STOPPING_SHARE,
    split_off_stopping_rows,
)

CAP = 2000
SIZE_PARAMS = ("n_estimators", "iterations", "max_iter")
"""How each family's tree count is named (its tuned parameter ends with one of these)."""
STOPPING = {  # per family: the estimator's own early-stopping settings, with a tree cap of CAP
    "lightgbm": {"n_estimators": CAP, "early_stopping_round": 20, "learning_rate": 0.3},
    "xgboost": {"n_estimators": CAP, "early_stopping_rounds": 20, "learning_rate": 0.3},
    "catboost": {"iterations": CAP, "early_stopping_rounds": 20, "learning_rate": 0.3, "depth": 4},
    "hist_gradient_boosting": {"max_iter": CAP, "early_stopping": True, "validation_fraction": STOPPING_SHARE,
                               "n_iter_no_change": 20, "learning_rate": 0.3},
}


def _stopping_model(name: str, schema: FeatureSchema, n_rows: int):
    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    family.suggest(trial, n_rows)
    pipeline = build_model(family, {"model": name, **trial.params}, schema=schema, random_state=0, n_jobs=1)
    final_estimator(pipeline).set_params(**STOPPING[name])
    return pipeline


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


@pytest.mark.parametrize("name", list(STOPPING))
def test_a_booster_told_to_stop_early_stops_and_exports_the_model_it_predicts_with(name, make_data, tmp_path):
    X, y = make_data(1200, seed=5)
    pool, _ = make_data(300, seed=6)
    pipeline = _stopping_model(name, FeatureSchema.infer(X, pool), len(X))
    model = PseudoLabelRegressor(pipeline, sample_rate=0.5, pseudo_weight=0.5, random_state=0)
    model.fit(X, y, X_unlabeled=pool)
    assert 0 < tree_count(model) < CAP
    path = export_ensemble([(model, FAMILIES[name].artifact_format, 1.0, {"family": name, "params": {}})],
                           tmp_path / "model", metadata={"family": name, "target": "target", "ignored_columns": []})
    np.testing.assert_allclose(load_model(path).predict(pool), model.predict(pool), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", list(STOPPING))
def test_a_family_model_reports_its_trees(name, X, y):
    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    family.suggest(trial, len(X))
    params = {k: (min(v, 20) if k.endswith(SIZE_PARAMS) else v) for k, v in trial.params.items()}
    model = build_model(family, {"model": name, **params}, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1)
    assert tree_count(model.fit(X, y)) == next(v for k, v in params.items() if k.endswith(SIZE_PARAMS))


@pytest.mark.parametrize("name", list(STOPPING))
def test_the_study_grows_every_tuned_tree_and_a_booster_told_to_stop_needs_enough_rows(name, make_data):
    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    size = next(k for k in family.defaults if k.endswith(SIZE_PARAMS))
    params = {"model": name, **family.defaults, size: 600, f"{family.prefix}learning_rate": 0.3}
    X, y = make_data(MIN_ROWS + 400, seed=5)

    def fitted(rows: int, *, stopping: bool) -> int:
        model = build_model(family, params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1)
        if stopping:  # the estimator's own settings, with the tuned count as the cap
            cap = size.removeprefix(family.prefix)
            final_estimator(model).set_params(**{k: v for k, v in STOPPING[name].items() if k != cap})
        return tree_count(model.fit(X.iloc[:rows], y.iloc[:rows]))

    assert fitted(len(X), stopping=False) == 600  # the study's models: off by default (README, early stopping)
    assert 0 < fitted(len(X), stopping=True) < 600  # a fast rate overfits long before 600 trees: it stopped
    assert fitted(MIN_ROWS - 1, stopping=True) == 600  # too few rows to give a tenth up for stopping: every tree
