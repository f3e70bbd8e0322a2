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

A family that cannot fit these data at all: when its first :data:`FAILURES_TO_SKIP` trials failed
and none of it completed, its later draws are pruned before any fit (``pruned_by`` set to
``"failing_family"``), with its last failure's reason in the message. TPE ignores failed trials, so
it would otherwise draw the family at its prior rate to the end (59 CatBoost failures in a 30 s
study whose target CatBoost refused, in ``benchmarks/RESULTS.md``); a pruned draw without a value
teaches it to look elsewhere.
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
    FAIL_REASON,
    FIRST_FOLD_SKETCH,
    INTERRUPTED,
    PRUNED_AS_DUPLICATE,
    PRUNED_AS_EXHAUSTED,
    PRUNED_AS_FAILING,
    PRUNED_AS_SAME_MODEL,
    PRUNED_BY,
    PRUNED_FOR_TIME,
    SURPLUS,
)

SIGNIFICANT_DIGITS = 6
"""Floats that agree to this many significant digits are the same parameter value."""

NOT_EVALUATED = (PRUNED_FOR_TIME, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED, PRUNED_AS_FAILING)
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


FAILURES_TO_SKIP = 3
"""Failed trials of a family, with none of it completed, after which it is not fitted again in the study."""


def skip_if_failing(trial: optuna.Trial) -> None:
    """Prune ``trial`` before any fit when its family failed :data:`FAILURES_TO_SKIP` trials and completed none."""
    study = getattr(trial, "study", None)  # a FixedTrial has none
    if study is None:
        return
    family = trial.params.get("model")
    failed, worked = [], False
    for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)):
        if other.number == trial.number or other.params.get("model") != family:
            continue
        if other.state == TrialState.FAIL:
            if other.user_attrs.get(FAIL_REASON) not in (None, INTERRUPTED) and not other.user_attrs.get(SURPLUS):
                failed.append(other)
        elif other.state == TrialState.COMPLETE or other.user_attrs.get(PRUNED_BY) not in NOT_EVALUATED:
            worked = True  # completed, or scored on some folds before the pruner stopped it
    if len(failed) >= FAILURES_TO_SKIP and not worked:
        trial.set_user_attr(PRUNED_BY, PRUNED_AS_FAILING)
        last = max(failed, key=lambda t: t.number).user_attrs[FAIL_REASON]
        raise optuna.TrialPruned(f"{family} failed its {len(failed)} trials and completed none, so it is not fitted "
                                 f"again in this study (the last: {last[:300]})")


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
