"""Export a fitted model as a directory that loads without unpickling, and load it back.

An artifact directory holds:

* each model of the weighted ensemble (one or more) in its library's own format:
  XGBoost UBJSON (``member0_model.ubj``), LightGBM text (``.txt``), CatBoost ``.cbm``,
  or skops (``.skops``) for scikit-learn pipelines (see :mod:`automl_pl.model_files`);
* ``metadata.json``: family, parameters, scores, rows used, the feature schema
  (names, kinds, categories), library versions, the study and trial, the SHA-256
  of every other file, and a checksum of the metadata itself; ``members`` lists
  each model's file, weight, family and parameters.

Artifacts of format 1 (one ``model.<ext>``, named at the top of ``metadata.json``) are still read.

It is written to a temporary sibling directory and renamed into place, so a crash
never leaves a half-written artifact. This module takes a fitted estimator and
plain metadata; it never reaches into a study.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from automl_pl import model_files
from automl_pl._files import default_mode
from automl_pl._version import __version__
from automl_pl.data import FeatureSchema
from automl_pl.threads import ModelThreads, usable_cores

FORMAT = "automl_pl.model"
FORMAT_VERSION = 3
"""The newest artifact format this version reads and writes. Format 1 (one model file, its format and name at
the top of ``metadata.json``) is still read; format 2 lists the models under ``members``, one or more; format 3
adds ``target_offset``, added to every prediction (a target far from zero, see
:func:`automl_pl.data.target_offset`). A model without an offset is written as format 2, which automl_pl
versions before format 3 read too."""
FORMAT_VERSION_WITHOUT_OFFSET = 2
ENSEMBLE = "ensemble"
METADATA_FILE = "metadata.json"


class ArtifactError(ValueError):
    """An artifact directory cannot be written or read; the message says why and what to do."""


class ExportedModel:
    """A model loaded by :func:`load_model`: checks its input, then predicts.

    Attributes:
        metadata: the parsed ``metadata.json``.
        schema: the feature schema the model was fitted on.
    """

    def __init__(self, members: Sequence[tuple[float, Any]], schema: FeatureSchema, metadata: Mapping[str, Any]) -> None:
        self._members = list(members)
        self._threads = ModelThreads(usable_cores())
        self._thread_pools = ThreadpoolController()  # made once: threadpool_limits() would scan the libraries per call
        self.schema = schema
        self.metadata = dict(metadata)

    @property
    def feature_names_in_(self) -> list[str]:
        return self.schema.names

    @property
    def members(self) -> list[tuple[float, Any]]:
        """``(weight, model)`` per model, in the order of ``metadata["members"]``: each model as its
        library loaded it (a booster, or a scikit-learn pipeline fed normalised frames; see
        :mod:`automl_pl.data`). For converters to other formats (:mod:`automl_pl.export`)."""
        return list(self._members)

    @property
    def target(self) -> str:
        return self.metadata.get("target", "prediction")

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict for the rows of ``X``, which must have the training columns and kinds.

        Columns listed as ``ignored_columns`` at export (identifiers, say) are dropped first. Column names
        that are not strings (``0, 1, 2``) are read as their strings, as :class:`~automl_pl.AutoPLRegressor`
        named them when it was fitted, so that the frame the estimator predicts on, its export reads too.

        Raises:
            ValueError: columns are missing or unexpected.
            TypeError: ``X`` is not a DataFrame, or a numeric column holds non-numbers.
        """
        if isinstance(X, pd.DataFrame):
            if not all(isinstance(c, str) for c in X.columns):
                X = X.set_axis([str(c) for c in X.columns], axis=1)
            X = X.drop(columns=[c for c in self.metadata.get("ignored_columns", []) if c in X.columns])
        X = self.schema.transform(X, what="prediction input")
        if len(X) == 0:
            return np.empty(0)
        with self._thread_pools.limit(limits=self._threads.now()):  # fewer threads while the machine is busy
            predicted = sum(w * np.asarray(model.predict(X), dtype="float64").ravel() for w, model in self._members)
        return predicted + float(self.metadata.get("target_offset", 0.0))

    def __repr__(self) -> str:
        return f"ExportedModel(family={self.metadata.get('family')!r}, target={self.target!r}, features={len(self.schema.names)})"


def export_ensemble(members: Sequence[tuple[Any, str, float, Mapping[str, Any]]], path: str | os.PathLike, *,
                    metadata: Mapping[str, Any]) -> Path:
    """Write a weighted ensemble of fitted models (one or more) to the directory ``path``.

    Args:
        members: ``(estimator, artifact_format, weight, member metadata)`` per member, all with the
            same feature schema. Each estimator is a fitted :class:`~automl_pl.PseudoLabelRegressor`
            or its student: a pipeline whose first step is a fitted :class:`~automl_pl.data.FrameEncoder`
            and whose last step is the family's model (frozen or not).
        path: the directory to write. An existing automl_pl artifact there is replaced; any other
            existing, non-empty directory or file is left alone and refused.
        metadata: what describes the whole ensemble.

    ``load_model`` predicts the weighted sum of the members' predictions.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ArtifactError: ``path`` is taken by something else or cannot be written.
    """
    if not members:
        raise ValueError("an ensemble needs at least one member")
    models, entries = [], []
    for i, (estimator, artifact_format, weight, member_metadata) in enumerate(members):
        model_file = f"member{i}_{_model_file(artifact_format)}"
        models.append((estimator, artifact_format, model_file))
        entries.append({**member_metadata, "weight": float(weight), "artifact_format": artifact_format,
                        "model_file": model_file})
    return _write(path, models, {**metadata, "artifact_format": ENSEMBLE, "members": entries})


def _model_file(artifact_format: str) -> str:
    if artifact_format not in model_files.FILE_NAMES:
        raise ValueError(f"unknown artifact format {artifact_format!r}; valid: {sorted(model_files.FILE_NAMES)}")
    return model_files.FILE_NAMES[artifact_format]


def _write(path: str | os.PathLike, models: Sequence[tuple[Any, str, str]], metadata: Mapping[str, Any]) -> Path:
    """Stage ``(estimator, artifact_format, file name)`` models and ``metadata.json`` beside ``path``, then swap them in."""
    models = [(_student(estimator), artifact_format, model_file) for estimator, artifact_format, model_file in models]
    for student, _, _ in models:
        check_is_fitted(student)
    schema: FeatureSchema = models[0][0][0].schema_
    path = Path(path)
    _check_replaceable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise ArtifactError(f"cannot write the model to {path}: {exc.strerror or exc}. Choose a writable directory.") from None
    try:
        for student, artifact_format, model_file in models:
            model_files.SAVERS[artifact_format](student[-1], staging / model_file)
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION if metadata.get("target_offset") else FORMAT_VERSION_WITHOUT_OFFSET,
            "automl_pl_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **metadata,
            "schema": schema.to_dict(),
            "versions": _versions([fmt for _, fmt, _ in models]),
            "files": {model_file: _sha256(staging / model_file) for _, _, model_file in models},
        }
        document["checksum"] = _checksum(document)
        with open(staging / METADATA_FILE, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(staging, default_mode(directory=True))  # mkdtemp made it private
        _swap_into_place(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def load_model(path: str | os.PathLike, *, isolate_parser: bool = True) -> ExportedModel:
    """Load an artifact written by ``export``: verify it, then load the model without unpickling.

    Warns when the library that reads the model file differs in version from the one that wrote it.

    The SHA-256 hashes catch accidental damage. Someone who changes a booster's model file on
    purpose can recompute them, and the boosters' native parsers abort the whole process on
    some malformed files; so with ``isolate_parser`` (the default) the boosters' files are first
    loaded and asked for one prediction in a child process
    (:func:`automl_pl.model_files.check_in_child`), and a parser that fails or crashes
    there becomes an ArtifactError here.
    That costs one short-lived process per load (about a second); pass ``False`` for files you trust.

    Raises:
        ArtifactError: the directory is missing, foreign, tampered with, truncated, or from a
            newer automl_pl; the message says which.
    """
    path = Path(path)
    metadata = read_metadata(path)
    for name, digest in metadata["files"].items():
        if _sha256(path / name) != digest:
            raise ArtifactError(f"{path / name} was changed after export (SHA-256 mismatch). Re-export the model.")
    try:
        schema = FeatureSchema.from_dict(metadata["schema"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{path / METADATA_FILE} has a malformed feature schema ({exc}). Re-export the model.") from None
    _warn_on_version_change(metadata)
    entries = model_entries(metadata)
    if isolate_parser:
        try:
            model_files.check_in_child([(e["artifact_format"], path / e["model_file"]) for e in entries
                                        if isinstance(e.get("model_file"), str)])
        except model_files.RefusedModelFile as exc:
            raise ArtifactError(f"cannot read the model file {exc.file}: {exc}. Re-export the model.") from None
    members = []
    for entry in entries:
        artifact_format, file = entry["artifact_format"], path / entry["model_file"]
        try:
            members.append((float(entry["weight"]), model_files.LOADERS[artifact_format](file)))
        except model_files.RefusedModelFile as exc:
            raise ArtifactError(f"cannot read the model file {file}: {exc}. Re-export the model.") from None
        except Exception as exc:
            raise ArtifactError(f"cannot read the model file {file}: {exc}. Re-export the model.") from None
    return ExportedModel(members, schema, metadata)


def model_entries(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{"artifact_format", "model_file", "weight"}`` of each model in an artifact: one, or an ensemble's members."""
    if metadata.get("artifact_format") != ENSEMBLE:
        return [{"artifact_format": metadata.get("artifact_format"), "model_file": metadata.get("model_file"),
                 "weight": 1.0}]
    members = metadata.get("members")
    return [dict(m) for m in members] if isinstance(members, list) and all(isinstance(m, dict) for m in members) else []


def read_metadata(path: Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` of the artifact at ``path`` (hashes of other files not yet)."""
    if not path.is_dir():
        raise ArtifactError(f"{path} is not a directory. Pass the directory that export wrote.")
    try:
        raw = (path / METADATA_FILE).read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{path} has no {METADATA_FILE}: it is not an automl_pl model directory.") from None
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArtifactError(f"{path / METADATA_FILE} is not valid JSON (truncated or corrupted). Re-export the model.") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ArtifactError(f"{path} is not an automl_pl model directory ({METADATA_FILE} has no format {FORMAT!r}).")
    format_version = metadata.get("format_version")
    if not isinstance(format_version, int) or isinstance(format_version, bool):
        raise ArtifactError(f"{path / METADATA_FILE} has no valid format_version. Re-export the model.")
    if format_version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path} was written by a newer automl_pl ({metadata.get('automl_pl_version', '?')}, artifact format "
            f"{format_version}); this is automl_pl {__version__}, which reads format {FORMAT_VERSION}. "
            "Upgrade: pip install -U automl_pl."
        )
    if metadata.get("checksum") != _checksum(metadata):
        raise ArtifactError(f"{path / METADATA_FILE} was changed after export (checksum mismatch). Re-export the model.")
    files = metadata.get("files")
    entries = model_entries(metadata)
    if (not entries or not isinstance(files, dict)
            or not all(isinstance(n, str) and isinstance(d, str) and _is_plain_name(n) for n, d in files.items())
            or not all(e.get("artifact_format") in model_files.LOADERS and isinstance(e.get("model_file"), str)
                       and e["model_file"] in files and _is_weight(e.get("weight")) for e in entries)):
        raise ArtifactError(f"{path / METADATA_FILE} does not describe a readable model. Re-export the model.")
    for name in files:
        if not (path / name).is_file():
            raise ArtifactError(f"{path / name} is missing: the artifact is incomplete. Re-export the model.")
    return metadata


def is_artifact(path: Path) -> bool:
    """Whether ``path`` looks like an automl_pl artifact directory (safe to replace)."""
    try:
        metadata = json.loads((path / METADATA_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(metadata, dict) and metadata.get("format") == FORMAT


def check_export_target(path: str | os.PathLike) -> Path:
    """Check, before any work, that an artifact could be written to ``path``; return it as a Path.

    Creates nothing: the first existing folder on the way must be writable.

    Raises:
        ArtifactError: ``path`` is taken by something else, or its folder cannot be written.
    """
    path = Path(path)
    _check_replaceable(path)
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ArtifactError(f"cannot write the model to {path}: {existing} is not a directory. Choose a writable directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ArtifactError(f"cannot write the model to {path}: {existing} is not writable. Choose a writable directory.")
    return path


def _student(estimator: Any) -> Any:
    """The fitted pipeline that predicts: frozen or not, a PseudoLabelRegressor's student, or the pipeline itself."""
    if isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator.estimator_ if hasattr(estimator, "estimator_") else estimator


def _check_replaceable(path: Path) -> None:
    if path.is_file() or path.is_symlink():
        raise ArtifactError(f"{path} is a file. Choose a directory path for the model.")
    if path.is_dir() and any(path.iterdir()) and not is_artifact(path):
        raise ArtifactError(
            f"{path} exists and is not an automl_pl model directory; refusing to replace it. "
            "Choose a new or empty directory."
        )


def _swap_into_place(staging: Path, path: Path) -> None:
    """Rename ``staging`` to ``path``; an old artifact there is moved aside first, then removed."""
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / "artifact")
    os.replace(staging, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _checksum(metadata: Mapping[str, Any]) -> str:
    body = {k: v for k, v in metadata.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_weight(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < float("inf")


def _is_plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _versions(artifact_formats: Sequence[str]) -> dict[str, str]:
    names = ["numpy", "pandas", "scikit-learn", *(n for f in artifact_formats for n in model_files.LIBRARIES[f])]
    found = {"python": platform.python_version()}
    for name in dict.fromkeys(names):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _warn_on_version_change(metadata: Mapping[str, Any]) -> None:
    recorded = metadata.get("versions", {})
    for name in dict.fromkeys(n for e in model_entries(metadata) for n in model_files.LIBRARIES[e["artifact_format"]]):
        try:
            installed = version(name)
        except PackageNotFoundError:
            raise ArtifactError(f"this model needs {name}, which is not installed: pip install {name}") from None
        if name in recorded and recorded[name] != installed:
            warnings.warn(
                f"the model was written with {name} {recorded[name]} and is read with {name} {installed}; "
                "predictions may differ slightly. Re-export with the installed version to be sure.",
                UserWarning,
                stacklevel=3,
            )
