"""scikit-learn ensembles whose fit stops when the study's time runs out.

Inside :meth:`automl_pl.budget.TimeBudget.fits_end_in_time` a fit checks the time as it goes and
raises :class:`~automl_pl.budget.OutOfTime` once it is up; elsewhere (a refit, a user's own
fit) they are exactly the scikit-learn estimators they extend. Forests and histogram gradient
boosting grow in ``CHUNKS`` warm-started steps, which draw the same random numbers as one fit
(scikit-learn advances a forest's generator past the trees it already has, so a fit that is not
stopped gives the same model, and a step foreseen to end past the deadline is not started);
classic gradient boosting asks after every tree through ``monitor``.
The boosters stop through their own training callbacks (see their family modules).
"""

from __future__ import annotations

import time

from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)

from automl_pl.budget import OutOfTime, check_fit_time, fit_deadline, fit_time_is_up
from automl_pl.models._early_stopping import parameters_set, stops_early

CHUNKS = 16
"""Warm-started steps of a forest or a histogram gradient boosting fit made under a deadline."""


def _fit_in_chunks(estimator, size_param: str, fit, X, y, sample_weight):
    """Fit ``estimator`` by growing ``size_param`` to its value in warm-started steps of ``1 / CHUNKS``.

    Between steps the time is checked. When the steps so far say the rest ends in less than half
    the time left, the rest is one step (a warm start re-predicts the training rows with every tree
    so far: many steps would slow histogram boosting down); a step they say cannot end before the
    deadline is not started, since the fit would be stopped after it anyway, a step too late.
    """
    total = getattr(estimator, size_param)
    warm_start = estimator.warm_start
    step = max(1, round(total / CHUNKS))
    started, done = time.monotonic(), 0
    try:
        while done < total:
            size = min(total, done + step)
            if done:
                check_fit_time()
                per_unit = (time.monotonic() - started) / done
                left = fit_deadline() - time.monotonic()
                if 2 * per_unit * (total - done) < left:
                    size = total
                elif per_unit * (size - done) > left:
                    raise OutOfTime("the time budget runs out before the fit's next step would end")
            estimator.set_params(**{size_param: size, "warm_start": bool(done) or warm_start})
            fit(X, y, sample_weight=sample_weight)
            if getattr(estimator, "n_iter_", size) < size:  # histogram boosting stopped early: it is done
                break
            done = size
    finally:
        estimator.set_params(**{size_param: total, "warm_start": warm_start})
    return estimator


class StoppableRandomForestRegressor(RandomForestRegressor):
    """:class:`~sklearn.ensemble.RandomForestRegressor` that stops at the study's deadline."""

    def fit(self, X, y, sample_weight=None):
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight)
        return _fit_in_chunks(self, "n_estimators", super().fit, X, y, sample_weight)


class StoppableExtraTreesRegressor(ExtraTreesRegressor):
    """:class:`~sklearn.ensemble.ExtraTreesRegressor` that stops at the study's deadline."""

    def fit(self, X, y, sample_weight=None):
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight)
        return _fit_in_chunks(self, "n_estimators", super().fit, X, y, sample_weight)


class StoppableHistGradientBoostingRegressor(HistGradientBoostingRegressor):
    """:class:`~sklearn.ensemble.HistGradientBoostingRegressor` that stops at the study's deadline.

    With ``early_stopping=True`` it stops early only on enough rows (see
    :mod:`automl_pl.models._early_stopping`); on fewer it grows every iteration.
    """

    def fit(self, X, y, sample_weight=None):
        if self.early_stopping is True and not stops_early(self.n_iter_no_change, len(y)):
            with parameters_set(self, early_stopping=False):  # too few rows to stop on: the whole cap
                return self.fit(X, y, sample_weight=sample_weight)
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight)
        return _fit_in_chunks(self, "max_iter", super().fit, X, y, sample_weight)

    @property
    def n_trees_(self) -> int:
        """Boosting iterations fitted (with early stopping, up to the stop)."""
        return self.n_iter_


class StoppableGradientBoostingRegressor(GradientBoostingRegressor):
    """:class:`~sklearn.ensemble.GradientBoostingRegressor` that stops at the study's deadline."""

    def fit(self, X, y, sample_weight=None, monitor=None):
        if fit_deadline() is None:
            return super().fit(X, y, sample_weight=sample_weight, monitor=monitor)
        super().fit(X, y, sample_weight=sample_weight, monitor=_stop_when_time_is_up)
        if self.n_estimators_ < self.n_estimators:
            check_fit_time()
        return self


def _stop_when_time_is_up(iteration, estimator, local_variables) -> bool:
    return fit_time_is_up()
