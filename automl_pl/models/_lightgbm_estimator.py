"""LightGBM's scikit-learn regressor, stopped early on rows of its own fit and when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without LightGBM.
"""

from __future__ import annotations

import lightgbm
from lightgbm import LGBMRegressor

from automl_pl.budget import check_fit_time, fit_deadline
from automl_pl.models._early_stopping import parameters_set, split_off_stopping_rows, stops_early


def _stop_when_time_is_up(env) -> None:
    check_fit_time()


class StoppableLGBMRegressor(LGBMRegressor):
    """:class:`lightgbm.LGBMRegressor` that raises :class:`~automl_pl.budget.OutOfTime` at the study's deadline.

    With LightGBM's ``early_stopping_round`` set and no ``eval_set`` given, a fit of enough rows holds
    out rows of its own to stop on (see :mod:`automl_pl.models._early_stopping`) and keeps its best
    iteration; a fit of fewer rows grows every tree.
    """

    def fit(self, X, y, sample_weight=None, **kwargs):
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if fit_deadline() is not None:
            callbacks.append(_stop_when_time_is_up)
        rounds = self.get_params().get("early_stopping_round")
        if not rounds or "eval_set" in kwargs or "eval_X" in kwargs:
            return super().fit(X, y, sample_weight=sample_weight, callbacks=callbacks or None, **kwargs)
        if not stops_early(rounds, len(y)):  # too few rows to stop on: the whole cap
            with parameters_set(self, early_stopping_round=None):
                return super().fit(X, y, sample_weight=sample_weight, callbacks=callbacks or None, **kwargs)
        (X, y, sample_weight), (X_stop, y_stop, w_stop) = split_off_stopping_rows(
            X, y, sample_weight, random_state=self.random_state)
        kwargs.update(eval_X=(X_stop,), eval_y=(y_stop,), eval_sample_weight=None if w_stop is None else [w_stop])
        callbacks.append(lightgbm.early_stopping(rounds, first_metric_only=True, verbose=False))
        return super().fit(X, y, sample_weight=sample_weight, callbacks=callbacks, **kwargs)

    @property
    def n_trees_(self) -> int:
        """Trees the model predicts with: the best iteration when it stopped early."""
        return self.best_iteration_ or self.booster_.current_iteration()
