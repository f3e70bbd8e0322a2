"""What a model family is, and the helpers every family shares."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import optuna

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
        defaults: a known-good starting configuration (prefixed names), tried first
            by a new study; clipped into the data-size-aware bounds by :func:`starting_params`.
        work: ``work(params)``, how much fitting a configuration does relative to others
            of the family (trees times leaves, say), or ``None`` when it hardly varies. With
            it, the time of one configuration's folds foretells another's, so a study near
            its deadline does not start a trial it cannot finish.
        stops_on_time: whether its fit stops when the study's time runs out (training
            callbacks or warm-started steps; see :mod:`automl_pl.budget`). A fit that cannot
            is started only when its foreseen time fits in what is left.
    """

    name: str
    prefix: str
    suggest: Callable[[optuna.trial.BaseTrial, int], dict[str, Any]]
    build: Callable[..., Any]
    relative_cost: float
    artifact_format: ArtifactFormat = "skops"
    requires: str | None = None
    sample_weight: bool = True
    defaults: Mapping[str, Any] | None = None
    work: Callable[[Mapping[str, Any]], float] | None = None
    stops_on_time: bool = False

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


def starting_params(family: ModelFamily, n_rows: int) -> dict[str, Any] | None:
    """The family's ``defaults`` as ``suggest`` would draw them for ``n_rows`` rows, or ``None``.

    ``suggest`` itself states the bounds, so each default is clipped into the range it asks for.
    """
    if family.defaults is None:
        return None
    return family.suggest(_DefaultsTrial(family.defaults), n_rows)


class _DefaultsTrial:
    """Answers ``suggest_*`` with a default, clipped into the asked range (or the range's low end)."""

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self._defaults = defaults

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return int(min(max(self._defaults.get(name, low), low), high))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> float:
        return float(min(max(self._defaults.get(name, low), low), high))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self._defaults.get(name)
        return value if value in choices else choices[0]


def final_estimator(model: Any) -> Any:
    """The estimator that predicts inside ``model``: through fitted pseudo-labelling, pipeline and frozen wrappers."""
    while True:
        if hasattr(model, "teacher_") and hasattr(model, "estimator_"):  # a fitted PseudoLabelRegressor
            model = model.estimator_
        elif hasattr(model, "steps"):  # a Pipeline: its last step predicts
            model = model.steps[-1][1]
        elif type(model).__name__ == "FrozenEstimator":
            model = model.estimator
        else:
            return model


def tree_count(model: Any) -> int | None:
    """How many trees a fitted booster predicts with (its best iteration when it stopped early), else ``None``."""
    return getattr(final_estimator(model), "n_trees_", None)
