"""The fold-correct pseudo-label cross-validation objective.

In each fold the teacher is fitted on that fold's training rows only, labels the
unlabelled pool, and the student is scored on the held-out fold's *true* labels.
The held-out rows never reach a teacher or a student, not even as unlabelled rows;
with ``selection="confidence"`` the extra teachers are fitted inside the fold too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import clone
from threadpoolctl import ThreadpoolController

from automl_pl.budget import OutOfTime, TimeBudget
from automl_pl.data import FeatureSchema
from automl_pl.duplicates import (
    SAME_MODEL_TOLERANCE,
    configuration_key,
    prediction_sketch,
    same_model_twin,
    skip_if_failing,
    skip_if_seen,
)
from automl_pl.fold_models import KEPT_TRIALS, KeptFoldModels, best_distinct, out_of_fold_mean, times_held_out
from automl_pl.mix_gain import EnsembleReference, gain_threshold, mix_gain
from automl_pl.models import ModelFamily, build_model
from automl_pl.models._base import starting_params, tree_count
from automl_pl.pool_guard import pool_sample
from automl_pl.pseudo_label import CONFIDENCE_TEACHERS, SELECTIONS, PseudoLabelRegressor, n_pseudo_labeled
from automl_pl.threads import ModelThreads
from automl_pl.trial_attrs import (
    BEST_N_ROUNDS,
    CV_RMSE_BY_ROUND,
    FAIL_REASON,
    FIT_SECONDS,
    FOLD_RMSE,
    MIX_GAIN,
    N_PSEUDO_LABELED,
    N_TREES,
    PRUNED_BY,
    PRUNED_BY_TEACHER_GATE,
    PRUNED_FOR_TIME,
    SUPERVISED_CV_RMSE,
    SUPERVISED_FOLD_RMSE,
)

SAMPLE_RATE_STEPS = (0.05, 0.01, 0.005, 0.001)
"""Candidate grids of the ``sample_rate`` dimension, coarsest first; the coarsest giving
``MIN_SAMPLE_RATE_VALUES`` values is used. On a grid, 0.0 (no pseudo-labels) is a value TPE can pick."""
MIN_SAMPLE_RATE_VALUES = 5

MAX_PSEUDO_RATIO = 2.0
"""A tuned ``sample_rate`` adds at most this many pseudo-labelled rows per labelled training row.

A student costs about ``1 + ratio`` teachers, and one trained mostly on pseudo-labels only
copies its teacher; with few labels and a large pool, an uncapped rate would spend the
budget on a handful of trials. A ``sample_rate`` the user fixes is not capped."""

MAX_PSEUDO_GAIN = 0.10
"""The teacher gate: a pseudo-labelled trial whose teachers' running CV RMSE is more than this
share worse than the best finished trial's at the same fold is pruned before its students are
fitted. Students rarely beat their own teacher by that much, and they cost ``1 + ratio`` teachers."""

PSEUDO_WEIGHT_RANGE = (0.1, 1.0)
MAX_ROUNDS = 5
MAX_SKIPPED_TRIALS = 10
"""Trials in a row stopped for time before the study ends, even if a quicker one is foreseen to fit
(see ``budget``): a guard against estimates that keep being wrong, not the usual way a study ends."""

PSEUDO_LABEL_PARAMS = ("sample_rate", "selection", "pseudo_weight", "n_rounds")
"""The study's pseudo-label dimensions; ``model`` and the families' prefixed ones are the rest."""


def model_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's ``params`` without the pseudo-label settings: the model it fits, family included. A
    pseudo-label variant has its supervised twin's (see :meth:`PseudoLabelObjective._kept_teachers`)."""
    return {k: v for k, v in params.items() if k not in PSEUDO_LABEL_PARAMS}


class TrialModelError(RuntimeError):
    """A trial's model failed to fit or predict; the trial is recorded as failed and the study goes on."""


def pseudo_label_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`PseudoLabelRegressor` keywords for a trial's ``params`` (absent ones at their defaults)."""
    return {
        "sample_rate": float(params["sample_rate"]),
        "selection": params.get("selection", "random"),
        "pseudo_weight": float(params.get("pseudo_weight", 1.0)),
        "n_rounds": int(params.get("n_rounds", 1)),
    }


def refit_settings(params: Mapping[str, Any], n_rounds: int | None = None) -> dict[str, Any]:
    """:func:`pseudo_label_settings` with the round count the trial chose (its ``best_n_rounds``).

    ``n_rounds`` overrides the trial's round count; 0 means the teacher alone, without
    pseudo-labels (they scored worse than none in the trial).
    """
    settings = pseudo_label_settings(params)
    if n_rounds == 0:
        return {**settings, "sample_rate": 0.0, "n_rounds": 1}
    if n_rounds is not None:
        settings["n_rounds"] = n_rounds
    return settings


def make_estimator(family: ModelFamily, params: Mapping[str, Any], *, schema: FeatureSchema, random_state: int,
                   n_jobs: int, n_rounds: int | None = None) -> PseudoLabelRegressor:
    """The unfitted estimator a trial's ``params`` describe: used by every fold and by the final model's refits.

    ``n_rounds`` is as for :func:`refit_settings`.
    """
    model = build_model(family, params, schema=schema, random_state=random_state, n_jobs=n_jobs)
    return PseudoLabelRegressor(model, **refit_settings(params, n_rounds), random_state=random_state)


NEVER_TIMED_SHARE = 0.5
"""A family that cannot stop its fit and was never timed starts its first trial only while this share of the
trials' time is left (see :meth:`PseudoLabelObjective._rest_ends_in_time`)."""


class PseudoLabelObjective:
    """Optuna objective: choose a family, its parameters and the pseudo-label settings; return CV RMSE.

    Args:
        X: normalised labelled features (see :meth:`FeatureSchema.transform`).
        y: their targets.
        X_unlabeled: normalised unlabelled pool, or ``None``.
        families: the families the trial may choose, by name.
        schema: the feature schema of ``X``.
        folds: ``(train_rows, validation_rows)`` position pairs, shared by all trials: a K-fold,
            or several (see ``cv_repeats`` in :func:`automl_pl.tune`), each a step of the trial.
        random_state: seeds each fold's model and pseudo-label draw.
        n_jobs: the most threads for each model; fewer while other processes keep the cores
            busy (see :mod:`automl_pl.threads`), chosen again before every fold.
        budget: the study's :class:`~automl_pl.budget.TimeBudget` (default: unlimited). A trial
            whose remaining folds are not foreseen to end in the time left (by its own folds so
            far, or before its first fold as the budget foresees its family) is pruned instead of
            starting the next fold, and a fit still running when the time is up is stopped (the
            trial is pruned): a trial that cannot finish cannot become the best. Such a trial
            closes the budget only when no whole trial of any family is foreseen to fit in what
            is left; otherwise the quickest family that fits is queued next (supervised), so that a slow draw
            near the end does not leave the rest of the budget idle.
        fixed_params: dimensions the user fixed; a fixed ``sample_rate`` is drawn
            without the grid so any value in [0, 1] is exact.
        keep_fold_models: offer each completed trial's fold models to ``fold_models``.
        skip_repeats: prune, before any fit, a draw whose configuration was already evaluated, and,
            after its first fold's teachers, a draw that gave the model an evaluated trial gave
            (see :mod:`automl_pl.duplicates`).

    The teachers (round 0, no pseudo-labels) and every round of self-training are
    scored on every fold; the trial's value is ``sqrt(mean fold MSE)`` of the round
    that scores best, and that round's fold models make the final model: when the
    teachers win, pseudo-labels are turned down (0 rounds). A ``sample_rate`` the user
    fixed is kept: then only the students' rounds compete. After each fold the running
    value is reported, so a pruner can stop a poor trial early. User attributes recorded per trial:
    ``supervised_cv_rmse`` (the teachers' score, which costs no extra fit),
    ``cv_rmse_by_round``, ``best_n_rounds``, ``fold_rmse``, ``supervised_fold_rmse``,
    ``n_pseudo_labeled``, ``fit_seconds`` and, for boosters, ``n_trees`` (per fold, the chosen
    round's trees: the best iteration when they stopped early); a failing model leaves ``fail_reason``.
    A draw whose configuration was already evaluated is pruned before any fit, and one whose first
    fold's teachers predict as an evaluated trial's did (same family and pseudo-label settings) is
    pruned before its students and later folds (see :mod:`automl_pl.duplicates`).
    With ``keep_fold_models``, the fold models of the chosen round are offered to
    ``fold_models``, which keeps the best trials' for the final model (see :mod:`automl_pl.fold_models`).
    A trial with pseudo-labels whose supervised twin (the same family and parameters, ``sample_rate``
    0) completed here with its fold models kept takes those models as its teachers instead of
    fitting them again: the pseudo-label variants the study queues for its best trials
    (:mod:`automl_pl.steering`) then pay for their students only.
    """

    def __init__(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_unlabeled: pd.DataFrame | None,
        *,
        families: Mapping[str, ModelFamily],
        schema: FeatureSchema,
        folds: Sequence[tuple[np.ndarray, np.ndarray]],
        random_state: int,
        n_jobs: int,
        budget: TimeBudget | None = None,
        fixed_params: Mapping[str, Any] | None = None,
        keep_fold_models: bool = True,
        skip_repeats: bool = True,
    ) -> None:
        self.X = X
        self.y = y
        self.X_unlabeled = X_unlabeled
        self.families = families
        self.schema = schema
        self.folds = folds
        self.random_state = random_state
        self.threads = ModelThreads(n_jobs)
        self._thread_pools = ThreadpoolController()  # made once: threadpool_limits() would scan the libraries per fold
        self.budget = budget if budget is not None else TimeBudget.unlimited()
        self.fixed_params = dict(fixed_params or {})
        self.skip_repeats = skip_repeats
        self.skipped = 0
        """Trials in a row stopped for time while a quicker family was foreseen to fit."""
        self.out_of_fold: dict[int, np.ndarray] = {}
        """Per completed trial of this process (by number): each labelled row's prediction by the
        model of the round the trial chose, fitted without that row's fold (with repeated K-folds,
        the mean over the repeats). Ensembles are built from these."""
        self.pool_rows = (None if X_unlabeled is None or len(X_unlabeled) == 0 else
                          X_unlabeled.iloc[pool_sample(len(X_unlabeled), random_state=random_state)])
        """A fixed sample of the unlabelled rows that every completed trial's fold models predict."""
        self.on_pool: dict[int, np.ndarray] = {}
        """Per completed trial of this process: the mean prediction of its chosen round's fold models
        for each row of ``pool_rows``, which the ensemble's guard compares (see :mod:`automl_pl.pool_guard`)."""
        self.y_scale = float(np.std(y)) or 1.0
        """The target's standard deviation: the scale of :data:`~automl_pl.duplicates.SAME_MODEL_TOLERANCE`."""
        self.times_validated = times_held_out(folds, len(y))
        """How many folds hold each labelled row out: once per K-fold."""
        self.ensemble = EnsembleReference(y)
        """The current ensemble of the completed trials here, which a trial the pruner would stop may still
        improve (see :mod:`automl_pl.mix_gain`)."""
        self.fold_models = KeptFoldModels() if keep_fold_models else None
        """The fitted fold models (of the chosen round) of this process's best completed trials, if kept."""
        n_train = len(folds[0][0])
        self._default_work = {name: family.work(params) for name, family in families.items()
                              if family.work is not None and (params := starting_params(family, n_train)) is not None}
        """Per family with defaults and a work measure, the work of its defaults: the quick trial the budget foresees."""

    def sample_rate_range(self) -> tuple[float, float | None]:
        """The highest tuned ``sample_rate`` (see :data:`MAX_PSEUDO_RATIO`) and its grid step."""
        n_pool = 0 if self.X_unlabeled is None else len(self.X_unlabeled)
        if n_pool == 0:
            return 0.0, None
        high = min(1.0, MAX_PSEUDO_RATIO * len(self.folds[0][0]) / n_pool)
        for step in SAMPLE_RATE_STEPS:
            if high >= MIN_SAMPLE_RATE_VALUES * step:
                break
        return round(math.floor(round(high / step, 6)) * step, 6), step

    def suggest(self, trial: optuna.trial.BaseTrial) -> ModelFamily:
        """Draw the family, its parameters and the pseudo-label settings into ``trial``."""
        family = self.families[trial.suggest_categorical("model", list(self.families))]
        family.suggest(trial, len(self.folds[0][0]))
        if "sample_rate" in self.fixed_params:
            sample_rate = trial.suggest_float("sample_rate", 0.0, 1.0)
        else:
            high, step = self.sample_rate_range()
            sample_rate = trial.suggest_float("sample_rate", 0.0, high, step=step)
        if sample_rate > 0:
            trial.suggest_categorical("selection", list(SELECTIONS))
            trial.suggest_float("pseudo_weight", *(PSEUDO_WEIGHT_RANGE if family.sample_weight else (1.0, 1.0)))
            trial.suggest_int("n_rounds", 1, MAX_ROUNDS)
        return family

    def __call__(self, trial: optuna.Trial) -> float:
        family = self.suggest(trial)
        skip_if_failing(trial)
        if self.skip_repeats:
            skip_if_seen(trial)
        round_mse: list[list[float]] = [[]]  # [round][fold]; round 0 is the teachers, without pseudo-labels
        round_oof = [np.zeros(len(self.y))]  # [round][labelled row]: the sums of the out-of-fold predictions
        round_pool = [0.0]  # [round]: the sums of the fold models' predictions for pool_rows
        first = 0  # the first round the trial may choose: 1 when the user fixed a sample_rate
        fold_models: list[list[Any]] = []  # [fold][round]: the fitted teacher and students
        n_pseudo = 0
        started = time.perf_counter()
        fold_seconds: list[float] = []
        kept_teachers = self._kept_teachers(trial)  # its supervised twin's fold models, or None
        fitted_rows = self.fitted_rows(trial.params) - (len(self.folds[0][0]) if kept_teachers else 0)
        work = family.work(trial.params) if family.work is not None else None
        for step, (train_rows, valid_rows) in enumerate(self.folds):
            if not self._rest_ends_in_time(family, fitted_rows, work, fold_seconds) \
                    and not self._last_chance_ends_in_time(trial, family, fitted_rows, work, fold_seconds):
                self._stop_for_time(trial, family, round_mse, n_pseudo, time.perf_counter() - started, first=first)
                raise optuna.TrialPruned(f"the time budget ran out before fold {step}")
            fold_started = time.perf_counter()
            X_train, y_train = self.X.iloc[train_rows], self.y[train_rows]
            X_valid, y_valid = self.X.iloc[valid_rows], self.y[valid_rows]
            n_jobs = self.threads.now()
            try:
                with self._thread_pools.limit(limits=n_jobs), self.budget.fits_end_in_time():
                    model = make_estimator(family, trial.params, schema=self.schema,
                                           random_state=self.random_state + step, n_jobs=n_jobs)
                    teacher = (kept_teachers[step] if kept_teachers
                               else clone(model.estimator).fit(X_train, y_train))
                    teacher_pred = _store(round_oof[0], valid_rows, teacher.predict(X_valid))
                    round_mse[0].append(_mse(y_valid, teacher_pred))
                    twin = self._same_model_as(trial, teacher_pred) if step == 0 and self.skip_repeats else None
                    if twin is not None:
                        self._record(trial, round_mse[:1], 0, time.perf_counter() - started)
                        raise optuna.TrialPruned(f"the same model as trial {twin.number} in fold 0")
                    if model.sample_rate > 0 and self._teacher_cannot_win(trial, round_mse[0], step):
                        self._record(trial, round_mse[:1], 0, time.perf_counter() - started)
                        trial.set_user_attr(PRUNED_BY, PRUNED_BY_TEACHER_GATE)
                        raise optuna.TrialPruned(f"teacher gate after fold {step}: the teachers trail the best trial "
                                                 f"by more than {MAX_PSEUDO_GAIN:.0%}")
                    model.fit(X_train, y_train, X_unlabeled=self.X_unlabeled, teacher=teacher)
                n_pseudo = model.n_pseudo_labeled_
                fold_models.append([teacher, *model.round_estimators_])
                for r, student in enumerate(model.round_estimators_, start=1):
                    if r == len(round_mse):
                        round_mse.append([])
                        round_oof.append(np.zeros(len(self.y)))
                        round_pool.append(0.0)
                    round_mse[r].append(_mse(y_valid, _store(round_oof[r], valid_rows, student.predict(X_valid))))
                if self.pool_rows is not None:
                    for r, fitted in enumerate(fold_models[-1]):
                        round_pool[r] = round_pool[r] + np.asarray(fitted.predict(self.pool_rows), dtype="float64")
                first = 1 if "sample_rate" in self.fixed_params and len(round_mse) > 1 else 0
                fold_seconds.append(time.perf_counter() - fold_started)
                self.budget.time_fold(family, fold_seconds[-1], fitted_rows, work)
                self.skipped = 0
            except OutOfTime:
                if not self.budget.timed(family):  # a lower bound of its fold: better than foreseeing it free
                    self.budget.time_fold(family, time.perf_counter() - fold_started, fitted_rows, work)
                round_mse = [m[:len(fold_models)] for m in round_mse]  # only the folds that ended count
                self._stop_for_time(trial, family, round_mse, n_pseudo, time.perf_counter() - started, first=first)
                raise optuna.TrialPruned(f"the time budget ran out during fold {step}") from None
            except optuna.TrialPruned:
                raise
            except Exception as exc:  # any model failure fails this trial only; Optuna records it
                reason = f"{family.name} failed in fold {step}: {type(exc).__name__}: {exc}"
                trial.set_user_attr(FAIL_REASON, reason[:2000])
                raise TrialModelError(reason) from exc
            by_round = [math.sqrt(np.mean(m)) for m in round_mse]
            trial.report(min(by_round[first:]), step)
            if step + 1 < len(self.folds) and trial.should_prune() \
                    and not self._adds_to_the_mix(trial, round_oof[_best_round(round_mse, first)], step):
                self._record(trial, round_mse, n_pseudo, time.perf_counter() - started, first=first)
                raise optuna.TrialPruned(f"pruned after fold {step}")
        value = self._record(trial, round_mse, n_pseudo, time.perf_counter() - started, first=first)
        best = _best_round(round_mse, first)
        self.out_of_fold[trial.number] = out_of_fold_mean(round_oof[best], self.times_validated)
        if self.pool_rows is not None:
            self.on_pool[trial.number] = round_pool[best] / len(fold_models)
        trees = [tree_count(models[best]) for models in fold_models]
        if any(n is not None for n in trees):  # a booster's trees per fold (its best iteration when it stopped early)
            trial.set_user_attr(N_TREES, trees)
        if self.fold_models is not None:
            self.fold_models.offer(trial.number, value, [models[best] for models in fold_models])
        return value

    def fitted_rows(self, params: Mapping[str, Any]) -> float:
        """About how many rows one fold of a trial with ``params`` fits: teachers and students together."""
        n_train = len(self.folds[0][0])
        settings = pseudo_label_settings(params)
        n_pseudo = 0 if self.X_unlabeled is None else n_pseudo_labeled(settings["sample_rate"], len(self.X_unlabeled))
        if n_pseudo == 0:
            return n_train
        # CONFIDENCE_TEACHERS extra teachers, each on (k - 1) / k of the rows with k = CONFIDENCE_TEACHERS
        extra_teachers = (CONFIDENCE_TEACHERS - 1) * n_train if settings["selection"] == "confidence" else 0
        return n_train + extra_teachers + settings["n_rounds"] * (n_train + n_pseudo)

    def _rest_ends_in_time(self, family: ModelFamily, fitted_rows: float, work: float | None,
                           fold_seconds: list[float]) -> bool:
        """Whether the trial's remaining folds are foreseen to end in the budget's time left.

        A family never timed is foreseen from the others (see :meth:`TimeBudget.expected_fold`), which
        can err far either way (a linear model's fixed overhead, scaled by cost, makes kNN look slow; a
        slow model may look quick): its first trial starts when its first fold fits, and, for a family
        that cannot stop a fit, only while ``NEVER_TIMED_SHARE`` of the trials' time is left, so that a
        fold far slower than foreseen still ends before the deadline unless it takes half the budget.
        That fold times the family, and the trial stops before the next fold if the rest does not fit.
        """
        if not self.budget.limited:
            return True
        if not fold_seconds and not self.budget.timed(family):
            early = family.stops_on_time or self.budget.trials_share_left() >= NEVER_TIMED_SHARE
            return early and self.budget.fits(self.budget.expected_fold(family, fitted_rows, work,
                                                                        families=self.families))
        return self.budget.fits(self._rest_seconds(family, fitted_rows, work, fold_seconds))

    def _last_chance_ends_in_time(self, trial: optuna.Trial, family: ModelFamily, fitted_rows: float,
                                  work: float | None, fold_seconds: list[float]) -> bool:
        """Whether a trial of the quickest family, while the study has no complete trial, may finish its
        folds in the time kept for the finish (margin and final model): without it the call would
        return no model, and a machine gone busy under the first trial must not cost the model."""
        study = getattr(trial, "study", None)  # a FixedTrial has none
        if study is None or study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            return False
        quick, _ = self.budget.quickest_trial(self.families, rows=len(self.folds[0][0]), n_folds=len(self.folds),
                                              work=self._default_work)
        seconds_left = self.budget.seconds_left()
        return (family.name == quick and seconds_left is not None
                and self._rest_seconds(family, fitted_rows, work, fold_seconds) <= seconds_left)

    def _rest_seconds(self, family: ModelFamily, fitted_rows: float, work: float | None,
                      fold_seconds: list[float]) -> float:
        """Seconds the trial's remaining folds are foreseen to take."""
        if fold_seconds:
            per_fold = float(np.mean(fold_seconds))
        else:
            per_fold = self.budget.expected_fold(family, fitted_rows, work, families=self.families)
        return (len(self.folds) - len(fold_seconds)) * per_fold

    def _stop_for_time(self, trial: optuna.Trial, family: ModelFamily, round_mse: list[list[float]], n_pseudo: int,
                       seconds: float, *, first: int) -> None:
        """Record a trial stopped for time; close the budget, or queue the quickest family that still fits."""
        round_mse = [m for m in round_mse if m]
        if round_mse:  # the folds already fitted still count, in the record and in fit_seconds
            self._record(trial, round_mse, n_pseudo, seconds, first=min(first, len(round_mse) - 1))
        else:  # the time of a fold that was cut counts too
            trial.set_user_attr(FIT_SECONDS, round(seconds, 3))
        trial.set_user_attr(PRUNED_BY, PRUNED_FOR_TIME)
        self.skipped += 1
        quick, quick_seconds = self.budget.quickest_trial(self.families, rows=len(self.folds[0][0]),
                                                          n_folds=len(self.folds), work=self._default_work)
        if self.skipped > MAX_SKIPPED_TRIALS or not self.budget.fits(quick_seconds):
            self.budget.close()  # nothing that could still run fits in what is left
            return
        study = getattr(trial, "study", None)  # a FixedTrial has none
        if study is not None and quick != family.name and "model" not in self.fixed_params \
                and not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
            # Supervised, as foreseen; the sampler draws the family's own parameters.
            study.enqueue_trial({k: v for k, v in {"model": quick, "sample_rate": 0.0}.items()
                                 if k not in self.fixed_params})

    def _kept_teachers(self, trial: optuna.Trial) -> list[Any] | None:
        """The fold models of the completed supervised trial with ``trial``'s model and parameters, when kept:
        with pseudo-labels, ``trial``'s teachers are exactly those models (same rows, parameters and seeds),
        so they are not fitted again. ``None`` for a supervised trial or when no such models are kept."""
        params = trial.params
        study = getattr(trial, "study", None)  # a FixedTrial has none
        if study is None or self.fold_models is None or not params.get("sample_rate", 0.0) > 0:
            return None
        model = model_params(params)
        for other in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if other.number in self.fold_models and other.params.get("sample_rate") == 0.0 \
                    and model_params(other.params) == model:
                teachers = self.fold_models.get(other.number)
                return teachers if len(teachers) == len(self.folds) else None
        return None

    def _adds_to_the_mix(self, trial: optuna.Trial, oof_sums: np.ndarray, step: int) -> bool:
        """Whether mixing the trial's out-of-fold predictions so far into the current ensemble lowers its
        MSE on the rows validated so far by :func:`~automl_pl.mix_gain.gain_threshold` (see
        :mod:`automl_pl.mix_gain`); if so the gain is recorded as ``mix_gain``. ``oof_sums``: the sums of
        the chosen round's out-of-fold predictions after folds ``0..step``."""
        study = getattr(trial, "study", None)  # a FixedTrial has none
        if study is None or not self.out_of_fold:
            return False
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        candidates = best_distinct((t for t in complete if t.number in self.out_of_fold), limit=KEPT_TRIALS)
        reference = self.ensemble.predictions(self.out_of_fold, [t.number for t in candidates])
        if reference is None:
            return False
        validated = times_held_out(self.folds[:step + 1], len(self.y))
        rows = np.flatnonzero(validated)
        gain = mix_gain(reference[rows], oof_sums[rows] / validated[rows], self.y[rows])
        if gain < gain_threshold(len(rows)):
            return False
        trial.set_user_attr(MIX_GAIN, round(gain, 6))
        return True

    def _same_model_as(self, trial: optuna.Trial, teacher_pred: np.ndarray) -> optuna.trial.FrozenTrial | None:
        """The evaluated trial whose first fold gave the model ``trial``'s did, if any (:mod:`automl_pl.duplicates`)."""
        return same_model_twin(trial, prediction_sketch(teacher_pred), key=_model_key,
                               tolerance=SAME_MODEL_TOLERANCE * self.y_scale)

    @staticmethod
    def _teacher_cannot_win(trial: optuna.Trial, teacher_mse: list[float], step: int) -> bool:
        """Whether the teachers so far trail the best finished trial at this fold by over :data:`MAX_PSEUDO_GAIN`."""
        study = getattr(trial, "study", None)  # a FixedTrial has none
        try:
            best = study.best_trial if study is not None else None
        except ValueError:  # no completed trial yet
            return False
        reference = None if best is None else best.intermediate_values.get(step)
        return reference is not None and math.sqrt(np.mean(teacher_mse)) > reference * (1 + MAX_PSEUDO_GAIN)

    @staticmethod
    def _record(trial: optuna.Trial, round_mse: list[list[float]], n_pseudo: int, seconds: float, *,
                first: int = 0) -> float:
        """Store the trial's scores as user attributes; return the CV RMSE of the best round from ``first`` on."""
        teacher_mse = round_mse[0]
        by_round = [math.sqrt(np.mean(m)) for m in round_mse]
        best = _best_round(round_mse, first)
        trial.set_user_attr(FOLD_RMSE, [round(math.sqrt(m), 6) for m in round_mse[best]])
        trial.set_user_attr(SUPERVISED_FOLD_RMSE, [round(math.sqrt(m), 6) for m in teacher_mse])
        trial.set_user_attr(SUPERVISED_CV_RMSE, math.sqrt(np.mean(teacher_mse)))
        trial.set_user_attr(CV_RMSE_BY_ROUND, [round(v, 6) for v in by_round])
        trial.set_user_attr(BEST_N_ROUNDS, best)
        trial.set_user_attr(N_PSEUDO_LABELED, n_pseudo)
        trial.set_user_attr(FIT_SECONDS, round(seconds, 3))
        return by_round[best]


def _model_key(params: Mapping[str, Any]) -> tuple:
    """Family and pseudo-label settings: what two trials with equal first-fold teachers share to be the same model."""
    return params.get("model"), configuration_key(pseudo_label_settings(params))


def _best_round(round_mse: list[list[float]], first: int) -> int:
    """The round, from ``first`` on, with the lowest mean fold MSE."""
    return first + int(np.argmin([np.mean(m) for m in round_mse[first:]]))


def _store(out: np.ndarray, rows: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Add ``y_pred`` to ``out`` at ``rows``; return it as a flat float array."""
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    out[rows] += y_pred
    return y_pred


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    if not np.all(np.isfinite(y_pred)):
        raise ValueError("the model predicted NaN or infinite values")
    return float(np.mean((y_true - y_pred) ** 2))
