"""How automl_pl steers a study beyond what TPE proposes.

* a new study starts with the starting portfolio's configurations (see :mod:`automl_pl.portfolio`),
  the first without and then with pseudo-labels;
* each supervised trial that becomes the best is tried again with pseudo-labels;
* with a time budget, time is kept for the best trial's fold models to be refitted,
  when they were not kept from its cross-validation (see :mod:`automl_pl.fold_models`);

The first is done once when the study is created; the next two are Optuna study callbacks.
What happens after the trials (ensemble, stack, refit) is :mod:`automl_pl.final_model`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from automl_pl.final_model import REFIT_MARGIN, refit_seconds
from automl_pl.models import ModelFamily
from automl_pl.models._base import starting_params
from automl_pl.objective import PseudoLabelObjective, model_params
from automl_pl.optimize import count_finished
from automl_pl.teacher import pseudo_rows, student_seconds

TUTORIAL_SAMPLE_RATE = 0.3
ENSEMBLE_REFITS = 1.5
"""With an ensemble, the time kept for refits is this many refits of the best trial; the
members are chosen so that their refits together fit in what is left."""
STARTING_FAMILIES = ("lightgbm", "hist_gradient_boosting", "xgboost", "ridge")
"""Whose defaults a new study tries first: the first of these the study may choose."""
SECOND_FAMILIES = ("catboost",)
"""Whose defaults a new study tries next, without pseudo-labels, when it may choose them: a
different kind of booster, often the best on categorical data, and too slow at random settings."""
TEACHER_SHARE = 0.25
"""Time is kept for the teacher round only while one student refit of the best trial fits in this share of the
timeout (see :class:`KeepTimeForTheTeacher`); trials are worth more than students."""


def enqueue_starting_trials(study: optuna.Study, objective: PseudoLabelObjective, *,
                            portfolio: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Start a new study with strong configurations, the first without and then with pseudo-labels.

    With a time budget, the quickest family's defaults (by ``relative_cost``: ridge, fitted in
    milliseconds) run before them, without pseudo-labels: however short the budget or busy the
    machine, the study then holds a sound model to return.

    Then the ``portfolio``'s configurations in order (see :mod:`automl_pl.portfolio`; already clipped
    for the study's data), without pseudo-labels; the first of them once more with the tutorial's
    pseudo-labels, which answers the tutorial's question at once (do pseudo-labels help this model?)
    and gives the sampler and the pruner a good reference, however short the budget. Without a
    portfolio (``None`` or empty): the defaults of the first of ``STARTING_FAMILIES`` the study may
    choose, in the same two ways, then those of ``SECOND_FAMILIES``. A configuration that becomes
    the best is tried with pseudo-labels by :class:`PseudoLabelTheBest`.

    Only the first trials are queued here; the rest of the configurations are returned, for
    :class:`RunTheRest` to queue one at a time, so that a study that ends early (``n_trials``, the
    time) leaves no queued trial behind in its storage.
    """
    families, fixed = objective.families, objective.fixed_params
    n_rows = len(objective.folds[0][0])
    starting = [dict(c) for c in portfolio or ()] or _default_start(families, fixed, n_rows)
    if not starting:
        return []
    first = starting[0]
    if objective.budget.limited and "model" not in fixed:
        quick = min((f for f in families.values() if f.defaults is not None), key=lambda f: f.relative_cost)
        if quick.name != first["model"]:
            _enqueue(study, {"model": quick.name, **starting_params(quick, n_rows), "sample_rate": 0.0}, fixed)
    _enqueue(study, {**first, "sample_rate": 0.0}, fixed)
    _enqueue_pseudo_variant(study, objective, first, sample_rate=TUTORIAL_SAMPLE_RATE)
    return starting[1:]


class RunTheRest:
    """Study callback: queue the starting configurations left (see :func:`enqueue_starting_trials`) one at a time.

    The next one is queued when no trial waits in the queue (a pseudo-label variant queued by
    :class:`PseudoLabelTheBest` goes first), the study will run another trial (fewer than ``n_trials``
    finished) and the time budget is not closed.
    """

    def __init__(self, objective: PseudoLabelObjective, configurations: Sequence[Mapping[str, Any]], *,
                 n_trials: int | None) -> None:
        self.objective = objective
        self.remaining = [dict(c) for c in configurations]
        self.n_trials = n_trials

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if not self.remaining or self.objective.budget.closed:
            return
        if self.n_trials is not None and count_finished(study) >= self.n_trials:
            return
        if study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            return
        _enqueue(study, {**self.remaining.pop(0), "sample_rate": 0.0}, self.objective.fixed_params)


def _default_start(families: Mapping[str, ModelFamily], fixed: Mapping[str, Any], n_rows: int) -> list[dict[str, Any]]:
    """Without a portfolio: the first of ``STARTING_FAMILIES``' defaults, then ``SECOND_FAMILIES``'."""
    candidates = [fixed["model"]] if "model" in fixed else [n for n in STARTING_FAMILIES if n in families]
    for name in candidates:
        params = starting_params(families[name], n_rows)
        if params is not None:
            break
    else:
        return []
    start = [{"model": name, **params}]
    if "model" not in fixed:
        start += [{"model": second, **starting_params(families[second], n_rows)}
                  for second in SECOND_FAMILIES if second in families and second != name]
    return start


def _enqueue(study: optuna.Study, params: Mapping[str, Any], fixed: Mapping[str, Any]) -> None:
    study.enqueue_trial({k: v for k, v in params.items() if k not in fixed})


def _enqueue_pseudo_variant(study: optuna.Study, objective: PseudoLabelObjective, params: Mapping[str, Any], *,
                            sample_rate: float) -> None:
    """Queue ``params`` with plain pseudo-labels (random rows, full weight, one round), if the study tunes them."""
    high, step = objective.sample_rate_range()
    if high <= 0 or "sample_rate" in objective.fixed_params:
        return
    rate = round(round(min(sample_rate, high) / step) * step, 6)
    variant = {"sample_rate": rate, "selection": "random", "pseudo_weight": 1.0, "n_rounds": 1}
    _enqueue(study, {**model_params(params), **variant},
             objective.fixed_params)


class KeepTimeForTheRefit:
    """Study callback: keep time in the study's budget for the best trial's final model.

    See :func:`refit_seconds`: no time is kept for a best trial whose fold models the objective
    keeps. ``REFIT_MARGIN`` covers its error, and ``refits`` is how many refits of the best
    trial to keep time for (``ENSEMBLE_REFITS`` with an ensemble). What is kept only ever grows
    (:meth:`~automl_pl.budget.TimeBudget.reserve`): a quicker best trial later does not win the time back.
    """

    def __init__(self, objective: PseudoLabelObjective, *, refits: float = 1.0) -> None:
        self.objective = objective
        self.refits = refits

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        try:
            seconds = refit_seconds(study.best_trial, self.objective.fold_models, folds=self.objective.folds)
        except ValueError:  # no completed trial yet
            return
        self.objective.budget.reserve(REFIT_MARGIN * self.refits * seconds)


class KeepTimeForTheTeacher:
    """Study callback: keep time for the ensemble-as-teacher round (see :mod:`automl_pl.teacher`).

    Its students are the final model's heaviest members refitted on more rows. Kept: one such refit
    of the best trial (with ``REFIT_MARGIN``), while that fits in ``TEACHER_SHARE`` of the timeout;
    when it does not, nothing is kept (the round would be skipped: its time goes to the trials). At
    the end the round refits as many students as the time left allows.
    """

    def __init__(self, objective: PseudoLabelObjective) -> None:
        self.objective = objective

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        budget = self.objective.budget
        try:
            best = study.best_trial
        except ValueError:  # no completed trial yet
            return
        n_pool = 0 if self.objective.X_unlabeled is None else len(self.objective.X_unlabeled)
        train_rows = len(self.objective.folds[0][0])
        student_rows = train_rows + pseudo_rows(n_pool, train_rows)
        seconds = REFIT_MARGIN * student_seconds(best, student_rows=student_rows,
                                                 trial_rows=self.objective.fitted_rows(best.params))
        budget.reserve(seconds if seconds <= TEACHER_SHARE * budget.timeout else 0.0, purpose="teacher round",
                       grow_only=False)


class PseudoLabelTheBest:
    """Study callback: when a supervised trial becomes the best, queue the same model with pseudo-labels.

    TPE learns slowly that a good configuration could gain from pseudo-labels, since those
    dimensions are drawn with the rest; asking directly costs one trial per new best.
    """

    def __init__(self, objective: PseudoLabelObjective) -> None:
        self.objective = objective

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state != TrialState.COMPLETE or trial.params.get("sample_rate", 0.0) > 0:
            return
        if study.best_trial.number == trial.number:
            high, _ = self.objective.sample_rate_range()
            _enqueue_pseudo_variant(study, self.objective, trial.params, sample_rate=high / 2)
