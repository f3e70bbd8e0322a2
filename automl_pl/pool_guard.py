"""A guard for the ensemble: leave out trials whose predictions stray on the rows to predict.

Out-of-fold predictions score every trial on labelled rows, which are all alike: each fold's
held-out rows come from the same labelled set as its training rows. A model that extrapolates
(a linear model on a house far larger than any labelled one, say, or one fitted on pseudo-labels
that did so) can score well there and still err wildly on the unlabelled rows the user wants
predicted, when those hold rows unlike the labelled ones. The out-of-fold score cannot see it;
the pool can, without labels: on labelled rows each candidate differs from the candidates'
median by some amount, and a sound one differs about as much on the pool. A candidate whose
root-mean-square distance from the median on the pool is over :data:`STRAY_RATIO` times that on
the labelled rows has found rows where it behaves unlike itself, and is left out of the mix.

The ratio is a judgement (a model three times as far from its peers on new rows as on known
ones), not a value fitted on the benchmark data. Knows nothing of Optuna.
"""

from __future__ import annotations

import numpy as np

STRAY_RATIO = 3.0
"""A candidate this many times farther from the candidates' median on the pool than on labelled rows strays."""

POOL_SAMPLE = 1000
"""Pool rows the candidates predict for the check (a seeded sample of larger pools)."""

MIN_CANDIDATES = 3
"""Below this many candidates the median is no consensus, and nothing is checked."""


def straying(pool_predictions: np.ndarray, out_of_fold: np.ndarray, *, ratio: float = STRAY_RATIO) -> np.ndarray:
    """Which candidates (columns) stray on the pool: a boolean per column.

    Args:
        pool_predictions: ``(n_pool_rows, n_candidates)`` predictions for unlabelled rows.
        out_of_fold: ``(n_labelled_rows, n_candidates)`` out-of-fold predictions (rows with a NaN are left out).
        ratio: see :data:`STRAY_RATIO`.
    """
    pool_predictions = np.asarray(pool_predictions, dtype="float64")
    out_of_fold = np.asarray(out_of_fold, dtype="float64")
    n_candidates = out_of_fold.shape[1]
    if n_candidates < MIN_CANDIDATES or len(pool_predictions) == 0:
        return np.zeros(n_candidates, dtype=bool)
    out_of_fold = out_of_fold[np.isfinite(out_of_fold).all(axis=1)]
    on_pool = _distance_from_median(pool_predictions)
    on_labelled = _distance_from_median(out_of_fold)
    # A candidate that agrees with the median almost exactly on labelled rows (it may be the
    # median) is measured against the candidates' typical distance instead of its own.
    floor = np.maximum(on_labelled, np.median(on_labelled))
    return ~np.isfinite(on_pool) | (on_pool > ratio * floor)


def pool_sample(n_rows: int, *, random_state: int, size: int = POOL_SAMPLE) -> np.ndarray:
    """Sorted positions of at most ``size`` pool rows, drawn with ``random_state``."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(random_state).choice(n_rows, size=size, replace=False))


def _distance_from_median(predictions: np.ndarray) -> np.ndarray:
    """Per column, the root-mean-square distance from the row-wise median of all columns."""
    with np.errstate(over="ignore", invalid="ignore"):
        median = np.median(predictions, axis=1, keepdims=True)
        return np.sqrt(np.mean((predictions - median) ** 2, axis=0))
