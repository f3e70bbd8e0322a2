"""Stacking: a second layer that learns how to combine the best trials, kept only when it wins on rows it did not see.

Greedy ensemble selection (:func:`automl_pl.ensemble.select_weights`) gives a weighted *mean*:
weights that sum to 1. A stack layer fitted on the same out-of-fold predictions is freer: a
non-negative least-squares fit (Lawson and Hanson; no intercept, so that the final model stays a
weighted sum of the members and exports as one) may also stretch or shrink the mix, which mends a
family that is biased towards the mean, as pseudo-labelled students often are.

Freer also means it can fit noise, so the two are compared fold-correctly: for each fold of the
study's first K-fold, both are fitted on the other folds' out-of-fold rows and scored on that
fold's rows. The stack is chosen only when its RMSE on those held-out rows beats the weighted
mean's. Both scores are recorded, so the report shows what the choice was worth.

Knows nothing of Optuna: the candidates are plain prediction columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import nnls

from automl_pl.ensemble import select_weights

Combiner = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``combiner(predictions, y) -> weights``: fitted on out-of-fold prediction columns and their targets."""


class Combination(NamedTuple):
    """How the final model combines its candidates.

    Attributes:
        kind: ``"mean"`` (greedy weights summing to 1) or ``"stack"`` (non-negative least squares).
        weights: one per candidate column, fitted on every out-of-fold row.
        mean_rmse: the weighted mean's RMSE on rows its weights were not fitted on.
        stack_rmse: the stack's RMSE on rows it was not fitted on (``nan`` when it was not tried).
    """

    kind: str
    weights: np.ndarray
    mean_rmse: float
    stack_rmse: float


def stack_weights(predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least-squares weights of the columns of ``predictions`` for ``y`` (no intercept)."""
    weights, _ = nnls(np.asarray(predictions, dtype="float64"), np.asarray(y, dtype="float64"))
    return weights


def held_out_rmse(combiner: Combiner, predictions: np.ndarray, y: np.ndarray,
                  folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """RMSE of ``combiner`` on each fold's rows when fitted on the other folds' rows, over all ``folds``."""
    squared = 0.0
    count = 0
    for train_rows, valid_rows in folds:
        weights = combiner(predictions[train_rows], y[train_rows])
        squared += float(np.sum((predictions[valid_rows] @ weights - y[valid_rows]) ** 2))
        count += len(valid_rows)
    return math.sqrt(squared / count)


def choose_combination(predictions: np.ndarray, y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], *,
                       mean_weights: np.ndarray, costs: Sequence[float] | None = None,
                       budget: float | None = None) -> Combination:
    """The weighted mean ``mean_weights`` or a stack over the same columns, whichever wins on held-out rows.

    Args:
        predictions: ``(n_rows, n_candidates)`` out-of-fold predictions (rows with a NaN are left out).
        y: their targets.
        folds: one K-fold of the rows, ``(train_rows, valid_rows)`` each, to compare on.
        mean_weights: the greedy weights chosen on all rows (what the mean would use).
        costs, budget: as for :func:`~automl_pl.ensemble.select_weights`: the stack is not chosen
            when the candidates it uses cost more than ``budget`` together.
    """
    predictions = np.asarray(predictions, dtype="float64")
    y = np.asarray(y, dtype="float64")
    usable = np.isfinite(predictions).all(axis=1)
    position = np.cumsum(usable) - 1  # a usable row's position among the usable rows
    folds = [(position[t[usable[t]]], position[v[usable[v]]]) for t, v in folds]
    predictions, y = predictions[usable], y[usable]

    def mean(p: np.ndarray, target: np.ndarray) -> np.ndarray:
        return select_weights(p, target, costs=costs, budget=budget)

    mean_rmse = held_out_rmse(mean, predictions, y, folds)
    if predictions.shape[1] < 2 or len(folds) < 2:
        return Combination("mean", np.asarray(mean_weights, dtype="float64"), mean_rmse, math.nan)
    stack_rmse = held_out_rmse(stack_weights, predictions, y, folds)
    weights = stack_weights(predictions, y)
    affordable = budget is None or costs is None or float(np.sum(np.asarray(costs)[weights > 0])) <= budget
    if stack_rmse < mean_rmse and affordable and weights.any():
        return Combination("stack", weights, mean_rmse, stack_rmse)
    return Combination("mean", np.asarray(mean_weights, dtype="float64"), mean_rmse, stack_rmse)


def first_kfold(folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds of the first K-fold among repeated ones: up to the first fold whose rows were held out before."""
    seen: set[int] = set()
    first = []
    for train_rows, valid_rows in folds:
        if seen & set(valid_rows.tolist()):
            break
        seen.update(valid_rows.tolist())
        first.append((train_rows, valid_rows))
    return first
