"""automl_pl: AutoML for tabular regression with pseudo-labelling, built on Optuna.

One Optuna study jointly tunes the model family, its hyperparameters and the
pseudo-label sample rate, scored by fold-correct cross-validated RMSE; the best
trial's fold models (fitted on the labelled rows plus the unlabelled pool) are exported as
an artifact that loads without unpickling.
"""

from __future__ import annotations

from automl_pl._version import __version__
from automl_pl.artifact import ArtifactError, ExportedModel, load_model
from automl_pl.estimator import AutoPLRegressor
from automl_pl.pseudo_label import PseudoLabelRegressor
from automl_pl.report import (
    plot_family_comparison,
    plot_feature_importance,
    plot_optimization_history,
    plot_param_importances,
    plot_pseudo_vs_supervised,
    plot_sample_rate,
    write_report,
)
from automl_pl.result import TuneResult
from automl_pl.study import refit_best, tune

__all__ = [
    "ArtifactError",
    "AutoPLRegressor",
    "ExportedModel",
    "PseudoLabelRegressor",
    "TuneResult",
    "__version__",
    "load_model",
    "plot_family_comparison",
    "plot_feature_importance",
    "plot_optimization_history",
    "plot_param_importances",
    "plot_pseudo_vs_supervised",
    "plot_sample_rate",
    "refit_best",
    "tune",
    "write_report",
]
