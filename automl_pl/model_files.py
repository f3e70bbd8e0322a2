"""One fitted model in one file, in its library's own format, read back without unpickling.

XGBoost UBJSON, LightGBM text, CatBoost ``cbm``, and skops for scikit-learn pipelines,
loaded with an allow-list of exactly the types our pipelines hold. The boosters' native
parsers abort the whole process on some malformed files, so :func:`check_in_child` can
try a file in a child process first. :mod:`automl_pl.artifact` builds artifacts on these.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
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
})


class RefusedModelFile(ValueError):
    """A model file that must not be loaded: it failed its check or holds types outside the allow-list."""


def check_in_child(artifact_format: str, file: Path) -> None:
    """For a booster's file, load it and predict one row in a child process; nothing for other formats.

    Raises:
        RefusedModelFile: the parser failed, crashed or ran over ``PARSE_TIMEOUT_SECONDS``.
    """
    if artifact_format not in _PARSE_CHECKS:
        return
    try:
        child = subprocess.run([sys.executable, "-c", _PARSE_CHECKS[artifact_format], str(file)], capture_output=True,
                               text=True, errors="replace", timeout=PARSE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RefusedModelFile(f"its parser ran over {PARSE_TIMEOUT_SECONDS} s") from None
    if child.returncode != 0:
        how = f"crashed (signal {-child.returncode})" if child.returncode < 0 else "failed"
        last = (child.stderr.strip().splitlines() or [""])[-1][:300]
        detail = f": {last}" if last and child.returncode > 0 else ""
        raise RefusedModelFile(f"the {artifact_format} parser {how}{detail}")


_PARSE_CHECKS = {  # only the booster is imported: the check costs about a second
    "xgboost": "import sys, numpy, xgboost; b = xgboost.Booster(); b.load_model(sys.argv[1]); "
               "b.inplace_predict(numpy.zeros((1, b.num_features())))",
    "lightgbm": "import sys, numpy, lightgbm; b = lightgbm.Booster(model_file=sys.argv[1]); "
                "b.predict(numpy.zeros((1, b.num_feature())))",
    "catboost": "import sys, catboost; catboost.CatBoost().load_model(sys.argv[1], format='cbm')",
}


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
