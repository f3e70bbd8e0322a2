"""LightGBM with native categorical support, saved in LightGBM's text format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl_pl.models._base import ModelFamily, max_min_leaf, max_trees

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "lgbm_"


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "lgbm_n_estimators": trial.suggest_int("lgbm_n_estimators", 50, max_trees(n_rows), log=True),
        "lgbm_learning_rate": trial.suggest_float("lgbm_learning_rate", 0.005, 0.3, log=True),
        "lgbm_num_leaves": trial.suggest_int("lgbm_num_leaves", 4, int(max(8, min(256, n_rows // 10))), log=True),
        "lgbm_min_child_samples": trial.suggest_int("lgbm_min_child_samples", 2, max_min_leaf(n_rows), log=True),
        "lgbm_subsample": trial.suggest_float("lgbm_subsample", 0.5, 1.0),
        "lgbm_colsample_bytree": trial.suggest_float("lgbm_colsample_bytree", 0.4, 1.0),
        "lgbm_reg_lambda": trial.suggest_float("lgbm_reg_lambda", 1e-3, 100.0, log=True),
        # How categorical splits are smoothed: LightGBM's defaults (10 and 100) cannot split a
        # many-level categorical on a few rows per level, which costs e.g. Gapminder's country half its
        # accuracy. No effect on numeric-only data.
        "lgbm_cat_smooth": trial.suggest_float("lgbm_cat_smooth", 0.5, 50.0, log=True),
        "lgbm_min_data_per_group": trial.suggest_int("lgbm_min_data_per_group", 2, 100, log=True),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    from automl_pl.models._lightgbm_estimator import StoppableLGBMRegressor

    return StoppableLGBMRegressor(
        **FAMILY.own_params(params),
        subsample_freq=1,  # row subsampling only takes effect with a bagging frequency
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=-1,
    )


DEFAULTS = {  # LightGBM's own defaults, with a slower learning rate, more trees and lighter categorical smoothing
    "lgbm_n_estimators": 300, "lgbm_learning_rate": 0.05, "lgbm_num_leaves": 31, "lgbm_min_child_samples": 20,
    "lgbm_subsample": 1.0, "lgbm_colsample_bytree": 1.0, "lgbm_reg_lambda": 1e-3,
    "lgbm_cat_smooth": 3.0, "lgbm_min_data_per_group": 20,
}

FAMILY = ModelFamily(name="lightgbm", prefix=PREFIX, suggest=suggest, build=build, relative_cost=1.0, defaults=DEFAULTS,
                     work=lambda p: p["lgbm_n_estimators"] * p["lgbm_num_leaves"],
                     artifact_format="lightgbm", requires="lightgbm", stops_on_time=True)
