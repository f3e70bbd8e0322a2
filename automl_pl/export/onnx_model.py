"""The whole final model as one ONNX graph, for onnxruntime, where every member's family converts.

The graph takes one input per feature column, named as the column: ``float`` ``[N, 1]`` for numeric
columns (``NaN`` for missing), ``string`` ``[N, 1]`` for categorical ones (any value not seen in training,
``""`` say, is a missing or new category, as :mod:`automl_pl.data` treats it). It returns ``prediction``,
``float`` ``[N]``: the weighted sum of the members' predictions, as :func:`automl_pl.load_model` computes it.
Inside, categoricals become the training's category codes for the boosters (ONNX ``LabelEncoder``) or
its category strings for scikit-learn's encoders, and each member is its converter's graph:

=========================  ===============================  ==========================================
family                     converter                        converts
=========================  ===============================  ==========================================
lightgbm                   onnxmltools                      yes, categorical splits included
xgboost                    onnxmltools                      yes, categorical splits included
catboost                   CatBoost's own ONNX export       only without categorical features: CatBoost's
                                                            ONNX export refuses them
random_forest, extra_trees skl2onnx                         yes
gradient_boosting          skl2onnx                         yes
hist_gradient_boosting     skl2onnx                         no: skl2onnx 1.20 has no categorical splits for
                                                            it, and fails on any of its trees with onnx 1.23
                                                            (booleans where ONNX wants integers)
ridge, bayesian_ridge,     skl2onnx (the imputer's missing  yes
elastic_net, knn           indicators converted here)
=========================  ===============================  ==========================================

A model with a member that cannot convert raises :class:`OnnxExportError`, naming the members and why;
the automl_pl artifact (and the MLflow model) serve every family. ONNX computes in 32-bit floats where
automl_pl uses 64: predictions agree to about 1e-6 of their scale, and a value within float32 rounding
of a split threshold can take the other branch.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from automl_pl._version import __version__
from automl_pl.artifact import ArtifactError, load_model, model_entries
from automl_pl.data import MISSING_CATEGORY, FeatureSchema
from automl_pl.export import require

OPSET = 15
"""The ``ai.onnx`` opset of the graph: the newest that onnxmltools' converters support."""
ML_OPSET = 3
"""The ``ai.onnx.ml`` opset (tree ensembles with double thresholds, string label encoders)."""
OUTPUT = "prediction"
_FEATURES = "automl_pl__features"
"""The float matrix of numeric values and category codes, in schema order, that the boosters read."""


class OnnxExportError(ValueError):
    """A member of the model cannot be converted to ONNX; the message names it, says why and what to use instead."""


def save_onnx_model(artifact: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Write the automl_pl artifact at ``artifact`` as one ONNX file at ``path`` (``model.onnx``, say).

    Returns:
        ``path`` as a :class:`~pathlib.Path`; ``onnxruntime.InferenceSession(path)`` runs it.

    Raises:
        ImportError: onnx, skl2onnx, onnxmltools or onnxruntime is missing (``pip install 'automl_pl[onnx]'``).
        ArtifactError: ``artifact`` is not a valid automl_pl artifact, or ``path`` is a directory.
        OnnxExportError: a member's family cannot be converted (see the module's table).
    """
    for module in ("onnx", "skl2onnx", "onnxmltools"):
        require(module, "onnx")
    import onnx

    path = Path(path)
    if path.is_dir():
        raise ArtifactError(f"{path} is a directory. Choose a file path for the ONNX model, e.g. {path / 'model.onnx'}.")
    model = load_model(artifact)
    if offset := model.metadata.get("target_offset"):
        raise OnnxExportError(f"cannot convert this model to ONNX: its target sits at {offset:.6g}, far from zero, and "
                              "ONNX computes in 32-bit floats, which cannot hold such a number and the target's spread "
                              "at once. Serve the automl_pl artifact or its MLflow model, which add it in 64 bits.")
    proto = to_onnx(model.members, [e.get("family", "?") for e in model_entries(model.metadata)], model.schema)
    for key, value in {"automl_pl_version": __version__, "target": model.target,
                       "artifact_checksum": model.metadata["checksum"]}.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.checker.check_model(proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False) as fh:
        fh.write(proto.SerializeToString())
    os.replace(fh.name, path)
    return path


def to_onnx(members: Sequence[tuple[float, Any]], families: Sequence[str], schema: FeatureSchema):
    """One ONNX ``ModelProto`` for the weighted ``(weight, model)`` members of a loaded artifact.

    Raises:
        OnnxExportError: a member cannot be converted.
    """
    import onnx
    from onnx import TensorProto, helper

    from automl_pl.export._skl2onnx_types import unknown_to_infrequent

    if schema.dates:
        raise OnnxExportError(f"cannot convert this model to ONNX: its date columns {schema.dates} have no ONNX "
                              "type, and the calendar parts the models see are not ONNX operators. Serve the automl_pl "
                              "artifact or its MLflow model, which read dates, or tune on the dates as numbers.")
    refused, converted = [], []
    remaps = [unknown_to_infrequent(model) if type(model).__module__.startswith("sklearn.") else {}
              for _, model in members]
    for i, ((_, model), family) in enumerate(zip(members, families)):
        reason = unconvertible(model)
        if reason is None:
            try:
                converted.append(_convert(model, schema))
            except Exception as exc:  # a converter's own limits, whatever it raises: said per member, below
                reason = f"the converter failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
        if reason is not None:
            refused.append(f"member {i} ({family}): {reason}")
    if refused:
        raise OnnxExportError("cannot convert this model to ONNX: " + "; ".join(refused) + ". Choose families that "
                              "convert (automl_pl.tune(..., models=[...])), or serve the automl_pl artifact or its "
                              "MLflow model, which predict with every family.")
    inputs = [helper.make_tensor_value_info(c.name, TensorProto.FLOAT if c.kind == "numeric" else TensorProto.STRING,
                                            [None, 1]) for c in schema.columns]
    nodes, initializers, opsets, ir_version = [], [], {"": OPSET, "ai.onnx.ml": ML_OPSET}, 8
    if any(kind == "features" for kind, _ in converted):
        nodes += _features_nodes(schema)
    if any(kind == "columns" for kind, _ in converted):
        nodes += _normalise_nodes(schema)
    outputs = []
    for i, ((weight, _), (kind, sub)) in enumerate(zip(members, converted)):
        sub = onnx.compose.add_prefix(sub, prefix=f"m{i}_")
        for sub_input in sub.graph.input:
            if kind == "features":
                nodes.append(helper.make_node("Identity", [_FEATURES], [sub_input.name]))
                continue
            column = sub_input.name[len(f"m{i}_"):]
            if column in remaps[i]:  # categories this member's encoder never saw go to its infrequent column
                known, infrequent = remaps[i][column]
                nodes.append(helper.make_node("LabelEncoder", [_column_tensor(column, schema)], [sub_input.name],
                                              domain="ai.onnx.ml", keys_strings=known, values_strings=known,
                                              default_string=infrequent))
            else:
                nodes.append(helper.make_node("Identity", [_column_tensor(column, schema)], [sub_input.name]))
        nodes += sub.graph.node
        initializers += sub.graph.initializer
        for opset in sub.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
        ir_version = max(ir_version, sub.ir_version)
        flat, weighted = f"m{i}_automl_pl_flat", f"m{i}_automl_pl_weighted"
        nodes.append(helper.make_node("Reshape", [sub.graph.output[0].name, "automl_pl__flat_shape"], [flat]))
        nodes.append(helper.make_node("Mul", [flat, f"m{i}_automl_pl_weight"], [weighted]))
        initializers.append(helper.make_tensor(f"m{i}_automl_pl_weight", TensorProto.FLOAT, [], [float(weight)]))
        outputs.append(weighted)
    initializers.append(helper.make_tensor("automl_pl__flat_shape", TensorProto.INT64, [1], [-1]))
    nodes.append(helper.make_node("Sum", outputs, [OUTPUT]))
    graph = helper.make_graph(nodes, "automl_pl", inputs,
                              [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                             ir_version=ir_version, producer_name="automl_pl", producer_version=__version__)


def unconvertible(model: Any) -> str | None:
    """Why a member, as :func:`automl_pl.load_model` loads it, cannot be converted; ``None`` when it can."""
    kind = type(model).__module__.split(".")[0]
    if kind == "catboost" and model.get_cat_feature_indices():
        return "CatBoost's ONNX export does not support categorical features"
    final = model[-1] if hasattr(model, "steps") else model
    if isinstance(final, HistGradientBoostingRegressor):
        if final.is_categorical_ is not None and np.any(final.is_categorical_):
            return "skl2onnx has no categorical splits for HistGradientBoostingRegressor"
        return ("skl2onnx 1.20 fails on HistGradientBoostingRegressor with onnx 1.23 (it passes booleans where "
                "ONNX wants integers)")
    return None


def _convert(model: Any, schema: FeatureSchema) -> tuple[str, Any]:
    """``("features", proto)`` for a booster reading the feature matrix, ``("columns", proto)`` for a
    scikit-learn pipeline reading one input per column."""
    import onnx

    n_features = len(schema.columns)
    library = type(model).__module__.split(".")[0]
    if library == "lightgbm":
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType

        return "features", convert_lightgbm(model, initial_types=[("features", FloatTensorType([None, n_features]))],
                                            target_opset=OPSET, zipmap=False)
    if library == "xgboost":
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType

        model.get_booster().feature_names = None  # the converter reads features by position (f0, f1, ...)
        return "features", convert_xgboost(model, initial_types=[("features", FloatTensorType([None, n_features]))],
                                           target_opset=OPSET)
    if library == "catboost":
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "model.onnx"
            model.save_model(str(file), format="onnx")
            return "features", onnx.load(file)
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    from automl_pl.export._skl2onnx_types import convertible_copy

    initial_types = [(c.name, FloatTensorType([None, 1]) if c.kind == "numeric" else StringTensorType([None, 1]))
                     for c in schema.columns]
    return "columns", convert_sklearn(convertible_copy(copy.deepcopy(model)), initial_types=initial_types,
                                      target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET})


def _features_nodes(schema: FeatureSchema) -> list:
    """Nodes that make the boosters' feature matrix: numeric columns as they are, categoricals as codes."""
    from onnx import helper

    nodes, columns = [], []
    for c in schema.columns:
        if c.kind == "numeric":
            columns.append(c.name)
            continue
        code = f"automl_pl__code_{c.name}"
        nodes.append(helper.make_node("LabelEncoder", [c.name], [code], domain="ai.onnx.ml",
                                      keys_strings=list(c.categories), values_floats=[float(i) for i in range(len(c.categories))],
                                      default_float=float(c.categories.index(MISSING_CATEGORY))))
        columns.append(code)
    nodes.append(helper.make_node("Concat", columns, [_FEATURES], axis=1))
    return nodes


def _normalise_nodes(schema: FeatureSchema) -> list:
    """Nodes that map each categorical's unseen values to :data:`~automl_pl.data.MISSING_CATEGORY`."""
    from onnx import helper

    return [helper.make_node("LabelEncoder", [c.name], [_column_tensor(c.name, schema)], domain="ai.onnx.ml",
                             keys_strings=list(c.categories), values_strings=list(c.categories),
                             default_string=MISSING_CATEGORY)
            for c in schema.columns if c.kind == "categorical"]


def _column_tensor(name: str, schema: FeatureSchema) -> str:
    """The tensor a scikit-learn member reads for column ``name``: the input, or its normalised categories."""
    column = next(c for c in schema.columns if c.name == name)
    return name if column.kind == "numeric" else f"automl_pl__normalised_{name}"
