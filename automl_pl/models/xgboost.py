"""XGBoost with native categorical support, saved in XGBoost's own UBJSON format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl_pl.models._base import ModelFamily, max_trees

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "xgb_"


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "xgb_n_estimators": trial.suggest_int("xgb_n_estimators", 50, max_trees(n_rows), log=True),
        "xgb_learning_rate": trial.suggest_float("xgb_learning_rate", 0.005, 0.3, log=True),
        "xgb_max_depth": trial.suggest_int("xgb_max_depth", 2, 10),
        "xgb_min_child_weight": trial.suggest_float("xgb_min_child_weight", 0.5, max(1.0, n_rows / 50), log=True),
        "xgb_subsample": trial.suggest_float("xgb_subsample", 0.5, 1.0),
        "xgb_colsample_bytree": trial.suggest_float("xgb_colsample_bytree", 0.4, 1.0),
        "xgb_reg_lambda": trial.suggest_float("xgb_reg_lambda", 1e-3, 100.0, log=True),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    from automl_pl.models._xgboost_estimator import StoppableXGBRegressor, StopWhenTimeIsUp

    return StoppableXGBRegressor(
        **FAMILY.own_params(params),
        tree_method="hist",
        enable_categorical=True,
        random_state=random_state,
        n_jobs=n_jobs,
        callbacks=[StopWhenTimeIsUp()],
    )


DEFAULTS = {  # XGBoost's defaults, with a slower learning rate and more trees
    "xgb_n_estimators": 300, "xgb_learning_rate": 0.05, "xgb_max_depth": 6, "xgb_min_child_weight": 1.0,
    "xgb_subsample": 1.0, "xgb_colsample_bytree": 1.0, "xgb_reg_lambda": 1.0,
}

FAMILY = ModelFamily(name="xgboost", prefix=PREFIX, suggest=suggest, build=build, relative_cost=1.6, defaults=DEFAULTS,
                     work=lambda p: p["xgb_n_estimators"] * 2 ** p["xgb_max_depth"], artifact_format="xgboost", requires="xgboost",
                     stops_on_time=True)
