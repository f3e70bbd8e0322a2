"""No trial paid for twice: a configuration already evaluated is not fitted again.

TPE draws again what it liked, and a family with few parameters (kNN's integers and choices, a
configuration queued by the study itself) can be drawn exactly again. Within one study a draw is
not fitted when the same configuration (every parameter equal, floats to
:data:`SIGNIFICANT_DIGITS`) has already been evaluated: completed, or pruned on its folds' scores.
A trial cut for time, or skipped here, was not evaluated and may run again. Such a draw is pruned
at once, before any fit, its ``pruned_by`` set to ``"duplicate"`` and ``duplicate_of`` naming the
trial that did (see :mod:`automl_pl.trial_attrs`). It reports no value, so TPE ranks it below every
evaluated trial and turns to other parameters.

Other parameters, the same model: a family's parameters can differ and still give the same model
(Bayesian ridge's priors barely move its weights; a depth limit that the trees never reach). So
every draw is also judged by what its first fold gave: after the teachers of fold 0 are fitted,
their predictions of the fold's held-out rows are kept as a sketch (:func:`prediction_sketch`, a
few random projections that keep distances), and when an evaluated trial of the same family and the
same pseudo-label settings left a sketch within :data:`SAME_MODEL_TOLERANCE` of the target's
standard deviation, the draw is pruned before any student or later fold is fitted, its ``pruned_by``
set to ``"same_model"`` and ``duplicate_of`` naming that trial. Each such draw costs one teacher fit
instead of every fold's teachers and students. Because it is judged per draw, a draw with other
pseudo-label settings, which does give another model, always runs (the family-wide rule tried on
2026-11-30, "the last 3 completed trials each scored as an earlier one", also stopped those and left
short studies' time unused).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from automl_pl.trial_attrs import (
    DUPLICATE_OF,
    FIRST_FOLD_SKETCH,
    PRUNED_AS_DUPLICATE,
    PRUNED_AS_EXHAUSTED,
    PRUNED_AS_SAME_MODEL,
    PRUNED_BY,
    PRUNED_FOR_TIME,
)

SIGNIFICANT_DIGITS = 6
"""Floats that agree to this many significant digits are the same parameter value."""

NOT_EVALUATED = (PRUNED_FOR_TIME, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED)
"""``pruned_by`` values of trials whose configuration was never scored on its folds."""

SAME_MODEL_TOLERANCE = 1e-6
"""Two trials whose first-fold predictions differ by less than this share of the target's standard
deviation (root mean square over the fold's held-out rows, as the sketches estimate it) gave the same
model. Different configurations that give different models differ by orders of magnitude more; float
noise between thread counts, by orders of magnitude less."""

SKETCH_SIZE = 8
"""Random projections per sketch: the root mean square of two sketches' difference estimates that of
the predictions within a factor of about two, which is all a tolerance this far from both sides needs."""


def configuration_key(params) -> tuple:
    """A hashable key of ``params`` in which floats equal to :data:`SIGNIFICANT_DIGITS` digits agree."""
    return tuple(sorted((name, float(f"{value:.{SIGNIFICANT_DIGITS}g}") if isinstance(value, float) else value)
                        for name, value in params.items()))


def evaluated_twin(trial: optuna.Trial, finished: list[FrozenTrial]) -> FrozenTrial | None:
    """The first of ``finished`` trials that evaluated the same configuration as ``trial``, or ``None``."""
    key = configuration_key(trial.params)
    for other in finished:
        if other.number == trial.number or other.user_attrs.get(PRUNED_BY) in NOT_EVALUATED:
            continue
        if other.state in (TrialState.COMPLETE, TrialState.PRUNED) and configuration_key(other.params) == key:
            return other
    return None


def skip_if_seen(trial: optuna.Trial) -> None:
    """Prune ``trial`` before any fit when its configuration was already evaluated in its study."""
    study = getattr(trial, "study", None)  # a FixedTrial has none
    if study is None:
        return
    twin = evaluated_twin(trial, study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    if twin is not None:
        trial.set_user_attr(PRUNED_BY, PRUNED_AS_DUPLICATE)
        trial.set_user_attr(DUPLICATE_OF, twin.number)
        raise optuna.TrialPruned(f"the same configuration as trial {twin.number}")


def prediction_sketch(y_pred: np.ndarray) -> list[float]:
    """:data:`SKETCH_SIZE` fixed random projections of one fold's predictions (Johnson-Lindenstrauss).

    The projections are drawn from a fixed seed and scaled by ``1 / sqrt(len(y_pred))``, so that for
    two trials' predictions of the same rows the root mean square of their sketches' difference
    estimates the root mean square of their predictions' difference.
    """
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    projections = np.random.default_rng(0).standard_normal((SKETCH_SIZE, len(y_pred)))
    return (projections @ y_pred / math.sqrt(max(len(y_pred), 1))).tolist()


def same_model_twin(trial: optuna.Trial, sketch: list[float], *, key: Callable[[Mapping[str, Any]], Hashable],
                    tolerance: float) -> FrozenTrial | None:
    """Record ``trial``'s first-fold ``sketch``; return the first evaluated trial that gave the same model.

    The same model: an equal ``key`` of the parameters (its family and pseudo-label settings) and a
    sketch within ``tolerance`` (root mean square of the difference). When one is found, ``trial`` is
    marked ``pruned_by = "same_model"`` with ``duplicate_of`` naming it; the caller prunes it.
    """
    trial.set_user_attr(FIRST_FOLD_SKETCH, sketch)
    study = getattr(trial, "study", None)  # a FixedTrial has none
    if study is None:
        return None
    mine = key(trial.params)
    for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        theirs = other.user_attrs.get(FIRST_FOLD_SKETCH)
        if (other.number == trial.number or theirs is None or len(theirs) != len(sketch)
                or other.user_attrs.get(PRUNED_BY) in NOT_EVALUATED or key(other.params) != mine):
            continue
        if math.sqrt(float(np.mean(np.subtract(theirs, sketch) ** 2))) <= tolerance:
            trial.set_user_attr(PRUNED_BY, PRUNED_AS_SAME_MODEL)
            trial.set_user_attr(DUPLICATE_OF, other.number)
            return other
    return None
