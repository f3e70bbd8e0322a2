"""An XGBoost training callback that stops a fit when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without XGBoost.
"""

from __future__ import annotations

from xgboost.callback import TrainingCallback

from automl_pl.budget import check_fit_time


class StopWhenTimeIsUp(TrainingCallback):
    """Raises :class:`~automl_pl.budget.OutOfTime` after the iteration that passes the study's deadline."""

    def after_iteration(self, model, epoch, evals_log) -> bool:
        check_fit_time()
        return False
