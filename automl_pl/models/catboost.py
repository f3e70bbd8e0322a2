"""CatBoost with its native categorical handling, saved in CatBoost's cbm format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl_pl.models._base import ModelFamily, max_trees

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

PREFIX = "cb_"


def suggest(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "cb_iterations": trial.suggest_int("cb_iterations", 50, min(1500, max_trees(n_rows)), log=True),
        "cb_learning_rate": trial.suggest_float("cb_learning_rate", 0.01, 0.3, log=True),
        "cb_depth": trial.suggest_int("cb_depth", 3, 8),
        "cb_l2_leaf_reg": trial.suggest_float("cb_l2_leaf_reg", 0.5, 30.0, log=True),
    }


def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
    from automl_pl.models._catboost_estimator import StoppableCatBoostRegressor

    return StoppableCatBoostRegressor(
        **FAMILY.own_params(params),
        cat_features=tuple(schema.categorical) or None,  # a tuple: CatBoost copies lists, which breaks clone()
        random_seed=random_state,
        thread_count=n_jobs,
        verbose=0,
        allow_writing_files=False,  # no catboost_info/ litter in the user's directory
    )


DEFAULTS = {  # CatBoost's own depth and regularisation, with half its trees at a faster rate: a quick, strong start
    "cb_iterations": 500, "cb_learning_rate": 0.08, "cb_depth": 6, "cb_l2_leaf_reg": 3.0,
}

FAMILY = ModelFamily(name="catboost", prefix=PREFIX, suggest=suggest, build=build, relative_cost=15.0,
                     defaults=DEFAULTS, work=lambda p: p["cb_iterations"] * 2 ** p["cb_depth"],
                     artifact_format="catboost", requires="catboost", stops_on_time=True)
