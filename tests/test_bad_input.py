"""Bad input, table-driven: each case gives the exact error a user sees, and leaves every file as it was.

Each case runs in a fresh copy of a work folder holding data files, a spec, a finished
study and an exported model; afterwards every file in it (the study database included)
must be byte for byte what it was: no partial artifact, no stray file, no changed study.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

import automl_pl
from automl_pl.cli import main


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template")
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "shop": rng.choice(["a", "b"], size=n)})
    frame["sales"] = 2 * frame["x"] + rng.normal(scale=0.1, size=n)
    frame.iloc[:60].to_csv(root / "train.csv", index=False)
    frame.iloc[60:].drop(columns="sales").to_csv(root / "test.csv", index=False)
    (root / "study.toml").write_text(SPEC)
    assert main(["run", str(root / "study.toml"), "--no-progress", "--n-jobs", "1"]) == 0
    return root


SPEC = """
[data]
labeled = "train.csv"
unlabeled = "test.csv"
target = "sales"
drop = ["id"]
[study]
n_trials = 2
cv = 3
models = ["ridge"]
[export]
dir = "model"
"""


def spec_with(w: Path, old: str, new: str) -> str:
    """A copy of the spec with ``old`` replaced by ``new``, as bad.toml; returns its path."""
    text = SPEC.replace(old, new)
    assert text != SPEC
    (w / "bad.toml").write_text(text)
    return str(w / "bad.toml")


def csv(w: Path, name: str, text: str) -> str:
    (w / name).write_text(text)
    return str(w / name)


def edit_metadata(w: Path, **changes) -> str:
    document = json.loads((w / "model/metadata.json").read_text())
    document.update(changes)
    (w / "model/metadata.json").write_text(json.dumps(document))
    return str(w / "model")


def tune_quietly(X, y, **kwargs):
    return automl_pl.tune(X, y, n_trials=1, cv=2, models=["ridge"], storage="sqlite:///:memory:",
                          show_progress_bar=False, **kwargs)


TRAIN = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "shop": ["a", "b", "a", "b"]})
Y = pd.Series([1.0, 2.0, 3.0, 5.0], name="sales")
CLI_ERROR = "automl-pl: error: "
INFINITY_FIX = ("Replace it with a missing value (NaN, or an empty cell in a file), which every model handles, "
                "or with a number.")


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[Path], object]
    """Does the bad thing in the work folder ``w``: a CLI argv list, or a Python call that raises."""
    message: str
    """The exact message; ``{w}`` stands for the work folder."""
    error: type[Exception] = ValueError
    """For Python calls: the exception type."""


CASES = [
    # data
    Case("empty labelled data", lambda w: ["run", spec_with(w, "train.csv", "empty.csv")]
         if csv(w, "empty.csv", "id,x,shop,sales\n") else None,
         "{w}/empty.csv has no rows, only a header. It must hold the labelled rows."),
    Case("target column missing", lambda w: ["run", spec_with(w, 'target = "sales"', 'target = "price"')],
         "target column 'price' is not in {w}/train.csv. Its columns: ['id', 'x', 'shop', 'sales']. Fix target in {w}/bad.toml."),
    Case("target not numeric", lambda w: tune_quietly(TRAIN, pd.Series(["a", "b", "c", "d"], name="sales")),
         "target sales must be numeric, got dtype str. This tool does regression; encode the target as numbers.",
         TypeError),
    Case("target constant", lambda w: tune_quietly(TRAIN, pd.Series([2.0] * 4, name="sales")),
         "target sales is constant (2); there is nothing to learn. Check the target column."),
    Case("one labelled row", lambda w: ["run", spec_with(w, "train.csv", "one.csv")]
         if csv(w, "one.csv", "id,x,shop,sales\n1,1.0,a,1426.1436\n") else None,
         "cv=3 folds need at least 3 labelled rows, but there is 1. Lower cv or add labelled rows."),
    Case("one labelled row in Python, cv aside", lambda w: automl_pl.data.check_target(
         pd.Series([1426.1436], name="sales"), n_rows=1, name="sales"),
         "target sales has a single value (1426.14): one labelled row is nothing to learn from or to "
         "cross-validate on. Add labelled rows."),
    Case("target whose squares overflow", lambda w: ["run", spec_with(w, "train.csv", "huge.csv")]
         if pd.read_csv(w / "train.csv").assign(sales=lambda f: f["sales"] * 1e296).to_csv(w / "huge.csv", index=False)
         is None else None,
         "target sales reaches 4.61419e+296 in absolute value, beyond the 1e+15 the models compute with safely "
         "(their squares and sums overflow). Rescale it, e.g. divide it by 1e+285, and multiply the predictions back."),
    Case("target listed in drop", lambda w: ["run", spec_with(w, 'drop = ["id"]', 'drop = ["id", "sales"]')],
         "{w}/bad.toml: drop lists the target 'sales', which cannot be dropped: it is the column the study learns "
         "to predict. Remove 'sales' from drop."),
    Case("duplicate CSV header", lambda w: ["run", spec_with(w, "train.csv", "dup.csv")]
         if csv(w, "dup.csv", "id,x,shop,x,sales\n1,1.0,a,2.0,1.0\n2,2.0,b,3.0,2.0\n") else None,
         "{w}/dup.csv: the header names column 'x' 2 times. Rename or remove the duplicates: every column needs "
         "its own name."),
    Case("n_trials 0 and no such study", lambda w: ["run", str(w / "study.toml"), "--n-trials", "0",
                                                    "--study-name", "fresh"],
         "no study named 'fresh' in storage sqlite:///{w}/study.db. Run the study first, or check the name."),
    Case("n_trials 0 where no study was stored",
         lambda w: ["run", spec_with(w, "n_trials = 2", 'n_trials = 0\nstorage = "sqlite:///none.db"')],
         "n_trials=0 runs no trial, and sqlite:///{w}/none.db holds no study yet. Give n_trials >= 1."),
    Case("target with NaN", lambda w: ["run", spec_with(w, "train.csv", "nan.csv")]
         if csv(w, "nan.csv", "id,x,shop,sales\n1,1.0,a,1.0\n2,2.0,b,\n3,3.0,a,3.0\n4,4.0,b,5.0\n") else None,
         "{w}/nan.csv: the target 'sales' is missing or infinite in 1 row (first on line 3). Drop those rows, "
         "or move them to the unlabelled file (unlabeled in bad.toml), whose rows are pseudo-labelled."),
    Case("target with inf", lambda w: tune_quietly(TRAIN, pd.Series([1.0, np.inf, 3.0, 4.0], name="sales")),
         "target sales has 1 missing or infinite values (first at row 1). "
         "Drop those rows, or pass them as unlabelled data (X_unlabeled) instead."),
    Case("duplicate columns", lambda w: tune_quietly(pd.concat([TRAIN, TRAIN[["x"]]], axis=1), Y),
         "X has duplicate column names ['x']. Rename or drop the duplicates."),
    Case("feature with infinity", lambda w: ["run", spec_with(w, "train.csv", "inf.csv")]
         if csv(w, "inf.csv", "id,x,shop,sales\n1,1.0,a,1.0\n2,inf,b,2.0\n3,3.0,a,3.0\n4,1e400,b,5.0\n") else None,
         "{w}/inf.csv column 'x' holds infinity (inf, or a number beyond 1.8e308) in 2 rows (first on line 3). "
         + INFINITY_FIX),
    Case("unlabelled feature with infinity", lambda w: ["run", spec_with(w, "test.csv", "other.csv")]
         if csv(w, "other.csv", "id,x,shop\n1,1.0,a\n2,-inf,b\n") else None,
         "{w}/other.csv column 'x' holds infinity (inf, or a number beyond 1.8e308) in 1 row (first on line 3). "
         + INFINITY_FIX),
    Case("feature with infinity in Python", lambda w: tune_quietly(TRAIN.assign(x=[1.0, np.inf, 3.0, 4.0]), Y),
         "X column 'x' holds infinity (inf, or a number beyond 1.8e308) in 1 row (first at row 1). "
         + INFINITY_FIX),
    Case("estimator given duplicate columns", lambda w: automl_pl.AutoPLRegressor(n_trials=1).fit(
         pd.concat([TRAIN, TRAIN[["x"]]], axis=1), Y),
         "X has duplicate column names ['x']. Rename or drop the duplicates."),
    Case("estimator given unlabelled rows of other columns", lambda w: automl_pl.AutoPLRegressor(n_trials=1, cv=2).fit(
         TRAIN, Y, X_unlabeled=TRAIN[["x"]]),
         "X_unlabeled: The feature names should match those that were passed during fit.\n"
         "Feature names seen at fit time, yet now missing:\n- shop\n"),
    Case("unlabelled columns differ", lambda w: ["run", spec_with(w, "test.csv", "other.csv")]
         if csv(w, "other.csv", "id,x,colour\n1,1.0,red\n") else None,
         "{w}/other.csv does not match the features of train.csv: missing columns ['shop'] and unexpected "
         "columns ['colour']. Pass exactly these columns: ['x', 'shop']."),
    Case("unlabelled column of another kind", lambda w: ["run", spec_with(w, "test.csv", "other.csv")]
         if csv(w, "other.csv", "id,x,shop\n1,abc,a\n") else None,
         "{w}/other.csv column 'x' must be numeric, as in training, but 'abc' (on line 2) is not a number. "
         "Fix the value, or leave the cell empty (or write ?) where the number is missing."),
    # settings
    Case("sample_rate above 1", lambda w: ["run", str(w / "study.toml"), "--fixed-param", "sample_rate=1.5"],
         "fixed_params['sample_rate'] = 1.5 is invalid: it must be a number in [0, 1]."),
    Case("sample_rate below 0 in the estimator",
         lambda w: automl_pl.PseudoLabelRegressor(Ridge(), sample_rate=-0.1).fit(TRAIN[["x"]], Y),
         "The 'sample_rate' parameter of PseudoLabelRegressor must be a float in the range [0.0, 1.0]. Got -0.1 instead."),
    Case("unknown model family", lambda w: ["run", spec_with(w, '["ridge"]', '["lightgbn"]')],
         "unknown model family 'lightgbn'. Valid names: xgboost, lightgbm, catboost, hist_gradient_boosting, "
         "gradient_boosting, random_forest, extra_trees, ridge, bayesian_ridge, elastic_net, knn."),
    Case("cv larger than the labelled rows", lambda w: ["run", spec_with(w, "cv = 3", "cv = 100")],
         "cv=100 folds need at least 100 labelled rows, but there are 60. Lower cv or add labelled rows."),
    Case("negative n_trials", lambda w: ["run", str(w / "study.toml"), "--n-trials", "-1"],
         "n_trials must be a whole number >= 0 (or None for no limit), got -1"),
    Case("verbosity out of range", lambda w: tune_quietly(TRAIN, Y, verbosity=4),
         "verbosity must be a whole number from 0 to 3, got 4"),
    Case("n_trials 0 in a new study", lambda w: automl_pl.tune(TRAIN, Y, n_trials=0),
         "n_trials=0 runs no trial, and a new study has none to refit. Give n_trials >= 1, "
         "or the storage and study_name of a study to refit."),
    # files and specs
    Case("missing data file", lambda w: ["run", spec_with(w, "train.csv", "nowhere.csv")],
         "data file {w}/nowhere.csv does not exist. Check the path in the spec, or pass --data-dir DIR."),
    Case("unreadable data file", lambda w: ["run", spec_with(w, "train.csv", "binary.csv")]
         if (w / "binary.csv").write_bytes(b"\xff\xfe\x00\x01garbage") else None,
         "cannot read {w}/binary.csv: it is not UTF-8 text (byte 0xff at position 0). Save it as UTF-8 (in Excel: "
         "CSV UTF-8), or convert it, e.g. iconv -f latin1 -t utf-8 OLD.csv > NEW.csv."),
    Case("data file separated by semicolons", lambda w: ["run", spec_with(w, "train.csv", "semi.csv")]
         if csv(w, "semi.csv", "id;x;shop;sales\n1;1.0;a;1.0\n2;2.0;b;2.0\n") else None,
         "{w}/semi.csv reads as one column, 'id;x;shop;sales': its fields are separated by ';', and automl-pl reads "
         "comma-separated files. Save it with commas (in Excel: CSV UTF-8, comma delimited), or as Parquet."),
    Case("target with thousands separators", lambda w: ["run", spec_with(w, "train.csv", "text.csv")]
         if csv(w, "text.csv", 'id,x,shop,sales\n1,1.0,a,999.5\n2,2.0,b,"1,234.5"\n3,3.0,a,"2,000"\n') else None,
         "{w}/text.csv: the target 'sales' must be numeric, but 2 rows hold text such as '1,234.5' (first on line 3). "
         "Write plain numbers (no thousands separators or units), or fix target in bad.toml."),
    Case("malformed spec", lambda w: ["run", csv(w, "bad.toml", "[study\nn_trials = 2\n")],
         "{w}/bad.toml is not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)"),
    Case("unknown spec key", lambda w: ["run", spec_with(w, "n_trials = 2", "trials = 2")],
         "{w}/bad.toml: unknown key(s) ['trials'] in [study]. Valid keys: ['bagging', 'cv', 'cv_repeats', 'ensemble', "
         "'fixed_params', 'heartbeat_seconds', 'models', 'n_trials', 'name', 'portfolio', 'seed', 'stacking', 'storage', "
         "'teacher_round', 'timeout']."),
    Case("missing spec", lambda w: ["run", str(w / "nope.toml")],
         "no study spec at {w}/nope.toml. Check the path (specs live in studies/)."),
    Case("unreachable storage", lambda w: ["run", str(w / "study.toml"), "--storage",
                                           "postgresql+psycopg://postgres:hunter2@127.0.0.1:9/test"],
         'cannot open storage postgresql+psycopg://postgres:***@127.0.0.1:9/test: connection failed: connection to '
         'server at "127.0.0.1", port 9 failed: Connection refused. Check the URL, that the database server is '
         'running and that the database exists.'),
    Case("unwritable export directory", lambda w: ["export", str(w / "study.toml"), "--out", str(w / "train.csv/model")],
         "cannot write the model to {w}/train.csv/model: {w}/train.csv is not a directory. Choose a writable directory."),
    Case("export with no --out and no [export] dir", lambda w: ["export", spec_with(w, '[export]\ndir = "model"\n', "")],
         "export needs a directory to write the model to: give --out DIR, or add [export] dir = \"...\" to bad.toml."),
    Case("export over a foreign directory", lambda w: ["run", str(w / "study.toml"), "--export", str(w)],
         "{w} exists and is not an automl_pl model directory; refusing to replace it. Choose a new or empty directory."),
    # artifacts
    Case("tampered artifact", lambda w: ["predict", str(w / "model"), str(w / "test.csv"), "-o", str(w / "out.csv")]
         if (w / "model/member0_model.skops").write_bytes((w / "model/member0_model.skops").read_bytes() + b"\0") else None,
         "{w}/model/member0_model.skops was changed after export (SHA-256 mismatch). Re-export the model."),
    Case("truncated artifact", lambda w: ["predict", str(w / "model"), str(w / "test.csv"), "-o", str(w / "out.csv")]
         if (w / "model/metadata.json").write_bytes((w / "model/metadata.json").read_bytes()[:100]) else None,
         "{w}/model/metadata.json is not valid JSON (truncated or corrupted). Re-export the model."),
    Case("foreign artifact", lambda w: ["predict", edit_metadata(w, format="someone.else"), str(w / "test.csv"),
                                        "-o", str(w / "out.csv")],
         "{w}/model is not an automl_pl model directory (metadata.json has no format 'automl_pl.model')."),
    Case("artifact from a newer automl_pl",
         lambda w: ["predict", edit_metadata(w, format_version=99, automl_pl_version="9.0.0"), str(w / "test.csv"),
                    "-o", str(w / "out.csv")],
         "{w}/model was written by a newer automl_pl (9.0.0, artifact format 99); this is automl_pl "
         f"{automl_pl.__version__}, which reads format 3. Upgrade: pip install -U automl_pl."),
    # prediction input
    Case("prediction input missing a column", lambda w: ["predict", str(w / "model"),
                                                         csv(w, "in.csv", "id,x\n1,1.0\n"), "-o", str(w / "out.csv")],
         "{w}/in.csv does not match the model's features: missing columns ['shop']. "
         "Pass exactly these columns: ['x', 'shop']."),
    Case("prediction input with an extra column",
         lambda w: ["predict", str(w / "model"), csv(w, "in.csv", "x,shop,colour\n1.0,a,red\n"), "-o", str(w / "out.csv")],
         "{w}/in.csv does not match the model's features: unexpected columns ['colour']. "
         "Pass exactly these columns: ['x', 'shop']."),
    Case("prediction input wrongly typed", lambda w: ["predict", str(w / "model"),
                                                      csv(w, "in.csv", "x,shop\nabc,a\n"), "-o", str(w / "out.csv")],
         "{w}/in.csv column 'x' must be numeric, as in training, but 'abc' (on line 2) is not a number. "
         "Fix the value, or leave the cell empty (or write ?) where the number is missing."),
    Case("prediction input with infinity",
         lambda w: ["predict", str(w / "model"), csv(w, "in.csv", "x,shop\n1.0,a\n-inf,b\n"), "-o", str(w / "out.csv")],
         "{w}/in.csv column 'x' holds infinity (inf, or a number beyond 1.8e308) in 1 row (first on line 3). "
         + INFINITY_FIX),
    Case("prediction input with a header only", lambda w: ["predict", str(w / "model"),
                                                           csv(w, "in.csv", "id,x,shop\n"), "-o", str(w / "out.csv")],
         "{w}/in.csv has no rows, only a header: nothing to predict."),
    Case("prediction input missing", lambda w: ["predict", str(w / "model"), str(w / "absent.csv"), "-o", str(w / "o.csv")],
         "input file {w}/absent.csv does not exist. Check the path."),
    Case("predict over its own input", lambda w: ["predict", str(w / "model"), str(w / "test.csv"), "-o",
                                                  f"{w}/model/../test.csv"],
         "-o {w}/model/../test.csv is the input file; refusing to overwrite it. Write the predictions to another file."),
    Case("predict to an unsupported type", lambda w: ["predict", str(w / "model"), str(w / "test.csv"), "-o",
                                                      str(w / "p.xlsx")],
         "-o {w}/p.xlsx: cannot write .xlsx. Write a .csv or .parquet file, or give -o - for CSV on standard output."),
    Case("evaluate without the target", lambda w: ["evaluate", str(w / "model"), str(w / "test.csv")],
         "{w}/test.csv has no column 'sales', the target the model predicts: evaluate compares predictions with it. "
         "To predict rows without it, use automl-pl predict."),
]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_error_and_changes_nothing(case, template, tmp_path, capsys):
    w = tmp_path / "work"
    shutil.copytree(template, w)
    try:
        argv = case.run(w)  # sets the bad input up; a Python case raises here
    except Exception as exc:
        assert type(exc) is case.error or isinstance(exc, case.error)
        seen = str(exc)
        before = None
    else:
        assert isinstance(argv, list), "the case neither raised nor gave a command line"
        before = snapshot(w)
        capsys.readouterr()
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()[-1]  # after what the command was about to do
        assert err.startswith(CLI_ERROR) and "Traceback" not in err
        seen = err.removeprefix(CLI_ERROR)
        assert snapshot(w) == before, "the failed command changed or left files"
    assert seen == case.message.replace("{w}", str(w))
    assert "hunter2" not in seen


def test_the_table_covers_at_least_twenty_bad_inputs():
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)
