"""The fold-correct pseudo-label cross-validation objective.

In each fold the teacher is fitted on that fold's training rows only, labels the
unlabelled pool, and the student is scored on the held-out fold's *true* labels.
The held-out rows never reach a teacher or a student, not even as unlabelled rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import optuna
import pandas as pd

from automl_pl.data import FeatureSchema
from automl_pl.models import ModelFamily, build_model
from automl_pl.pseudo_label import PseudoLabelRegressor

SAMPLE_RATE_STEP = 0.05
"""Grid of the ``sample_rate`` dimension; on a grid, 0.0 (no pseudo-labels) is a value TPE can pick."""


class TrialModelError(RuntimeError):
    """A trial's model failed to fit or predict; the trial is recorded as failed and the study goes on."""


class PseudoLabelObjective:
    """Optuna objective: choose a family, its parameters and the pseudo-label settings; return CV RMSE.

    Args:
        X: normalised labelled features (see :meth:`FeatureSchema.transform`).
        y: their targets.
        X_unlabeled: normalised unlabelled pool, or ``None``.
        families: the families the trial may choose, by name.
        schema: the feature schema of ``X``.
        folds: ``(train_rows, validation_rows)`` position pairs, shared by all trials.
        random_state: seeds each fold's model and pseudo-label draw.
        n_jobs: threads for each model.
        deadline: a :func:`time.monotonic` time after which no new fold starts; the
            trial is then pruned, so a study ends close to its time budget.

    The trial's value is ``sqrt(mean fold MSE)`` of the students. After each fold the
    running value is reported, so a pruner can stop a poor trial early. User attributes
    recorded per trial: ``supervised_cv_rmse`` (the teachers' score, which costs no
    extra fit), ``fold_rmse``, ``supervised_fold_rmse``, ``n_pseudo_labeled`` and
    ``fit_seconds``; a failing model leaves ``fail_reason``.
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
        deadline: float | None = None,
    ) -> None:
        self.X = X
        self.y = y
        self.X_unlabeled = X_unlabeled
        self.families = families
        self.schema = schema
        self.folds = folds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.deadline = deadline

    def suggest(self, trial: optuna.trial.BaseTrial) -> tuple[ModelFamily, float]:
        """Draw the family, its parameters and the sample rate into ``trial``."""
        family = self.families[trial.suggest_categorical("model", list(self.families))]
        n_train_rows = len(self.folds[0][0])
        family.suggest(trial, n_train_rows)
        high = 1.0 if self.X_unlabeled is not None and len(self.X_unlabeled) else 0.0
        sample_rate = trial.suggest_float("sample_rate", 0.0, high, step=SAMPLE_RATE_STEP)
        return family, sample_rate

    def __call__(self, trial: optuna.Trial) -> float:
        family, sample_rate = self.suggest(trial)
        student_mse: list[float] = []
        teacher_mse: list[float] = []
        started = time.perf_counter()
        for step, (train_rows, valid_rows) in enumerate(self.folds):
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise optuna.TrialPruned(f"the time budget ran out before fold {step}")
            model = PseudoLabelRegressor(
                build_model(family, trial.params, schema=self.schema, random_state=self.random_state, n_jobs=self.n_jobs),
                sample_rate=sample_rate,
                random_state=self.random_state + step,
            )
            X_valid, y_valid = self.X.iloc[valid_rows], self.y[valid_rows]
            try:
                model.fit(self.X.iloc[train_rows], self.y[train_rows], X_unlabeled=self.X_unlabeled)
                student_mse.append(_mse(y_valid, model.predict(X_valid)))
                teacher_mse.append(
                    student_mse[-1] if model.teacher_ is model.estimator_ else _mse(y_valid, model.teacher_.predict(X_valid))
                )
            except Exception as exc:  # any model failure fails this trial only; Optuna records it
                reason = f"{family.name} failed in fold {step}: {type(exc).__name__}: {exc}"
                trial.set_user_attr("fail_reason", reason[:2000])
                raise TrialModelError(reason) from exc
            trial.report(math.sqrt(np.mean(student_mse)), step)
            if step + 1 < len(self.folds) and trial.should_prune():
                self._record(trial, student_mse, teacher_mse, model.n_pseudo_labeled_, time.perf_counter() - started)
                raise optuna.TrialPruned(f"pruned after fold {step}")
        self._record(trial, student_mse, teacher_mse, model.n_pseudo_labeled_, time.perf_counter() - started)
        return math.sqrt(np.mean(student_mse))

    @staticmethod
    def _record(trial: optuna.Trial, student_mse, teacher_mse, n_pseudo: int, seconds: float) -> None:
        trial.set_user_attr("fold_rmse", [round(math.sqrt(m), 6) for m in student_mse])
        trial.set_user_attr("supervised_fold_rmse", [round(math.sqrt(m), 6) for m in teacher_mse])
        trial.set_user_attr("supervised_cv_rmse", math.sqrt(np.mean(teacher_mse)))
        trial.set_user_attr("n_pseudo_labeled", n_pseudo)
        trial.set_user_attr("fit_seconds", round(seconds, 3))


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    if not np.all(np.isfinite(y_pred)):
        raise ValueError("the model predicted NaN or infinite values")
    return float(np.mean((y_true - y_pred) ** 2))
