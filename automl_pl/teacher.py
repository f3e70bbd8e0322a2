"""The ensemble as teacher: one more self-training round after the trials, kept only when it pays.

Each trial's pseudo-labels come from its own model. After the trials, the final model (a weighted
mix of the best trials) usually predicts better than any of them, so it is the better teacher.
:func:`teach_with_the_ensemble` pseudo-labels the unlabelled pool with it and refits the heaviest
members as *students* on their fold's labelled rows plus those pseudo-labelled rows, then scores the
mix of students out of fold. It keeps the students only when that lowers the final model's
out-of-fold RMSE.

Fold-correct, as the trials are: fold k's teacher is the mix of the members' fold-k models, which
never saw fold k's held-out rows, and fold k's students are scored on exactly those rows. So the
out-of-fold RMSEs before and after compare like for like, and the choice cannot reward a leak.

It costs about one cross-validation of each refitted member (a little more: the pool rows are
fitted too), which a time budget keeps for it (see :class:`automl_pl.steering.KeepTimeForTheRefit`);
without the time, the round is skipped and says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial
from sklearn.base import BaseEstimator, RegressorMixin

from automl_pl.budget import OutOfTime, TimeBudget
from automl_pl.ensemble import rmse, weighted_prediction
from automl_pl.final_model import REFIT_MARGIN, recorded_ensemble
from automl_pl.fold_models import KeptFoldModels, out_of_fold_mean, times_held_out
from automl_pl.models import build_model, get_family
from automl_pl.pseudo_label import PseudoLabelRegressor
from automl_pl.result import PreparedData
from automl_pl.trial_attrs import FIT_SECONDS, TEACHER_ROUND

STUDENTS = 3
"""The heaviest members refitted as students; lighter members keep their own fold models."""
MAX_PSEUDO_RATIO = 1.0
"""Pseudo-labelled rows per labelled row in a student's fit: the pool's share is capped so that the
labels, which the teacher learnt from, still carry the fit."""


@dataclass
class TeacherRound:
    """What the round did: the students' fold models (by trial number) and the out-of-fold RMSEs.

    Attributes:
        students: ``{trial number: fold models}`` of the refitted members; empty when skipped.
        rmse_before: the final model's out-of-fold RMSE with the members' own fold models.
        rmse_after: the same with the students in their place (``nan`` when skipped).
        kept: whether the students replace the members' fold models (``rmse_after < rmse_before``).
        seconds: what the round took.
        pseudo_labeled: pool rows each student fitted with its fold's teacher's labels.
        skipped: why the round did not run, or ``None``.
    """

    rmse_before: float
    rmse_after: float = math.nan
    kept: bool = False
    seconds: float = 0.0
    pseudo_labeled: int = 0
    skipped: str | None = None
    students: dict[int, list[Any]] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The JSON-ready summary stored in the study (user attribute ``teacher_round``)."""
        return {"kept": self.kept, "cv_rmse_before": self.rmse_before,
                "cv_rmse_after": None if math.isnan(self.rmse_after) else self.rmse_after,
                "students": sorted(self.students), "pseudo_labeled": self.pseudo_labeled,
                "seconds": round(self.seconds, 3), "skipped": self.skipped}


class FoldMix(RegressorMixin, BaseEstimator):
    """A fold's teacher: the weighted mix of the members' models of that fold (already fitted, never refitted)."""

    def __init__(self, models: Sequence[Any], weights: Sequence[float]) -> None:
        self.models = models
        self.weights = weights

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X, y) -> FoldMix:
        raise NotImplementedError("a fold mix is made of fitted models; PseudoLabelRegressor uses it as it is")

    def predict(self, X) -> np.ndarray:
        return weighted_prediction(self.models, self.weights, X)


def student_seconds(trial: FrozenTrial, *, student_rows: float, trial_rows: float) -> float:
    """About how long refitting ``trial`` as a student takes: its cross-validation's seconds, scaled from the rows
    each of its folds fitted (``trial_rows``: teachers and students of its own pseudo-labelling) to a student's."""
    return trial.user_attrs.get(FIT_SECONDS, 0.0) * student_rows / max(trial_rows, 1.0)


def pseudo_rows(n_pool: int, train_rows: int) -> int:
    """Pool rows a student fits with its fold's teacher's labels, beside the fold's ``train_rows`` labelled rows."""
    return min(n_pool, int(MAX_PSEUDO_RATIO * train_rows))


def teach_with_the_ensemble(members: Mapping[int, float], trials: Mapping[int, FrozenTrial],
                            fold_models: Mapping[int, Sequence[Any]], out_of_fold: Mapping[int, np.ndarray],
                            data: PreparedData, folds: Sequence[tuple[np.ndarray, np.ndarray]], *,
                            random_state: int, n_jobs: int, budget: TimeBudget | None = None,
                            keep_seconds: float = 0.0,
                            trial_rows: Callable[[Mapping[str, Any]], float] | None = None) -> TeacherRound:
    """Refit the heaviest members as students of the ensemble; see the module's docstring.

    Args:
        members: ``{trial number: weight}`` of the final model.
        trials: the study's trials by number.
        fold_models: each member's fitted fold models, in ``folds`` order (members without are left as they are).
        out_of_fold: each member's out-of-fold predictions (the mean over repeats, as the objective keeps them).
        data: the study's prepared data; ``data.X_unlabeled`` is the pool.
        folds: the study's ``(train_rows, validation_rows)``.
        budget: the study's time: of the heaviest members, as many are refitted as are foreseen
            (:func:`student_seconds`, with ``REFIT_MARGIN``) to fit in what is left less ``keep_seconds``;
            a student's fit still running at that end is stopped, and the round is then skipped.
        trial_rows: the rows one fold of a trial with given params fits (the objective's ``fitted_rows``),
            to foresee a student from its trial; default: the fold's training rows.
    """
    weights = np.array([members[n] for n in members], dtype="float64")
    blend = sum(w * out_of_fold[n] for n, w in zip(members, weights))
    outcome = TeacherRound(rmse_before=rmse(blend, data.y))
    pool = data.X_unlabeled
    if pool is None or len(pool) == 0:
        outcome.skipped = "no unlabelled rows"
        return outcome
    if any(n not in fold_models or n not in out_of_fold for n in members):
        outcome.skipped = "a member's fold models were not kept"
        return outcome
    train_rows = len(folds[0][0])
    n_pick = pseudo_rows(len(pool), train_rows)
    outcome.pseudo_labeled = n_pick
    students = sorted(members, key=lambda n: -abs(members[n]))[:STUDENTS]
    deadline = None
    if budget is not None and budget.limited:
        available, needed = budget.seconds_left() - keep_seconds, 0.0
        for i, number in enumerate(students):
            rows = trial_rows(trials[number].params) if trial_rows is not None else train_rows
            needed += REFIT_MARGIN * student_seconds(trials[number], student_rows=train_rows + n_pick, trial_rows=rows)
            if needed > available:
                students = students[:i]
                break
        if not students:
            outcome.skipped = f"not enough time: {max(available, 0.0):.1f} s left"
            return outcome
        deadline = budget.end - keep_seconds
    started = time.perf_counter()
    times_validated = times_held_out(folds, len(data.y))
    try:
        with _fits_end_by(budget, deadline):
            for number in students:
                outcome.students[number] = _students_of(trials[number], members, fold_models, data, folds,
                                                        n_pick=n_pick, random_state=random_state, n_jobs=n_jobs)
    except OutOfTime:
        outcome.students, outcome.seconds = {}, time.perf_counter() - started
        outcome.skipped = "the time ran out during a student's fit"
        return outcome
    after = {n: out_of_fold[n] for n in members}
    for number, models in outcome.students.items():
        predictions = np.zeros(len(data.y))
        for model, (_, valid_rows) in zip(models, folds):
            predictions[valid_rows] += np.asarray(model.predict(data.X.iloc[valid_rows]), dtype="float64")
        after[number] = out_of_fold_mean(predictions, times_validated)
    outcome.rmse_after = rmse(sum(w * after[n] for n, w in zip(members, weights)), data.y)
    outcome.kept = outcome.rmse_after < outcome.rmse_before
    outcome.seconds = time.perf_counter() - started
    return outcome


def teacher_round(study: optuna.Study, *, out_of_fold: Mapping[int, np.ndarray], kept: KeptFoldModels | None,
                  data: PreparedData, folds: Sequence[tuple[np.ndarray, np.ndarray]], random_state: int, n_jobs: int,
                  budget: TimeBudget, trial_rows: Callable[[Mapping[str, Any]], float] | None = None,
                  ) -> dict[int, list[Any]] | None:
    """Run the round for the study's recorded final model; record it (``TEACHER_ROUND``); the students to keep, or ``None``."""
    members = recorded_ensemble(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    fold_models = {n: models for n in members if kept is not None and (models := kept.get(n)) is not None}
    outcome = teach_with_the_ensemble(members, trials, fold_models, out_of_fold, data, folds, random_state=random_state,
                                      n_jobs=n_jobs, budget=budget, keep_seconds=budget.finish_seconds,
                                      trial_rows=trial_rows)
    study.set_user_attr(TEACHER_ROUND, outcome.record())
    return outcome.students if outcome.kept else None


def _students_of(trial: FrozenTrial, members: Mapping[int, float], fold_models: Mapping[int, Sequence[Any]],
                 data: PreparedData, folds: Sequence[tuple[np.ndarray, np.ndarray]], *, n_pick: int,
                 random_state: int, n_jobs: int) -> list[Any]:
    """``trial``'s configuration fitted on each fold's labelled rows plus ``n_pick`` pool rows labelled by the fold's mix."""
    family = get_family(trial.params["model"])
    sample_rate = n_pick / len(data.X_unlabeled)
    models = []
    for k, (train_rows, _) in enumerate(folds):
        teacher = FoldMix([fold_models[n][k] for n in members], [members[n] for n in members])
        base = build_model(family, trial.params, schema=data.schema, random_state=random_state + k, n_jobs=n_jobs)
        student = PseudoLabelRegressor(base, sample_rate=sample_rate, selection="random", pseudo_weight=1.0,
                                       n_rounds=1, random_state=random_state + k)
        models.append(student.fit(data.X.iloc[train_rows], data.y[train_rows], X_unlabeled=data.X_unlabeled,
                                  teacher=teacher))
    return models


def _fits_end_by(budget: TimeBudget | None, deadline: float | None) -> AbstractContextManager[None]:
    return nullcontext() if budget is None or deadline is None else budget.fits_end_by(deadline)
