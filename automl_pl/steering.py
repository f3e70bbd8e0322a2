"""How automl_pl steers a study beyond what TPE proposes.

* a new study starts with a strong default model, without and then with pseudo-labels;
* each supervised trial that becomes the best is tried again with pseudo-labels;
* with a time budget, trials stop early enough for the best trial's refit to fit in.

The first is done once when the study is created; the other two are Optuna study callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from automl_pl.models._base import starting_params
from automl_pl.objective import PSEUDO_LABEL_PARAMS, PseudoLabelObjective

TUTORIAL_SAMPLE_RATE = 0.3
REFIT_MARGIN = 1.25
STARTING_FAMILIES = ("lightgbm", "hist_gradient_boosting", "xgboost", "ridge")
"""Whose defaults a new study tries first: the first of these the study may choose."""


def enqueue_starting_trials(study: optuna.Study, objective: PseudoLabelObjective) -> None:
    """Start a new study with a strong default model, without and then with pseudo-labels.

    The first two trials answer the tutorial's question at once (do pseudo-labels help
    this model?) and give the sampler and the pruner a good reference, however short the budget.
    """
    families, fixed = objective.families, objective.fixed_params
    n_rows = len(objective.folds[0][0])
    candidates = [fixed["model"]] if "model" in fixed else [n for n in STARTING_FAMILIES if n in families]
    for name in candidates:
        params = starting_params(families[name], n_rows)
        if params is not None:
            break
    else:
        return
    _enqueue(study, {"model": name, **params, "sample_rate": 0.0}, fixed)
    _enqueue_pseudo_variant(study, objective, {"model": name, **params}, sample_rate=TUTORIAL_SAMPLE_RATE)


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
    _enqueue(study, {**{k: v for k, v in params.items() if k not in PSEUDO_LABEL_PARAMS}, **variant},
             objective.fixed_params)


class KeepTimeForTheRefit:
    """Study callback: move the trials' deadline so that the best trial's refit still ends within the budget.

    A trial's ``fit_seconds`` covers its ``cv`` folds, each fitted on ``(cv - 1) / cv`` of the
    rows, so one fit on all rows takes about ``fit_seconds / (cv - 1)``; ``REFIT_MARGIN`` covers the error.
    The deadline only ever moves earlier: a quicker best trial later does not win the time back.
    """

    def __init__(self, objective: PseudoLabelObjective, *, end: float, cv: int) -> None:
        self.objective = objective
        self.end = end
        self.cv = cv

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        try:
            seconds = study.best_trial.user_attrs.get("fit_seconds", 0.0)
        except ValueError:  # no completed trial yet
            return
        # Only ever earlier: the objective moves it to now once what is left is too short for a fold.
        self.objective.deadline = min(self.objective.deadline, self.end - REFIT_MARGIN * seconds / (self.cv - 1))


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
