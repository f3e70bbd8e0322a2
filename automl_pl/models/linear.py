"""Linear models on imputed, scaled and one-hot encoded features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.linear_model import BayesianRidge, ElasticNet, Ridge
from sklearn.pipeline import Pipeline

from automl_pl.models._base import ModelFamily
from automl_pl.models._encoding import one_hot_scaled

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema


def _linear_family(name: str, prefix: str, suggest, make_model, defaults=None) -> ModelFamily:
    def build(params: dict[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int):
        return Pipeline([("encode", one_hot_scaled(schema)), ("model", make_model(family.own_params(params), random_state))])

    family = ModelFamily(name=name, prefix=prefix, suggest=suggest, build=build, relative_cost=0.1, defaults=defaults)
    return family


def _suggest_ridge(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {"ridge_alpha": trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True)}


def _suggest_bayesian_ridge(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "bridge_alpha_1": trial.suggest_float("bridge_alpha_1", 1e-8, 1e-2, log=True),
        "bridge_lambda_1": trial.suggest_float("bridge_lambda_1", 1e-8, 1e-2, log=True),
    }


def _suggest_elastic_net(trial: optuna.trial.BaseTrial, n_rows: int) -> dict[str, Any]:
    return {
        "enet_alpha": trial.suggest_float("enet_alpha", 1e-4, 10.0, log=True),
        "enet_l1_ratio": trial.suggest_float("enet_l1_ratio", 0.0, 1.0),
    }


RIDGE = _linear_family("ridge", "ridge_", _suggest_ridge, lambda p, seed: Ridge(**p), defaults={"ridge_alpha": 1.0})
BAYESIAN_RIDGE = _linear_family("bayesian_ridge", "bridge_", _suggest_bayesian_ridge, lambda p, seed: BayesianRidge(**p))
ELASTIC_NET = _linear_family(
    "elastic_net", "enet_", _suggest_elastic_net, lambda p, seed: ElasticNet(**p, max_iter=5000, random_state=seed)
)
