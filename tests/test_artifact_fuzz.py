"""Fuzzing load_model: corrupted artifacts give a clean ArtifactError, never a crash, never code run.

Two kinds of damage, seeded so any failure replays:

* accidental (bit flips, truncation, appended bytes, lost files): the SHA-256 check must catch
  every one, so loading must raise ArtifactError;
* deliberate (the same damage, then every hash and the checksum recomputed, as an attacker
  with write access would): the parsers see the damage. Loading may then succeed (a changed
  model is still a model) or raise ArtifactError, but nothing else, and no planted code runs.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_pl import ArtifactError, PseudoLabelRegressor, load_model
from automl_pl.artifact import METADATA_FILE, _checksum, _sha256, export_ensemble
from automl_pl.data import FeatureSchema
from automl_pl.models import FAMILIES, build_model

CASES_PER_KIND = 40
DELIBERATE_NATIVE_CASES = 12
"""Each deliberate case on a booster parses it in a child process (about a second)."""


class Plant:
    """Unpickling this writes a marker file: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


@pytest.fixture(params=["ridge", "lightgbm", "xgboost"])
def artifact(request, tmp_path_factory, X, y, X_unlabeled) -> Path:
    family = FAMILIES[request.param]
    params = {"ridge": {"ridge_alpha": 1.0}, "lightgbm": {}, "xgboost": {}}[request.param]
    schema = FeatureSchema.infer(X, X_unlabeled)
    model = PseudoLabelRegressor(build_model(family, params, schema=schema, random_state=0, n_jobs=1),
                                 sample_rate=0.3, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    path = tmp_path_factory.mktemp(request.param) / "model"
    described = {"family": family.name, "params": params}
    return export_ensemble([(model, family.artifact_format, 1.0, described)], path,
                           metadata={**described, "target": "y", "ignored_columns": []})


def damage(path: Path, rng: np.random.Generator) -> str:
    """One random kind of damage to one random file of the artifact at ``path``; returns what it did."""
    files = sorted(p for p in path.iterdir() if p.is_file())
    file = files[rng.integers(len(files))]
    data = bytearray(file.read_bytes())
    kind = rng.choice(["flip", "truncate", "append", "zero", "delete"])
    if kind == "flip" and data:
        for position in rng.integers(len(data), size=rng.integers(1, 8)):
            data[position] ^= 1 << int(rng.integers(8))
    elif kind == "truncate":
        data = data[: rng.integers(len(data))]
    elif kind == "append":
        data += rng.bytes(int(rng.integers(1, 64)))
    elif kind == "zero" and data:
        start = int(rng.integers(len(data)))
        data[start:start + 32] = bytes(len(data[start:start + 32]))
    elif kind == "delete":
        file.unlink()
        return f"delete {file.name}"
    file.write_bytes(bytes(data))
    return f"{kind} {file.name}"


def rehash(path: Path) -> None:
    """Recompute every file hash and the checksum, as someone who meant the damage would."""
    try:
        metadata = json.loads((path / METADATA_FILE).read_text())
        metadata["files"] = {name: _sha256(path / name) for name in metadata["files"] if (path / name).is_file()}
        metadata["checksum"] = _checksum(metadata)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return  # the metadata itself is lost or broken beyond rehashing
    (path / METADATA_FILE).write_text(json.dumps(metadata))


@pytest.mark.parametrize("deliberate", [False, True], ids=["accidental", "deliberate"])
def test_corrupted_artifacts_load_cleanly_or_not_at_all(artifact, deliberate, tmp_path, new_rows, monkeypatch):
    from automl_pl import model_files

    monkeypatch.setattr(model_files, "PARSE_TIMEOUT_SECONDS", 10)  # some damage sends LightGBM's parser looping
    rng = np.random.default_rng(1 + deliberate)
    native = not (artifact / "member0_model.skops").exists()
    for case in range(DELIBERATE_NATIVE_CASES if deliberate and native else CASES_PER_KIND):
        copy = tmp_path / f"case{case}"
        shutil.copytree(artifact, copy)
        what = damage(copy, rng)
        if deliberate:
            rehash(copy)
        try:
            model = load_model(copy)
        except ArtifactError:
            continue
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"case {case} ({what}): {type(exc).__name__} instead of ArtifactError: {exc}")
        assert deliberate, f"case {case} ({what}): accidental damage went unnoticed"
        try:
            model.predict(new_rows)
        except (ValueError, TypeError):
            pass  # a damaged model may refuse to predict, with a clear error


def test_a_planted_pickle_is_never_executed(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 2))
    frame = pd.DataFrame(X, columns=["a", "b"])
    family = FAMILIES["ridge"]
    schema = FeatureSchema.infer(frame)
    model = PseudoLabelRegressor(build_model(family, {"ridge_alpha": 1.0}, schema=schema, random_state=0, n_jobs=1),
                                 sample_rate=0.0).fit(frame, X @ [1.0, 2.0])
    path = export_ensemble([(model, "skops", 1.0, {"family": "ridge", "params": {}})], tmp_path / "model",
                           metadata={"family": "ridge", "target": "y", "ignored_columns": []})
    marker = tmp_path / "pwned"
    (path / "member0_model.skops").write_bytes(pickle.dumps(Plant(marker)))
    rehash(path)
    with pytest.raises(ArtifactError, match="cannot read the model file"):
        load_model(path)
    assert not marker.exists()


def test_one_child_checks_every_booster_file_and_names_the_bad_one(make_data, tmp_path, new_rows):
    from automl_pl import tune

    X, y = make_data(90, seed=41)
    result = tune(X, y, models=["lightgbm"], n_trials=1, cv=3, storage=f"sqlite:///{tmp_path}/s.db",
                  show_progress_bar=False, n_jobs=1, ensemble=False)
    path = result.export(tmp_path / "model")
    assert len(list(path.glob("member*_model.txt"))) == 9  # 90 rows: the 3-fold ran three times
    np.testing.assert_allclose(load_model(path).predict(new_rows), result.best_estimator_.predict(new_rows))

    bad = path / "member4_model.txt"
    bad.write_text(bad.read_text().replace("num_leaves=", "num_leaves=-"))  # LightGBM's parser aborts the process
    rehash(path)
    with pytest.raises(ArtifactError, match=r"the model file .*member4_model\.txt: the lightgbm parser (crashed|failed)"):
        load_model(path)
