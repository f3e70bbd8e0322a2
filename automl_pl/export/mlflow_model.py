"""An MLflow ``pyfunc`` model that wraps an automl_pl artifact directory.

Why a custom :class:`mlflow.pyfunc.PythonModel` and not MLflow's own flavours: the final model is a
weighted ensemble of fold models from up to four libraries, each behind automl_pl's input check and
categorical normalisation (:class:`~automl_pl.data.FeatureSchema`); no single flavour holds that. The
wrapper is saved as *models from code* (:mod:`automl_pl.export._mlflow_pyfunc`), so the MLflow model
holds no pickle at all (MLflow 3 refuses to unpickle a model unless told to), and the estimators stay
in the artifact, copied under ``artifacts/automl_pl_model/`` with its hashes, which
:func:`automl_pl.load_model` checks when MLflow loads the model. The price: the serving environment
needs automl_pl installed (``requirements.txt`` says so).

The input is checked by automl_pl, as :func:`automl_pl.load_model`'s ``predict`` checks it (columns
by name, numbers where training had numbers, any unseen category allowed), not by an MLflow column
signature: MLflow's would refuse whole numbers in a column of floats, which JSON requests send all the time.
``mlflow models serve`` accepts ``dataframe_split`` and ``dataframe_records`` JSON and answers
``{"predictions": [...]}``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from automl_pl._version import __version__
from automl_pl.artifact import ArtifactError, load_model
from automl_pl.export import require

ARTIFACT_KEY = "automl_pl_model"
"""The name under which the MLflow model lists the automl_pl artifact directory."""
CODE_FILE = Path(__file__).with_name("_mlflow_pyfunc.py")
"""The model's code, which MLflow copies into the model and runs to load it."""
MARKER = "automl_pl_artifact"
"""The key of the MLflow model's metadata that tells an MLflow model written here (safe to replace)."""


def save_mlflow_model(artifact: str | os.PathLike, path: str | os.PathLike, *,
                      pip_requirements: list[str] | None = None) -> Path:
    """Write an MLflow model directory at ``path`` that predicts with the automl_pl artifact at ``artifact``.

    Args:
        artifact: a directory written by :meth:`automl_pl.TuneResult.export` or ``automl-pl export``.
        path: the MLflow model directory to write; an MLflow model written here before is replaced,
            anything else that exists is refused.
        pip_requirements: the serving environment's requirements; by default this automl_pl version.

    Returns:
        ``path`` as a :class:`~pathlib.Path`; ``mlflow.pyfunc.load_model(path)`` and
        ``mlflow models serve -m PATH`` load it.

    Raises:
        ImportError: MLflow is not installed (``pip install 'automl_pl[mlflow]'``).
        ArtifactError: ``artifact`` is not a valid automl_pl artifact, or ``path`` is taken.
    """
    require("mlflow", "mlflow")
    import mlflow.pyfunc

    artifact, path = Path(artifact), Path(path)
    model = load_model(artifact)  # verified now, not first when serving
    _check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        mlflow.pyfunc.save_model(
            path=staging / "model",
            python_model=str(CODE_FILE),
            artifacts={ARTIFACT_KEY: str(artifact)},
            pip_requirements=pip_requirements or [f"automl_pl=={__version__}"],
            metadata={MARKER: {"target": model.target, "family": model.metadata.get("family"),
                               "checksum": model.metadata["checksum"], "automl_pl_version": __version__}},
        )
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging / "model", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _check_replaceable(path: Path) -> None:
    if path.is_file() or path.is_symlink():
        raise ArtifactError(f"{path} is a file. Choose a directory path for the MLflow model.")
    if path.is_dir() and any(path.iterdir()) and not _is_ours(path):
        raise ArtifactError(f"{path} exists and is not an MLflow model written by automl_pl; refusing to replace it. "
                            "Choose a new or empty directory.")


def _is_ours(path: Path) -> bool:
    try:
        text = (path / "MLmodel").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return f"{MARKER}:" in text
