"""Ensembles of the best trials: greedy weights, the fitted ensemble, and a study that refits and exports one."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.neighbors import KNeighborsRegressor

import automl_pl
from automl_pl import load_model, refit_best, tune
from automl_pl.ensemble import EnsembleRegressor, select_weights
from automl_pl.final_model import ENSEMBLE_CANDIDATES, record_ensemble, recorded_ensemble
from automl_pl.fold_models import KeptFoldModels
from automl_pl.study import make_folds
from automl_pl.trial_attrs import ENSEMBLE as ENSEMBLE_ATTR


def _mse(prediction, y):
    return float(np.mean((prediction - y) ** 2))


@pytest.fixture
def candidates():
    """Three candidates' predictions: two good ones with independent errors, and a poor one."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    good_a = y + rng.normal(scale=0.5, size=400)
    good_b = y + rng.normal(scale=0.5, size=400)
    poor = y + rng.normal(scale=5.0, size=400)  # its best weight, 0.04 / 8.04, is below one step of 1/25
    return np.column_stack([poor, good_a, good_b]), y


def test_greedy_weights_mix_independent_errors_and_leave_out_the_poor(candidates):
    predictions, y = candidates
    weights = select_weights(predictions, y)
    assert weights.sum() == pytest.approx(1.0) and (weights >= 0).all()
    assert weights[0] == 0  # the poor one only adds noise
    assert 0.3 <= weights[1] <= 0.7 and 0.3 <= weights[2] <= 0.7  # about half each: their errors cancel
    singles = [_mse(predictions[:, j], y) for j in range(3)]
    assert _mse(predictions @ weights, y) < 0.7 * min(singles)  # averaging two halves the error variance


def test_the_first_step_is_the_best_single_candidate(candidates):
    predictions, y = candidates
    weights = select_weights(predictions, y, n_iterations=1)
    best = int(np.argmin([_mse(predictions[:, j], y) for j in range(3)]))
    assert weights.tolist() == [1.0 if j == best else 0.0 for j in range(3)]


def test_a_budget_keeps_the_chosen_costs_within_it(candidates):
    predictions, y = candidates
    best = int(np.argmin([_mse(predictions[:, j], y) for j in range(3)]))
    other = 3 - best  # the other good one (columns 1 and 2)
    costs = [1.0, 1.0, 1.0]
    assert np.count_nonzero(select_weights(predictions, y, costs=costs, budget=1.5)) == 1
    assert np.count_nonzero(select_weights(predictions, y, costs=costs, budget=2.0)) == 2
    costs[best] = 5.0  # the best alone does not fit: the next best is chosen
    weights = select_weights(predictions, y, costs=costs, budget=2.0)
    assert weights[other] == 1.0
    with pytest.raises(ValueError, match="budget"):
        select_weights(predictions, y, costs=costs, budget=0.5)


def test_a_candidate_that_only_hurts_is_never_added():
    y = np.linspace(0, 1, 50)
    predictions = np.column_stack([y, y + 1.0])  # a perfect one and a biased one
    assert select_weights(predictions, y).tolist() == [1.0, 0.0]


def test_ensemble_regressor_is_the_weighted_mean_of_its_fitted_clones(X, y):
    numeric = X[["num_b", "count"]]
    members = [Ridge(alpha=1.0), KNeighborsRegressor(n_neighbors=5)]
    ensemble = EnsembleRegressor(members, weights=[3, 1]).fit(numeric, y)
    expected = 0.75 * clone(members[0]).fit(numeric, y).predict(numeric) + 0.25 * clone(
        members[1]).fit(numeric, y).predict(numeric)
    np.testing.assert_allclose(ensemble.predict(numeric), expected)
    assert not hasattr(members[0], "coef_")  # the given estimators stay unfitted
    assert clone(ensemble).get_params()["weights"] == [3, 1]
    with pytest.raises(ValueError, match="one non-negative number per estimator"):
        EnsembleRegressor(members, weights=[1.0]).fit(numeric, y)
    with pytest.raises(ValueError, match="one non-negative number per estimator"):
        EnsembleRegressor([LinearRegression()], weights=[-1.0]).fit(numeric, y)


@pytest.fixture(scope="module")
def ensembled(tmp_path_factory, make_data):
    """A study whose data reward mixing a linear and a local model; its result and storage."""
    X, y = make_data(160, seed=5)
    y = y + 2.0 * np.sin(3 * X["num_b"].to_numpy())  # a wave the linear models miss
    X_unlabeled, _ = make_data(80, seed=7)
    url = f"sqlite:///{tmp_path_factory.mktemp('ensemble')}/study.db"
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "knn", "lightgbm"], n_trials=12, cv=3,
                  storage=url, study_name="mix", show_progress_bar=False, n_jobs=1)
    return result, X, y, X_unlabeled, url


def _fold_models_per_trial(result) -> int:
    """The study's folds: its K-fold times its repeats, as recorded in the study."""
    recorded = result.study.user_attrs["automl_pl"]
    return recorded["cv"] * recorded["cv_repeats"]


def test_a_study_refits_the_ensemble_its_out_of_fold_predictions_chose(ensembled, new_rows):
    result, X, y, X_unlabeled, _ = ensembled
    assert len(result.members_) > 1, "these data should reward an ensemble"
    model = result.best_estimator_
    assert isinstance(model, EnsembleRegressor)
    if result.combination == "mean":  # a stack layer's weights need not sum to 1 (tests/test_stacking.py)
        assert sum(result.members_.values()) == pytest.approx(1.0)
    recorded = result.study.user_attrs[ENSEMBLE_ATTR]
    assert recorded["best_trial"] == result.best_trial.number
    assert dict(zip(recorded["trials"], recorded["weights"])) == result.members_
    # Its out-of-fold RMSE beats the best single trial's CV RMSE, and the summary says so.
    assert result.ensemble_cv_rmse < result.cv_rmse
    what = "stack layer over" if result.combination == "stack" else "ensemble of"
    assert f"{what} {len(result.members_)} trials" in result.summary()
    # Each member trial is its fold models (every fold of its repeated 3-fold), kept from its cross-validation,
    # each weighing an equal share of it.
    k = _fold_models_per_trial(result)
    assert len(model.estimators_) == k * len(result.members_)
    np.testing.assert_allclose(model.weights_, np.repeat(list(result.members_.values()), k) / k)
    predictions = model.predict(new_rows)
    assert predictions.shape == (len(new_rows),) and np.all(np.isfinite(predictions))


def test_an_exported_ensemble_loads_and_predicts_the_same(ensembled, tmp_path, new_rows):
    result, *_ = ensembled
    path = result.export(tmp_path / "model")
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(new_rows), result.best_estimator_.predict(new_rows), rtol=1e-10)
    metadata = loaded.metadata
    assert metadata["family"] == "ensemble" and metadata["format_version"] == 2
    k = _fold_models_per_trial(result)
    assert [m["trial_number"] for m in metadata["members"]] == list(np.repeat(list(result.members_), k))
    assert [m["fold"] for m in metadata["members"]] == list(range(k)) * len(result.members_)
    assert [m["weight"] for m in metadata["members"]] == pytest.approx(np.repeat(list(result.members_.values()), k) / k)
    assert len(metadata["files"]) == k * len(result.members_)
    assert metadata["ensemble_cv_rmse"] == result.ensemble_cv_rmse


def test_a_tampered_member_weight_is_refused(ensembled, tmp_path):
    import json

    from automl_pl.artifact import METADATA_FILE, _checksum

    result, *_ = ensembled
    path = result.export(tmp_path / "model")
    metadata = json.loads((path / METADATA_FILE).read_text())
    metadata["members"][0]["weight"] = "lots"
    metadata["checksum"] = _checksum(metadata)
    (path / METADATA_FILE).write_text(json.dumps(metadata))
    with pytest.raises(automl_pl.ArtifactError, match="does not describe a readable model"):
        load_model(path)


def test_refit_best_refits_the_recorded_ensemble(ensembled, new_rows):
    result, X, y, X_unlabeled, url = ensembled
    again = refit_best(X, y, X_unlabeled=X_unlabeled, storage=url, study_name="mix", n_jobs=1)
    assert again.members_ == result.members_
    np.testing.assert_allclose(again.best_estimator_.predict(new_rows), result.best_estimator_.predict(new_rows),
                               rtol=1e-10)


def test_a_stale_or_missing_record_means_the_best_trial_alone():
    study = optuna.create_study()
    for value in (3.0, 2.0, 1.0):
        study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={}))
    assert recorded_ensemble(study) == {2: 1.0}  # nothing recorded
    study.set_user_attr(ENSEMBLE_ATTR, {"best_trial": 1, "trials": [1, 0], "weights": [0.5, 0.5]})
    assert recorded_ensemble(study) == {2: 1.0}  # recorded when trial 1 was the best: stale
    study.set_user_attr(ENSEMBLE_ATTR, {"best_trial": 2, "trials": [2, 0], "weights": [0.6, 0.4]})
    assert recorded_ensemble(study) == {2: 0.6, 0: 0.4}


FIVE_FOLDS = make_folds(30, cv=5, random_state=0)


def test_no_time_left_for_more_refits_means_the_best_trial_alone():
    y = np.linspace(0, 1, 30)
    rng = np.random.default_rng(1)
    study = optuna.create_study()
    out_of_fold = {}
    for number in range(3):
        study.add_trial(optuna.trial.create_trial(value=1.0 + number, params={}, distributions={},
                                                  user_attrs={"fit_seconds": 40.0}))
        out_of_fold[number] = y + rng.normal(scale=0.3, size=30)
    # None of their fold models kept, and time for one refit of 40 s: the best trial alone.
    assert record_ensemble(study, out_of_fold, y, kept=KeptFoldModels(), folds=FIVE_FOLDS, seconds_left=55.0) == {0: 1.0}
    # Time for all three: a mix of independent errors.
    members = record_ensemble(study, out_of_fold, y, kept=KeptFoldModels(), folds=FIVE_FOLDS, seconds_left=160.0)
    assert len(members) > 1
    # With their fold models kept, mixing them costs no time at all.
    kept = KeptFoldModels()
    for number in range(3):
        kept.offer(number, 1.0 + number, [f"fold model {number}"])
    assert record_ensemble(study, out_of_fold, y, kept=kept, folds=FIVE_FOLDS, seconds_left=0.0) == members
    assert study.user_attrs[ENSEMBLE_ATTR]["cv_rmse"] < min(
        math.sqrt(_mse(p, y)) for p in out_of_fold.values())


def test_twins_do_not_crowd_other_trials_out_of_the_ensemble():
    y = np.linspace(0, 1, 40)
    rng = np.random.default_rng(2)
    study = optuna.create_study()
    twin_errors, other_errors = rng.normal(scale=0.3, size=40), rng.normal(scale=0.3, size=40)
    out_of_fold = {}
    for number in range(ENSEMBLE_CANDIDATES + 1):  # one model drawn again and again, a hair apart
        study.add_trial(optuna.trial.create_trial(value=1.0 + 1e-7 * number, params={}, distributions={}))
        out_of_fold[number] = y + twin_errors
    study.add_trial(optuna.trial.create_trial(value=1.1, params={}, distributions={}))  # another model
    out_of_fold[ENSEMBLE_CANDIDATES + 1] = y + other_errors
    members = record_ensemble(study, out_of_fold, y, kept=None, folds=FIVE_FOLDS, seconds_left=None)
    # The two models' errors are independent: their mix beats either, twins or not.
    assert set(members) == {0, ENSEMBLE_CANDIDATES + 1}
