"""tune(): one Optuna study over model family, hyperparameters and pseudo-label settings.

Owns storage, sampler, pruner, budget, thread plan, resume and the refit of the
best trial. The objective itself lives in :mod:`automl_pl.objective`.
"""

from __future__ import annotations

import math
import os
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from automl_pl._version import __version__
from automl_pl.budget import TimeBudget
from automl_pl.column_values import count_rows, date_columns, missing_markers
from automl_pl.data import (
    FeatureSchema,
    check_frame,
    check_target,
    check_whole_number,
    data_fingerprint,
    target_offset,
)
from automl_pl.final_model import check_refittable, fit_final_model, record_ensemble
from automl_pl.models import ModelFamily, resolve_families
from automl_pl.objective import MAX_ROUNDS, PSEUDO_LABEL_PARAMS, PseudoLabelObjective
from automl_pl.optimize import run_trials
from automl_pl.portfolio import Portfolio
from automl_pl.pseudo_label import SELECTIONS
from automl_pl.result import PreparedData, TuneResult
from automl_pl.steering import (
    ENSEMBLE_REFITS,
    KeepTimeForTheRefit,
    KeepTimeForTheTeacher,
    PseudoLabelTheBest,
    RunTheRest,
    enqueue_starting_trials,
)
from automl_pl.storage import HEARTBEAT_SECONDS, has_heartbeat, is_sqlite, open_storage, redact_url, storage_file
from automl_pl.teacher import teacher_round as run_teacher_round
from automl_pl.threads import ModelThreads, usable_cores
from automl_pl.trial_attrs import ENSEMBLE, PRUNED_BY, PRUNED_FOR_TIME, SETTINGS
from automl_pl.verbosity import DEFAULT_VERBOSITY, Progress, speaks_at_verbosity

FEW_COMPLETE_TRIALS = 2
"""A study whose trials were stopped for time with no more than this many complete warns that the
model is the best of very few: the budget was short for these data on this machine."""

REPEAT_BELOW_ROWS = 500
"""With fewer labelled rows than this, the K-fold is repeated (with other shuffles) by default
until about this many out-of-fold predictions score each trial, at most ``MAX_CV_REPEATS`` times."""
MAX_CV_REPEATS = 3

STUDY_NAME_PREFIX = "automl_pl"
"""A study :func:`tune` names itself is called ``automl_pl-YYYYmmdd-HHMMSS-<6 hex>``: new on every call."""


def new_study_name() -> str:
    """A study name no earlier call used: the time and a random suffix."""
    return f"{STUDY_NAME_PREFIX}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


@speaks_at_verbosity
def tune(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    X_unlabeled: pd.DataFrame | None = None,
    models: Sequence[str] | None = None,
    n_trials: int | None = 100,
    timeout: float | None = None,
    cv: int = 5,
    cv_repeats: int | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    show_progress_bar: bool = True,
    verbosity: int = DEFAULT_VERBOSITY,
    refit: bool = True,
    worker: bool = False,
    heartbeat_seconds: int = HEARTBEAT_SECONDS,
    ensemble: bool = True,
    bagging: bool = True,
    stacking: bool = True,
    portfolio: Portfolio | Sequence[Mapping[str, Any]] | str | None = "default",
    teacher_round: bool = False,
    pruner: optuna.pruners.BasePruner | None = None,
) -> TuneResult:
    """Tune model family, hyperparameters and pseudo-label settings jointly; make the best trial's final model.

    Args:
        X: labelled features (numeric, categorical and missing values are fine).
        y: their numeric target.
        X_unlabeled: unlabelled rows with the same columns, e.g. the rows to predict.
        models: family names to choose from (see ``automl_pl.models.FAMILIES``);
            ``None`` for every installed family.
        n_trials: the study's total of finished (complete or pruned) trials: a resumed
            study runs only the missing ones. ``None`` for no limit (needs ``timeout``).
            ``0`` runs no trial and refits the best model of the study named by ``storage`` and
            ``study_name`` (as :func:`refit_best`); a study with no completed trial is refused.
        timeout: seconds for this call, data checks, final model and refit included, or ``None``.
            The call returns a model within it on an idle or a busy machine (see
            :mod:`automl_pl.budget`): trials stop ``automl_pl.budget.FINISH_MARGIN`` of it early and early enough for
            the best trial's refit, if it needs one; a fold is started only when it is foreseen to
            end in time, and a fit still running when the time is up is stopped (the trial is
            recorded as pruned). With a timeout the quickest family runs first, so that even a
            short budget returns a model; a study short of time warns instead of raising.
        cv: folds of the shuffled, seeded K-fold cross-validation.
        cv_repeats: how many times the K-fold is run, each with another shuffle; a trial is scored on
            all ``cv * cv_repeats`` folds, and its final model is the mean of as many fold models.
            ``None``: the study's own, or for a new study by :func:`default_cv_repeats` (more than
            one only below ``REPEAT_BELOW_ROWS`` labelled rows, where one split's noise can pick
            the wrong trial and trials are quick).
        storage: an Optuna storage or URL (``sqlite:///studies/x.db``, ``journal:studies/x.log``, ...) to keep
            the study in; ``None`` keeps it in memory, gone with the process.
        study_name: the study to create, or to resume when ``storage`` already holds it (see ``n_trials``).
            ``None`` starts a new study with a name of its own (:func:`new_study_name`): each call
            without a name is a fresh study, so resuming is always explicit.
        random_state: seeds folds, sampler, models and pseudo-label draws.
        n_jobs: the most threads per model (default: every core this process may use); a fit
            gets fewer while other processes keep the cores busy (see :mod:`automl_pl.threads`).
        fixed_params: study dimensions to hold at a value instead of tuning, e.g.
            ``{"sample_rate": 0.0}`` (no pseudo-labels), ``{"selection": "confidence"}`` or
            ``{"model": "lightgbm", "lgbm_num_leaves": 31}``; recorded in every trial's params.
        show_progress_bar: show progress: Optuna's bar on a terminal or in a notebook, one plain
            line per trial elsewhere (a log file, a pipe). ``False``: none.
        verbosity: 0 silent; 1 warnings and a final summary (the default); 2 also one line per
            trial; 3 also Optuna's own INFO lines (each trial's parameters) and debug messages.
            Optuna's logging follows it during the call (see :mod:`automl_pl.verbosity`).
        refit: make the best trial's final model, ``best_estimator_`` (see ``bagging``), and measure its
            feature importance (``importance_``) when the time left allows (see :mod:`automl_pl.importance`).
        worker: this process is one of several sharing the study (on one machine through a
            ``journal:`` file, on many through PostgreSQL). It joins or creates the study,
            draws its own sampler seed so workers do not repeat each other's trials, runs
            trials until the study's total (counting every worker's) or ``timeout``, and
            does not refit: export once at the end with :func:`refit_best`. SQLite is refused.
        heartbeat_seconds: with a database storage URL, how often a running trial proves its
            process alive; one silent for 3 heartbeats is failed and queued again.
        ensemble: make a weighted ensemble of the best trials instead of the best alone, when
            their out-of-fold predictions say it scores better (see :mod:`automl_pl.ensemble`).
            The members are chosen among this call's completed trials, so that any refits they
            need fit in the time left; the choice is recorded in the study (user attribute
            ``ensemble``), where :func:`refit_best` finds it again.
        stacking: with ``ensemble``, let a stack layer (non-negative least squares over the same
            trials' out-of-fold predictions) replace the weighted mean when it scores better on rows
            it was not fitted on (see :mod:`automl_pl.stacking`).
        portfolio: the configurations a new study runs first, in order, before TPE proposes any
            (see :mod:`automl_pl.portfolio`): ``"default"`` for the one that ships with automl_pl,
            chosen on other datasets; a :class:`~automl_pl.portfolio.Portfolio` or a list of
            ``{"model": family, <parameter>: value}`` mappings of your own; ``None`` for the
            families' defaults only.
        teacher_round: after the trials, let the final model teach: it pseudo-labels the unlabelled
            rows and its heaviest members are refitted as students on their folds' labelled rows plus
            those rows, kept only when that lowers the final model's out-of-fold RMSE (fold-correct:
            fold k's teacher is the mix of the members' fold-k models; see :mod:`automl_pl.teacher`).
            With a timeout, time is kept for it (at most a quarter). Needs ``X_unlabeled`` and
            ``bagging``; the outcome is the study's user attribute ``teacher_round``.
        pruner: the Optuna pruner that stops a trial after a fold whose running CV RMSE it finds
            poor. ``None``: :func:`default_pruner`. ``NopPruner()`` runs
            every trial's folds (the pruners of time, duplicates and the teacher gate still apply).
            A trial the pruner would stop goes on while it would improve the ensemble (see
            :mod:`automl_pl.mix_gain`).
        bagging: a trial's final model is the mean of its fold models, kept from its
            cross-validation (see :mod:`automl_pl.fold_models`): no refit, and steadier on
            few labels. ``False`` refits it once on all labelled rows instead, which can do
            better where each row's near neighbours matter (a panel of countries by year, say).

    Returns:
        A :class:`TuneResult`.

    Raises:
        ValueError, TypeError: bad data or settings; the message names the fix.
    """
    started = time.monotonic()
    if n_trials is None and timeout is None:
        raise ValueError("give n_trials, timeout or both; otherwise the study would never end")
    n_trials = check_whole_number(n_trials, "n_trials", minimum=0, none_means="no limit")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    progress = Progress.plan(verbosity, show_progress_bar)
    if n_trials == 0:
        _check_something_to_refit(storage, study_name, refit=refit, worker=worker)
        return _said(refit_best(X, y, X_unlabeled=X_unlabeled, storage=storage, study_name=study_name,
                                n_jobs=n_jobs, bagging=bagging), progress)
    if worker and (storage is None or study_name is None):
        raise ValueError("worker=True joins a study other processes share: name both, e.g. "
                         "storage='journal:studies/x.log' (or a PostgreSQL URL) and study_name='x'")
    storage = storage if storage is not None else optuna.storages.InMemoryStorage()
    study_name = study_name if study_name is not None else new_study_name()
    if worker:
        check_worker_storage(storage)
    data = prepare_data(X, y, X_unlabeled, cv=cv)
    check_cv_repeats(cv_repeats)
    families = resolve_families(models)
    fixed = check_fixed_params(fixed_params, families)
    starting = _portfolio(portfolio)
    threads = _threads(n_jobs)
    storage = open_storage(storage, heartbeat_seconds=heartbeat_seconds)  # after the checks: no stray file
    study, created, settings = _open_study(storage, study_name, data=data, cv=cv, cv_repeats=cv_repeats,
                                           random_state=random_state, create=True, fixed_params=fixed, worker=worker,
                                           pruner=pruner)

    budget = TimeBudget(timeout, started=started)
    folds = make_folds(len(data.X), cv=cv, random_state=random_state, repeats=settings["cv_repeats"])
    objective = PseudoLabelObjective(
        data.X, data.y, data.X_unlabeled, families=families, schema=data.schema, folds=folds,
        random_state=random_state, n_jobs=threads, budget=budget, fixed_params=fixed,
        keep_fold_models=bagging and refit and not worker,  # only this call's own final model uses them
    )
    teach = teacher_round and bagging and data.X_unlabeled is not None  # students need fold models and a pool
    callbacks = [PseudoLabelTheBest(objective)]
    if budget.limited and refit and not worker:
        callbacks.append(KeepTimeForTheRefit(objective, refits=ENSEMBLE_REFITS if ensemble else 1.0))
        if teach:
            callbacks.append(KeepTimeForTheTeacher(objective))
    n_before = len(study.trials)
    if created or (not worker and not study.trials):  # one worker of many queues the starting trials
        rest = enqueue_starting_trials(study, objective, portfolio=starting.for_study(
            families, n_rows=len(folds[0][0]), fixed=fixed) if starting is not None else None)
        callbacks.append(RunTheRest(objective, rest, n_trials=n_trials))
    callbacks += progress.trial_lines(n_trials)
    with threadpool_limits(limits=threads):
        run_trials(study, objective, n_trials=n_trials, deadline=lambda: budget.trials_end,
                   show_progress_bar=progress.bar, callbacks=callbacks, wait_for_running=has_heartbeat(storage))
        if not refit or worker:
            return _said(TuneResult(study, None, 0.0, data), progress)
        check_refittable(study, timeout=timeout)
        _warn_if_short_of_time(study, study.trials[n_before:], timeout=timeout)
        if ensemble:
            record_ensemble(study, objective.out_of_fold, data.y, kept=objective.fold_models, folds=folds,
                            seconds_left=budget.seconds_left(), stacking=stacking, on_pool=objective.on_pool)
        else:
            study.set_user_attr(ENSEMBLE, None)
        students = None
        if teach:
            students = run_teacher_round(study, out_of_fold=objective.out_of_fold, kept=objective.fold_models, data=data,
                                         folds=folds, random_state=random_state, n_jobs=objective.threads.now(),
                                         budget=budget, trial_rows=objective.fitted_rows)
        result = fit_final_model(study, data, folds=folds if bagging else None, random_state=random_state,
                                 n_jobs=objective.threads.now(), kept=objective.fold_models, students=students)
        # Cheap, and bounded by half the time left: a budget that leaves too little measures it on demand instead.
        result.feature_importance(seconds=None if not budget.limited else max(0.0, budget.seconds_left() / 2))
        return _said(result, progress)


def _said(result: TuneResult, progress: Progress) -> TuneResult:
    """``result``, its summary written first (at verbosity 1 and above)."""
    progress.say(result.summary())
    return result


def _check_something_to_refit(storage: str | optuna.storages.BaseStorage | None, study_name: str | None, *,
                              refit: bool, worker: bool) -> None:
    """For ``n_trials=0``: raise a ValueError unless the named study exists with a completed trial to refit.

    Nothing is created on the way: not a database file, not an empty study.
    """
    if worker or not refit:
        raise ValueError(f"n_trials=0 runs no trial and {'a worker' if worker else 'refit=False'} makes no model: "
                         "there is nothing to do. Give n_trials >= 1.")
    if storage is None or study_name is None:
        raise ValueError("n_trials=0 runs no trial, and a new study has none to refit. Give n_trials >= 1, "
                         "or the storage and study_name of a study to refit.")
    if isinstance(storage, str) and (file := storage_file(storage)) is not None and not file.exists():
        raise ValueError(f"n_trials=0 runs no trial, and {redact_url(storage)} holds no study yet. Give n_trials >= 1.")
    study = _load_existing(open_storage(storage), study_name)
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError(f"n_trials=0 runs no trial, and study {study_name!r} has no completed trial to refit. "
                         "Give n_trials >= 1.")


def refit_best(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    X_unlabeled: pd.DataFrame | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    n_jobs: int | None = None,
    bagging: bool = True,
) -> TuneResult:
    """Refit the best trial of an existing study on the data it was run on.

    The study's own folds (``cv``, ``cv_repeats``) and seed are used, so the fold models refitted are those its
    cross-validation fitted; the data must be the study's. If :func:`tune` chose an ensemble
    of trials for the study (its user attribute ``ensemble``), that ensemble is refitted instead.
    ``bagging`` is as for :func:`tune`: ``False`` fits each trial once on all rows instead.
    ``storage`` must be named; ``study_name`` may be left out when the storage holds one study only.

    Raises:
        ValueError: no storage named, no such study, or the data differ from the study's.
        RuntimeError: the study has no completed trial.
    """
    storage, study_name = existing_study(storage, study_name)
    recorded = _existing_settings(storage, study_name)
    cv, random_state = recorded.get("cv", 5), recorded.get("random_state", 0)
    data = prepare_data(X, y, X_unlabeled, cv=cv)
    study, _, settings = _open_study(storage, study_name, data=data, cv=cv, cv_repeats=None, random_state=random_state,
                                     create=False)
    threads = ModelThreads(_threads(n_jobs)).now()
    with threadpool_limits(limits=threads):
        folds = make_folds(len(data.X), cv=cv, random_state=random_state,
                           repeats=settings["cv_repeats"]) if bagging else None
        return fit_final_model(study, data, folds=folds, random_state=random_state, n_jobs=threads)


def check_worker_storage(storage: str | optuna.storages.BaseStorage) -> None:
    """Refuse a storage that several worker processes cannot share (SQLite).

    Raises:
        ValueError: naming the storages to use instead.
    """
    if is_sqlite(storage):
        raise ValueError(
            "several workers cannot share a SQLite study safely (Optuna advises against it). "
            "On one machine use a journal file, e.g. storage 'journal:studies/x.log'; "
            "on several machines use PostgreSQL, e.g. 'postgresql+psycopg://user@host/db'."
        )


def prepare_data(X: pd.DataFrame, y: object, X_unlabeled: pd.DataFrame | None, *, cv: int) -> PreparedData:
    """Validate the inputs and normalise them with one schema (categories pooled over both frames)."""
    check_frame(X, what="X")
    if len(X) == 0:
        raise ValueError("X has no rows. Pass at least a few labelled rows.")
    check_whole_number(cv, "cv", minimum=2, unit="folds")
    if cv > len(X):  # before the target's checks: one row is too few rows, not a constant target
        raise ValueError(f"cv={cv} folds need at least {cv} labelled rows, but there {'is' if len(X) == 1 else 'are'} "
                         f"{len(X)}. Lower cv or add labelled rows.")
    named = isinstance(y, pd.Series) and y.name is not None
    target_name = str(y.name) if named else "target"
    target = check_target(y, n_rows=len(X), name=target_name if named else "y")
    if X_unlabeled is not None:
        check_frame(X_unlabeled, what="X_unlabeled")
        if len(X_unlabeled) == 0:
            X_unlabeled = None
    schema = FeatureSchema.infer(X, X_unlabeled)
    for name, example in date_columns(X).items():
        column = schema.columns[schema.names.index(name)]
        if column.kind != "categorical":  # ISO 8601 text: read as dates
            continue
        warnings.warn(f"column {name!r} holds dates (e.g. {example!r}) that do not all read as ISO 8601 dates "
                      f"(2013-01-05): it is used as a category with {len(column.categories) - 1} levels, which ignores "
                      "their order. Convert it with pandas.to_datetime (dayfirst=True where days come first) to use "
                      "it as time, or drop it.", UserWarning, stacklevel=4)  # past tune's verbosity wrapper
    for name in (c.name for c in schema.columns if c.kind == "numeric"):
        if markers := missing_markers(X[name]):
            said = ", ".join(f"{marker!r} ({count_rows(count)})" for marker, count in markers.items())
            warnings.warn(f"column {name!r} holds numbers and {said}, which are read as missing values. If they "
                          "mean something else, replace them before tuning.", UserWarning, stacklevel=4)
    X_norm = schema.normalise(X).reset_index(drop=True)
    X_unlabeled_norm = (None if X_unlabeled is None
                        else schema.normalise(X_unlabeled, what="X_unlabeled").reset_index(drop=True))
    offset = target_offset(target)
    return PreparedData(X_norm, target - offset, X_unlabeled_norm, schema, target_name,
                        data_fingerprint(X_norm, target, X_unlabeled_norm), offset)


def _portfolio(portfolio: Portfolio | Sequence[Mapping[str, Any]] | str | None) -> Portfolio | None:
    """``tune``'s ``portfolio`` argument as a :class:`Portfolio`, or ``None``.

    Raises:
        ValueError: an unknown name, or a configuration without a ``model``.
    """
    if portfolio is None or isinstance(portfolio, Portfolio):
        return portfolio
    if isinstance(portfolio, str):
        if portfolio != "default":
            raise ValueError(f"portfolio={portfolio!r} is unknown: pass \"default\", None (the families' defaults "
                             "only) or a list of configurations such as [{'model': 'lightgbm', 'lgbm_num_leaves': 63}]")
        return Portfolio.default()
    return Portfolio.from_configurations(portfolio)


def check_fixed_params(fixed_params: Mapping[str, Any] | None, families: Mapping[str, ModelFamily]) -> dict[str, Any]:
    """Validate ``fixed_params`` against the study's dimensions; return them as a dict.

    Raises:
        ValueError: an unknown dimension, or a value outside its range.
    """
    fixed = dict(fixed_params or {})
    prefixes = tuple(f.prefix for f in families.values())
    unknown = [k for k in fixed if k not in ("model", *PSEUDO_LABEL_PARAMS) and not k.startswith(prefixes)]
    if unknown:
        raise ValueError(
            f"fixed_params names unknown dimensions {unknown}. Valid: model, {', '.join(PSEUDO_LABEL_PARAMS)}, "
            f"or a family parameter starting with one of {list(prefixes)}."
        )
    checks = {
        "model": (lambda v: v in families, f"one of the study's models {list(families)}"),
        "sample_rate": (lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
        "selection": (lambda v: v in SELECTIONS, f"one of {list(SELECTIONS)}"),
        "pseudo_weight": (lambda v: _is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
        "n_rounds": (lambda v: _is_whole(v, 1, MAX_ROUNDS), f"a whole number from 1 to {MAX_ROUNDS}"),
    }
    for name, (ok, expected) in checks.items():
        if name in fixed and not ok(fixed[name]):
            raise ValueError(f"fixed_params[{name!r}] = {fixed[name]!r} is invalid: it must be {expected}.")
    return fixed


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any, minimum: int, maximum: int) -> bool:
    try:
        check_whole_number(value, "", minimum=minimum, maximum=maximum)
    except ValueError:
        return False
    return True


def check_cv_repeats(cv_repeats: object) -> None:
    """Raise a ValueError unless ``cv_repeats`` is ``None`` or a whole number >= 1."""
    check_whole_number(cv_repeats, "cv_repeats", minimum=1, none_means="the default")


def default_cv_repeats(n_rows: int) -> int:
    """How many times a new study runs its K-fold on ``n_rows`` labelled rows.

    Enough for about ``REPEAT_BELOW_ROWS`` out-of-fold predictions per trial, at most
    ``MAX_CV_REPEATS``: on 128 labelled rows, one 5-fold split decides between near-equal
    trials by noise, and three cost little since such trials take a fraction of a second
    (Gapminder with 10% of labels: 3% lower holdout RMSE over three splits, benchmarks/RESULTS.md).
    """
    return max(1, min(MAX_CV_REPEATS, math.ceil(REPEAT_BELOW_ROWS / max(n_rows, 1))))


def make_folds(n_rows: int, *, cv: int, random_state: int, repeats: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """The shuffled, seeded K-fold splits every trial shares: ``repeats`` K-folds, the r-th seeded ``random_state + r``."""
    return [split for r in range(repeats)
            for split in KFold(n_splits=cv, shuffle=True, random_state=random_state + r).split(np.zeros(n_rows))]


def _warn_if_short_of_time(study: optuna.Study, trials: Sequence[optuna.trial.FrozenTrial], *,
                           timeout: float | None) -> None:
    """Warn when this call's trials were stopped for time with only ``FEW_COMPLETE_TRIALS`` or fewer complete."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if timeout is None or len(complete) > FEW_COMPLETE_TRIALS or not any(
            t.user_attrs.get(PRUNED_BY) == PRUNED_FOR_TIME for t in trials):
        return
    best = study.best_trial
    warnings.warn(
        f"timeout={timeout:g} s was short for these data on this machine: only {len(complete)} trial(s) "
        f"completed, the others were stopped for time. The model is the best of them "
        f"(trial #{best.number}, {best.params['model']}, CV RMSE {best.value:.6g}); allow more time for a better one.",
        UserWarning, stacklevel=3)


def default_pruner() -> optuna.pruners.BasePruner:
    """A study's pruner unless ``tune(pruner=...)`` gives one: after each fold, a trial whose running CV
    RMSE is worse than the median of the earlier trials' at the same fold stops (from the sixth trial)."""
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)


def _open_study(storage, study_name, *, data: PreparedData, cv: int, cv_repeats: int | None, random_state: int,
                create: bool, fixed_params: Mapping[str, Any] | None = None, worker: bool = False,
                pruner: optuna.pruners.BasePruner | None = None) -> tuple[optuna.Study, bool, dict[str, Any]]:
    """The study, created when missing (if ``create``), checked against the data; whether this call created
    it; and its settings (``cv_repeats`` resolved: ``None`` is the study's own, or the default for a new one)."""
    storage = open_storage(storage)
    try:
        existing = _load_existing(storage, study_name)
        n_before, before = len(existing.get_trials(deepcopy=False)), existing.user_attrs.get(SETTINGS)
    except ValueError:
        if not create:
            raise
        n_before, before = 0, None
    if cv_repeats is None:
        cv_repeats = default_cv_repeats(len(data.X)) if before is None else before.get("cv_repeats", 1)
    settings = {"data_fingerprint": data.fingerprint, "cv": cv, "cv_repeats": cv_repeats, "random_state": random_state}
    # A resumed study must not replay the first run's random start, nor a worker another worker's.
    seed = (random_state + n_before + (os.getpid() if worker else 0)) % 2**32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Multivariate over what every trial has (model, sample_rate); each family's own parameters
        # univariate. group=True models every family's group on every trial: three times the
        # sampling time, which on small data was over 10% of the wall time (benchmarks/RESULTS.md).
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=False, constant_liar=True)
        if fixed_params:
            sampler = optuna.samplers.PartialFixedSampler(dict(fixed_params), sampler)
    options = {"storage": storage, "study_name": study_name, "sampler": sampler,
               "pruner": pruner if pruner is not None else default_pruner()}
    try:  # not load_if_exists: of several workers starting at once, exactly one learns it created the study
        study, created = optuna.create_study(**options, direction="minimize"), True
    except optuna.exceptions.DuplicatedStudyError:
        study, created = optuna.load_study(**options), False
    recorded = study.user_attrs.get(SETTINGS)
    if recorded is None:
        study.set_user_attr(SETTINGS, {**settings, "version": __version__, "target": data.target_name,
                                          "features": data.schema.names})
    else:
        # studies made before cv_repeats existed ran one K-fold
        changed = [k for k in settings if recorded.get(k, 1 if k == "cv_repeats" else None) != settings[k]]
        if changed:
            raise ValueError(
                f"study {study_name!r} in {_describe(storage)} was run with other {', '.join(changed)} "
                f"(data, cv folds or seed); its scores would not be comparable. "
                f"Use a new study_name, or the study's own data and settings."
            )
    return study, created, settings


def existing_study(storage: str | optuna.storages.BaseStorage | None,
                   study_name: str | None) -> tuple[optuna.storages.BaseStorage, str]:
    """The opened storage and the name of a study to read or refit; without ``study_name``, the storage's only study.

    Raises:
        ValueError: no storage named, or a storage holding no study or several and no name to choose.
    """
    if storage is None:
        raise ValueError("name the storage that holds the study, e.g. storage='sqlite:///studies/x.db' and "
                         "study_name='x'. tune() without a storage keeps its study in memory only: pass it a "
                         "storage (a URL, or one optuna.storages.InMemoryStorage() shared by both calls) to refit later.")
    storage = open_storage(storage)
    if study_name is None:
        names = optuna.get_all_study_names(storage)
        if len(names) != 1:
            raise ValueError(f"storage {_describe(storage)} holds {len(names)} studies"
                             f"{' (' + ', '.join(map(repr, names)) + ')' if names else ''}: name one with study_name.")
        study_name = names[0]
    return storage, study_name


def _existing_settings(storage, study_name) -> dict[str, Any]:
    return _load_existing(open_storage(storage), study_name).user_attrs.get(SETTINGS, {})


def _load_existing(storage: optuna.storages.BaseStorage, study_name: str) -> optuna.Study:
    """The existing study ``study_name``, or a ValueError that says there is none."""
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        raise ValueError(
            f"no study named {study_name!r} in storage {_describe(storage)}. Run the study first, or check the name."
        ) from None


def _threads(n_jobs: int | None) -> int:
    if n_jobs is None:
        return usable_cores()
    return check_whole_number(n_jobs, "n_jobs", minimum=1, unit="threads")


def _describe(storage: optuna.storages.BaseStorage) -> str:
    url = getattr(storage, "url", None) or getattr(getattr(storage, "_backend", None), "url", None)
    return redact_url(url) if url else type(storage).__name__

