"""Model families by name: the registry the study chooses from.

Each family lives in its own module and is described by a
:class:`~automl_pl.models._base.ModelFamily`. Families whose library is not
installed are left out of the default choice with a logged notice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.pipeline import Pipeline

from automl_pl.data import FeatureSchema, FrameEncoder
from automl_pl.models import (
    catboost,
    gradient_boosting,
    hist_gradient_boosting,
    knn,
    lightgbm,
    xgboost,
)
from automl_pl.models._base import ModelFamily
from automl_pl.models.forests import EXTRA_TREES, RANDOM_FOREST
from automl_pl.models.linear import BAYESIAN_RIDGE, ELASTIC_NET, RIDGE

__all__ = ["FAMILIES", "ModelFamily", "build_model", "get_family", "resolve_families"]

_logger = logging.getLogger(__name__)

FAMILIES: Mapping[str, ModelFamily] = {
    family.name: family
    for family in (
        xgboost.FAMILY,
        lightgbm.FAMILY,
        catboost.FAMILY,
        hist_gradient_boosting.FAMILY,
        gradient_boosting.FAMILY,
        RANDOM_FOREST,
        EXTRA_TREES,
        RIDGE,
        BAYESIAN_RIDGE,
        ELASTIC_NET,
        knn.FAMILY,
    )
}


def get_family(name: str) -> ModelFamily:
    """The family called ``name``.

    Raises:
        ValueError: no family has that name; the message lists the valid names.
    """
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model family {name!r}. Valid names: {', '.join(FAMILIES)}.") from None


def resolve_families(names: Sequence[str] | None = None) -> dict[str, ModelFamily]:
    """The families a study may choose from, by name, in registry order for ``None``.

    ``None`` means every family whose library is installed; a missing library is
    logged and its family left out. A family named explicitly must be installed.

    Raises:
        ValueError: a name is unknown, repeated, or the list is empty.
        ImportError: a named family's library is not installed.
    """
    if names is None:
        chosen = {}
        for name, family in FAMILIES.items():
            if family.is_available():
                chosen[name] = family
            else:
                _logger.warning("model family %r left out: its library %r is not installed", name, family.requires)
        return chosen
    if isinstance(names, str):
        names = [names]
    if len(names) == 0:
        raise ValueError(f"models is empty. Name at least one of: {', '.join(FAMILIES)}, or pass None for all.")
    if len(set(names)) != len(names):
        raise ValueError(f"models lists a family twice: {list(names)}.")
    chosen = {name: get_family(name) for name in names}
    for family in chosen.values():
        if not family.is_available():
            raise ImportError(f"model family {family.name!r} needs {family.requires!r}: pip install {family.requires}")
    return chosen


def build_model(
    family: ModelFamily, params: Mapping[str, Any], *, schema: FeatureSchema, random_state: int | None, n_jobs: int
) -> Pipeline:
    """The family's estimator behind a :class:`~automl_pl.data.FrameEncoder`, ready for raw DataFrames."""
    model = family.build(dict(params), schema=schema, random_state=random_state, n_jobs=n_jobs)
    return Pipeline([("frame", FrameEncoder(schema)), ("model", model)])
