"""Feature schema, input validation and categorical normalisation.

Every model family receives frames in one *normalised* form:

* numeric columns (bool, integer, float) as ``float64`` with ``NaN`` for missing;
* categorical columns (``category``, ``object``, ``string``) as a pandas
  ``Categorical`` whose categories are the strings seen while fitting plus
  :data:`MISSING_CATEGORY`. Missing values and categories never seen while
  fitting both become :data:`MISSING_CATEGORY`, so prediction never fails on
  a new category and no family ever sees a ``NaN`` category;
* date columns (``datetime64``, or text that reads as ISO 8601 dates such as ``2013-01-05``):
  :meth:`FeatureSchema.normalise` keeps them as ``datetime64[us]`` (the study's frames, so that
  importance and the final model speak of the user's columns); :meth:`FeatureSchema.transform`, the
  first step of every model, gives the models each date's days since 1970 (a number under the
  column's own name, so that trees and linear models can follow a trend) and the calendar parts
  (:data:`DATE_PARTS`) that vary in the data fitted on, as ``column.month`` and the like, so that
  they can follow a season or a weekday. AutoGluon and FLAML expand dates the same way.

How dates and numbers written as text are read is :mod:`automl_pl.column_values`'s; this module and that one
sit at the bottom of the package and import nothing else from it.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from automl_pl.column_values import (
    DATE_PARTS,
    DATE_UNIT,
    date_features,
    is_text,
    missing_markers,
    read_dates,
    read_numbers,
    reads_as_dates,
    refuse_infinity,
)

MISSING_CATEGORY = "__missing__"
"""Category that stands for a missing value or a category unseen in training."""

ColumnKind = Literal["numeric", "categorical", "datetime"]

_SHARED_TRANSFORMS: ContextVar[dict | None] = ContextVar("automl_pl_shared_transforms", default=None)


@contextmanager
def shared_transforms() -> Iterator[None]:
    """Within this block, :meth:`FeatureSchema.transform` checks and normalises a frame once per schema.

    An ensemble's fold models each begin with a :class:`FrameEncoder` of the same schema; without
    this, predicting with 75 fold models normalised the same rows 75 times (a third of the time).
    """
    token = _SHARED_TRANSFORMS.set({})
    try:
        yield
    finally:
        _SHARED_TRANSFORMS.reset(token)


@dataclass(frozen=True)
class ColumnSchema:
    """One feature column: its name, kind and (for categoricals) categories."""

    name: str
    kind: ColumnKind
    categories: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    """For a date column, the calendar parts (of :data:`DATE_PARTS`) the models see besides its days."""

    @property
    def dtype(self) -> np.dtype | pd.CategoricalDtype:
        """The dtype of this column in a normalised frame."""
        if self.kind == "numeric":
            return np.dtype("float64")
        if self.kind == "datetime":
            return np.dtype(DATE_UNIT)
        return _categorical_dtype(self.categories)

    @property
    def features(self) -> tuple[ColumnSchema, ...]:
        """The columns the models see for this one: itself, or for a date its days and its parts, all numeric."""
        if self.kind != "datetime":
            return (self,)
        parts = (ColumnSchema(f"{self.name}.{part}", "numeric") for part in self.parts)
        return (ColumnSchema(self.name, "numeric"), *parts)


@functools.lru_cache(maxsize=4096)
def _categorical_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """A normalised categorical column's dtype, built once per categories: every transform compares with it."""
    return pd.CategoricalDtype(list(categories), ordered=False)


@dataclass(frozen=True)
class FeatureSchema:
    """The feature columns a model was fitted on, in order."""

    columns: tuple[ColumnSchema, ...]

    @property
    def names(self) -> list[str]:
        """The input columns, in order."""
        return [column.name for column in self.columns]

    @property
    def features(self) -> list[ColumnSchema]:
        """The columns the models see (:meth:`transform`'s), in order: the input columns with each date expanded."""
        return [feature for column in self.columns for feature in column.features]

    @property
    def feature_sources(self) -> dict[str, str]:
        """Each model feature's input column: ``{"sold.month": "sold", "sold": "sold", "price": "price"}``."""
        return {feature.name: column.name for column in self.columns for feature in column.features}

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "categorical"]

    @property
    def numeric(self) -> list[str]:
        """The numeric features the models see, a date's days and parts included."""
        return [c.name for c in self.features if c.kind == "numeric"]

    @property
    def dates(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "datetime"]

    @classmethod
    def infer(cls, frame: pd.DataFrame, *more: pd.DataFrame | None) -> FeatureSchema:
        """Infer the schema of ``frame``; categories are pooled over ``more`` frames too.

        Raises:
            TypeError: a column has a dtype that is neither numeric nor categorical.
        """
        check_frame(frame, what="X")
        frames = [frame, *(f for f in more if f is not None)]
        for other in frames[1:]:
            check_same_columns(list(frame.columns), other, what="X_unlabeled")
        columns = []
        for name in frame.columns:
            kind = column_kind(frame[name], name=name)
            categories: tuple[str, ...] = ()
            parts: tuple[str, ...] = ()
            if kind == "categorical":
                seen: set[str] = set()
                for f in frames:
                    seen.update(_category_strings(f[name]))
                seen.discard(MISSING_CATEGORY)
                categories = (*sorted(seen), MISSING_CATEGORY)
            elif kind == "datetime":
                dates = [read_dates(f[name], name=name, what="X" if f is frame else "X_unlabeled") for f in frames]
                pooled = dates[0].append(dates[1:])
                parts = tuple(part for part in DATE_PARTS if getattr(pooled, part).nunique() > 1)
            columns.append(ColumnSchema(name, kind, categories, parts))
        schema = cls(tuple(columns))
        clashes = [name for name, count in Counter(f.name for f in schema.features).items() if count > 1]
        if clashes:
            raise ValueError(f"date columns give the models columns named {clashes}, which X has already. Rename "
                             "those columns of X.")
        return schema

    def to_dict(self) -> list[dict[str, Any]]:
        """A JSON-ready description (used by ``metadata.json``)."""
        return [
            {"name": c.name, "kind": c.kind, **({"categories": list(c.categories)} if c.categories else {}),
             **({"parts": list(c.parts)} if c.kind == "datetime" else {})}
            for c in self.columns
        ]

    @classmethod
    def from_dict(cls, columns: Sequence[Mapping[str, Any]]) -> FeatureSchema:
        parsed = []
        for column in columns:
            kind = column["kind"]
            if kind not in ("numeric", "categorical", "datetime"):
                raise ValueError(f"unknown column kind {kind!r} for column {column['name']!r}")
            parts = tuple(map(str, column.get("parts", ())))
            if unknown := sorted(set(parts) - set(DATE_PARTS)):
                raise ValueError(f"unknown date parts {unknown} for column {column['name']!r}")
            parsed.append(ColumnSchema(str(column["name"]), kind, tuple(map(str, column.get("categories", ()))), parts))
        return cls(tuple(parsed))

    def check(self, frame: pd.DataFrame, *, what: str = "X", first_line: int | None = None) -> None:
        """Check that ``frame`` has exactly this schema's columns with compatible dtypes and no infinity.

        ``first_line``: where ``frame`` was read from a text file, the line its first row is on, so that an
        error names lines (``first on line 7``) instead of row positions (``first at row 5``).

        Raises:
            TypeError: ``frame`` is not a DataFrame, a numeric column holds non-numbers, or a date column
                holds what is not a date.
            ValueError: columns are missing, extra or duplicated, or a numeric column holds infinity.
        """
        self._check(frame, what=what, first_line=first_line, read_text=True)

    def _check(self, frame: pd.DataFrame, *, what: str, first_line: int | None, read_text: bool) -> None:
        """:meth:`check`; without ``read_text``, text in numeric and date columns is left unread, for a caller
        that converts it next (:func:`~automl_pl.column_values.read_numbers` and
        :func:`~automl_pl.column_values.read_dates` refuse what is not a number or a date as they read)."""
        check_frame(frame, what=what)
        check_same_columns(self.names, frame, what=what)
        dtypes = _dtypes(frame)
        for column in self.columns:
            text = column.kind != "categorical" and is_text(frame[column.name])
            if column.kind == "numeric" and not _is_numeric_dtype(dtypes[column.name]):
                if not text:
                    raise TypeError(
                        f"{what} column {column.name!r} must be numeric, as in training, but has dtype "
                        f"{dtypes[column.name]}. Convert it with pandas.to_numeric or fix the input file."
                    )
                if read_text:
                    read_numbers(frame[column.name], name=column.name, what=what, first_line=first_line)
            if column.kind == "datetime" and (read_text or not text):
                read_dates(frame[column.name], name=column.name, what=what, first_line=first_line)
        check_finite(frame, [c.name for c in self.columns if c.kind == "numeric"], what=what, first_line=first_line)

    def transform(self, frame: pd.DataFrame, *, what: str = "X") -> pd.DataFrame:
        """Check ``frame`` and return what the models see: :meth:`normalise`'s frame, each date expanded."""
        return self._memoised(frame, what=what, expand=True)

    def normalise(self, frame: pd.DataFrame, *, what: str = "X") -> pd.DataFrame:
        """Check ``frame`` and return it normalised (columns in schema order; dates as ``datetime64[us]``)."""
        return self._memoised(frame, what=what, expand=False)

    def _memoised(self, frame: pd.DataFrame, *, what: str, expand: bool) -> pd.DataFrame:
        memo = _SHARED_TRANSFORMS.get()
        if memo is None:
            return self._transform(frame, what=what, expand=expand)
        key = (id(frame), self, expand)
        if key not in memo:  # the frame itself is kept too, so that its id is not reused meanwhile
            memo[key] = (frame, self._transform(frame, what=what, expand=expand))
        return memo[key][1]

    def _transform(self, frame: pd.DataFrame, *, what: str, expand: bool) -> pd.DataFrame:
        self._check(frame, what=what, first_line=None, read_text=False)  # text is read once, below
        if self._is_normalised(frame, expand=expand):
            return frame
        out = {}
        for column in self.columns:
            series = frame[column.name]
            if column.kind == "numeric":
                out[column.name] = read_numbers(series, name=column.name, what=what)
            elif column.kind == "categorical":
                out[column.name] = _to_categorical(series, column.dtype)
            elif expand:
                out.update(date_features(read_dates(series, name=column.name, what=what), name=column.name,
                                         parts=column.parts))
            else:
                out[column.name] = read_dates(series, name=column.name, what=what).to_numpy()
        return pd.DataFrame(out, index=frame.index)

    def _is_normalised(self, frame: pd.DataFrame, *, expand: bool) -> bool:
        expected = self.features if expand else self.columns
        if list(frame.columns) != [c.name for c in expected]:
            return False
        return all(dtype == c.dtype for dtype, c in zip(frame.dtypes, expected))


def check_frame(frame: object, *, what: str) -> None:
    """Raise a clear error unless ``frame`` is a non-empty DataFrame with unique string columns."""
    if not isinstance(frame, pd.DataFrame):
        kind = type(frame)
        raise TypeError(f"{what} must be a pandas DataFrame, got {kind.__module__.split('.')[0]}.{kind.__qualname__}. "
                        "Convert it first: pandas.DataFrame(array), or .to_pandas() of a polars or Arrow table.")
    if frame.shape[1] == 0:
        raise ValueError(f"{what} has no feature columns. Pass at least one feature column.")
    check_unique_columns(frame, what=what)
    non_string = [c for c in frame.columns if not isinstance(c, str)]
    if non_string:
        raise TypeError(f"{what} column names must be strings, got {non_string[:5]}. Use frame.columns = frame.columns.astype(str).")


def check_unique_columns(frame: pd.DataFrame, *, what: str) -> None:
    """Raise a ValueError naming the column names ``frame`` holds more than once."""
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"{what} has duplicate column names {duplicated}. Rename or drop the duplicates.")


def check_finite(frame: pd.DataFrame, columns: Sequence[str], *, what: str, first_line: int | None = None) -> None:
    """Raise a ValueError naming the first of the numeric ``columns`` that holds infinity, with the fix.

    Missing values are fine (each family imputes them or treats them as a branch of its own), but
    infinity is not a value any model can learn from: scikit-learn's models refuse it in every fold,
    so a study would fail trial after trial, and the boosters would take it for a huge number.
    Integer, boolean and categorical columns cannot hold it and are not scanned.
    """
    dtypes = _dtypes(frame)
    floats = [name for name in columns if pd.api.types.is_float_dtype(dtypes[name])]
    for start in range(0, len(floats), _COLUMNS_AT_ONCE):  # a block at a time: one array, not a Series per column
        block = floats[start:start + _COLUMNS_AT_ONCE]
        values = frame[block].to_numpy(dtype="float64", na_value=np.nan)
        infinite = np.isinf(values).any(axis=0)
        if infinite.any():
            first = int(np.argmax(infinite))
            refuse_infinity(values[:, first], name=block[first], what=what, first_line=first_line)


_COLUMNS_AT_ONCE = 256
"""Columns scanned for infinity in one array: few enough that a long frame's copy stays small."""


def check_same_columns(expected: Sequence[str], frame: pd.DataFrame, *, what: str) -> None:
    """Raise a ValueError naming the columns ``frame`` lacks or adds compared with ``expected``."""
    present, wanted = set(frame.columns), set(expected)
    missing = [c for c in expected if c not in present]
    extra = [c for c in frame.columns if c not in wanted]
    if missing or extra:
        parts = [f"missing columns {missing}"] if missing else []
        parts += [f"unexpected columns {extra}"] if extra else []
        raise ValueError(
            f"{what} does not match the training features: {' and '.join(parts)}. "
            f"Pass exactly these columns: {list(expected)}."
        )


def column_kind(series: pd.Series, *, name: str) -> ColumnKind:
    """Classify a column as numeric, categorical or dates, or explain why it is none of them.

    Text is dates when it reads as ISO 8601 dates (``2013-01-05``, ``2013-01-05 10:30``) throughout:
    other spellings (``05/01/2013``) are ambiguous, and stay categories (see :func:`date_columns`).
    Text is numeric when it is numbers and :data:`MISSING_MARKERS` (``?``, ``-``) throughout, with at
    least one of each (see :func:`missing_markers`); text of numbers alone stays a category (codes and
    identifiers are written that way).
    """
    if _is_numeric(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    if is_text(series):
        if missing_markers(series):  # numbers, and "?" or "-" where one is missing: numeric
            return "numeric"
        return "datetime" if reads_as_dates(series) else "categorical"
    if isinstance(series.dtype, pd.PeriodDtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
        advice = ("a period to its start time (series.dt.start_time), which is then a date" if
                  isinstance(series.dtype, pd.PeriodDtype) else "durations to numbers (series.dt.total_seconds())")
        raise TypeError(f"column {name!r} has dtype {series.dtype}, which is neither numeric, categorical nor a date. "
                        f"Convert {advice}, or drop it.")
    raise TypeError(
        f"column {name!r} has dtype {series.dtype}, which is neither numeric, categorical nor a date. "
        "Convert it to numbers, dates (pandas.to_datetime) or strings, or drop it."
    )


MAX_ABS_TARGET = 1e15
"""The largest target magnitude accepted. LightGBM and XGBoost keep the target and its sums in 32-bit
floats, which end at 3.4e38, and square sums of residuals: on 100 rows XGBoost's CV RMSE grew by half
from a target times 1e18 to one times 1e20 and it failed at 1e100, where LightGBM overflowed and
64-bit squares are not far (1.3e154). Larger targets are refused with advice to rescale, not scaled."""


def check_whole_number(value: object, name: str, *, minimum: int, maximum: int | None = None,
                       none_means: str | None = None, unit: str = "") -> int | None:
    """Return ``value`` if it is a whole number (not a bool) within bounds, else raise one clear ValueError.

    Args:
        value: the setting as given.
        name: its name in the user's terms, e.g. ``"n_trials"``.
        minimum, maximum: the bounds, inclusive.
        none_means: if given, ``None`` is accepted and the message says what it means.
        unit: what is counted, e.g. ``"folds"``, for the message.

    Raises:
        ValueError: e.g. ``cv must be a whole number of folds >= 2, got 1.5``.
    """
    if value is None and none_means is not None:
        return None
    if isinstance(value, np.integer):
        value = int(value)
    if (not isinstance(value, int) or isinstance(value, bool) or value < minimum
            or (maximum is not None and value > maximum)):
        what = f"a whole number{f' of {unit}' if unit else ''}"
        bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        alternative = f" (or None for {none_means})" if none_means is not None else ""
        raise ValueError(f"{name} must be {what} {bounds}{alternative}, got {value!r}")
    return value


def plain_number(value: float) -> str:
    """A number as a person writes it: ``1426.14``, ``2``, ``1.2e+299`` (never ``np.float64(...)``)."""
    return f"{float(value):.6g}"


def check_target(y: object, *, n_rows: int, name: str = "y") -> np.ndarray:
    """Return the target as a float array, or raise a clear error about what is wrong with it."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"{name} must be one column, got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series) and not _is_numeric(y):
        raise TypeError(f"target {name} must be numeric, got dtype {y.dtype}. This tool does regression; encode the target as numbers.")
    try:
        values = np.asarray(y, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"target {name} must be numeric: {exc}. This tool does regression; encode the target as numbers.") from None
    if values.ndim != 1:
        raise ValueError(f"target {name} must be one-dimensional, got shape {values.shape}.")
    if len(values) != n_rows:
        raise ValueError(f"target {name} has {len(values)} values but X has {n_rows} rows. Pass one target value per row.")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"target {name} has {int(bad.sum())} missing or infinite values (first at row {int(np.argmax(bad))}). "
            "Drop those rows, or pass them as unlabelled data (X_unlabeled) instead."
        )
    if len(values) == 1:
        raise ValueError(f"target {name} has a single value ({plain_number(values[0])}): one labelled row is "
                         "nothing to learn from or to cross-validate on. Add labelled rows.")
    if len(values) and np.ptp(values) == 0:
        raise ValueError(f"target {name} is constant ({plain_number(values[0])}); there is nothing to learn. "
                         "Check the target column.")
    largest = float(np.max(np.abs(values))) if len(values) else 0.0
    if largest > MAX_ABS_TARGET:
        scale = 10.0 ** math.ceil(math.log10(largest / MAX_ABS_TARGET * 1e3))
        raise ValueError(
            f"target {name} reaches {plain_number(largest)} in absolute value, beyond the {MAX_ABS_TARGET:.0e} "
            f"the models compute with safely (their squares and sums overflow). Rescale it, e.g. divide it by "
            f"{scale:.0e}, and multiply the predictions back."
        )
    return values


OFFSET_RATIO = 1e3
"""A target whose mean is beyond this many times its spread is fitted centred (see :func:`target_offset`)."""


def target_offset(values: np.ndarray) -> float:
    """What the models' targets are taken from: ``0.0``, or the mean of a target that sits far from zero.

    XGBoost, LightGBM and CatBoost keep the target in 32-bit floats, which hold about seven digits: a
    target of 1e9 plus or minus a few units becomes a handful of distinct values, and the boosters
    learnt nothing (XGBoost and LightGBM predicted one constant) or refused it (CatBoost: "all train
    targets are equal"). Centred, every family sees its spread; the final model and the artifact add
    the offset back in 64 bits. A target within :data:`OFFSET_RATIO` spreads of zero is left as it is.
    """
    spread = float(np.std(values)) if len(values) else 0.0
    mean = float(np.mean(values)) if len(values) else 0.0
    return mean if spread > 0 and abs(mean) > OFFSET_RATIO * spread else 0.0


def data_fingerprint(*parts: pd.DataFrame | np.ndarray | None) -> str:
    """A SHA-256 over the given frames and arrays, to tell whether a study saw the same data."""
    digest = hashlib.sha256()
    for part in parts:
        if part is None:
            digest.update(b"<none>")
        elif isinstance(part, pd.DataFrame):
            digest.update(repr(list(part.columns)).encode())
            digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        else:
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Learn a :class:`FeatureSchema` in ``fit``; check and normalise frames in ``transform``.

    The first step of every automl_pl model pipeline, so a fitted model accepts the
    user's raw DataFrames (strings, categories, dates, missing values) and never fails on
    an unseen category. ``transform`` gives what the models see (:meth:`FeatureSchema.transform`).

    Args:
        schema: the schema to hold frames to, as a study gives its models (every fold model of
            every trial then sees the same columns, whatever rows it is fitted on); ``None``: the one
            inferred from ``fit``'s frame.

    Attributes:
        schema_: the learnt :class:`FeatureSchema`.
        feature_names_in_: column names seen in ``fit``.
        n_features_in_: number of columns seen in ``fit``.
    """

    def __init__(self, schema: FeatureSchema | None = None) -> None:
        self.schema = schema

    def fit(self, X: pd.DataFrame, y: object = None) -> FrameEncoder:
        return self._fit(X, check=True)

    def fit_transform(self, X: pd.DataFrame, y: object = None, **fit_params: Any) -> pd.DataFrame:
        """``fit(X).transform(X)``, with ``X`` checked once (a pipeline's fit calls this, once per fold model)."""
        return self._fit(X, check=False).transform(X)

    def _fit(self, X: pd.DataFrame, *, check: bool) -> FrameEncoder:
        if self.schema is None:
            self.schema_ = FeatureSchema.infer(X)
        else:
            if check:
                self.schema.check(X)
            self.schema_ = self.schema
        self.feature_names_in_ = np.asarray(self.schema_.names, dtype=object)
        self.n_features_in_ = len(self.schema_.names)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self)
        return self.schema_.transform(X)

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """The columns ``transform`` gives: the input columns, each date expanded (``sold``, ``sold.month``)."""
        check_is_fitted(self)
        return np.asarray([feature.name for feature in self.schema_.features], dtype=object)


def _dtypes(frame: pd.DataFrame) -> dict[str, Any]:
    """Each column's dtype by name, read once: a frame's ``frame[name]`` builds a Series per call."""
    return dict(zip(frame.columns, frame.dtypes))


def _is_numeric(series: pd.Series) -> bool:
    return _is_numeric_dtype(series.dtype)


def _is_numeric_dtype(dtype: Any) -> bool:
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    )


def _category_strings(series: pd.Series) -> set[str]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return set(series.cat.categories.astype(str))
    return set(series.dropna().astype(str).unique())


def _to_categorical(series: pd.Series, dtype: pd.CategoricalDtype) -> pd.Categorical:
    categories = dtype.categories
    missing_code = categories.get_loc(MISSING_CATEGORY)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Map each source category once, then the codes; cheap for long columns.
        lookup = categories.get_indexer(series.cat.categories.astype(str))
        lookup = np.append(np.where(lookup < 0, missing_code, lookup), missing_code)  # code -1 (NaN) -> missing
        codes = lookup[series.cat.codes.to_numpy()]
    else:
        codes = categories.get_indexer(series.astype(str).to_numpy())
        codes[series.isna().to_numpy()] = missing_code
        codes[codes < 0] = missing_code
    return pd.Categorical.from_codes(codes, dtype=dtype)
