"""Encoding pipelines for families without native categorical support.

They take normalised frames (see :mod:`automl_pl.data`): categoricals never hold
``NaN``, numerics may. Columns are named from the schema, so a saved pipeline
holds only scikit-learn types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

if TYPE_CHECKING:
    from automl_pl.data import FeatureSchema

MAX_ONE_HOT = 50
"""Most one-hot columns per categorical feature; rarer categories share one column."""


def one_hot_scaled(schema: FeatureSchema) -> ColumnTransformer:
    """Impute and scale numerics, one-hot encode categoricals: for linear models and kNN."""
    return ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                                  ("scale", StandardScaler())]), schema.numeric),
            ("categorical", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT,
                                          sparse_output=False), schema.categorical),
        ],
        verbose_feature_names_out=False,
    )


def ordinal(schema: FeatureSchema, *, impute: bool) -> ColumnTransformer:
    """Categoricals first as integer codes, then numerics (median-imputed when ``impute``)."""
    return ColumnTransformer(
        [
            ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                           encoded_missing_value=-1), schema.categorical),
            ("numeric", SimpleImputer(strategy="median", keep_empty_features=True) if impute else "passthrough",
             schema.numeric),
        ],
        verbose_feature_names_out=False,
    )
