"""CatBoost's regressor, stopped by a training callback when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without CatBoost.
"""

from __future__ import annotations

from catboost import CatBoostRegressor, Pool

from automl_pl.budget import check_fit_time, fit_deadline, fit_time_is_up
from automl_pl.models._early_stopping import split_off_stopping_rows, stops_early


class _StopWhenTimeIsUp:
    def after_iteration(self, info) -> bool:
        return not fit_time_is_up()  # CatBoost stops on False; an exception would come back as CatBoostError


class StoppableCatBoostRegressor(CatBoostRegressor):
    """:class:`catboost.CatBoostRegressor` that raises :class:`~automl_pl.budget.OutOfTime` at the study's deadline.

    With ``early_stopping_rounds`` and no ``eval_set``, a fit of enough rows holds out rows of its own
    to stop on (see :mod:`automl_pl.models._early_stopping`); CatBoost keeps the model of its best
    iteration. Without an ``eval_set`` CatBoost does not stop early.
    """

    def fit(self, X, y=None, sample_weight=None, **kwargs):  # sample_weight named: pipelines look for it
        if stops_early(self.get_param("early_stopping_rounds"), len(y)) and kwargs.get("eval_set") is None:
            (X, y, sample_weight), (X_stop, y_stop, w_stop) = split_off_stopping_rows(
                X, y, sample_weight, random_state=self.get_param("random_seed"))
            kwargs["eval_set"] = Pool(X_stop, y_stop, weight=w_stop, cat_features=self.get_param("cat_features"))
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _StopWhenTimeIsUp()]
        super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if self.tree_count_ < self.get_param("iterations"):
            check_fit_time()
        return self

    @property
    def n_trees_(self) -> int:
        """Trees the model predicts with: up to the best iteration when it stopped early."""
        return self.tree_count_

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
