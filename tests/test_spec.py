"""Study specs: parsing, path resolution, data loading and the errors users see."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest

from automl_pl.spec import SpecError, load_data, load_spec


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def csvs(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": [1, 2, 3, 4], "a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", None], "t": [1.0, 2.0, 3.0, 5.0]}).to_csv(
        data / "train.csv", index=False)
    pd.DataFrame({"id": [5, 6], "a": [5.0, 6.0], "c": ["z", "x"]}).to_csv(data / "test.csv", index=False)
    return data


def test_files_spec_resolves_paths_and_loads_data(tmp_path, csvs):
    spec_path = write(tmp_path, """
[data]
labeled = "train.csv"
unlabeled = "test.csv"
target = "t"
drop = ["id"]
[study]
n_trials = 7
cv = 3
[export]
dir = "out/model"
""")
    spec = load_spec(spec_path, data_dir=csvs)
    assert spec.study_name == "s"
    assert spec.storage == f"sqlite:///{tmp_path / 's.db'}"
    assert spec.export_dir == tmp_path / "out" / "model"
    assert (spec.n_trials, spec.cv, spec.timeout, spec.ensemble) == (7, 3, None, True)
    assert spec.cv_repeats is None  # tune() chooses, by the labelled rows
    X, y, X_unlabeled = load_data(spec)
    assert list(X.columns) == ["a", "c"] and list(X_unlabeled.columns) == ["a", "c"]
    assert y.tolist() == [1.0, 2.0, 3.0, 5.0]


def test_ensemble_and_bagging_can_be_turned_off(tmp_path):
    spec = load_spec(write(tmp_path, '[data]\ndataset = "tips"\n[study]\nensemble = false\nbagging = false\n'))
    assert spec.ensemble is False and spec.bagging is False
    assert load_spec(write(tmp_path, '[data]\ndataset = "tips"\n')).bagging is True


def test_portfolio_and_teacher_round_are_read(tmp_path):
    head = '[data]\ndataset = "tips"\n[study]\n'
    spec = load_spec(write(tmp_path, head))
    assert spec.portfolio == "default" and spec.teacher_round is False
    spec = load_spec(write(tmp_path, head + 'portfolio = "none"\nteacher_round = true\n'))
    assert spec.portfolio is None and spec.teacher_round is True
    with pytest.raises(SpecError, match="portfolio = 'mine.json'.*does not exist"):
        load_spec(write(tmp_path, head + 'portfolio = "mine.json"\n'))


def test_a_portfolio_file_in_a_spec_starts_the_study(tmp_path):
    from automl_pl.cli import main
    from automl_pl.portfolio import Portfolio

    Portfolio.from_configurations([{"model": "ridge", "ridge_alpha": 7.0}]).write(tmp_path / "mine.json")
    spec = write(tmp_path, '[data]\ndataset = "diabetes"\n[study]\nn_trials = 1\ncv = 3\nmodels = ["ridge"]\n'
                           'portfolio = "mine.json"\n')
    assert main(["run", str(spec), "--no-progress", "--n-jobs", "1"]) == 0
    study = optuna.load_study(study_name=spec.stem, storage=f"sqlite:///{spec.with_suffix('.db')}")
    assert study.trials[0].params["ridge_alpha"] == 7.0


def test_cv_repeats_is_read_and_reaches_the_study(tmp_path):
    from automl_pl.cli import main

    spec = write(tmp_path, '[data]\ndataset = "diabetes"\nlabeled_fraction = 0.2\n'
                           '[study]\nn_trials = 1\ncv = 3\ncv_repeats = 2\nmodels = ["ridge"]\n')
    assert load_spec(spec).cv_repeats == 2
    assert main(["run", str(spec), "--no-progress", "--n-jobs", "1"]) == 0
    study = optuna.load_study(study_name=spec.stem, storage=f"sqlite:///{spec.with_suffix('.db')}")
    assert study.user_attrs["automl_pl"]["cv_repeats"] == 2
    assert len(study.trials[0].user_attrs["fold_rmse"]) == 6


def test_relative_sqlite_storage_is_relative_to_the_spec(tmp_path):
    spec = load_spec(write(tmp_path, '[data]\ndataset = "tips"\n[study]\nstorage = "sqlite:///db/x.db"\n'))
    assert spec.storage == f"sqlite:///{tmp_path / 'db' / 'x.db'}"


def test_dataset_spec_hides_labels(tmp_path):
    spec = load_spec(write(tmp_path, '[data]\ndataset = "tips"\nlabeled_fraction = 0.25\n'))
    X, y, X_unlabeled = load_data(spec)
    assert len(X) == len(y) == 61 and len(X_unlabeled) == 244 - 61
    assert "tip" not in X.columns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[data\n", "not valid TOML"),
        ('[data]\ndataset = "tips"\n[stdy]\n', "unknown table [stdy]"),
        ('[data]\ndataset = "tips"\n[study]\nntrials = 3\n', "unknown key(s) ['ntrials']"),
        ('[data]\ndataset = "tips"\n[study]\nn_trials = "ten"\n', "n_trials must be int"),
        ('[data]\ndataset = "tips"\n[study]\ncv = 1\n', "cv >= 2"),
        ('[data]\ndataset = "tips"\n[study]\ncv_repeats = 0\n', "cv_repeats >= 1"),
        ('[data]\ndataset = "tips"\n[study]\nensemble = "yes"\n', "ensemble must be bool"),
        ('[data]\nlabeled = "a.csv"\n', "needs target"),
        ("[study]\n", "needs either labeled"),
        ('[data]\ndataset = "nope"\n', None),
        ('[data]\ndataset = "tips"\nlabeled_fraction = 0\n', "labeled_fraction must be in (0, 1]"),
        ('[data]\ndataset = "tips"\n[study]\nstorage = "not a url"\n', "not a database URL"),
    ],
)
def test_malformed_specs_are_named(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_data(load_spec(path))
    if message is not None:
        assert message in str(info.value)
    else:
        assert "unknown dataset 'nope'" in str(info.value) and "gapminder" in str(info.value)


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="no study spec at"):
        load_spec(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('labeled = "nope.csv"\ntarget = "t"', "does not exist"),
        ('labeled = "train.txt"\ntarget = "t"', "unsupported file type .txt"),
        ('labeled = "train.csv"\ntarget = "T"', "target column 'T' is not in"),
        ('labeled = "train.csv"\ntarget = "t"\ndrop = ["idd"]', "drop names columns ['idd']"),
        ('labeled = "broken.parquet"\ntarget = "t"', "cannot read"),
    ],
)
def test_data_errors_are_named(tmp_path, csvs, data, message):
    (csvs / "train.txt").write_text("x")
    (csvs / "broken.parquet").write_bytes(b"not parquet at all")
    spec = load_spec(write(tmp_path, f"[data]\n{data}\n"), data_dir=csvs)
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        load_data(spec)
