"""The fitted fold models of a study's best trials, kept so that the final model needs no refit.

Cross-validation fits one model per fold for every trial. The final model of a trial is the
mean of those K models (cross-validation bagging, as AutoGluon's bagged models): each saw
``(K - 1) / K`` of the labelled rows, and on few labels together they predict better than
one model fitted on all rows (CatBoost's defaults on Big Mart with 10% of labels: 3% better;
whole studies: see ``benchmarks/RESULTS.md``). Their out-of-fold predictions, which choose
the ensemble, are exactly those models' predictions.

Keeping the best trials' fold models in memory makes their final model free. A trial whose
models were not kept (beyond :data:`KEPT_TRIALS` or :data:`KEPT_BYTES`, a resumed study,
another worker's trial) has them refitted on the same folds with the same seeds, which gives
the same models.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def times_held_out(folds: Sequence[tuple[np.ndarray, np.ndarray]], n_rows: int) -> np.ndarray:
    """How many of ``folds`` hold each of the ``n_rows`` labelled rows out: once per K-fold repeat.

    See :func:`out_of_fold_mean`."""
    return np.bincount(np.concatenate([valid for _, valid in folds]), minlength=n_rows)


def out_of_fold_mean(sums: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Each labelled row's mean out-of-fold prediction, from the sums of its fold models' predictions and
    :func:`times_held_out`; NaN for a row that no fold held out."""
    return np.divide(sums, times, where=times > 0, out=np.full(len(sums), np.nan))


KEPT_TRIALS = 20
"""At most this many trials' fold models are kept: the best by CV RMSE (the ensemble's candidates)."""

TWIN_TOLERANCE = 1e-4
"""Trials whose CV RMSE differ by less than this share are taken for twins: the same model drawn
again (TPE often re-draws a linear model whose parameters barely matter). Only the better twin is
kept and offered to the ensemble, so that twins do not fill its candidates' places."""

KEPT_BYTES = 2 * 2**30
"""At most this much memory (by :func:`model_nbytes`) is held by kept fold models; the worst
trials' are dropped first. Boosters take kilobytes to megabytes; deep forests on large data can
take gigabytes."""


def model_nbytes(models: Any) -> int:
    """About how many bytes ``models`` hold: their pickled size, with arrays counted but not copied.

    Pickle protocol 5 hands large contiguous arrays (a forest's nodes, kNN's training rows) to
    a callback instead of copying them; only their sizes are added.
    """
    buffers: list[int] = []
    pickled = pickle.dumps(models, protocol=5, buffer_callback=lambda b: buffers.append(b.raw().nbytes))
    return len(pickled) + sum(buffers)


def is_twin(value: float, other: float) -> bool:
    """Whether two trials' CV RMSEs are equal within :data:`TWIN_TOLERANCE`."""
    return abs(value - other) <= TWIN_TOLERANCE * max(abs(value), abs(other))


def best_distinct(trials: Iterable[T], *, limit: int = KEPT_TRIALS) -> list[T]:
    """The ``limit`` best of ``trials`` by ``value`` (lowest first), only the better of twins (see :func:`is_twin`)."""
    chosen: list[T] = []
    for trial in sorted(trials, key=lambda t: t.value):
        if len(chosen) == limit:
            break
        if not any(is_twin(c.value, trial.value) for c in chosen):
            chosen.append(trial)
    return chosen


class KeptFoldModels:
    """The fold models of the best trials seen, by trial number, within a count and a memory cap.

    Args:
        max_trials: the most trials kept.
        max_bytes: the most memory their models may hold together.
    """

    def __init__(self, *, max_trials: int = KEPT_TRIALS, max_bytes: int = KEPT_BYTES) -> None:
        self.max_trials = max_trials
        self.max_bytes = max_bytes
        self._kept: dict[int, tuple[float, list[Any], int]] = {}  # number -> (CV RMSE, fold models, bytes)

    def offer(self, number: int, value: float, models: Sequence[Any]) -> bool:
        """Keep trial ``number``'s fitted fold ``models`` (its CV RMSE is ``value``) if it ranks among the best.

        A twin (see :func:`is_twin`) replaces a worse kept one and is refused beside a better one.
        The worst trials (the latest among equals) are dropped until both caps hold. Their size
        is taken as ``len(models)`` times the first model's.
        Returns whether the trial's models are kept.
        """
        twins = [n for n, (v, _, _) in self._kept.items() if is_twin(v, value)]
        if any(self._kept[n][0] <= value for n in twins):
            return False
        for n in twins:
            del self._kept[n]
        if len(self._kept) >= self.max_trials and value >= max((v for v, _, _ in self._kept.values()), default=-math.inf):
            return False  # would be dropped at once: do not measure it
        # A trial's fold models differ little in size: measuring one costs a fifth of measuring all.
        self._kept[number] = (value, list(models), len(models) * model_nbytes(models[0]) if models else 0)
        while self._kept and (len(self._kept) > self.max_trials or self.nbytes > self.max_bytes):
            del self._kept[max(self._kept, key=lambda n: (self._kept[n][0], n))]
        return number in self._kept

    def get(self, number: int) -> list[Any] | None:
        """Trial ``number``'s fold models, in fold order, or ``None`` when they are not kept."""
        kept = self._kept.get(number)
        return None if kept is None else list(kept[1])

    @property
    def nbytes(self) -> int:
        """The memory the kept models hold, by :func:`model_nbytes`."""
        return sum(size for _, _, size in self._kept.values())

    def __contains__(self, number: object) -> bool:
        return number in self._kept

    def __len__(self) -> int:
        return len(self._kept)
