"""Study specs: ``studies/*.toml`` -> validated settings and loaded DataFrames.

A spec has three tables::

    [data]                       # files, or a bundled dataset
    labeled = "train.csv"        # CSV or Parquet
    unlabeled = "test.csv"       # optional: rows to pseudo-label (often the rows to predict)
    target = "Item_Outlet_Sales"
    drop = ["Item_Identifier"]   # optional: columns that are not features (identifiers, leaks)
    # dataset = "gapminder"      # instead of files: a dataset bundled with a package
    # labeled_fraction = 0.3     # with dataset: keep this share of labels, the rest become unlabelled

    [study]
    name = "bigmart"             # default: the spec file's name
    storage = "sqlite:///bigmart.db"   # default: a SQLite file next to the spec
                                 # several processes on one machine: "journal:bigmart.log"
                                 # workers on many machines: "postgresql+psycopg://user@host/db"
    heartbeat_seconds = 10       # a trial silent for 3 heartbeats (dead worker) is failed and retried
    n_trials = 200               # the study's total
    timeout = 600                # seconds per run
    cv = 5
    cv_repeats = 3               # optional: run the K-fold this many times (default: 1, up to 3 on few rows)
    seed = 0
    models = ["lightgbm", "xgboost"]   # default: every installed family
    fixed_params = { sample_rate = 0.0 }   # optional: dimensions held at a value
    ensemble = true              # use an ensemble of the best trials when it scores better
    stacking = true              # ... or a stack layer over them, when it wins on held-out rows
    bagging = true               # final model: the mean of the fold models (false: refit on all rows)
    portfolio = "default"        # configurations run first: "default", "none" or a portfolio JSON file
    teacher_round = false        # after the trials, the final model teaches its members once more

    [export]
    dir = "../models/bigmart"    # optional: where `run` exports the best model

Relative paths (data files, a SQLite file, the export directory) are relative to the
spec file; data files are looked up in ``--data-dir`` instead when it is given.
"""

from __future__ import annotations

import csv
import tomllib
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from automl_pl.column_values import count_rows, where_in_file
from automl_pl.data import FeatureSchema
from automl_pl.datasets import hide_labels, load_dataset
from automl_pl.storage import HEARTBEAT_SECONDS, JOURNAL_SCHEME, journal_path


class SpecError(ValueError):
    """A study spec is missing, malformed or names data that cannot be read."""


_KEYS = {
    "data": {"labeled", "unlabeled", "target", "drop", "dataset", "labeled_fraction"},
    "study": {"name", "storage", "heartbeat_seconds", "n_trials", "timeout", "cv", "cv_repeats", "seed", "models", "fixed_params", "ensemble",
              "bagging", "stacking", "portfolio", "teacher_round"},
    "export": {"dir"},
}


@dataclass(frozen=True)
class StudySpec:
    """A validated study spec; paths are resolved."""

    path: Path
    study_name: str
    storage: str
    heartbeat_seconds: int = HEARTBEAT_SECONDS
    target: str | None = None
    labeled: Path | None = None
    unlabeled: Path | None = None
    drop: tuple[str, ...] = ()
    dataset: str | None = None
    labeled_fraction: float = 1.0
    n_trials: int | None = 100
    timeout: float | None = None
    cv: int = 5
    cv_repeats: int | None = None
    seed: int = 0
    models: tuple[str, ...] | None = None
    fixed_params: dict[str, Any] | None = None
    ensemble: bool = True
    bagging: bool = True
    stacking: bool = True
    portfolio: str | Path | None = "default"
    teacher_round: bool = False
    export_dir: Path | None = None


def load_spec(path: str | Path, *, data_dir: str | Path | None = None) -> StudySpec:
    """Read and validate the spec at ``path``.

    Args:
        path: the TOML file.
        data_dir: where to find the data files named in the spec, instead of the spec's folder.

    Raises:
        SpecError: the file is missing or malformed; the message names the key and the fix.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"no study spec at {path}. Check the path (specs live in studies/).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the study spec {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from None
    for table, value in raw.items():
        if table not in _KEYS:
            raise SpecError(f"{path}: unknown table [{table}]. Valid tables: {', '.join(f'[{t}]' for t in _KEYS)}.")
        if not isinstance(value, dict):
            raise SpecError(f"{path}: {table} must be a table ([{table}]), not a value.")
        unknown = set(value) - _KEYS[table]
        if unknown:
            raise SpecError(f"{path}: unknown key(s) {sorted(unknown)} in [{table}]. Valid keys: {sorted(_KEYS[table])}.")
    data, study, export = raw.get("data", {}), raw.get("study", {}), raw.get("export", {})
    here = path.resolve().parent
    data_root = Path(data_dir).resolve() if data_dir is not None else here

    def get(table: dict, key: str, kinds: type | tuple[type, ...], default: Any = None) -> Any:
        value = table.get(key, default)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool) and bool not in _tuple(kinds)):
            names = " or ".join(k.__name__ for k in _tuple(kinds))
            raise SpecError(f"{path}: {key} must be {names}, got {value!r}.")
        return value

    dataset = get(data, "dataset", str)
    labeled = get(data, "labeled", str)
    if (dataset is None) == (labeled is None):
        raise SpecError(f"{path}: [data] needs either labeled = \"file.csv\" (with target) or dataset = \"name\", not both or neither.")
    target = get(data, "target", str)
    if labeled is not None and target is None:
        raise SpecError(f"{path}: [data] needs target = \"column\": the column to predict.")
    drop = get(data, "drop", list, [])
    models = get(study, "models", list)
    if not all(isinstance(c, str) for c in drop) or (models is not None and not all(isinstance(m, str) for m in models)):
        raise SpecError(f"{path}: drop and models must be lists of strings.")
    if target is not None and target in drop:
        raise SpecError(f"{path}: drop lists the target {target!r}, which cannot be dropped: it is the column the "
                        f"study learns to predict. Remove {target!r} from drop.")
    fraction = get(data, "labeled_fraction", (int, float), 1.0)
    if not 0 < fraction <= 1:
        raise SpecError(f"{path}: labeled_fraction must be in (0, 1], got {fraction!r}.")
    n_trials = get(study, "n_trials", int, 100)
    timeout = get(study, "timeout", (int, float))
    cv = get(study, "cv", int, 5)
    cv_repeats = get(study, "cv_repeats", int)
    seed = get(study, "seed", int, 0)
    heartbeat = get(study, "heartbeat_seconds", int, HEARTBEAT_SECONDS)
    if (n_trials is not None and n_trials < 0 or timeout is not None and timeout <= 0 or cv < 2 or heartbeat < 1
            or cv_repeats is not None and cv_repeats < 1):
        raise SpecError(f"{path}: n_trials must be >= 0, timeout > 0, cv >= 2, cv_repeats >= 1 and heartbeat_seconds >= 1.")
    export_dir = get(export, "dir", str)
    unlabeled = get(data, "unlabeled", str)
    fixed_params = get(study, "fixed_params", dict)
    return StudySpec(
        path=path,
        study_name=get(study, "name", str, path.stem),
        storage=_resolve_storage(get(study, "storage", str), here, path.stem),
        heartbeat_seconds=heartbeat,
        target=target,
        labeled=None if labeled is None else data_root / labeled,
        unlabeled=None if unlabeled is None else data_root / unlabeled,
        drop=tuple(drop),
        dataset=dataset,
        labeled_fraction=float(fraction),
        n_trials=n_trials,
        timeout=None if timeout is None else float(timeout),
        cv=cv,
        cv_repeats=cv_repeats,
        seed=seed,
        models=None if models is None else tuple(models),
        fixed_params=fixed_params,
        ensemble=get(study, "ensemble", bool, True),
        bagging=get(study, "bagging", bool, True),
        stacking=get(study, "stacking", bool, True),
        portfolio=_portfolio(get(study, "portfolio", str, "default"), here=here, path=path),
        teacher_round=get(study, "teacher_round", bool, False),
        export_dir=None if export_dir is None else (here / export_dir).resolve(),
    )


def _portfolio(value: str, *, here: Path, path: Path) -> str | Path | None:
    """A spec's ``portfolio``: ``"default"``, ``None`` for ``"none"``, or the path of a portfolio JSON file."""
    if value in ("default", "none"):
        return None if value == "none" else value
    file = (here / value).resolve()
    if not file.is_file():
        raise SpecError(f"{path}: [study] portfolio = {value!r} is neither \"default\", \"none\" nor a file "
                        f"({file} does not exist). Write one with benchmarks/portfolio.py choose --out FILE.")
    return file


def load_data(spec: StudySpec) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
    """The spec's ``(X, y, X_unlabeled)``, with dropped columns removed.

    The files are checked here, so that what is wrong is said in terms of files and columns
    (``train.csv``, not ``X``). Target values found in the unlabelled file are ignored, with a warning.

    Raises:
        SpecError: a file is missing, unreadable or empty, a named column is absent, target values
            are missing or text, a numeric feature holds infinity, or the unlabelled file's columns or
            kinds differ from the labelled file's.
    """
    if spec.dataset is not None:
        try:
            X, y = load_dataset(spec.dataset)
        except ValueError as exc:
            raise SpecError(f"{spec.path}: {exc}") from None
        X = _drop(X, spec.drop, source=f"dataset {spec.dataset!r}")
        return hide_labels(X, y, labeled_fraction=spec.labeled_fraction, random_state=spec.seed)
    labeled = read_table(spec.labeled)
    if spec.target not in labeled.columns:
        raise SpecError(
            f"target column {spec.target!r} is not in {spec.labeled}. Its columns: {list(labeled.columns)}. Fix target in {spec.path}."
        )
    if len(labeled) == 0:
        raise SpecError(f"{spec.labeled} has no rows, only a header. It must hold the labelled rows.")
    y = labeled[spec.target]
    _check_target_present(y, spec.labeled, spec)
    X = _drop(labeled.drop(columns=spec.target), spec.drop, source=str(spec.labeled))
    schema = FeatureSchema.infer(X)
    try:
        schema.check(X, what=str(spec.labeled), first_line=first_line(spec.labeled))  # infinity, in file terms
    except (TypeError, ValueError) as exc:
        raise SpecError(str(exc)) from None
    X_unlabeled = None
    if spec.unlabeled is not None:
        unlabeled = read_table(spec.unlabeled)
        if spec.target in unlabeled.columns and (known := int(unlabeled[spec.target].notna().sum())):
            warnings.warn(f"{spec.unlabeled} has {known} values of the target {spec.target!r}: they are ignored, "
                          f"its rows are used as unlabelled. Move rows whose target is known to {spec.labeled.name} "
                          "to learn from them.", UserWarning, stacklevel=2)
        unlabeled = unlabeled.drop(columns=[c for c in (spec.target, *spec.drop) if c in unlabeled.columns])
        if len(unlabeled):
            try:
                schema.check(unlabeled, what=str(spec.unlabeled), first_line=first_line(spec.unlabeled))
            except (TypeError, ValueError) as exc:
                raise SpecError(str(exc).replace("the training features", f"the features of {spec.labeled.name}")) \
                    from None
        X_unlabeled = unlabeled
    return X, y, X_unlabeled


def _check_target_present(y: pd.Series, file: Path, spec: StudySpec) -> None:
    """Raise a SpecError naming the file's lines where the target is text, or numeric but missing or infinite."""
    line = first_line(file)
    if pd.api.types.is_bool_dtype(y):
        return  # the tool's own check decides
    if not pd.api.types.is_numeric_dtype(y):
        text = (pd.to_numeric(y, errors="coerce").isna() & y.notna()).to_numpy()
        if text.any():  # "1,234.5", "12 kg": what a spreadsheet exports
            first = int(np.argmax(text))
            raise SpecError(
                f"{file}: the target {spec.target!r} must be numeric, but {count_rows(int(text.sum()))} hold text "
                f"such as {y.iloc[first]!r} (first {where_in_file(first, line)}). Write plain numbers (no thousands "
                f"separators or units), or fix target in {spec.path.name}."
            )
        return
    bad = ~np.isfinite(y.to_numpy(dtype="float64", na_value=np.nan))
    if bad.any():
        raise SpecError(
            f"{file}: the target {spec.target!r} is missing or infinite in {count_rows(int(bad.sum()))} "
            f"(first {where_in_file(int(np.argmax(bad)), line)}). "
            f"Drop those rows, or move them to the unlabelled file (unlabeled in {spec.path.name}), "
            "whose rows are pseudo-labelled."
        )


def first_line(path: Path) -> int | None:
    """The line of a CSV file that its first row is on (after the header), so that errors name lines;
    ``None`` for Parquet, whose rows are named by position."""
    return 2 if path.suffix.lower() == ".csv" else None


TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
"""The file types read and written: CSV, and Parquet under either suffix."""


def read_table(path: Path, *, missing_hint: str = "Check the path in the spec, or pass --data-dir DIR.",
               what: str = "data file") -> pd.DataFrame:
    """Read a CSV or Parquet file, with an error that names the file and the fix.

    A CSV header that names a column twice is refused (pandas would rename the second ``name.1``).
    """
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise SpecError(f"{path}: unsupported file type {suffix or '(none)'}. Use a .csv or .parquet file.")
    if not path.is_file():
        raise SpecError(f"{what} {path} does not exist. {missing_hint}")
    try:
        if suffix == ".csv":
            _check_csv_header(path)
        frame = pd.read_parquet(path) if suffix in (".parquet", ".pq") else pd.read_csv(path)
    except SpecError:
        raise
    except UnicodeDecodeError as exc:
        raise SpecError(f"cannot read {path}: it is not UTF-8 text (byte {exc.object[exc.start]:#04x} at position "
                        f"{exc.start}). Save it as UTF-8 (in Excel: CSV UTF-8), or convert it, e.g. "
                        "iconv -f latin1 -t utf-8 OLD.csv > NEW.csv.") from None
    except Exception as exc:  # pandas raises many types for unreadable files
        raise SpecError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    if suffix == ".csv" and frame.shape[1] == 1 and (separator := _other_separator(str(frame.columns[0]))):
        raise SpecError(f"{path} reads as one column, {frame.columns[0]!r}: its fields are separated by "
                        f"{separator!r}, and automl-pl reads comma-separated files. Save it with commas "
                        "(in Excel: CSV UTF-8, comma delimited), or as Parquet.")
    return frame


def _other_separator(header: str) -> str | None:
    """The separator a one-column CSV header seems to use instead of commas (``;``, tab, ``|``), if any."""
    return next((s for s in (";", "\t", "|") if s in header), None)


def _check_csv_header(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file), [])
    twice = [name for name, count in Counter(header).items() if count > 1]
    if twice:
        raise SpecError(f"{path}: the header names column {twice[0]!r} {Counter(header)[twice[0]]} times. "
                        "Rename or remove the duplicates: every column needs its own name.")


def _drop(frame: pd.DataFrame, columns: tuple[str, ...], *, source: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecError(f"drop names columns {missing} that {source} does not have. Its columns: {list(frame.columns)}.")
    return frame.drop(columns=list(columns))


def _resolve_storage(storage: str | None, here: Path, stem: str) -> str:
    if storage is None:
        return f"sqlite:///{here / f'{stem}.db'}"
    if (journal := journal_path(storage)) is not None:
        return f"{JOURNAL_SCHEME}{here / journal}"  # an absolute journal path stays as it is
    try:
        url = make_url(storage)
    except Exception:
        raise SpecError(f"storage {storage!r} is not a database URL, e.g. sqlite:///x.db, journal:x.log "
                        "or postgresql+psycopg://host/db") from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" and not Path(url.database).is_absolute():
        return url.set(database=str(here / url.database)).render_as_string(hide_password=False)
    return storage


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)
