"""CatBoost's regressor, stopped by a training callback when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without CatBoost.
"""

from __future__ import annotations

from catboost import CatBoostRegressor

from automl_pl.budget import check_fit_time, fit_deadline, fit_time_is_up


class _StopWhenTimeIsUp:
    def after_iteration(self, info) -> bool:
        return not fit_time_is_up()  # CatBoost stops on False; an exception would come back as CatBoostError


class StoppableCatBoostRegressor(CatBoostRegressor):
    """:class:`catboost.CatBoostRegressor` that raises :class:`~automl_pl.budget.OutOfTime` at the study's deadline."""

    def fit(self, X, y=None, sample_weight=None, **kwargs):  # sample_weight named: pipelines look for it
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _StopWhenTimeIsUp()]
        super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if self.tree_count_ < self.get_param("iterations"):
            check_fit_time()
        return self

    def set_predict_threads(self, n_threads: int) -> None:
        """Threads for the next predictions (a fitted CatBoost model refuses ``set_params``)."""
        self._predict_threads = n_threads

    def predict(self, data, prediction_type=None, ntree_start=0, ntree_end=0, thread_count=-1, verbose=None,
                task_type="CPU"):
        """CatBoost's predict, with the threads of :meth:`set_predict_threads` or of its ``thread_count``
        (CatBoost's own predict uses every core)."""
        if thread_count == -1:
            thread_count = getattr(self, "_predict_threads", None) or self.get_param("thread_count") or -1
        return super().predict(data, prediction_type, ntree_start, ntree_end, thread_count, verbose, task_type)
