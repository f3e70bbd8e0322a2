"""No trial paid for twice: a configuration already evaluated is not fitted again.

TPE draws again what it liked, and a family with few parameters (kNN's integers and choices, a
configuration queued by the study itself) can be drawn exactly again. Within one study a draw is
not fitted when the same configuration (every parameter equal, floats to
:data:`SIGNIFICANT_DIGITS`) has already been evaluated: completed, or pruned on its folds' scores.
A trial cut for time, or skipped here, was not evaluated and may run again. Such a draw is pruned
at once, before any fit, its ``pruned_by`` set to ``"duplicate"`` and ``duplicate_of`` naming the
trial that did (see :mod:`automl_pl.trial_attrs`). It reports no value, so TPE ranks it below every
evaluated trial and turns to other parameters.

Not done: stopping a family whose draws keep giving the same model (Bayesian ridge's priors barely
matter). Tried on 2026-11-30 as "the last 3 completed trials each scored as an earlier one", it also
stopped draws with other pseudo-label settings, which do give other models, and left a short
study's time unused; it needs a rule per family and pseudo-label setting, measured.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl_pl.trial_attrs import DUPLICATE_OF, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED, PRUNED_BY, PRUNED_FOR_TIME

SIGNIFICANT_DIGITS = 6
"""Floats that agree to this many significant digits are the same parameter value."""

NOT_EVALUATED = (PRUNED_FOR_TIME, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED)
"""``pruned_by`` values of trials whose configuration was never scored on its folds."""


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
