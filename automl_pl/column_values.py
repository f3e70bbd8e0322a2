"""How a column's values are read: dates, and numbers written as text with markers for missing ones.

The values side of :mod:`automl_pl.data`'s schema, which decides a column's kind and calls these:

* **dates**: ``datetime64`` columns, and text in ISO 8601 form (``2013-01-05``, ``2013-01-05 10:30``),
  which is how a CSV holds them, are read as naive ``datetime64[us]`` (:func:`read_dates`); the
  models see each date's days since 1970 and the calendar parts that vary (:func:`date_features`).
  Other spellings (``05/01/2013``: January or May?) are left to the user, with a warning
  (:func:`date_columns`);
* **numbers as text**: a text column of numbers and :data:`MISSING_MARKERS` (UCI's ``?``, a
  spreadsheet's ``-``) is numbers with missing values (:func:`missing_markers`, :func:`read_numbers`);
* **where a bad value is**: ``at row 5``, or ``on line 7`` of a file (:func:`where_in_file`).

Like :mod:`automl_pl.data`, this module imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DATE_PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour", "minute", "second")
"""The calendar parts a date column may give the models, each as a column ``name.part``: those that vary."""
DATE_UNIT = "datetime64[us]"
"""A date column's dtype in a normalised frame: pandas' own unit for parsed text, good for 290,000 years."""
_MICROSECONDS_PER_DAY = 86_400_000_000

MISSING_MARKERS = frozenset({"", "?", "-", "--", ".", "na", "n.a.", "missing", "unknown", "not available"})
"""Text that stands for a missing number in many files (UCI's ``?``, a spreadsheet's ``-``), beyond what
pandas already reads as missing (``NA``, ``N/A``, ``null``, ``NaN``, ``None``, an empty cell); compared
stripped and in lower case. A text column of numbers and these is a numeric column with missing values."""

ISO_DATE_PATTERN = r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\s*"
"""An ISO 8601 date, possibly with a time and an offset: the only text read as dates without being told."""

DATE_PATTERN = (r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
                r"([ T]\d{1,2}:\d{2}(:\d{2})?\S*)?\s*$")
"""A date, possibly with a time: 2013-01-05, 2013/1/5, 05.01.2013, 1/5/13, 2013-01-05 10:30:00."""


def refuse_infinity(values: np.ndarray, *, name: str, what: str, first_line: int | None) -> None:
    """Raise a ValueError naming column ``name``'s first infinite value among ``values``, with the fix."""
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(
            f"{what} column {name!r} holds infinity (inf, or a number beyond 1.8e308) in "
            f"{count_rows(int(infinite.sum()))} (first {where_in_file(int(np.argmax(infinite)), first_line)}). "
            "Replace it with a missing value (NaN, or an empty cell in a file), which every model handles, "
            "or with a number."
        )


def is_text(series: pd.Series) -> bool:
    return (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)) \
        and not isinstance(series.dtype, pd.CategoricalDtype)


def reads_as_dates(series: pd.Series, *, sample: int = 200) -> bool:
    """Whether every value of a text column reads as an ISO 8601 date (and there is at least one)."""
    values = series.dropna()
    if len(values) == 0 or not values.iloc[:sample].astype(str).str.fullmatch(ISO_DATE_PATTERN).all():
        return False  # the first values tell most columns apart without reading them all
    text = values.astype(str)
    return bool(text.str.fullmatch(ISO_DATE_PATTERN).all() and _parse_iso(text).notna().all())


def _parse_iso(text: pd.Series) -> pd.Series:
    """ISO 8601 text as dates, ``NaT`` where it is none; offsets that differ from row to row (or some
    rows with one and some without) are read as one instant each, in UTC."""
    try:
        return pd.to_datetime(text, format="ISO8601", errors="coerce")
    except ValueError:  # pandas refuses to mix time zones in one column
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)


def _number_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """A text column read as numbers: ``(float64 values, NaN where missing or a marker; which values are
    neither a number nor missing; the markers' stripped lower-case text, NA elsewhere)``."""
    text = series.astype("string")
    stripped = text.str.strip().str.lower()
    is_marker = stripped.isin(MISSING_MARKERS).fillna(False).to_numpy(dtype=bool)
    values = pd.to_numeric(text.mask(is_marker), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    neither = np.isnan(values) & text.notna().to_numpy(dtype=bool) & ~is_marker
    return values, neither, stripped.where(is_marker)


def missing_markers(series: pd.Series, *, sample: int = 200) -> dict[str, int]:
    """``{marker: rows}`` of a text column that holds numbers and :data:`MISSING_MARKERS` only, with at least
    one number; ``{}`` for any other column."""
    if not is_text(series):
        return {}
    values = series.dropna()
    if len(values) == 0 or _number_text(values.iloc[:sample])[1].any():  # words early: not numbers
        return {}
    numbers, neither, markers = _number_text(values)
    if neither.any() or np.isnan(numbers).all():
        return {}
    return {str(marker): int(count) for marker, count in markers.value_counts().items()}


def read_numbers(series: pd.Series, *, name: str, what: str, first_line: int | None = None) -> np.ndarray:
    """A numeric column's values as float64, text of numbers and :data:`MISSING_MARKERS` included, or a clear error."""
    if not is_text(series):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    values, neither, _ = _number_text(series)
    if neither.any():
        raise TypeError(
            f"{what} column {name!r} must be numeric, as in training, but {_first_bad(series, neither, first_line)} "
            "is not a number. Fix the value, or leave the cell empty (or write ?) where the number is missing."
        )
    refuse_infinity(values, name=name, what=what, first_line=first_line)
    return values


def _first_bad(series: pd.Series, bad: np.ndarray, first_line: int | None) -> str:
    """The first of the ``bad`` values and where it is: ``'soon' (on line 3, and 2 rows more)``."""
    first, others = int(np.argmax(bad)), int(bad.sum()) - 1
    return (f"{series.iloc[first]!r} ({where_in_file(first, first_line)}"
            f"{f', and {count_rows(others)} more' if others else ''})")


def read_dates(series: pd.Series, *, name: str, what: str, first_line: int | None = None) -> pd.DatetimeIndex:
    """A date column's values as naive ``datetime64[us]`` (``NaT`` where missing), or a clear error.

    Text is read as ISO 8601; a time zone is dropped, keeping the wall-clock time (a sale at 9:00 in
    Paris is a morning sale whatever the offset).
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        dates = pd.DatetimeIndex(series)
    elif is_text(series):
        text = series.astype("string")
        parsed = _parse_iso(text)
        bad = (parsed.isna() & text.notna()).to_numpy()
        if bad.any():
            raise TypeError(
                f"{what} column {name!r} must hold dates, as in training, but {_first_bad(text, bad, first_line)} "
                "is not a date in ISO 8601 form (2013-01-05 or 2013-01-05 10:30). Fix the value, or convert the "
                "column with pandas.to_datetime."
            )
        dates = pd.DatetimeIndex(parsed)
    else:
        raise TypeError(f"{what} column {name!r} must hold dates, as in training, but has dtype {series.dtype}. "
                        "Pass dates (pandas.to_datetime) or ISO 8601 text such as 2013-01-05.")
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    return dates.as_unit("us")


def date_features(dates: pd.DatetimeIndex, *, name: str, parts: Sequence[str]) -> dict[str, np.ndarray]:
    """What the models see of date column ``name``: its days since 1970 under its own name, then its ``parts``
    (of :data:`DATE_PARTS`) as ``name.part``."""
    ticks = dates.asi8.astype("float64")
    ticks[np.asarray(dates.isna())] = np.nan
    features = {name: ticks / _MICROSECONDS_PER_DAY}
    for part in parts:
        features[f"{name}.{part}"] = np.asarray(getattr(dates, part), dtype="float64")
    return features


def where_in_file(position: int, first_line: int | None) -> str:
    """Where row ``position`` (from 0) of a table is: ``at row 5``, or ``on line 7`` of a text file whose first
    row is on ``first_line``."""
    return f"at row {position}" if first_line is None else f"on line {position + first_line}"


def count_rows(count: int) -> str:
    """``1 row``, ``2 rows``."""
    return "1 row" if count == 1 else f"{count} rows"


def date_columns(frame: pd.DataFrame, *, sample: int = 200) -> dict[str, str]:
    """Text columns whose values read as dates: ``{column: an example value}``.

    Such a column is a categorical with a level per date, which ignores their order and cannot
    extrapolate, unless it is in ISO 8601 form (which :func:`automl_pl.data.column_kind` reads as dates);
    :func:`automl_pl.tune` warns about the others instead of guessing which number is the day.
    """
    found = {}
    for name in frame.columns:
        series = frame[name]
        if not is_text(series):
            continue
        values = series.dropna()
        values = values.iloc[:sample].astype(str)
        if len(values) and values.str.match(DATE_PATTERN).mean() >= 0.9:
            found[str(name)] = str(values.iloc[0])
    return found
