"""XGBoost's scikit-learn regressor, stopped early on rows of its own fit and when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without XGBoost.
"""

from __future__ import annotations

from xgboost import XGBRegressor
from xgboost.callback import TrainingCallback

from automl_pl.budget import check_fit_time
from automl_pl.models._early_stopping import parameters_set, split_off_stopping_rows, stops_early


class StopWhenTimeIsUp(TrainingCallback):
    """Raises :class:`~automl_pl.budget.OutOfTime` after the iteration that passes the study's deadline."""

    def after_iteration(self, model, epoch, evals_log) -> bool:
        check_fit_time()
        return False


class StoppableXGBRegressor(XGBRegressor):
    """:class:`xgboost.XGBRegressor` that, with ``early_stopping_rounds`` and no ``eval_set``, holds out
    rows of its own fit to stop on when it has enough (see :mod:`automl_pl.models._early_stopping`)
    and keeps only the trees up to its best iteration. Pass :class:`StopWhenTimeIsUp` in ``callbacks``
    to stop at the study's deadline.
    """

    def fit(self, X, y, *, sample_weight=None, **kwargs):
        if not self.early_stopping_rounds or kwargs.get("eval_set") is not None:
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if not stops_early(self.early_stopping_rounds, len(y)):  # too few rows to stop on: the whole cap
            with parameters_set(self, early_stopping_rounds=None):
                return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        (X, y, sample_weight), (X_stop, y_stop, w_stop) = split_off_stopping_rows(
            X, y, sample_weight, random_state=self.random_state)
        kwargs.update(eval_set=[(X_stop, y_stop)], sample_weight_eval_set=None if w_stop is None else [w_stop],
                      verbose=False)
        super().fit(X, y, sample_weight=sample_weight, **kwargs)
        self._Booster = self.get_booster()[: self.best_iteration + 1]  # the trees after the best are dead weight
        return self

    @property
    def n_trees_(self) -> int:
        """Trees the model predicts with: up to the best iteration when it stopped early."""
        return self.get_booster().num_boosted_rounds()
