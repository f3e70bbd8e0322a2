"""What :func:`automl_pl.tune` returns: the study, the final model, its export and summary."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from sklearn.frozen import FrozenEstimator

from automl_pl.artifact import export_ensemble
from automl_pl.data import FeatureSchema
from automl_pl.ensemble import EnsembleRegressor
from automl_pl.importance import MAX_ROWS, N_REPEATS, feature_importance
from automl_pl.leaderboard import leaderboard
from automl_pl.models import get_family
from automl_pl.objective import PSEUDO_LABEL_PARAMS, pseudo_label_settings, refit_settings
from automl_pl.pseudo_label import n_pseudo_labeled
from automl_pl.trial_attrs import BEST_N_ROUNDS, ENSEMBLE, FEATURE_IMPORTANCE, SUPERVISED_CV_RMSE


@dataclass(frozen=True)
class PreparedData:
    """Validated, normalised data of one study, and what identifies it.

    ``y`` is the target less ``target_offset`` (:func:`automl_pl.data.target_offset`: 0 unless the
    target sits far from zero); every model is fitted on it, and the final model adds the offset back.
    """

    X: pd.DataFrame
    y: np.ndarray
    X_unlabeled: pd.DataFrame | None
    schema: FeatureSchema
    target_name: str
    fingerprint: str
    target_offset: float = 0.0


@dataclass
class TuneResult:
    """What :func:`tune` returns: the study and the final model.

    Attributes:
        study: the :class:`optuna.Study`; the same storage and name resume it.
        best_estimator_: the model to use: an :class:`~automl_pl.ensemble.EnsembleRegressor`
            of the best trial's fold models, each fitted on its fold's training rows plus the
            unlabelled pool, or of several trials' fold models when that scored better out of
            fold (``None`` when ``refit=False``). Its ``estimators_`` are trial by trial, fold by fold.
        refit_time_: seconds it took to make ``best_estimator_`` (about 0 when every fold model
            was kept from the cross-validation; see :mod:`automl_pl.fold_models`).
        data: the prepared data the study ran on.
        members_: ``{trial number: weight}`` of the trials ``best_estimator_`` is made of.
        importance_: the final model's feature importance once measured (by :func:`tune` when its
            time allowed, or by :meth:`feature_importance`), else ``None``.
    """

    study: optuna.Study
    best_estimator_: EnsembleRegressor | None
    refit_time_: float
    data: PreparedData
    members_: dict[int, float] = field(default_factory=dict)
    importance_: pd.DataFrame | None = None

    @property
    def best_trial(self) -> optuna.trial.FrozenTrial:
        return self.study.best_trial

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's parameters, ``model`` and ``sample_rate`` included."""
        return dict(self.best_trial.params)

    @property
    def cv_rmse(self) -> float:
        return float(self.best_trial.value)

    @property
    def ensemble_cv_rmse(self) -> float | None:
        """The ensemble's out-of-fold RMSE, or ``None`` without an ensemble.

        The weights were chosen on the same predictions, so it is an optimistic estimate.
        """
        recorded = self.study.user_attrs.get(ENSEMBLE)
        combined = len(self.members_) > 1 or self.combination == "stack"
        return recorded.get("cv_rmse") if isinstance(recorded, dict) and combined else None

    @property
    def combination(self) -> str:
        """How the final model combines its trials: ``"mean"`` (weights summing to 1; one trial alone
        is a mean of one) or ``"stack"`` (a stack layer's weights, see :mod:`automl_pl.stacking`)."""
        recorded = self.study.user_attrs.get(ENSEMBLE)
        if isinstance(recorded, dict) and recorded.get("best_trial") == self.best_trial.number:
            return recorded.get("kind", "mean")
        return "mean"

    @property
    def supervised_cv_rmse(self) -> float | None:
        """The same trial's teachers' CV RMSE: the score without pseudo-labels."""
        return self.best_trial.user_attrs.get(SUPERVISED_CV_RMSE)

    def leaderboard(self, *, by: str = "trial") -> pd.DataFrame:
        """The study's trials (``by="trial"``), best first, or its model families (``by="family"``) as a DataFrame.

        See :func:`automl_pl.leaderboard.leaderboard` for the columns.
        """
        return leaderboard(self.study, by=by)

    def feature_importance(self, *, n_repeats: int = N_REPEATS, max_rows: int = MAX_ROWS, random_state: int = 0,
                           seconds: float | None = None) -> pd.DataFrame | None:
        """The final model's feature importance: permutation importance on out-of-fold rows, and the boosters' gain.

        One row per feature, most important first: ``importance`` is how much the RMSE grows when
        the feature is shuffled, ``gain`` the boosters' share of gain (see :mod:`automl_pl.importance`).
        Measured once and kept (``importance_``, and in the study for the report) unless other
        ``n_repeats``, ``max_rows`` or ``random_state`` are asked for, or a time limit (``tune``'s) cut the
        repeats or rows it measured: then, asked without ``seconds``, it is measured again in full. ``None``
        when not even a share of it is foreseen to fit in ``seconds``.

        Raises:
            RuntimeError: the result has no final model (``refit=False``).
        """
        if self.best_estimator_ is None:
            raise RuntimeError("this result was made with refit=False: there is no final model to explain; "
                               "call automl_pl.refit_best(...) first")
        kept = self.importance_
        if kept is not None and kept.attrs.get("asked") == (n_repeats, max_rows, random_state) and (
                seconds is not None or not kept.attrs.get("cut_for_time")):
            return kept
        table = feature_importance(self.best_estimator_, self.data.X, self.data.y, n_repeats=n_repeats,
                                   max_rows=max_rows, random_state=random_state, seconds=seconds,
                                   sources=self.data.schema.feature_sources)
        if table is not None:
            table.attrs["asked"] = (n_repeats, max_rows, random_state)
            self.importance_ = table
            self.study.set_user_attr(FEATURE_IMPORTANCE, self._importance_record())
        return table

    def _importance_record(self) -> dict[str, Any] | None:
        """The measured feature importance as plain JSON (study attribute and artifact metadata), or ``None``."""
        table = self.importance_
        if table is None:
            return None
        return {
            "best_trial": self.best_trial.number,
            "trials": list(self.members_),
            "rows": table.attrs.get("rows"),
            "n_rows": table.attrs.get("n_rows"),
            "n_repeats": table.attrs.get("n_repeats"),
            "cut_for_time": bool(table.attrs.get("cut_for_time")),
            **{column: [_plain(v) for v in table[column]]
               for column in ("feature", "importance", "stddev", "importance_share", "gain")},
        }

    def export(self, path: str | os.PathLike, *, ignored_columns: Sequence[str] = ()) -> Path:
        """Write the final model to the directory ``path`` (see :mod:`automl_pl.artifact`).

        Args:
            path: the artifact directory; an existing automl_pl artifact there is replaced.
            ignored_columns: input columns that :func:`automl_pl.load_model`'s ``predict``
                may receive and drops (identifiers the study dropped, say).
        """
        if self.best_estimator_ is None:
            raise RuntimeError("this result was made with refit=False; call automl_pl.refit_best(...) to get a model to export")
        trial = self.best_trial
        fitted, weights = self.best_estimator_.estimators_, self.best_estimator_.weights_
        n_folds = len(fitted) // len(self.members_)  # 1: each trial fitted on all rows (no bagging)
        trials = self.study.get_trials(deepcopy=False)
        members = [self._describe(trials[n], fold if n_folds > 1 else None)
                   for n in self.members_ for fold in range(n_folds)]
        pool = 0 if self.data.X_unlabeled is None else len(self.data.X_unlabeled)
        # One trial: what it is, at the top as well; several: an ensemble, each member says what it is.
        described = ({k: v for k, v in members[0].items() if k not in ("trial_number", "fold", "cv_rmse")}
                     if len(self.members_) == 1 else {"family": "ensemble"})
        metadata = {
            **described,
            "cv_rmse": self.cv_rmse,
            "supervised_cv_rmse": self.supervised_cv_rmse,
            "ensemble_cv_rmse": self.ensemble_cv_rmse,
            "combination": self.combination,
            "target": self.data.target_name,
            "rows": {
                "labeled": len(self.data.X),
                "pseudo_labeled": max(n_pseudo_labeled(m["sample_rate"], pool) for m in members),
                "unlabeled_pool": pool,
            },
            "ignored_columns": list(ignored_columns),
            **({"target_offset": self.data.target_offset} if self.data.target_offset else {}),
            "feature_importance": self._importance_record(),
            "study": {"name": self.study.study_name, "trial_number": trial.number,
                      "trials": list(self.members_), "models_per_trial": n_folds},
        }
        return export_ensemble([(model, get_family(m["family"]).artifact_format, weight, m)
                                for model, m, weight in zip(fitted, members, weights)],
                               path, metadata=metadata)

    def export_mlflow(self, path: str | os.PathLike, *, ignored_columns: Sequence[str] = ()) -> Path:
        """Write the final model as an MLflow ``pyfunc`` model directory (extra ``mlflow``).

        The MLflow model carries the automl_pl artifact that :meth:`export` writes and predicts with it;
        ``mlflow models serve -m PATH`` serves it. See :mod:`automl_pl.export.mlflow_model`.
        """
        from automl_pl.export import save_mlflow_model

        with tempfile.TemporaryDirectory() as folder:
            return save_mlflow_model(self.export(Path(folder) / "artifact", ignored_columns=ignored_columns), path)

    def export_onnx(self, path: str | os.PathLike) -> Path:
        """Write the final model as one ONNX file for onnxruntime (extra ``onnx``).

        Raises:
            OnnxExportError: a member's family cannot be converted; see :mod:`automl_pl.export.onnx_model`.
        """
        from automl_pl.export import save_onnx_model

        with tempfile.TemporaryDirectory() as folder:
            return save_onnx_model(self.export(Path(folder) / "artifact"), path)

    @staticmethod
    def _describe(trial: optuna.trial.FrozenTrial, fold: int | None) -> dict[str, Any]:
        """What an artifact records of one model of a trial: fitted on a fold's training rows, or on all (``None``)."""
        return {
            "family": trial.params["model"],
            "params": {k: v for k, v in trial.params.items() if k != "model"},
            **refit_settings(trial.params, trial.user_attrs.get(BEST_N_ROUNDS)),  # as fitted
            "trial_number": trial.number,
            "fold": fold,
            "cv_rmse": trial.value,
        }

    def summary(self) -> str:
        """A few lines on the study and its best trial, for people."""
        counts = {state: 0 for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
        for trial in self.study.get_trials(deepcopy=False, states=tuple(counts)):
            counts[trial.state] += 1
        header = (f"study {self.study.study_name!r}: {sum(counts.values())} trials ({counts[TrialState.COMPLETE]} "
                  f"complete, {counts[TrialState.PRUNED]} pruned, {counts[TrialState.FAIL]} failed)")
        if not counts[TrialState.COMPLETE]:  # refit=False lets a study end so; there is no best trial to describe
            return f"{header}\nno completed trial: every trial was pruned or failed (see result.leaderboard())"
        trial = self.best_trial
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items() if k not in ("model", *PSEUDO_LABEL_PARAMS))
        settings = pseudo_label_settings(trial.params)
        rounds = trial.user_attrs.get(BEST_N_ROUNDS, settings["n_rounds"])
        pseudo = f"sample_rate={settings['sample_rate']:g}"
        if settings["sample_rate"] > 0 and rounds == 0:
            pseudo += " tried and turned down: its teachers scored better without pseudo-labels"
        elif settings["sample_rate"] > 0:
            pseudo += (f", selection={settings['selection']}, pseudo_weight={settings['pseudo_weight']:.3g}, "
                       f"n_rounds={rounds}")
        lines = [
            header,
            f"best trial #{trial.number}: {trial.params['model']}, {pseudo}",
            f"  CV RMSE            {self.cv_rmse:.6g}",
        ]
        if self.supervised_cv_rmse is not None:
            gain = 100 * (self.cv_rmse / self.supervised_cv_rmse - 1)
            lines.append(f"  supervised CV RMSE {self.supervised_cv_rmse:.6g}  (same trial without pseudo-labels; {gain:+.1f}%)")
        lines.append(f"  parameters: {params}")
        if self.ensemble_cv_rmse is not None:
            trials = self.study.get_trials(deepcopy=False)
            mix = ", ".join(f"#{n} {trials[n].params['model']} {w:.2f}" for n, w in self.members_.items())
            what = "stack layer over" if self.combination == "stack" else "ensemble of"
            lines.append(f"{what} {len(self.members_)} trial{'s' * (len(self.members_) > 1)} ({mix})")
            lines.append(f"  out-of-fold RMSE   {self.ensemble_cv_rmse:.6g}  (weights chosen on it: optimistic)")
            recorded = self.study.user_attrs[ENSEMBLE]
            if recorded.get("stack_held_out_rmse") is not None:
                lines.append(f"  on held-out folds: weighted mean {recorded['mean_held_out_rmse']:.6g}, "
                             f"stack {recorded['stack_held_out_rmse']:.6g}")
        recorded = self.study.user_attrs.get(ENSEMBLE)
        strayed = recorded.get("strayed", []) if isinstance(recorded, dict) else []
        if strayed:
            trials = self.study.get_trials(deepcopy=False)
            names = ", ".join(f"#{n} {trials[n].params['model']}" for n in strayed)
            lines.append(f"left out of the final model, their predictions stray on the unlabelled rows: {names}")
        if self.best_estimator_ is not None:
            models = self.best_estimator_.estimators_
            kept = sum(isinstance(m, FrozenEstimator) for m in models)
            if len(models) == len(self.members_):
                lines.append(f"final model: refitted on {len(self.data.X)} labelled rows and the unlabelled pool "
                             f"in {self.refit_time_:.1f} s")
            else:
                made = ("all kept from the cross-validation, no refit" if kept == len(models) else
                        f"{kept} of {len(models)} kept from the cross-validation, the rest refitted in "
                        f"{self.refit_time_:.1f} s")
                lines.append(f"final model: {len(models) // len(self.members_)} fold models per trial, each fitted on "
                             f"its fold's training rows and the unlabelled pool ({made})")
        if self.importance_ is not None:
            top = ", ".join(f"{f} {v:.4g}" for f, v in zip(self.importance_["feature"][:5], self.importance_["importance"]))
            lines.append(f"most important features (RMSE growth when shuffled, {self.importance_.attrs.get('rows')}): {top}")
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """A table cell as JSON holds it: a float, ``None`` for NaN, or a string."""
    if isinstance(value, str):
        return value
    return None if value is None or not math.isfinite(value) else float(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) and math.isfinite(value) else str(value)
