"""One fitted model in one file, in its library's own format, read back without unpickling.

XGBoost UBJSON, LightGBM text, CatBoost ``cbm``, and skops for scikit-learn pipelines,
loaded with an allow-list of exactly the types our pipelines hold. The boosters' native
parsers abort the whole process on some malformed files, so :func:`check_in_child` can
try the files in a child process first. :mod:`automl_pl.artifact` builds artifacts on these.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

FILE_NAMES = {"xgboost": "model.ubj", "lightgbm": "model.txt", "catboost": "model.cbm", "skops": "model.skops"}
"""The file each format writes."""
LIBRARIES = {"xgboost": ["xgboost"], "lightgbm": ["lightgbm"], "catboost": ["catboost"],
             "skops": ["scikit-learn", "skops"]}
"""The distributions that read each format."""
PARSE_TIMEOUT_SECONDS = 120

# Beyond skops' own defaults (scikit-learn estimators), exactly the types our pipelines hold.
# tests/test_artifact.py round-trips every skops family, so a new type here fails loudly, not silently.
SKOPS_TRUSTED_TYPES = frozenset({
    "numpy.dtype",
    "functools.partial",  # wraps check_array below; any other function it wrapped would be refused on its own
    "sklearn.utils.validation.check_array",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    # scikit-learn's ensembles, able to stop at a study's deadline; fitted, they are those estimators
    "automl_pl.models._stopping.StoppableRandomForestRegressor",
    "automl_pl.models._stopping.StoppableExtraTreesRegressor",
    "automl_pl.models._stopping.StoppableHistGradientBoostingRegressor",
    "automl_pl.models._stopping.StoppableGradientBoostingRegressor",
})


class RefusedModelFile(ValueError):
    """A model file that must not be loaded: it failed its check or holds types outside the allow-list.

    ``file`` is the file, where the error was raised for one of several.
    """

    def __init__(self, message: str, *, file: Path | None = None) -> None:
        super().__init__(message)
        self.file = file


def check_in_child(files: Sequence[tuple[str, Path]]) -> None:
    """Load each booster's file of ``(artifact_format, file)`` and predict one row, all in one child process.

    Files of other formats are skipped. One process for all files: starting it and importing
    a booster costs about a second, checking a file milliseconds (an ensemble has dozens).
    The child reports each file it has checked, so a file that makes it fail or crash is named.

    Raises:
        RefusedModelFile: a parser failed, crashed or ran over ``PARSE_TIMEOUT_SECONDS`` (its ``file`` says which).
    """
    native = [(artifact_format, Path(file)) for artifact_format, file in files if artifact_format in BOOSTER_FORMATS]
    if not native:
        return
    arguments = [str(part) for pair in native for part in pair]
    try:
        # -P: the script's folder (automl_pl/) stays off sys.path, so no module of ours shadows a library's
        child = subprocess.run([sys.executable, "-P", str(_CHILD), *arguments], capture_output=True, text=True,
                               errors="replace", timeout=PARSE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        artifact_format, file = native[_checked(stdout, len(native))]
        raise RefusedModelFile(f"the {artifact_format} parser ran over {PARSE_TIMEOUT_SECONDS} s", file=file) from None
    if child.returncode != 0:
        artifact_format, file = native[_checked(child.stdout, len(native))]
        how = f"crashed (signal {-child.returncode})" if child.returncode < 0 else "failed"
        last = (child.stderr.strip().splitlines() or [""])[-1][:300]
        detail = f": {last}" if last and child.returncode > 0 else ""
        raise RefusedModelFile(f"the {artifact_format} parser {how}{detail}", file=file)


def _checked(stdout: str, n_files: int) -> int:
    """How many files the child checked before it stopped, by its marker lines (the boosters print too)."""
    return min(stdout.splitlines().count(CHECKED_MARKER), n_files - 1)


CHECKED_MARKER = "automl_pl: checked"
"""The line the child prints after each file it checked."""
BOOSTER_FORMATS = ("xgboost", "lightgbm", "catboost")
"""The formats whose native parsers :func:`check_in_child` tries in a child process."""
_CHILD = Path(__file__).with_name("_booster_check.py")
"""The child's script, run by path so that the child imports neither automl_pl nor scikit-learn."""


def _save_xgboost(model: Any, file: Path) -> None:
    model.save_model(file)


def _save_lightgbm(model: Any, file: Path) -> None:
    model.booster_.save_model(file)


def _save_catboost(model: Any, file: Path) -> None:
    model.save_model(str(file), format="cbm")


def _save_skops(model: Any, file: Path) -> None:
    import skops.io

    skops.io.dump(model, file)


def _load_xgboost(file: Path) -> Any:
    from xgboost import XGBRegressor

    model = XGBRegressor()
    model.load_model(file)
    return model


def _load_lightgbm(file: Path) -> Any:
    import lightgbm

    return lightgbm.Booster(model_file=file)


def _load_catboost(file: Path) -> Any:
    from catboost import CatBoostRegressor

    return CatBoostRegressor().load_model(str(file), format="cbm")


def _load_skops(file: Path) -> Any:
    import skops.io

    types = skops.io.get_untrusted_types(file=file)
    refused = [t for t in types if t not in SKOPS_TRUSTED_TYPES]
    if refused:
        raise RefusedModelFile(f"{file} contains types outside the allow-list ({refused[:5]}); refusing to load it.")
    return skops.io.load(file, trusted=types)


SAVERS: dict[str, Callable[[Any, Path], None]] = {
    "xgboost": _save_xgboost, "lightgbm": _save_lightgbm, "catboost": _save_catboost, "skops": _save_skops,
}
"""``save(model, file)`` per format: the model is the pipeline's last step."""
LOADERS: dict[str, Callable[[Path], Any]] = {
    "xgboost": _load_xgboost, "lightgbm": _load_lightgbm, "catboost": _load_catboost, "skops": _load_skops,
}
"""``load(file) -> model`` per format, never unpickling."""
