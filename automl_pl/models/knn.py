"""k-nearest neighbours on imputed, scaled and one-hot encoded features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline

from automl_pl.models._base import ModelFamily
from automl_pl.models._encoding import one_hot_scaled

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "knn_"


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "knn_n_neighbors": trial.suggest_int("knn_n_neighbors", 1, int(max(2, min(100, n_rows // 2))), log=True),
        "knn_weights": trial.suggest_categorical("knn_weights", ["uniform", "distance"]),
        "knn_p": trial.suggest_categorical("knn_p", [1, 2]),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    model = KNeighborsRegressor(**FAMILY.own_params(params), n_jobs=n_jobs)
    return Pipeline([("encode", one_hot_scaled(schema)), ("model", model)])


FAMILY = ModelFamily(name="knn", prefix=PREFIX, suggest=suggest, build=build, relative_cost=0.5, sample_weight=False)
