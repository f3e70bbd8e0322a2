"""What a trial adds to the ensemble: why a trial the pruner would stop may go on.

The pruner (Optuna's median rule, see :func:`automl_pl.study.default_pruner`) stops a trial whose
running CV RMSE after a fold is worse than the other trials' at that fold. But the final model is
an ensemble of the best trials (:mod:`automl_pl.final_model`), and a trial that is worse on its own
can still lower the ensemble's error when its errors differ from the members' (another family,
other features used): the diverse members that AutoGluon's stacks and FLAML's ensembles lean on.
Stopping such a trial after one fold leaves the ensemble only near-copies of the best model.

So before a trial the pruner would stop is stopped, its out-of-fold predictions on the rows
validated so far are mixed with the current ensemble's (greedy ensemble selection over the same
candidates the final model chooses from, :func:`automl_pl.fold_models.best_distinct`): it goes on
when the best mix, ``(1 - w) * ensemble + w * trial`` with ``w`` in [0, 1], lowers the MSE on
those rows by at least :func:`gain_threshold`. The threshold adds, to :data:`MIN_MIX_GAIN`, what
fitting the one weight ``w`` on ``n`` rows gains by chance (about ``1 / n`` of the MSE, counted
twice): on a few dozen rows almost no trial is kept this way, on thousands a clear gain suffices.
The gain is asked again after every fold, on more rows. A trial kept going records the gain it
showed last (trial attribute ``mix_gain``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from automl_pl.ensemble import select_weights

MIN_MIX_GAIN = 0.002
"""A trial the pruner would stop goes on when mixing it in lowers the ensemble's MSE by at least this
share (about 0.1% of its RMSE), on top of the chance gain of :func:`gain_threshold`."""


def mix_gain(reference: np.ndarray, candidate: np.ndarray, y: np.ndarray) -> float:
    """The share of ``reference``'s MSE on ``y`` that the best mix ``(1 - w) * reference + w * candidate``,
    ``w`` in [0, 1], takes away: 0 when ``candidate`` adds nothing, 1 when the mix is exact."""
    error = np.asarray(y, dtype="float64") - reference
    step = np.asarray(candidate, dtype="float64") - reference
    error_sq, step_sq = float(error @ error), float(step @ step)
    if error_sq == 0 or step_sq == 0:
        return 0.0
    w = min(1.0, max(0.0, float(error @ step) / step_sq))
    mixed = error - w * step
    return 1.0 - float(mixed @ mixed) / error_sq


def gain_threshold(n_rows: int) -> float:
    """The least :func:`mix_gain` on ``n_rows`` rows that keeps a trial going: :data:`MIN_MIX_GAIN` plus
    twice the ``1 / n_rows`` of the MSE that fitting one weight on them gains by chance."""
    return MIN_MIX_GAIN + 2.0 / max(1, n_rows)


class EnsembleReference:
    """The current ensemble's out-of-fold predictions, the weights chosen again only when its candidates change.

    Args:
        y: the labelled rows' targets, on which the weights are chosen.
    """

    def __init__(self, y: np.ndarray) -> None:
        self.y = np.asarray(y, dtype="float64")
        self._numbers: tuple[int, ...] = ()
        self._predictions: np.ndarray | None = None

    def predictions(self, out_of_fold: Mapping[int, np.ndarray], numbers: Sequence[int]) -> np.ndarray | None:
        """The greedy ensemble's out-of-fold predictions over the trials ``numbers`` (their
        ``out_of_fold`` columns); ``None`` without any candidate."""
        numbers = tuple(numbers)
        if not numbers:
            return None
        if numbers != self._numbers:
            columns = np.column_stack([out_of_fold[n] for n in numbers])
            self._predictions = columns @ select_weights(columns, self.y)
            self._numbers = numbers
        return self._predictions
