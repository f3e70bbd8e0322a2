"""LightGBM's scikit-learn regressor, stopped by a training callback when the study's time runs out.

Imported only when the family builds a model, so that automl_pl loads without LightGBM.
"""

from __future__ import annotations

from lightgbm import LGBMRegressor

from automl_pl.budget import check_fit_time, fit_deadline


def _stop_when_time_is_up(env) -> None:
    check_fit_time()


class StoppableLGBMRegressor(LGBMRegressor):
    """:class:`lightgbm.LGBMRegressor` that raises :class:`~automl_pl.budget.OutOfTime` at the study's deadline."""

    def fit(self, X, y, sample_weight=None, **kwargs):
        if fit_deadline() is not None:
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _stop_when_time_is_up]
        return super().fit(X, y, sample_weight=sample_weight, **kwargs)
