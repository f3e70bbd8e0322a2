"""What skl2onnx needs to convert automl_pl's scikit-learn pipelines.

* The study's stoppable ensembles (:mod:`automl_pl.models._stopping`) are, fitted, scikit-learn's own
  estimators; skl2onnx looks converters up by exact class, so a copy gets the base class back.
* skl2onnx converts :class:`~sklearn.impute.SimpleImputer` without its ``add_indicator`` columns, which
  would shift every column after them; the linear and kNN families use them (see
  :mod:`automl_pl.models._encoding`), so such an imputer is converted here: the median where a value is
  missing, then one 0/1 column per feature that had missing values in training.
* A one-hot encoder's ``handle_unknown="infrequent_if_exist"``: skl2onnx makes an unknown category an
  error. Scikit-learn gives it all zeros where a feature has no infrequent categories (as ``"ignore"``,
  which the copy gets), and the infrequent column where it has; :func:`unknown_to_infrequent` says which
  strings such a feature knows, so that the graph maps any other to one of its infrequent categories first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

_ALIAS = "AutomlPlSimpleImputerWithIndicator"


class ImputerWithIndicator(SimpleImputer):
    """A fitted :class:`~sklearn.impute.SimpleImputer` with ``add_indicator=True``, under its own converter."""


def convertible_copy(estimator: Any) -> Any:
    """``estimator`` (a copy the caller owns) with every part of a class skl2onnx converts; modified in place."""
    _register()
    for part in _parts(estimator):
        if isinstance(part, SimpleImputer) and part.add_indicator:
            part.__class__ = ImputerWithIndicator
            continue
        if isinstance(part, OneHotEncoder) and part.handle_unknown == "infrequent_if_exist":
            part.handle_unknown = "ignore"  # what it does for features without infrequent categories; see the module
        for base in type(part).__mro__[1:]:
            if type(part).__module__.startswith("automl_pl.") and base.__module__.startswith("sklearn."):
                part.__class__ = base
                break
    return estimator


def unknown_to_infrequent(estimator: Any) -> dict[str, tuple[list[str], str]]:
    """``{column: (categories its one-hot encoder knows, an infrequent one)}`` for each column of a fitted
    pipeline whose encoder maps unknown categories to its infrequent column."""
    found = {}
    for part in _parts(estimator):
        if not isinstance(part, ColumnTransformer):
            continue
        for _, transformer, columns in part.transformers_:
            if not (isinstance(transformer, OneHotEncoder) and hasattr(transformer, "categories_")  # no columns: unfitted
                    and transformer.handle_unknown == "infrequent_if_exist" and transformer.infrequent_categories_ is not None):
                continue
            for column, categories, infrequent in zip(columns, transformer.categories_,
                                                      transformer.infrequent_categories_):
                if infrequent is not None and len(infrequent):
                    found[column] = ([str(c) for c in categories], str(infrequent[0]))
    return found


def _parts(estimator: Any) -> list[BaseEstimator]:
    found = [estimator]
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            found += _parts(step)
    elif isinstance(estimator, ColumnTransformer):
        for _, transformer, _ in estimator.transformers_:
            if isinstance(transformer, BaseEstimator):
                found += _parts(transformer)
    return found


_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter

    update_registered_converter(ImputerWithIndicator, _ALIAS, _shape, _convert)
    _registered = True


def _shape(operator) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    imputer = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_rows, len(imputer.statistics_) + len(imputer.indicator_.features_)])


def _convert(scope, operator, container) -> None:
    from onnx import TensorProto

    imputer = operator.raw_operator
    x, out = operator.inputs[0].full_name, operator.outputs[0].full_name

    def name(what: str) -> str:
        return scope.get_unique_variable_name(what)

    def node(op_type: str, inputs: list[str], output: str, **attrs) -> None:
        container.add_node(op_type, inputs, [output], name=scope.get_unique_operator_name(op_type), **attrs)

    statistics, is_nan, imputed = name("statistics"), name("is_nan"), name("imputed")
    container.add_initializer(statistics, TensorProto.FLOAT, [1, len(imputer.statistics_)],
                              np.asarray(imputer.statistics_, dtype=np.float32).tolist())
    node("IsNaN", [x], is_nan)
    node("Where", [is_nan, statistics, x], imputed)
    features = np.asarray(imputer.indicator_.features_, dtype=np.int64)
    if len(features) == 0:
        node("Identity", [imputed], out)
        return
    positions, picked, indicators = name("positions"), name("picked"), name("indicators")
    container.add_initializer(positions, TensorProto.INT64, [len(features)], features.tolist())
    node("Gather", [is_nan, positions], picked, axis=1)
    node("Cast", [picked], indicators, to=TensorProto.FLOAT)
    node("Concat", [imputed, indicators], out, axis=1)
