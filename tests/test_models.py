"""The model family registry: every family suggests, builds, fits raw mixed data and predicts new rows."""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pytest
from sklearn.pipeline import Pipeline

from automl_pl import PseudoLabelRegressor
from automl_pl.data import FeatureSchema, FrameEncoder
from automl_pl.models import FAMILIES, ModelFamily, build_model, get_family, resolve_families
from automl_pl.models._base import max_min_leaf, max_trees

SIZE_PARAMS = ("n_estimators", "iterations", "max_iter")
SMALL = 20


def _cap_sizes(params):
    """The same parameters with ensemble sizes and iteration counts capped, to keep fits fast."""
    return {k: (min(v, SMALL) if k.endswith(SIZE_PARAMS) else v) for k, v in params.items()}


def _suggest(family, n_rows, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    returned = family.suggest(trial, n_rows)
    return trial, returned


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_suggests_builds_fits_and_predicts(name, X, y, X_unlabeled, new_rows):
    family = FAMILIES[name]
    assert family.name == name
    trial, returned = _suggest(family, len(X))

    assert trial.params, f"{name} suggested nothing"
    assert returned == trial.params
    assert all(key.startswith(family.prefix) for key in trial.params)

    params = _cap_sizes({"model": name, **trial.params, "sample_rate": 0.5})  # as a study trial holds them
    schema = FeatureSchema.infer(X, X_unlabeled)
    pipeline = build_model(family, params, schema=schema, random_state=0, n_jobs=1)
    assert isinstance(pipeline, Pipeline)
    assert isinstance(pipeline.steps[0][1], FrameEncoder)

    model = PseudoLabelRegressor(pipeline, sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    assert model.n_pseudo_labeled_ == len(X_unlabeled) // 2

    predictions = model.predict(new_rows)
    assert predictions.shape == (len(new_rows),)
    assert np.all(np.isfinite(predictions))
    fitted = model.predict(X)
    assert fitted.shape == (len(X),) and np.all(np.isfinite(fitted))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_is_well_described(name):
    family = FAMILIES[name]
    assert family.relative_cost > 0
    assert family.artifact_format in ("xgboost", "lightgbm", "catboost", "skops")
    assert family.is_available()
    trial, _ = _suggest(family, 200)
    own = family.own_params({"model": name, "sample_rate": 0.3, **trial.params})
    assert set(own) == {key[len(family.prefix):] for key in trial.params}
    if family.work is not None:  # a positive measure, larger for a larger configuration of the same family
        assert family.work(trial.params) > 0
        bigger = {k: v * 2 if k in _SIZE_PARAMS else v for k, v in trial.params.items()}
        assert family.work(bigger) > family.work(trial.params)


_SIZE_PARAMS = {"lgbm_n_estimators", "xgb_n_estimators", "cb_iterations", "rf_n_estimators", "et_n_estimators",
                "gb_n_estimators", "hgb_max_iter"}


def test_prefixes_do_not_collide():
    prefixes = [family.prefix for family in FAMILIES.values()]
    assert len(set(prefixes)) == len(prefixes)
    for name, family in FAMILIES.items():
        trial, _ = _suggest(family, 200)
        for other in FAMILIES.values():
            if other is not family:
                assert not other.own_params(trial.params), f"{other.name} would claim {name}'s parameters"
        assert not family.own_params({"model": name, "sample_rate": 0.5})


@pytest.mark.parametrize("n_rows", [10, 40, 200, 5000])
def test_search_space_bounds_scale_with_rows(n_rows):
    for seed in range(5):
        trial, _ = _suggest(get_family("knn"), n_rows, seed=seed)
        assert 1 <= trial.params["knn_n_neighbors"] <= max(2, min(100, n_rows // 2))
        trial, _ = _suggest(get_family("lightgbm"), n_rows, seed=seed)
        assert trial.params["lgbm_n_estimators"] <= max_trees(n_rows)
        assert trial.params["lgbm_min_child_samples"] <= max_min_leaf(n_rows)
    assert max_trees(10) == 100 and max_trees(10**6) == 2000


def test_get_family():
    assert get_family("ridge") is FAMILIES["ridge"]
    with pytest.raises(ValueError, match="nope") as info:
        get_family("nope")
    for name in FAMILIES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="unknown model family"):
        get_family(["ridge"])  # unhashable


def test_resolve_families():
    everything = resolve_families(None)
    assert list(everything) == list(FAMILIES)  # every library is installed here, registry order
    assert resolve_families(["lightgbm", "ridge"]) == {"lightgbm": FAMILIES["lightgbm"], "ridge": FAMILIES["ridge"]}
    assert list(resolve_families("ridge")) == ["ridge"]

    with pytest.raises(ValueError, match="empty"):
        resolve_families([])
    with pytest.raises(ValueError, match="twice"):
        resolve_families(["ridge", "ridge"])
    with pytest.raises(ValueError, match="nope"):
        resolve_families(["ridge", "nope"])


def test_family_with_missing_library(monkeypatch, caplog):
    ghost = ModelFamily(name="ghost", prefix="ghost_", suggest=lambda trial, n: {}, build=lambda *a, **k: None,
                        relative_cost=1.0, requires="automl_pl_no_such_library")
    monkeypatch.setitem(FAMILIES, "ghost", ghost)
    assert not ghost.is_available()

    with caplog.at_level(logging.WARNING, logger="automl_pl.models"):
        chosen = resolve_families(None)
    assert "ghost" not in chosen and "ridge" in chosen
    assert "ghost" in caplog.text and "automl_pl_no_such_library" in caplog.text

    with pytest.raises(ImportError, match="pip install automl_pl_no_such_library"):
        resolve_families(["ghost"])


@pytest.mark.parametrize("n_rows", [20, 200, 20000])
def test_starting_params_sit_inside_the_families_own_bounds(n_rows):
    from automl_pl.models._base import starting_params

    for family in FAMILIES.values():
        params = starting_params(family, n_rows)
        if params is None:
            continue
        trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
        family.suggest(trial, n_rows)
        assert set(params) == set(trial.params)
        for name, value in params.items():
            assert trial.distributions[name]._contains(trial.distributions[name].to_internal_repr(value)), name
    lgbm = starting_params(FAMILIES["lightgbm"], 20)
    assert lgbm["lgbm_num_leaves"] == 8 and lgbm["lgbm_learning_rate"] == 0.05  # clipped where small data demands


def test_lightgbm_starts_with_categorical_splits_that_work_on_few_rows_per_level():
    """LightGBM's own categorical smoothing (cat_smooth=10, min_data_per_group=100) ignores a
    categorical with many levels and a few rows each; the family's starting point must not."""
    import pandas as pd
    from sklearn.model_selection import cross_val_score

    from automl_pl.models._base import starting_params

    rng = np.random.default_rng(0)
    levels = rng.integers(0, 80, 640)
    X = pd.DataFrame({"level": pd.Series([f"l{i}" for i in levels], dtype="string"), "noise": rng.normal(size=640)})
    y = pd.Series(rng.normal(0, 5, 80)[levels] + rng.normal(0, 1, 640))
    family, schema = FAMILIES["lightgbm"], FeatureSchema.infer(X)
    ours = build_model(family, starting_params(family, len(X)), schema=schema, random_state=0, n_jobs=1)
    library = build_model(family, starting_params(family, len(X)), schema=schema, random_state=0, n_jobs=1)
    library.steps[-1][1].set_params(cat_smooth=10, min_data_per_group=100)

    def rmse(model):
        return -cross_val_score(model, X, y, cv=4, scoring="neg_root_mean_squared_error").mean()

    assert rmse(ours) < 0.5 * rmse(library)


STOPPING = [name for name, family in FAMILIES.items() if family.stops_on_time]


def test_every_ensemble_family_stops_on_time():
    assert set(STOPPING) == {"xgboost", "lightgbm", "catboost", "hist_gradient_boosting", "gradient_boosting",
                             "random_forest", "extra_trees"}


@pytest.mark.parametrize("name", STOPPING)
def test_a_fit_past_the_deadline_stops_with_out_of_time(name, X, y):
    import time

    from automl_pl.budget import OutOfTime, TimeBudget

    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    trial, _ = _suggest(family, len(X))
    params = {k: (max(v, 40) if k.endswith(SIZE_PARAMS) else v) for k, v in trial.params.items()}
    model = build_model(family, params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1)
    spent = TimeBudget(1.0, started=time.monotonic() - 2.0)
    with spent.fits_end_in_time(), pytest.raises(OutOfTime):
        model.fit(X, y)


@pytest.mark.parametrize("name", ["random_forest", "extra_trees", "hist_gradient_boosting", "gradient_boosting"])
def test_a_fit_that_is_not_stopped_is_the_plain_fit(name, X, y, new_rows):
    """Forests and histogram boosting grow in warm-started steps under a budget: the same model as one fit."""
    from automl_pl.budget import TimeBudget

    family = FAMILIES[name]
    trial, _ = _suggest(family, len(X))
    schema = FeatureSchema.infer(X)
    plain = build_model(family, trial.params, schema=schema, random_state=0, n_jobs=1).fit(X, y)
    with TimeBudget(600.0).fits_end_in_time():
        stepped = build_model(family, trial.params, schema=schema, random_state=0, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(stepped.predict(new_rows), plain.predict(new_rows))
    assert stepped.get_params()["model__model"].get_params() == plain.get_params()["model__model"].get_params()


@pytest.mark.parametrize("name", [name for name, family in FAMILIES.items() if family.sample_weight])
def test_a_family_that_weighs_rows_takes_sample_weight(name, X, y):
    """Pseudo-labelled rows weigh less through ``sample_weight``: every such family's estimator must take it."""
    from sklearn.utils.validation import has_fit_parameter

    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    trial, _ = _suggest(family, len(X))
    final = build_model(family, trial.params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1)
    while isinstance(final, Pipeline):
        final = final.steps[-1][1]
    assert has_fit_parameter(final, "sample_weight")
