"""Numbers written as text with '?' or '-' where one is missing (UCI's files, spreadsheets): a numeric column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl_pl
from automl_pl.column_values import missing_markers
from automl_pl.data import FeatureSchema


def test_numbers_and_markers_are_a_numeric_column_and_the_markers_are_missing():
    frame = pd.DataFrame({"hp": ["130", "?", "165.5", " ? ", "-", None],
                          "code": ["1", "2", "3", "1", "2", "3"],            # numbers alone: codes, a category
                          "word": ["a", "?", "b", "a", "b", "a"]})           # words and a marker: a category
    schema = FeatureSchema.infer(frame)
    assert [c.kind for c in schema.columns] == ["numeric", "categorical", "categorical"]
    assert missing_markers(frame["hp"]) == {"?": 2, "-": 1}
    assert missing_markers(frame["code"]) == {} and missing_markers(frame["word"]) == {}
    np.testing.assert_array_equal(schema.transform(frame)["hp"], [130.0, np.nan, 165.5, np.nan, np.nan, np.nan])


def test_a_numeric_column_reads_text_at_prediction_and_names_what_is_not_a_number():
    schema = FeatureSchema.infer(pd.DataFrame({"hp": [130.0, 165.0, np.nan]}))
    np.testing.assert_array_equal(schema.transform(pd.DataFrame({"hp": ["150", "n.a.", "?"]}))["hp"],
                                  [150.0, np.nan, np.nan])
    bad = pd.DataFrame({"hp": ["150", "lots", "1,200"]})
    with pytest.raises(TypeError, match=r"^prediction input column 'hp' must be numeric, as in training, but "
                                        r"'lots' \(at row 1, and 1 row more\) is not a number\. Fix the value"):
        schema.transform(bad, what="prediction input")
    with pytest.raises(TypeError, match=r"'lots' \(on line 3, and 1 row more\)"):
        schema.check(bad, what="new.csv", first_line=2)
    with pytest.raises(ValueError, match=r"^new.csv column 'hp' holds infinity .* \(first on line 3\)"):
        schema.check(pd.DataFrame({"hp": ["150", "inf"]}), what="new.csv", first_line=2)


def test_a_study_says_which_markers_it_read_as_missing_and_learns_from_the_numbers(tmp_path):
    rng = np.random.default_rng(0)
    hp = rng.normal(100, 20, 200)
    y = pd.Series(0.5 * hp + rng.normal(size=200), name="mpg")
    text = pd.Series([f"{v:.1f}" for v in hp], dtype=object)
    text[:10] = "?"
    X = pd.DataFrame({"hp": text, "x": rng.normal(size=200)})
    with pytest.warns(UserWarning, match=r"^column 'hp' holds numbers and '\?' \(10 rows\), which are read as "
                                         r"missing values\. If they mean something else"):
        result = automl_pl.tune(X, y, models=["lightgbm"], n_trials=2, cv=3, portfolio=None, show_progress_bar=False)
    assert result.cv_rmse < 0.35 * y.std()  # the numbers' order is learnt: as a category it is not
    exported = automl_pl.load_model(result.export(tmp_path / "model"))
    assert exported.metadata["schema"][0] == {"name": "hp", "kind": "numeric"}
    predicted = exported.predict(pd.DataFrame({"hp": ["60", "140", "?"], "x": [0.0, 0.0, 0.0]}))
    assert predicted[0] < predicted[1] and np.isfinite(predicted[2])
