"""Ensembles of a study's best trials: greedy selection on out-of-fold predictions, and the fitted ensemble.

The weights come from Caruana et al.'s ensemble selection ("Ensemble selection from
libraries of models", ICML 2004), as auto-sklearn and AutoGluon use it: start empty, add
(with replacement) the candidate that most lowers the ensemble's out-of-fold MSE, keep the
best prefix. Each candidate's out-of-fold predictions come from the fold models its trial
fitted anyway, so choosing costs no fit; neither do the chosen members when their fold models are kept.

Knows nothing of Optuna: candidates are plain prediction columns. The fitted ensemble is a
weighted mean of regressors, each fitted on its own rows: a trial's members are its fold models
(see :mod:`automl_pl.fold_models`), given prefit as :class:`sklearn.frozen.FrozenEstimator`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from automl_pl.data import shared_transforms
from automl_pl.threads import ModelThreads, usable_cores, use_threads

ENSEMBLE_ITERATIONS = 25
"""Greedy steps of the selection: weights are multiples of 1/25 at the finest."""


def weighted_prediction(models: Sequence[object], weights: Sequence[float], X) -> np.ndarray:
    """``sum(weight * model.predict(X))`` over fitted models that may share one input schema: their
    :class:`~automl_pl.data.FrameEncoder` normalises ``X`` once, not once per model (see :func:`shared_transforms`)."""
    with shared_transforms():
        return sum(w * np.asarray(m.predict(X), dtype="float64").ravel() for w, m in zip(weights, models))


def rmse(predictions: np.ndarray, y: np.ndarray) -> float:
    """Root mean squared error of ``predictions`` against ``y``."""
    return math.sqrt(float(np.mean((predictions - y) ** 2)))


def select_weights(predictions: np.ndarray, y: np.ndarray, *, costs: Sequence[float] | None = None,
                   budget: float | None = None, n_iterations: int = ENSEMBLE_ITERATIONS) -> np.ndarray:
    """Greedy ensemble selection with replacement; the weight of each column of ``predictions``.

    Args:
        predictions: ``(n_rows, n_candidates)`` out-of-fold predictions.
        y: the ``n_rows`` true targets.
        costs: what adding each candidate costs (its refit seconds, say); once chosen, a
            candidate costs nothing more to choose again.
        budget: the most the chosen candidates' ``costs`` may add up to.
        n_iterations: greedy steps.

    Returns:
        Non-negative weights summing to 1, those of the prefix of steps with the lowest
        out-of-fold MSE. The first step picks the best single candidate (within budget).
    """
    predictions = np.asarray(predictions, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n_candidates = predictions.shape[1]
    costs = np.zeros(n_candidates) if costs is None else np.asarray(costs, dtype="float64")
    counts = np.zeros(n_candidates)
    total = np.zeros(len(y))  # sum of the chosen columns
    spent, best_mse, best_counts = 0.0, np.inf, counts.copy()
    for step in range(1, n_iterations + 1):
        affordable = (counts > 0) | (budget is None or spent + costs <= budget)
        if not affordable.any():
            break
        mse = np.mean(((total[:, None] + predictions) / step - y[:, None]) ** 2, axis=0)
        mse[~affordable] = np.inf
        pick = int(np.argmin(mse))
        if counts[pick] == 0:
            spent += costs[pick]
        counts[pick] += 1
        total += predictions[:, pick]
        if mse[pick] < best_mse:
            best_mse, best_counts = mse[pick], counts.copy()
    if not best_counts.any():
        raise ValueError("no candidate fits the budget")
    return best_counts / best_counts.sum()


class EnsembleRegressor(RegressorMixin, BaseEstimator):
    """A weighted mean of regressors, each fitted on the same rows or on its own.

    Parameters
    ----------
    estimators : list of regressors
        Cloned and fitted by ``fit``; never fitted themselves. Wrap one already fitted in
        :class:`sklearn.frozen.FrozenEstimator` to use it as it is.
    weights : list of float
        One non-negative weight per estimator.
    normalize : bool, default=True
        Whether the weights are scaled to sum to 1 (a weighted mean); ``False`` uses them as given
        (a stack layer's weights, see :mod:`automl_pl.stacking`).
    rows : list of int arrays or None, default=None
        Per estimator, the positions of the rows of ``fit``'s data it is fitted on (a
        cross-validation fold's training rows, say); ``None`` fits each on all rows.
    offset : float, default=0.0
        Added to every prediction: the estimators are fitted on the target less it (a study's
        :func:`automl_pl.data.target_offset`, for a target far from zero).

    Attributes
    ----------
    estimators_ : list of regressors
        The fitted clones.
    weights_ : ndarray
        The weights used: normalised unless ``normalize=False``.
    """

    def __init__(self, estimators: Sequence[object], *, weights: Sequence[float],
                 rows: Sequence[np.ndarray] | None = None, normalize: bool = True, offset: float = 0.0) -> None:
        self.estimators = estimators
        self.weights = weights
        self.rows = rows
        self.normalize = normalize
        self.offset = offset

    def fit(self, X, y, **fit_params) -> EnsembleRegressor:
        """Fit a clone of every estimator on its rows of ``(X, y - offset)``; ``fit_params`` (``X_unlabeled``, say) go to each."""
        weights = np.asarray(self.weights, dtype="float64")
        if len(weights) != len(self.estimators) or len(weights) == 0 or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be one non-negative number per estimator, not all 0; got {self.weights!r}")
        rows = [None] * len(self.estimators) if self.rows is None else list(self.rows)
        if len(rows) != len(self.estimators):
            raise ValueError(f"rows must hold one array of row positions per estimator; got {len(rows)} for "
                             f"{len(self.estimators)} estimators")
        self.weights_ = weights / weights.sum() if self.normalize else weights
        y = np.asarray(y, dtype="float64") - self.offset
        self.estimators_ = [clone(e).fit(X, y, **fit_params) if r is None else
                            clone(e).fit(_safe_indexing(X, r), y[r], **fit_params)
                            for e, r in zip(self.estimators, rows)]
        self._threads = ModelThreads(usable_cores())  # measures the load from now on, for predict
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        if getattr(self, "_threads", None) is None:
            self._threads = ModelThreads(usable_cores())
        threads = self._threads.now()  # a busy machine gets fewer threads, as in the fits
        for estimator in self.estimators_:
            use_threads(estimator, threads)
        return weighted_prediction(self.estimators_, self.weights_, X) + self.offset
