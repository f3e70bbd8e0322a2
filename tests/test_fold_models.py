"""The kept fold models and the ensemble made of them: caps, eviction, and fold-by-fold fitting."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from automl_pl.ensemble import EnsembleRegressor
from automl_pl.fold_models import TWIN_TOLERANCE, KeptFoldModels, best_distinct, model_nbytes


def test_model_nbytes_counts_the_arrays_a_model_holds():
    small, large = np.zeros(10), np.zeros(1_000_000)
    assert model_nbytes([large]) - model_nbytes([small]) == pytest.approx(8 * (1_000_000 - 10), rel=1e-3)


def test_the_best_trials_are_kept_and_the_worst_dropped_first():
    kept = KeptFoldModels(max_trials=2)
    assert kept.offer(0, 3.0, ["a"]) and kept.offer(1, 2.0, ["b"])
    assert not kept.offer(2, 4.0, ["c"])  # worse than every kept trial: not even measured
    assert kept.offer(3, 1.0, ["d"])  # better: the worst kept one (trial 0) makes room
    assert 0 not in kept and 2 not in kept and len(kept) == 2
    assert kept.get(3) == ["d"] and kept.get(0) is None
    assert not kept.offer(4, 2.0, ["e"])  # a tie with the worst kept: the earlier trial stays
    assert kept.get(1) == ["b"]


def test_of_twin_trials_only_the_better_is_kept():
    kept = KeptFoldModels(max_trials=5)
    assert kept.offer(0, 2.0, ["a"]) and kept.offer(1, 3.0, ["b"])
    assert not kept.offer(2, 2.0 * (1 + TWIN_TOLERANCE / 2), ["c"])  # trial 0 again, a hair worse
    assert kept.offer(3, 2.0 * (1 - TWIN_TOLERANCE / 2), ["d"])  # a hair better: it replaces trial 0
    assert [n for n in range(4) if n in kept] == [1, 3]
    assert kept.offer(4, 2.0 * (1 + 3 * TWIN_TOLERANCE), ["e"])  # beyond the tolerance: another model


def test_the_best_distinct_trials_leave_out_the_worse_twin_and_stop_at_the_limit():
    trials = [SimpleNamespace(number=n, value=v) for n, v in
              enumerate([3.0, 1.0, 1.0 * (1 + TWIN_TOLERANCE / 2), 2.0, 5.0])]
    assert [t.number for t in best_distinct(trials, limit=3)] == [1, 3, 0]
    assert [t.number for t in best_distinct(trials, limit=10)] == [1, 3, 0, 4]


def test_the_memory_cap_drops_the_worst_trials_until_it_holds():
    big, small = [np.zeros(100_000)], [np.zeros(10)]
    kept = KeptFoldModels(max_trials=10, max_bytes=int(1.5 * model_nbytes(big)))
    assert kept.offer(0, 2.0, big)
    assert kept.offer(1, 1.0, big)  # two big ones do not fit: the worse one goes
    assert 0 not in kept and 1 in kept
    assert kept.offer(2, 3.0, small)  # a small one still fits beside it
    assert not kept.offer(3, 5.0, big)  # a big worse one is dropped at once
    assert kept.nbytes <= kept.max_bytes and [n for n in range(4) if n in kept] == [1, 2]
    assert not KeptFoldModels(max_trials=0).offer(0, 1.0, small)  # keeps nothing, and says so


def test_an_ensemble_fits_each_member_on_its_rows_and_uses_frozen_ones_as_they_are():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=60)
    folds = [train for train, _ in KFold(3, shuffle=True, random_state=0).split(X)]
    prefit = Ridge(alpha=5.0).fit(X[:10], y[:10])
    ensemble = EnsembleRegressor([Ridge(), Ridge(), FrozenEstimator(prefit)], weights=[1, 1, 2], rows=folds)
    ensemble.fit(X, y)
    expected = (Ridge().fit(X[folds[0]], y[folds[0]]).predict(X) + Ridge().fit(X[folds[1]], y[folds[1]]).predict(X)
                + 2 * prefit.predict(X)) / 4
    np.testing.assert_allclose(ensemble.predict(X), expected, rtol=1e-12)
    assert ensemble.estimators_[2].estimator is prefit  # used as it is, never refitted
    with pytest.raises(ValueError, match="one array of row positions per estimator"):
        EnsembleRegressor([Ridge()], weights=[1], rows=folds).fit(X, y)


def test_a_trials_size_is_its_first_fold_model_times_its_folds():
    fold_model = np.zeros(50_000)
    kept = KeptFoldModels()
    kept.offer(0, 1.0, [fold_model] * 5)
    assert kept.nbytes == 5 * model_nbytes(fold_model)
