"""What a model family is, and the helpers every family shares."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import optuna

    from automl_pl.data import FeatureSchema

ArtifactFormat = Literal["xgboost", "lightgbm", "catboost", "skops"]


@dataclass(frozen=True)
class ModelFamily:
    """A model family the study can choose.

    Attributes:
        name: the value of the study's ``model`` parameter.
        prefix: every parameter this family suggests starts with it (``xgb_``);
            stripped of it, the names are the estimator's constructor arguments.
        suggest: ``suggest(trial, n_rows)`` draws the family's hyperparameters
            (bounds scale with the training rows) and returns them.
        build: ``build(params, *, schema, random_state, n_jobs)`` returns an
            unfitted estimator for normalised frames (see :mod:`automl_pl.data`);
            the objective and the final refit both use it.
        relative_cost: rough fit time relative to LightGBM at equal settings.
        artifact_format: how :mod:`automl_pl.artifact` saves the fitted estimator.
        requires: the optional library the family needs, if any.
        sample_weight: whether the estimator's ``fit`` takes ``sample_weight``
            (needed to weigh pseudo-labelled rows less).
    """

    name: str
    prefix: str
    suggest: Callable[[optuna.trial.BaseTrial, int], dict[str, Any]]
    build: Callable[..., Any]
    relative_cost: float
    artifact_format: ArtifactFormat = "skops"
    requires: str | None = None
    sample_weight: bool = True

    def is_available(self) -> bool:
        """Whether the library the family needs can be imported."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    def own_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The family's parameters from a trial's ``params``, prefix stripped."""
        return {k[len(self.prefix):]: v for k, v in params.items() if k.startswith(self.prefix)}


def max_trees(n_rows: int) -> int:
    """Upper bound of an ensemble's size: more rows can carry more trees."""
    return int(min(2000, max(100, 2 * n_rows)))


def max_min_leaf(n_rows: int) -> int:
    """Upper bound of a minimum leaf size: a few percent of the rows."""
    return int(max(4, min(200, n_rows // 20)))
