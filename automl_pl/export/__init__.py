"""Production formats made from an automl_pl artifact directory (see :mod:`automl_pl.artifact`).

* :func:`save_mlflow_model` (extra ``mlflow``): an MLflow ``pyfunc`` model that carries the
  artifact directory and loads it with :func:`automl_pl.load_model`; MLflow serves it.
* :func:`save_onnx_model` (extra ``onnx``): one ONNX graph, the whole ensemble, for onnxruntime,
  where every member's family converts (see :mod:`automl_pl.export.onnx_model`).

Both start from an artifact, never from a study, so each format predicts what the artifact predicts.
Their libraries are imported only when a function here is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["OnnxExportError", "save_mlflow_model", "save_onnx_model"]

if TYPE_CHECKING:
    from automl_pl.export.mlflow_model import save_mlflow_model
    from automl_pl.export.onnx_model import OnnxExportError, save_onnx_model


def __getattr__(name: str) -> Any:  # lazy: importing automl_pl.export imports neither MLflow nor ONNX
    if name == "save_mlflow_model":
        from automl_pl.export.mlflow_model import save_mlflow_model

        return save_mlflow_model
    if name in ("save_onnx_model", "OnnxExportError"):
        from automl_pl.export import onnx_model

        return getattr(onnx_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def require(module: str, extra: str) -> None:
    """Raise an ImportError that names the extra to install unless ``module`` can be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f"this export needs {module}, which is not installed: pip install 'automl_pl[{extra}]'")
