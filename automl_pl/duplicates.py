"""No trial paid for twice: configurations already evaluated, and families that ran out of new ones.

TPE draws again what it liked, and some families barely depend on their parameters: Bayesian
ridge's priors, a ridge's penalty on plenty of rows. Within one study a draw is not fitted when

* **the same configuration** (every parameter equal, floats to :data:`SIGNIFICANT_DIGITS`) has
  already been evaluated: completed, or pruned on its folds' scores (a trial cut for time, or
  skipped by this module, was not evaluated and may run again);
* **its family is exhausted**: the family's last :data:`EXHAUSTED_AFTER` completed trials each
  scored the same as an earlier trial of the family (:func:`automl_pl.fold_models.is_twin`): new
  draws of it have stopped giving new models.

Such a draw is pruned at once, before any fit, its ``pruned_by`` set to ``"duplicate"`` or
``"exhausted"`` (see :mod:`automl_pl.trial_attrs`). It reports no value, so TPE ranks it below
every evaluated trial and turns to other parameters and families.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl_pl.fold_models import is_twin
from automl_pl.trial_attrs import DUPLICATE_OF, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED, PRUNED_BY, PRUNED_FOR_TIME

SIGNIFICANT_DIGITS = 6
"""Floats that agree to this many significant digits are the same parameter value."""

EXHAUSTED_AFTER = 3
"""A family whose last this many completed trials each repeated an earlier trial's score is exhausted."""

NOT_EVALUATED = (PRUNED_FOR_TIME, PRUNED_AS_DUPLICATE, PRUNED_AS_EXHAUSTED)
"""``pruned_by`` values of trials whose configuration was never scored on its folds."""


def configuration_key(params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
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


def is_exhausted(family: str, finished: list[FrozenTrial]) -> bool:
    """Whether ``family``'s last :data:`EXHAUSTED_AFTER` completed trials each scored as an earlier one of it."""
    values = [t.value for t in sorted(finished, key=lambda t: t.number)
              if t.state == TrialState.COMPLETE and t.params.get("model") == family and t.value is not None]
    if len(values) <= EXHAUSTED_AFTER:
        return False
    return all(any(is_twin(values[i], earlier) for earlier in values[:i])
               for i in range(len(values) - EXHAUSTED_AFTER, len(values)))


def skip_if_seen(trial: optuna.Trial, family: str, families: Collection[str]) -> None:
    """Prune ``trial`` before any fit when its configuration was evaluated or its family is exhausted.

    When every one of ``families`` (those the study may choose) is exhausted, the study is also
    stopped: no draw could give a new model.
    """
    study = getattr(trial, "study", None)  # a FixedTrial has none
    if study is None:
        return
    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    twin = evaluated_twin(trial, finished)
    if twin is not None:
        trial.set_user_attr(PRUNED_BY, PRUNED_AS_DUPLICATE)
        trial.set_user_attr(DUPLICATE_OF, twin.number)
        raise optuna.TrialPruned(f"the same configuration as trial {twin.number}")
    if is_exhausted(family, finished):
        trial.set_user_attr(PRUNED_BY, PRUNED_AS_EXHAUSTED)
        if all(is_exhausted(other, finished) for other in families):
            study.stop()
        raise optuna.TrialPruned(f"{family}: its last {EXHAUSTED_AFTER} trials repeated earlier scores")
