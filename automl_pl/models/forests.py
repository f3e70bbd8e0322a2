"""Random forests and extremely randomised trees: one search space, two estimators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from automl_pl.models._base import ModelFamily, max_min_leaf
from automl_pl.models._encoding import ordinal
from automl_pl.models._stopping import StoppableExtraTreesRegressor, StoppableRandomForestRegressor

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema


def _forest_family(name: str, prefix: str, estimator_class: type, relative_cost: float) -> ModelFamily:
    def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
        return {
            f"{prefix}n_estimators": trial.suggest_int(f"{prefix}n_estimators", 50, 500, log=True),
            f"{prefix}max_features": trial.suggest_float(f"{prefix}max_features", 0.2, 1.0),
            f"{prefix}min_samples_leaf": trial.suggest_int(f"{prefix}min_samples_leaf", 1, max_min_leaf(n_rows), log=True),
        }

    def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
        model = estimator_class(**family.own_params(params), random_state=random_state, n_jobs=n_jobs)
        return Pipeline([("encode", ordinal(schema, impute=True)), ("model", model)])

    family = ModelFamily(name=name, prefix=prefix, suggest=suggest, build=build, relative_cost=relative_cost,
                         work=lambda p: p[f"{prefix}n_estimators"] * p[f"{prefix}max_features"], stops_on_time=True)
    return family


RANDOM_FOREST = _forest_family("random_forest", "rf_", StoppableRandomForestRegressor, relative_cost=4.0)
EXTRA_TREES = _forest_family("extra_trees", "et_", StoppableExtraTreesRegressor, relative_cost=2.0)
