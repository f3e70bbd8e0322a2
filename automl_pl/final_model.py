"""The final model: which trials it holds and how they combine, and the fit that makes it.

After the trials, :func:`record_ensemble` chooses the final model's trials from their
out-of-fold predictions: the best trial alone, a weighted mean of the best trials (greedy
ensemble selection, :mod:`automl_pl.ensemble`) or a stack layer over them when it wins on held-out
rows (:mod:`automl_pl.stacking`), leaving out trials whose predictions stray on the unlabelled rows
(:mod:`automl_pl.pool_guard`). The choice is recorded in the study (user attribute ``ensemble``),
where :func:`recorded_ensemble` finds it again, in this process or another. :func:`fit_final_model`
then makes the model: each chosen trial's fold models, kept from its cross-validation or refitted
on the same folds. :func:`refit_seconds` says how long that takes, so that a time budget can keep it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState
from sklearn.frozen import FrozenEstimator

from automl_pl.ensemble import EnsembleRegressor, rmse, select_weights
from automl_pl.fold_models import KEPT_TRIALS, KeptFoldModels, best_distinct
from automl_pl.models import get_family
from automl_pl.objective import make_estimator
from automl_pl.pool_guard import MIN_CANDIDATES, straying
from automl_pl.result import PreparedData, TuneResult
from automl_pl.stacking import choose_combination, first_kfold
from automl_pl.trial_attrs import BEST_N_ROUNDS, ENSEMBLE, FAIL_REASON, FIT_SECONDS, PRUNED_BY, PRUNED_FOR_TIME

REFIT_MARGIN = 1.25
"""Time kept for a refit is this many times its estimate (see :func:`refit_seconds`)."""
ENSEMBLE_CANDIDATES = KEPT_TRIALS
"""The best trials by CV RMSE that may join an ensemble, twins left out: as many as keep their fold models."""


def refit_seconds(trial: FrozenTrial, kept: KeptFoldModels | None, *, folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """About how long making ``trial``'s final model takes, given the study's ``folds``.

    With fold models (``kept`` not ``None``): nothing when its fold models are kept; else
    refitting them, which takes about as long as its cross-validation did (its ``fit_seconds``).
    Without (``kept is None``): one fit on all rows, a fold's share of ``fit_seconds`` scaled
    from the fold's training rows to all rows.
    """
    seconds = trial.user_attrs.get(FIT_SECONDS, 0.0)
    if kept is None:
        train_rows, valid_rows = folds[0]
        return seconds / len(folds) * (len(train_rows) + len(valid_rows)) / len(train_rows)
    return 0.0 if trial.number in kept else seconds


def record_ensemble(study: optuna.Study, out_of_fold: Mapping[int, np.ndarray], y: np.ndarray, *,
                    kept: KeptFoldModels | None, folds: Sequence[tuple[np.ndarray, np.ndarray]],
                    seconds_left: float | None, stacking: bool = True,
                    on_pool: Mapping[int, np.ndarray] | None = None) -> dict[int, float]:
    """Choose the trials of the final model and their weights; record them in the study; return ``{trial number: weight}``.

    The candidates are the ``ENSEMBLE_CANDIDATES`` best completed trials with out-of-fold
    predictions in ``out_of_fold`` (those of this process), but only the best of twins
    (:func:`automl_pl.fold_models.is_twin`: a study that keeps re-drawing one model would
    otherwise leave the ensemble nothing else to mix), weighted by
    :func:`automl_pl.ensemble.select_weights` so that the refits they need (see
    :func:`refit_seconds`) fit in ``seconds_left`` (with ``REFIT_MARGIN``). The study's best trial
    alone is the answer when it has no out-of-fold predictions here (a resumed study) or when
    no mix scores better out of fold. With ``stacking``, a stack layer over the same candidates
    replaces the weighted mean when it scores better on rows it was not fitted on (see
    :mod:`automl_pl.stacking`); its weights need not sum to 1. The record says which (``kind``:
    ``"mean"`` or ``"stack"``) and both held-out scores. With ``on_pool`` (per trial, its fold
    models' mean prediction for a sample of the unlabelled rows), candidates that stray there far
    more than on the labelled rows are left out first (``strayed``; see :mod:`automl_pl.pool_guard`),
    even the best trial.
    """
    best = study.best_trial
    candidates = best_distinct((t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                                if t.number in out_of_fold), limit=ENSEMBLE_CANDIDATES)
    strayed = _straying_trials(candidates, out_of_fold, on_pool)
    candidates = [t for t in candidates if t.number not in strayed]
    anchor = candidates[0] if candidates else best  # the best trial, unless it strayed
    members, score, kind, held_out = {anchor.number: 1.0}, anchor.value, "mean", {}
    if anchor.number in out_of_fold and len(candidates) > 1:
        predictions = np.column_stack([out_of_fold[t.number] for t in candidates])
        costs = [refit_seconds(t, kept, folds=folds) for t in candidates]
        budget = None if seconds_left is None else max(seconds_left / REFIT_MARGIN,
                                                           refit_seconds(anchor, kept, folds=folds))
        weights = select_weights(predictions, y, costs=costs, budget=budget)
        combination = choose_combination(predictions, y, first_kfold(folds), mean_weights=weights, costs=costs,
                                         budget=budget) if stacking else None
        if combination is not None:
            weights = combination.weights
            held_out = {"mean_held_out_rmse": combination.mean_rmse,  # None: JSON has no NaN
                        "stack_held_out_rmse": None if math.isnan(combination.stack_rmse) else combination.stack_rmse}
            kind = combination.kind
        if np.count_nonzero(weights) > 1 or kind == "stack":
            members = {t.number: float(w) for t, w in zip(candidates, weights) if w > 0}
            score = rmse(predictions @ weights, y)
        else:
            kind = "mean"
    study.set_user_attr(ENSEMBLE, {"best_trial": best.number, "trials": list(members),
                                   "weights": list(members.values()), "cv_rmse": score, "kind": kind,
                                   "strayed": sorted(strayed), **held_out})
    return members


def _straying_trials(candidates: Sequence[FrozenTrial], out_of_fold: Mapping[int, np.ndarray],
                     on_pool: Mapping[int, np.ndarray] | None) -> set[int]:
    """The candidates whose predictions stray on the pool sample (see :mod:`automl_pl.pool_guard`).

    Only a minority can stray: when most candidates are far from each other on the pool, the pool
    is simply unlike the labelled rows, and nothing tells the sound candidates from the others.
    """
    checked = [t for t in candidates if on_pool is not None and t.number in on_pool]
    if len(checked) < MIN_CANDIDATES:
        return set()
    flags = straying(np.column_stack([on_pool[t.number] for t in checked]),
                     np.column_stack([out_of_fold[t.number] for t in checked]))
    if flags.sum() * 2 >= len(checked):
        return set()
    return {t.number for t, flag in zip(checked, flags) if flag}


def recorded_ensemble(study: optuna.Study) -> dict[int, float]:
    """The study's recorded ensemble as ``{trial number: weight}``, or its best trial alone.

    A record made before the study found a new best trial (more trials since) is stale and ignored.
    """
    best = study.best_trial
    recorded = study.user_attrs.get(ENSEMBLE)
    if not isinstance(recorded, dict) or recorded.get("best_trial") != best.number:
        return {best.number: 1.0}
    numbers = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    members = dict(zip(recorded.get("trials", []), recorded.get("weights", [])))
    if not members or not set(members) <= numbers:
        return {best.number: 1.0}
    return members


def fit_final_model(study: optuna.Study, data: PreparedData, *, folds: Sequence[tuple[np.ndarray, np.ndarray]] | None,
           random_state: int, n_jobs: int, kept: KeptFoldModels | None = None,
           students: Mapping[int, Sequence[object]] | None = None) -> TuneResult:
    """The final model: each recorded member trial's fold models, weighted ``weight / len(folds)`` each.

    The fold models in ``students`` (a member's, refitted by :mod:`automl_pl.teacher`) or else in
    ``kept`` are used as they are; the others are refitted on their fold's training rows with the
    fold's seed, as the trial's cross-validation fitted them. Without ``folds`` (no bagging), each
    member trial is fitted once on all rows.
    """
    check_refittable(study)
    members = recorded_ensemble(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    parts = folds if folds is not None else [(None, None)]  # without bagging: one fit on all rows
    estimators, weights, rows = [], [], []
    for number, weight in members.items():
        trial, fitted = trials[number], (students or {}).get(number) or (None if kept is None else kept.get(number))
        for k, (train_rows, _) in enumerate(parts):
            estimators.append(FrozenEstimator(fitted[k]) if fitted is not None else make_estimator(
                get_family(trial.params["model"]), trial.params, schema=data.schema, random_state=random_state + k,
                n_jobs=n_jobs, n_rounds=trial.user_attrs.get(BEST_N_ROUNDS)))
            weights.append(weight / len(parts))
            rows.append(train_rows)
    started = time.perf_counter()
    # The recorded weights as they are: a stack layer's need not sum to 1.
    model = EnsembleRegressor(estimators, weights=weights, rows=rows, normalize=False, offset=data.target_offset)
    model.fit(data.X, data.y + data.target_offset, X_unlabeled=data.X_unlabeled)  # the target as the user gave it
    return TuneResult(study, model, time.perf_counter() - started, data, members)


def check_refittable(study: optuna.Study, *, timeout: float | None = None) -> None:
    """Raise a RuntimeError that says why, when ``study`` has no completed trial to refit."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        reason = f" The last failure: {failed[-1].user_attrs.get(FAIL_REASON, 'see the log')}" if failed else ""
        for_time = [t for t in study.trials if t.user_attrs.get(PRUNED_BY) == PRUNED_FOR_TIME]
        if timeout is not None and for_time and not failed:
            reason = (f" timeout={timeout:g} s was too short for one whole trial of even the quickest family "
                      f"on these data and this machine; {len(for_time)} trial(s) were stopped for time.")
        raise RuntimeError(
            f"study {study.study_name!r} has no completed trial to refit ({len(study.trials)} trials in all). "
            f"Run more trials or allow more time.{reason}"
        )
