"""scikit-learn's histogram gradient boosting, with its native categorical support."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.pipeline import Pipeline

from automl_pl.models._base import ModelFamily, max_min_leaf, max_trees
from automl_pl.models._encoding import ordinal
from automl_pl.models._stopping import StoppableHistGradientBoostingRegressor

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "hgb_"
MAX_NATIVE_CATEGORIES = 255  # HistGradientBoosting's limit; larger categoricals go in as ordinal codes


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "hgb_max_iter": trial.suggest_int("hgb_max_iter", 50, min(1000, max_trees(n_rows)), log=True),
        "hgb_learning_rate": trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True),
        "hgb_max_leaf_nodes": trial.suggest_int("hgb_max_leaf_nodes", 4, 128, log=True),
        "hgb_min_samples_leaf": trial.suggest_int("hgb_min_samples_leaf", 2, max_min_leaf(n_rows), log=True),
        "hgb_l2_regularization": trial.suggest_float("hgb_l2_regularization", 1e-4, 10.0, log=True),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    # The ordinal encoder puts categoricals first, so the mask lists them first.
    native = [len(c.categories) <= MAX_NATIVE_CATEGORIES for c in schema.columns if c.kind == "categorical"]
    mask = native + [False] * len(schema.numeric)
    model = StoppableHistGradientBoostingRegressor(
        **FAMILY.own_params(params),
        categorical_features=mask if any(mask) else None,
        early_stopping=False,
        random_state=random_state,
    )
    return Pipeline([("encode", ordinal(schema, impute=False)), ("model", model)])


DEFAULTS = {  # scikit-learn's defaults
    "hgb_max_iter": 100, "hgb_learning_rate": 0.1, "hgb_max_leaf_nodes": 31, "hgb_min_samples_leaf": 20,
    "hgb_l2_regularization": 1e-4,
}

FAMILY = ModelFamily(name="hist_gradient_boosting", prefix=PREFIX, suggest=suggest, build=build, relative_cost=1.2,
                     defaults=DEFAULTS, work=lambda p: p["hgb_max_iter"] * p["hgb_max_leaf_nodes"],
                     stops_on_time=True)
