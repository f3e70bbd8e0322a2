"""How automl_pl steers a study beyond what TPE proposes.

* a new study starts with a strong default model, without and then with pseudo-labels;
* each supervised trial that becomes the best is tried again with pseudo-labels;
* with a time budget, time is kept for the best trial's fold models to be refitted,
  when they were not kept from its cross-validation (see :mod:`automl_pl.fold_models`);
* after the trials, an ensemble of the best trials is chosen for the refit, if it scores better.

The first is done once when the study is created; the next two are Optuna study callbacks;
the ensemble is recorded as the study's user attribute ``ensemble``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from automl_pl.ensemble import select_weights
from automl_pl.fold_models import KEPT_TRIALS, KeptFoldModels, is_twin
from automl_pl.models._base import starting_params
from automl_pl.objective import PSEUDO_LABEL_PARAMS, PseudoLabelObjective

TUTORIAL_SAMPLE_RATE = 0.3
REFIT_MARGIN = 1.25
ENSEMBLE_REFITS = 1.5
"""With an ensemble, the time kept for refits is this many refits of the best trial; the
members are chosen so that their refits together fit in what is left."""
ENSEMBLE_CANDIDATES = KEPT_TRIALS
"""The best trials by CV RMSE that may join an ensemble, twins left out: as many as keep their fold models."""
ENSEMBLE_ATTR = "ensemble"
STARTING_FAMILIES = ("lightgbm", "hist_gradient_boosting", "xgboost", "ridge")
"""Whose defaults a new study tries first: the first of these the study may choose."""
SECOND_FAMILIES = ("catboost",)
"""Whose defaults a new study tries next, without pseudo-labels, when it may choose them: a
different kind of booster, often the best on categorical data, and too slow at random settings."""


def enqueue_starting_trials(study: optuna.Study, objective: PseudoLabelObjective) -> None:
    """Start a new study with a strong default model, without and then with pseudo-labels.

    With a time budget, the quickest family's defaults (by ``relative_cost``: ridge, fitted in
    milliseconds) run before them, without pseudo-labels: however short the budget or busy the
    machine, the study then holds a sound model to return.

    The first two trials answer the tutorial's question at once (do pseudo-labels help
    this model?) and give the sampler and the pruner a good reference, however short the budget.
    Then the defaults of ``SECOND_FAMILIES`` the study may choose, without pseudo-labels (if it
    becomes the best, :class:`PseudoLabelTheBest` tries it with them).
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
    if objective.budget.limited and "model" not in fixed:
        quick = min((f for f in families.values() if f.defaults is not None), key=lambda f: f.relative_cost)
        if quick.name != name:
            _enqueue(study, {"model": quick.name, **starting_params(quick, n_rows), "sample_rate": 0.0}, fixed)
    _enqueue(study, {"model": name, **params, "sample_rate": 0.0}, fixed)
    _enqueue_pseudo_variant(study, objective, {"model": name, **params}, sample_rate=TUTORIAL_SAMPLE_RATE)
    if "model" not in fixed:
        for second in (n for n in SECOND_FAMILIES if n in families and n != name):
            _enqueue(study, {"model": second, **starting_params(families[second], n_rows), "sample_rate": 0.0}, fixed)


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


def refit_seconds(trial: FrozenTrial, kept: KeptFoldModels | None, *, folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """About how long making ``trial``'s final model takes, given the study's ``folds``.

    With fold models (``kept`` not ``None``): nothing when its fold models are kept; else
    refitting them, which takes about as long as its cross-validation did (its ``fit_seconds``).
    Without (``kept is None``): one fit on all rows, a fold's share of ``fit_seconds`` scaled
    from the fold's training rows to all rows.
    """
    seconds = trial.user_attrs.get("fit_seconds", 0.0)
    if kept is None:
        train_rows, valid_rows = folds[0]
        return seconds / len(folds) * (len(train_rows) + len(valid_rows)) / len(train_rows)
    return 0.0 if trial.number in kept else seconds


def record_ensemble(study: optuna.Study, out_of_fold: Mapping[int, np.ndarray], y: np.ndarray, *,
                    kept: KeptFoldModels | None, folds: Sequence[tuple[np.ndarray, np.ndarray]],
                    seconds_left: float | None) -> dict[int, float]:
    """Choose the trials of the final model and their weights; record them in the study; return ``{trial number: weight}``.

    The candidates are the ``ENSEMBLE_CANDIDATES`` best completed trials with out-of-fold
    predictions in ``out_of_fold`` (those of this process), but only the best of twins
    (:func:`automl_pl.fold_models.is_twin`: a study that keeps re-drawing one model would
    otherwise leave the ensemble nothing else to mix), weighted by
    :func:`automl_pl.ensemble.select_weights` so that the refits they need (see
    :func:`refit_seconds`) fit in ``seconds_left`` (with ``REFIT_MARGIN``). The study's best trial
    alone is the answer when it has no out-of-fold predictions here (a resumed study) or when
    no mix scores better out of fold.
    """
    best = study.best_trial
    candidates: list[FrozenTrial] = []
    for trial in sorted((t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                         if t.number in out_of_fold), key=lambda t: t.value):
        if len(candidates) == ENSEMBLE_CANDIDATES:
            break
        if not any(is_twin(c.value, trial.value) for c in candidates):
            candidates.append(trial)
    members, score = {best.number: 1.0}, best.value
    if best.number in out_of_fold and len(candidates) > 1:
        predictions = np.column_stack([out_of_fold[t.number] for t in candidates])
        costs = [refit_seconds(t, kept, folds=folds) for t in candidates]
        budget = None if seconds_left is None else max(seconds_left / REFIT_MARGIN,
                                                           refit_seconds(best, kept, folds=folds))
        weights = select_weights(predictions, y, costs=costs, budget=budget)
        if np.count_nonzero(weights) > 1:
            members = {t.number: float(w) for t, w in zip(candidates, weights) if w > 0}
            score = math.sqrt(float(np.mean((predictions @ weights - y) ** 2)))
    study.set_user_attr(ENSEMBLE_ATTR, {"best_trial": best.number, "trials": list(members),
                                        "weights": list(members.values()), "cv_rmse": score})
    return members


def recorded_ensemble(study: optuna.Study) -> dict[int, float]:
    """The study's recorded ensemble as ``{trial number: weight}``, or its best trial alone.

    A record made before the study found a new best trial (more trials since) is stale and ignored.
    """
    best = study.best_trial
    recorded = study.user_attrs.get(ENSEMBLE_ATTR)
    if not isinstance(recorded, dict) or recorded.get("best_trial") != best.number:
        return {best.number: 1.0}
    numbers = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    members = dict(zip(recorded.get("trials", []), recorded.get("weights", [])))
    if not members or not set(members) <= numbers:
        return {best.number: 1.0}
    return members


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
