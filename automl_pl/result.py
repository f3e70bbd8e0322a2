"""What :func:`automl_pl.tune` returns: the study, the refitted best model, its export and summary."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from automl_pl.artifact import export_model
from automl_pl.data import FeatureSchema
from automl_pl.models import get_family
from automl_pl.objective import PSEUDO_LABEL_PARAMS, pseudo_label_settings
from automl_pl.pseudo_label import PseudoLabelRegressor


@dataclass(frozen=True)
class PreparedData:
    """Validated, normalised data of one study, and what identifies it."""

    X: pd.DataFrame
    y: np.ndarray
    X_unlabeled: pd.DataFrame | None
    schema: FeatureSchema
    target_name: str
    fingerprint: str


@dataclass
class TuneResult:
    """What :func:`tune` returns: the study and the refitted best model.

    Attributes:
        study: the :class:`optuna.Study`; the same storage and name resume it.
        best_estimator_: the best trial's :class:`PseudoLabelRegressor`, refitted on all
            labelled rows plus the unlabelled pool (``None`` when ``refit=False``).
        refit_time_: seconds the refit took.
        data: the prepared data the study ran on.
    """

    study: optuna.Study
    best_estimator_: PseudoLabelRegressor | None
    refit_time_: float
    data: PreparedData

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
    def supervised_cv_rmse(self) -> float | None:
        """The same trial's teachers' CV RMSE: the score without pseudo-labels."""
        return self.best_trial.user_attrs.get("supervised_cv_rmse")

    def export(self, path: str | os.PathLike, *, ignored_columns: Sequence[str] = ()) -> Path:
        """Write the refitted best model to the directory ``path`` (see :mod:`automl_pl.artifact`).

        Args:
            path: the artifact directory; an existing automl_pl artifact there is replaced.
            ignored_columns: input columns that :func:`automl_pl.load_model`'s ``predict``
                may receive and drops (identifiers the study dropped, say).
        """
        if self.best_estimator_ is None:
            raise RuntimeError("this result was made with refit=False; call automl_pl.refit_best(...) to get a model to export")
        trial = self.best_trial
        family = get_family(trial.params["model"])
        metadata = {
            "family": family.name,
            "params": {k: v for k, v in trial.params.items() if k != "model"},
            **{k: getattr(self.best_estimator_, k) for k in PSEUDO_LABEL_PARAMS},  # as refitted
            "cv_rmse": self.cv_rmse,
            "supervised_cv_rmse": self.supervised_cv_rmse,
            "target": self.data.target_name,
            "rows": {
                "labeled": len(self.data.X),
                "pseudo_labeled": int(self.best_estimator_.n_pseudo_labeled_),
                "unlabeled_pool": 0 if self.data.X_unlabeled is None else len(self.data.X_unlabeled),
            },
            "ignored_columns": list(ignored_columns),
            "study": {"name": self.study.study_name, "trial_number": trial.number},
        }
        return export_model(self.best_estimator_, path, artifact_format=family.artifact_format, metadata=metadata)

    def summary(self) -> str:
        """A few lines on the study and its best trial, for people."""
        counts = {state: 0 for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
        for trial in self.study.get_trials(deepcopy=False, states=tuple(counts)):
            counts[trial.state] += 1
        trial = self.best_trial
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items() if k not in ("model", *PSEUDO_LABEL_PARAMS))
        settings = pseudo_label_settings(trial.params)
        rounds = trial.user_attrs.get("best_n_rounds", settings["n_rounds"])
        pseudo = f"sample_rate={settings['sample_rate']:g}"
        if settings["sample_rate"] > 0 and rounds == 0:
            pseudo += " tried and turned down: its teachers scored better without pseudo-labels"
        elif settings["sample_rate"] > 0:
            pseudo += (f", selection={settings['selection']}, pseudo_weight={settings['pseudo_weight']:.3g}, "
                       f"n_rounds={rounds}")
        lines = [
            f"study {self.study.study_name!r}: {sum(counts.values())} trials "
            f"({counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, {counts[TrialState.FAIL]} failed)",
            f"best trial #{trial.number}: {trial.params['model']}, {pseudo}",
            f"  CV RMSE            {self.cv_rmse:.6g}",
        ]
        if self.supervised_cv_rmse is not None:
            gain = 100 * (self.cv_rmse / self.supervised_cv_rmse - 1)
            lines.append(f"  supervised CV RMSE {self.supervised_cv_rmse:.6g}  (same trial without pseudo-labels; {gain:+.1f}%)")
        lines.append(f"  parameters: {params}")
        if self.best_estimator_ is not None:
            lines.append(
                f"refit on {len(self.data.X)} labelled + {self.best_estimator_.n_pseudo_labeled_} pseudo-labelled rows "
                f"in {self.refit_time_:.1f} s"
            )
        return "\n".join(lines)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) and math.isfinite(value) else str(value)
