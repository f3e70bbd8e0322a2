"""Artifacts: export -> load gives the same predictions; tampering, foreign and newer directories are refused."""

from __future__ import annotations

import json
import math
import os
import posix
import warnings
from datetime import UTC, datetime

import numpy as np
import optuna
import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from automl_pl import ArtifactError, ExportedModel, PseudoLabelRegressor, load_model, model_files, tune
from automl_pl.artifact import (
    FORMAT,
    FORMAT_VERSION,
    FORMAT_VERSION_WITHOUT_OFFSET,
    METADATA_FILE,
    _checksum,
    _sha256,
    export_ensemble,
)
from automl_pl.data import FeatureSchema
from automl_pl.models import FAMILIES, build_model

MODEL_FILES = {"xgboost": "model.ubj", "lightgbm": "model.txt", "catboost": "model.cbm", "skops": "model.skops"}
SIZE_PARAMS = ("n_estimators", "iterations", "max_iter")


def _fit(name, X, y, X_unlabeled, *, seed=0):
    """A fitted PseudoLabelRegressor of family ``name`` with randomly drawn, size-capped parameters."""
    family = FAMILIES[name]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)).ask()
    family.suggest(trial, len(X))
    params = {k: (min(v, 20) if k.endswith(SIZE_PARAMS) else v) for k, v in trial.params.items()}
    schema = FeatureSchema.infer(X, X_unlabeled)
    pipeline = build_model(family, params, schema=schema, random_state=0, n_jobs=1)
    model = PseudoLabelRegressor(pipeline, sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    return model, params


def _export(model, path, name, params=None):
    """``model`` exported alone: an ensemble of one, as ``TuneResult.export`` writes a single trial fitted on all rows."""
    family = FAMILIES[name]
    described = {"family": name, "params": params or {}}
    return export_ensemble([(model, family.artifact_format, 1.0, described)], path,
                           metadata={**described, "target": "target", "ignored_columns": []})


def _write_format_1(model, path, name):
    """An artifact of format 1, as automl_pl wrote single models before ensembles: written by hand, since
    automl_pl no longer writes it, to check that it is still read."""
    family = FAMILIES[name]
    model_file = MODEL_FILES[family.artifact_format]
    path.mkdir()
    model_files.SAVERS[family.artifact_format](model.estimator_[-1], path / model_file)
    document = {
        "format": FORMAT, "format_version": 1, "automl_pl_version": "0.1.0",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "family": name, "params": {}, "target": "target", "ignored_columns": [],
        "artifact_format": family.artifact_format, "model_file": model_file,
        "schema": model.estimator_[0].schema_.to_dict(), "versions": {},
        "files": {model_file: _sha256(path / model_file)},
    }
    document["checksum"] = _checksum(document)
    (path / METADATA_FILE).write_text(json.dumps(document, indent=2))
    return path


def _rewrite_metadata(path, change, *, fix_checksum=True):
    file = path / METADATA_FILE
    metadata = json.loads(file.read_text())
    change(metadata)
    if fix_checksum:
        metadata["checksum"] = _checksum(metadata)
    file.write_text(json.dumps(metadata, indent=2))


@pytest.fixture
def ridge_artifact(tmp_path, X, y, X_unlabeled, new_rows):
    """An exported ridge model, with the fitted model's predictions for ``new_rows``."""
    model, params = _fit("ridge", X, y, X_unlabeled)
    path = _export(model, tmp_path / "model", "ridge", params)
    return path, model.predict(new_rows)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_export_load_gives_identical_predictions(name, tmp_path, X, y, X_unlabeled, new_rows):
    family = FAMILIES[name]
    model, params = _fit(name, X, y, X_unlabeled)
    path = _export(model, tmp_path / "artifact", name, params)

    model_file = "member0_" + MODEL_FILES[family.artifact_format]
    assert sorted(os.listdir(path)) == sorted([METADATA_FILE, model_file])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(path)
    assert not [w for w in caught if "was written with" in str(w.message)]

    assert isinstance(loaded, ExportedModel)
    assert loaded.feature_names_in_ == list(X.columns)
    assert loaded.schema == model.estimator_[0].schema_
    assert loaded.metadata["family"] == name
    assert [m["artifact_format"] for m in loaded.metadata["members"]] == [family.artifact_format]
    assert loaded.metadata["format_version"] == FORMAT_VERSION_WITHOUT_OFFSET  # format 3 only with a target offset
    assert loaded.metadata["files"] == {model_file: _sha256(path / model_file)}
    assert loaded.target == "target"

    for frame in (new_rows, X_unlabeled, X):
        expected = model.predict(frame)
        got = loaded.predict(frame)
        assert got.dtype == np.float64 and got.shape == (len(frame),)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert loaded.predict(new_rows.iloc[:0]).shape == (0,)


@pytest.mark.parametrize("name", ["ridge", "lightgbm"])
def test_an_artifact_of_format_1_is_still_read(name, tmp_path, X, y, X_unlabeled, new_rows):
    model, _ = _fit(name, X, y, X_unlabeled)
    loaded = load_model(_write_format_1(model, tmp_path / "old", name))
    assert loaded.metadata["format_version"] == 1 and loaded.metadata["family"] == name
    np.testing.assert_allclose(loaded.predict(new_rows), model.predict(new_rows), rtol=1e-12, atol=1e-12)


def test_hist_gradient_boosting_without_categoricals_round_trips(tmp_path, X, y, X_unlabeled, new_rows):
    numeric = ["num_a", "num_b", "count"]
    model, params = _fit("hist_gradient_boosting", X[numeric], y, X_unlabeled[numeric])
    loaded = load_model(_export(model, tmp_path / "hgb", "hist_gradient_boosting", params))
    np.testing.assert_array_equal(loaded.predict(new_rows[numeric]), model.predict(new_rows[numeric]))


def test_tune_result_export(tmp_path, make_data, new_rows):
    X, y = make_data(90, seed=31)
    X_unlabeled, _ = make_data(60, seed=32)
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], n_trials=3, cv=3,
                  storage=f"sqlite:///{tmp_path}/study.db", study_name="export", show_progress_bar=False, n_jobs=1,
                  ensemble=False)
    path = result.export(tmp_path / "best", ignored_columns=["id"])
    loaded = load_model(path)

    np.testing.assert_allclose(loaded.predict(new_rows), result.best_estimator_.predict(new_rows),
                               rtol=1e-12, atol=1e-12)
    metadata = loaded.metadata
    assert metadata["family"] == result.best_params["model"]
    assert metadata["params"] == {k: v for k, v in result.best_params.items() if k != "model"}
    assert metadata["sample_rate"] == (result.best_params["sample_rate"]
                                       if result.best_trial.user_attrs["best_n_rounds"] else 0.0)
    assert metadata["cv_rmse"] == result.cv_rmse
    rounds = result.best_trial.user_attrs["best_n_rounds"]
    pseudo_labeled = math.floor(result.best_params["sample_rate"] * 60) if rounds else 0
    assert metadata["rows"] == {"labeled": 90, "pseudo_labeled": pseudo_labeled, "unlabeled_pool": 60}
    assert metadata["study"] == {"name": "export", "trial_number": result.best_trial.number,
                                 "trials": [result.best_trial.number], "models_per_trial": 9}
    # One file per fold model (90 rows: the 3-fold ran three times), each weighing a ninth.
    assert [(m["fold"], m["weight"]) for m in metadata["members"]] == [(k, pytest.approx(1 / 9)) for k in range(9)]
    assert len(metadata["files"]) == 9
    assert metadata["target"] == "target"
    # Ignored columns are dropped before the schema check.
    with_id = new_rows.assign(id=np.arange(len(new_rows)))
    np.testing.assert_array_equal(loaded.predict(with_id), loaded.predict(new_rows))


def test_tuned_hist_gradient_boosting_on_mixed_data_loads(tmp_path, make_data, new_rows):
    X, y = make_data(60, seed=33)
    result = tune(X, y, models=["hist_gradient_boosting"], n_trials=1, cv=2, storage=f"sqlite:///{tmp_path}/s.db",
                  show_progress_bar=False, n_jobs=1)
    loaded = load_model(result.export(tmp_path / "best"))  # export succeeds; loading is refused
    np.testing.assert_allclose(loaded.predict(new_rows), result.best_estimator_.predict(new_rows), rtol=1e-12)


def test_tampered_model_file_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    file = path / "member0_model.skops"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="SHA-256"):
        load_model(path)


def test_tampered_metadata_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    _rewrite_metadata(path, lambda m: m.update(target="something else"), fix_checksum=False)
    with pytest.raises(ArtifactError, match="checksum"):
        load_model(path)


def test_tampered_schema_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    _rewrite_metadata(path, lambda m: m["schema"][3]["categories"].insert(0, "injected"), fix_checksum=False)
    with pytest.raises(ArtifactError, match="checksum"):
        load_model(path)


def test_truncated_metadata_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    file = path / METADATA_FILE
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_model(path)


def test_foreign_or_missing_directory_is_refused(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("hello")
    with pytest.raises(ArtifactError, match="no metadata.json"):
        load_model(foreign)
    (foreign / METADATA_FILE).write_text(json.dumps({"format": "something.else"}))
    with pytest.raises(ArtifactError, match="not an automl_pl model directory"):
        load_model(foreign)
    with pytest.raises(ArtifactError, match="not a directory"):
        load_model(tmp_path / "nowhere")


def test_newer_format_version_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    _rewrite_metadata(path, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ArtifactError, match="newer"):
        load_model(path)


def test_missing_model_file_is_refused(ridge_artifact):
    path, _ = ridge_artifact
    (path / "member0_model.skops").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_model(path)


def test_file_names_outside_the_directory_are_refused(ridge_artifact):
    path, _ = ridge_artifact

    def escape(metadata):
        metadata["files"] = {"../model.skops": metadata["files"]["member0_model.skops"]}
        metadata["members"][0]["model_file"] = "../model.skops"

    _rewrite_metadata(path, escape)
    with pytest.raises(ArtifactError, match="does not describe a readable model"):
        load_model(path)


def test_other_library_version_warns(ridge_artifact, new_rows):
    path, expected = ridge_artifact
    _rewrite_metadata(path, lambda m: m["versions"].update({"scikit-learn": "0.0.1"}))
    with pytest.warns(UserWarning, match="scikit-learn 0.0.1"):
        loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(new_rows), expected)


def test_export_refuses_a_foreign_directory_and_leaves_it_alone(tmp_path, X, y, X_unlabeled):
    model, _ = _fit("ridge", X, y, X_unlabeled)
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("precious")
    (target / "sub").mkdir()
    (target / "sub" / "data.csv").write_text("1,2,3")

    with pytest.raises(ArtifactError, match="not an automl_pl model directory"):
        _export(model, target, "ridge")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == ["sub", "sub/data.csv", "thesis.tex"]
    assert (target / "thesis.tex").read_text() == "precious"
    assert (target / "sub" / "data.csv").read_text() == "1,2,3"
    assert sorted(os.listdir(tmp_path)) == ["mine"]  # no staging directory left behind

    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ArtifactError, match="is a file"):
        _export(model, tmp_path / "a_file", "ridge")
    assert (tmp_path / "a_file").read_text() == "x"


def test_reexport_replaces_the_artifact_cleanly(tmp_path, X, y, X_unlabeled, new_rows):
    ridge, _ = _fit("ridge", X, y, X_unlabeled)
    lgbm, _ = _fit("lightgbm", X, y, X_unlabeled)
    path = tmp_path / "model"
    (tmp_path / "model").mkdir()  # an empty directory may be used

    _export(ridge, path, "ridge")
    _export(ridge, path, "ridge")
    assert load_model(path).metadata["family"] == "ridge"
    _export(lgbm, path, "lightgbm")  # another format: the old model file must not linger

    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".partial", ".old"))]
    assert sorted(os.listdir(path)) == ["member0_model.txt", METADATA_FILE]
    loaded = load_model(path)
    assert loaded.metadata["family"] == "lightgbm"
    np.testing.assert_allclose(loaded.predict(new_rows), lgbm.predict(new_rows), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, OSError])
def test_an_interrupted_export_leaves_the_old_artifact_and_nothing_else(ridge_artifact, X, y, X_unlabeled, new_rows,
                                                                       monkeypatch, interruption):
    from automl_pl import model_files

    path, expected = ridge_artifact
    lgbm, _ = _fit("lightgbm", X, y, X_unlabeled)

    def save_half_then_stop(model, file):
        file.write_bytes(b"half a model")
        raise interruption("stopped mid-write")

    monkeypatch.setitem(model_files.SAVERS, "lightgbm", save_half_then_stop)
    with pytest.raises(interruption):
        _export(lgbm, path, "lightgbm")
    assert sorted(os.listdir(path.parent)) == ["model"]  # no staging directory left
    loaded = load_model(path)
    assert loaded.metadata["family"] == "ridge"
    np.testing.assert_allclose(loaded.predict(new_rows), expected, rtol=1e-12)
    with pytest.raises(interruption):
        _export(lgbm, path.parent / "new", "lightgbm")
    assert not (path.parent / "new").exists()


def test_predict_checks_its_input(ridge_artifact, new_rows):
    path, expected = ridge_artifact
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(new_rows), expected)
    np.testing.assert_array_equal(loaded.predict(new_rows[list(reversed(new_rows.columns))]), expected)

    with pytest.raises(ValueError, match="missing columns.*'num_b'"):
        loaded.predict(new_rows.drop(columns=["num_b"]))
    with pytest.raises(ValueError, match="unexpected columns.*'extra'"):
        loaded.predict(new_rows.assign(extra=1.0))
    with pytest.raises(TypeError, match="'count'"):
        loaded.predict(new_rows.assign(count=["one", "two", "three", "four", "five"]))
    with pytest.raises(TypeError, match="DataFrame"):
        loaded.predict(new_rows.to_numpy())


def test_skops_file_with_a_type_outside_the_allow_list_is_refused(ridge_artifact, monkeypatch):
    path, _ = ridge_artifact
    model_file = path / "member0_model.skops"
    skops.io.dump(FunctionTransformer(func=os.system), model_file)  # what an attacker would plant
    _rewrite_metadata(path, lambda m: m["files"].update({"member0_model.skops": _sha256(model_file)}))

    calls = []
    monkeypatch.setattr(os, "system", lambda *args, **kwargs: calls.append(args) or 0)
    monkeypatch.setattr(posix, "system", lambda *args, **kwargs: calls.append(args) or 0)
    with pytest.raises(ArtifactError, match="allow-list") as info:
        load_model(path)
    assert "posix.system" in str(info.value)
    assert calls == []
