"""scikit-learn's classic gradient boosting, on ordinal-encoded, imputed features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from automl_pl.models._base import ModelFamily, max_min_leaf
from automl_pl.models._encoding import ordinal
from automl_pl.models._stopping import StoppableGradientBoostingRegressor

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "gb_"


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "gb_n_estimators": trial.suggest_int("gb_n_estimators", 50, 500, log=True),
        "gb_learning_rate": trial.suggest_float("gb_learning_rate", 0.01, 0.3, log=True),
        "gb_max_depth": trial.suggest_int("gb_max_depth", 2, 6),
        "gb_min_samples_leaf": trial.suggest_int("gb_min_samples_leaf", 1, max_min_leaf(n_rows), log=True),
        "gb_subsample": trial.suggest_float("gb_subsample", 0.5, 1.0),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    model = StoppableGradientBoostingRegressor(**FAMILY.own_params(params), random_state=random_state)
    return Pipeline([("encode", ordinal(schema, impute=True)), ("model", model)])


FAMILY = ModelFamily(name="gradient_boosting", prefix=PREFIX, suggest=suggest, build=build, relative_cost=8.0,
                     work=lambda p: p["gb_n_estimators"] * 2 ** p["gb_max_depth"] * p["gb_subsample"],
                     stops_on_time=True)
