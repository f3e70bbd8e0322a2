"""Stacking: a stack layer replaces the weighted mean only when it wins on rows it was not fitted on."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from automl_pl import load_model, refit_best, tune
from automl_pl.ensemble import select_weights
from automl_pl.report import final_combination, write_report
from automl_pl.stacking import choose_combination, first_kfold, held_out_rmse, stack_weights
from automl_pl.study import make_folds
from automl_pl.trial_attrs import ENSEMBLE


def _candidates(y: np.ndarray, scales: list[float], noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([s * y + noise * rng.normal(size=len(y)) for s in scales])


def test_a_stack_mends_candidates_that_all_shrink_towards_zero():
    y = np.random.default_rng(0).normal(10.0, 3.0, size=300)
    predictions = _candidates(y, [0.5, 0.5], noise=0.3, seed=1)  # both predict half the target
    folds = make_folds(len(y), cv=5, random_state=0)
    mean = select_weights(predictions, y)
    chosen = choose_combination(predictions, y, folds, mean_weights=mean)
    assert chosen.kind == "stack"
    assert chosen.stack_rmse < 0.5 * chosen.mean_rmse  # a weighted mean of halves stays a half
    assert chosen.weights.sum() == pytest.approx(2.0, rel=0.05)


def test_a_stack_that_fits_noise_loses_to_the_mean_on_held_out_rows():
    rng = np.random.default_rng(2)
    y = rng.normal(size=60)
    good = y + 0.5 * rng.normal(size=60)
    predictions = np.column_stack([good, *rng.normal(size=(15, 60))])  # one sound candidate, fifteen of noise
    folds = make_folds(len(y), cv=5, random_state=0)
    mean = select_weights(predictions, y)
    chosen = choose_combination(predictions, y, folds, mean_weights=mean)
    assert chosen.kind == "mean" and chosen.stack_rmse > chosen.mean_rmse
    np.testing.assert_array_equal(chosen.weights, mean)
    assert stack_weights(predictions, y)[1:].any()  # fitted on every row, the stack would have used the noise


def test_the_combiner_never_sees_the_rows_it_is_scored_on():
    y = np.arange(40.0)
    predictions = np.column_stack([y, y + 1])
    folds = make_folds(len(y), cv=4, random_state=0)
    seen: list[set[float]] = []

    def recording(p, target):
        seen.append(set(target.tolist()))
        return np.array([1.0, 0.0])

    assert held_out_rmse(recording, predictions, y, folds) == 0.0
    for (_, valid_rows), fitted_on in zip(folds, seen):
        assert not fitted_on & set(y[valid_rows].tolist())


def test_the_first_kfold_of_repeated_ones():
    folds = make_folds(30, cv=5, random_state=0, repeats=3)
    first = first_kfold(folds)
    assert len(first) == 5
    assert sorted(np.concatenate([valid for _, valid in first]).tolist()) == list(range(30))


def test_a_stacked_final_model_predicts_and_exports_its_unnormalised_weights(make_data, tmp_path, new_rows):
    X, y = make_data(120, seed=8)
    X_unlabeled, _ = make_data(40, seed=9)
    url = f"sqlite:///{tmp_path}/study.db"
    study = optuna.create_study(storage=url, study_name="stack", direction="minimize")
    for params in ({"model": "ridge", "ridge_alpha": 1.0}, {"model": "knn", "knn_n_neighbors": 5},
                   {"model": "knn", "knn_n_neighbors": 20}):
        study.enqueue_trial({**params, "sample_rate": 0.0})
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "knn"], n_trials=3, cv=3, cv_repeats=1,
                  storage=url, study_name="stack", show_progress_bar=False, n_jobs=1)
    recorded = result.study.user_attrs[ENSEMBLE]
    assert recorded["kind"] in ("mean", "stack") and recorded["mean_held_out_rmse"] > 0
    combination = final_combination(result.study)  # what the report shows
    assert (combination.kind, combination.trials) == (recorded["kind"], recorded["trials"])
    assert "Final model:" in write_report(result.study, tmp_path / "report.html").read_text()
    # The same members, as a stack layer that doubles them: the final model must follow the weights as they are.
    result.study.set_user_attr(ENSEMBLE, {**recorded, "kind": "stack", "weights": [2 * w for w in recorded["weights"]]})
    doubled = refit_best(X, y, X_unlabeled=X_unlabeled, storage=url, study_name="stack", n_jobs=1)
    assert doubled.combination == "stack"
    path = doubled.export(tmp_path / "model")
    assert load_model(path).metadata["combination"] == "stack"
    np.testing.assert_allclose(load_model(path).predict(new_rows), doubled.best_estimator_.predict(new_rows),
                               rtol=1e-9)
    result.study.set_user_attr(ENSEMBLE, recorded)
    weighted_mean = refit_best(X, y, X_unlabeled=X_unlabeled, storage=url, study_name="stack", n_jobs=1)
    np.testing.assert_allclose(doubled.best_estimator_.predict(new_rows),
                               2 * weighted_mean.best_estimator_.predict(new_rows), rtol=1e-9)
