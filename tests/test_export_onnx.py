"""ONNX export: the graph, run by onnxruntime in a fresh process, predicts what the automl_pl artifact predicts.

The child process imports onnxruntime, pandas and numpy only, and builds its inputs from the graph's own
description (one input per column, strings for categoricals), as a service without automl_pl would.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: pip install 'automl_pl[onnx]'")
pytest.importorskip("skl2onnx", reason="the onnx extra is not installed: pip install 'automl_pl[onnx]'")
pytest.importorskip("onnxmltools", reason="the onnx extra is not installed: pip install 'automl_pl[onnx]'")

from automl_pl import PseudoLabelRegressor, load_model, tune  # noqa: E402
from automl_pl.artifact import export_ensemble  # noqa: E402
from automl_pl.data import FeatureSchema  # noqa: E402
from automl_pl.export import OnnxExportError, save_onnx_model  # noqa: E402
from automl_pl.models import FAMILIES, build_model  # noqa: E402
from automl_pl.models._base import final_estimator, starting_params, tree_count  # noqa: E402

CONVERTIBLE = ["xgboost", "lightgbm", "gradient_boosting", "random_forest", "extra_trees", "ridge", "bayesian_ridge",
               "elastic_net", "knn"]
SIZE_PARAMS = ("n_estimators", "iterations", "max_iter")

CHILD = """
import sys, json
import numpy as np, onnxruntime as ort, pandas as pd
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
frame = pd.read_parquet(sys.argv[2])
feeds = {}
for i in session.get_inputs():
    column = frame[i.name]
    if i.type == "tensor(string)":  # missing: "" (any value unseen in training is a missing category)
        feeds[i.name] = column.astype(object).where(column.notna(), "").astype(str).to_numpy(object).reshape(-1, 1)
    else:
        feeds[i.name] = column.to_numpy("float32", na_value=np.nan).reshape(-1, 1)
print(json.dumps(session.run(["prediction"], feeds)[0].astype(float).tolist()))
"""


def _predict_in_fresh_process(onnx_file, frame, tmp_path):
    rows = tmp_path / "rows.parquet"
    frame.to_parquet(rows)
    child = subprocess.run([sys.executable, "-c", CHILD, str(onnx_file), str(rows)], capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 0, child.stderr
    return np.array(json.loads(child.stdout.strip().splitlines()[-1]))


def _artifact(names, X, y, X_unlabeled, path, *, weights=None):
    """An artifact of one fitted model per family in ``names``, with the families' starting (or first) parameters."""
    import optuna

    schema = FeatureSchema.infer(X, X_unlabeled)
    members = []
    for name, weight in zip(names, weights or [1.0] * len(names)):
        family = FAMILIES[name]
        params = starting_params(family, len(X))
        if params is None:
            params = family.suggest(optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask(), len(X))
        params = {k: (min(v, 20) if k.endswith(SIZE_PARAMS) else v) for k, v in params.items()}
        model = PseudoLabelRegressor(build_model(family, params, schema=schema, random_state=0, n_jobs=1),
                                     sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
        members.append((model, family.artifact_format, weight, {"family": name, "params": params}))
    family = names[0] if len(names) == 1 else "ensemble"
    return export_ensemble(members, path, metadata={"family": family, "target": "target", "ignored_columns": []})


def _check_close(got, expected, y):
    """float32 in the graph: agreement to about 1e-6 of the target's scale."""
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * float(np.std(y)))


@pytest.mark.parametrize("name", CONVERTIBLE)
def test_each_family_that_converts_predicts_as_the_artifact(name, tmp_path, X, y, X_unlabeled, new_rows):
    artifact = _artifact([name], X, y, X_unlabeled, tmp_path / "model")
    onnx_file = save_onnx_model(artifact, tmp_path / "model.onnx")
    for part in (X_unlabeled.iloc[:40], new_rows):  # new_rows: unseen categories, missing values
        _check_close(_predict_in_fresh_process(onnx_file, part, tmp_path), load_model(artifact).predict(part), y)


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_a_booster_that_stopped_early_converts_with_the_trees_it_predicts_with(name, tmp_path, make_data):
    X, y = make_data(1500, seed=11)
    family = FAMILIES[name]
    params = {**family.defaults, f"{family.prefix}n_estimators": 1000, f"{family.prefix}learning_rate": 0.3}
    booster = build_model(family, params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=1)
    final_estimator(booster).set_params(**{"lightgbm": {"early_stopping_round": 20},
                                           "xgboost": {"early_stopping_rounds": 20}}[name])
    model = PseudoLabelRegressor(booster, sample_rate=0.0).fit(X, y)
    assert tree_count(model) < 1000  # it stopped early, with trees after its best iteration behind it
    artifact = export_ensemble([(model, family.artifact_format, 1.0, {"family": name, "params": params})],
                               tmp_path / "model", metadata={"family": name, "target": "target", "ignored_columns": []})
    onnx_file = save_onnx_model(artifact, tmp_path / "model.onnx")
    expected = model.predict(X.iloc[:200])
    np.testing.assert_allclose(load_model(artifact).predict(X.iloc[:200]), expected, rtol=1e-9, atol=1e-9)
    _check_close(_predict_in_fresh_process(onnx_file, X.iloc[:200], tmp_path), expected, y)


def test_a_tuned_ensemble_of_fold_models_is_one_graph(tmp_path, make_data, new_rows):
    X, y = make_data(90, seed=41)
    pool, _ = make_data(60, seed=42)
    result = tune(X, y, X_unlabeled=pool, models=["lightgbm", "ridge"], n_trials=2, cv=3, show_progress_bar=False,
                  n_jobs=1)
    assert len(result.best_estimator_.estimators_) > 1
    onnx_file = result.export_onnx(tmp_path / "model.onnx")

    import onnx

    graph = onnx.load(onnx_file)
    assert [i.name for i in graph.graph.input] == list(X.columns)
    assert {p.key: p.value for p in graph.metadata_props}["target"] == "target"
    _check_close(_predict_in_fresh_process(onnx_file, new_rows, tmp_path), result.best_estimator_.predict(new_rows), y)


@pytest.mark.parametrize("name, reason", [("catboost", "CatBoost's ONNX export does not support categorical"),
                                          ("hist_gradient_boosting", "skl2onnx")])
def test_a_family_that_cannot_convert_is_named_with_its_reason(name, reason, tmp_path, X, y, X_unlabeled):
    artifact = _artifact(["ridge", name], X, y, X_unlabeled, tmp_path / "model", weights=[0.5, 0.5])
    with pytest.raises(OnnxExportError, match=rf"member 1 \({name}\): {reason}.*serve the automl_pl artifact"):
        save_onnx_model(artifact, tmp_path / "model.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no file, no partial file


@pytest.mark.parametrize("name", ["catboost", "ridge", "random_forest"])
def test_numeric_features_only_convert(name, tmp_path, X, y, X_unlabeled):
    """CatBoost converts without categoricals; the scikit-learn pipelines' encoders then have no columns."""
    numeric = ["num_a", "num_b", "count"]
    artifact = _artifact([name], X[numeric], y, X_unlabeled[numeric], tmp_path / "model")
    onnx_file = save_onnx_model(artifact, tmp_path / "model.onnx")
    rows = X_unlabeled[numeric].iloc[:30]
    _check_close(_predict_in_fresh_process(onnx_file, rows, tmp_path), load_model(artifact).predict(rows), y)


def test_unknown_categories_of_a_one_hot_feature_with_rare_levels_go_to_its_infrequent_column(tmp_path, make_data):
    X, y = make_data(200, seed=7)
    X = X.assign(city=[f"c{i % 60}" for i in range(200)])  # 60 levels: past the one-hot limit, rare ones share a column
    pool, _ = make_data(50, seed=8)
    pool = pool.assign(city=[f"c{i % 70}" for i in range(50)])
    artifact = _artifact(["ridge"], X, y, pool, tmp_path / "model")
    encoder = load_model(artifact).members[0][1][0].named_transformers_["categorical"]
    assert encoder.infrequent_categories_[-1] is not None  # the case under test
    rows = pool.assign(city=["c65", "never-seen", None, "c1", "c59"] * 10)
    onnx_file = save_onnx_model(artifact, tmp_path / "model.onnx")
    _check_close(_predict_in_fresh_process(onnx_file, rows, tmp_path), load_model(artifact).predict(rows), y)


def test_the_command_line_exports_onnx_and_mlflow(tmp_path):
    from automl_pl.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text('[data]\ndataset = "diabetes"\nlabeled_fraction = 0.5\n\n[study]\nname = "s"\nn_trials = 2\n'
                    'timeout = 60\ncv = 2\nseed = 0\nmodels = ["lightgbm", "ridge"]\n')
    assert main(["run", str(spec), "-q", "--export", str(tmp_path / "model")]) == 0
    assert main(["export", str(spec), "-q", "--format", "onnx", "--out", str(tmp_path / "model.onnx")]) == 0
    from automl_pl.datasets import load_dataset

    rows = load_dataset("diabetes")[0].head(20)
    got = _predict_in_fresh_process(tmp_path / "model.onnx", rows, tmp_path)
    np.testing.assert_allclose(got, load_model(tmp_path / "model").predict(rows), rtol=1e-4, atol=1e-3)
    if importlib.util.find_spec("mlflow") is not None:
        assert main(["export", str(spec), "-q", "--format", "mlflow", "--out", str(tmp_path / "mlflow")]) == 0
        assert (tmp_path / "mlflow" / "MLmodel").is_file()
