"""FeatureSchema, FrameEncoder and target checks: kinds, categories, normalisation and errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from automl_pl.data import (
    MISSING_CATEGORY,
    ColumnSchema,
    FeatureSchema,
    FrameEncoder,
    check_target,
    data_fingerprint,
    shared_transforms,
)


def test_infer_kinds(X):
    schema = FeatureSchema.infer(X)

    assert schema.names == ["num_a", "num_b", "count", "color", "size"]
    assert {c.name: c.kind for c in schema.columns} == {
        "num_a": "numeric", "num_b": "numeric", "count": "numeric", "color": "categorical", "size": "categorical",
    }
    assert schema.numeric == ["num_a", "num_b", "count"]
    assert schema.categorical == ["color", "size"]
    assert all(c.categories == () for c in schema.columns if c.kind == "numeric")


def test_infer_more_dtypes():
    frame = pd.DataFrame({
        "flag": [True, False, True],
        "nullable_int": pd.array([1, None, 3], dtype="Int64"),
        "text": pd.array(["a", None, "b"], dtype="string"),
        "int_category": pd.Categorical([1, 2, None]),
    })
    schema = FeatureSchema.infer(frame)
    assert [c.kind for c in schema.columns] == ["numeric", "numeric", "categorical", "categorical"]
    assert schema.columns[3].categories == ("1", "2", MISSING_CATEGORY)


def test_categories_are_pooled_over_labelled_and_unlabelled(X, X_unlabeled):
    alone = FeatureSchema.infer(X)
    pooled = FeatureSchema.infer(X, X_unlabeled, None)
    color = {c.name: c for c in pooled.columns}["color"]
    size = {c.name: c for c in pooled.columns}["size"]

    assert "yellow" not in {c.name: c for c in alone.columns}["color"].categories
    assert color.categories == ("blue", "green", "red", "yellow", MISSING_CATEGORY)
    assert size.categories == ("L", "M", "S", MISSING_CATEGORY)  # sorted, missing last
    assert pooled.names == alone.names


def test_pooling_over_a_frame_missing_a_categorical_column_names_it(X, X_unlabeled):
    with pytest.raises(ValueError, match="'color'"):
        FeatureSchema.infer(X, X_unlabeled.drop(columns=["color"]))


def test_pooling_over_a_frame_missing_a_numeric_column_names_it(X, X_unlabeled):
    with pytest.raises(ValueError, match="missing columns.*'num_b'"):
        FeatureSchema.infer(X, X_unlabeled.drop(columns=["num_b"]))


def test_unused_categories_of_a_category_column_are_kept():
    frame = pd.DataFrame({"c": pd.Categorical(["a", "a"], categories=["a", "b"]), "x": [1.0, 2.0]})
    assert FeatureSchema.infer(frame).columns[0].categories == ("a", "b", MISSING_CATEGORY)


def test_transform_normalises(X, X_unlabeled, new_rows):
    schema = FeatureSchema.infer(X, X_unlabeled)
    out = schema.transform(new_rows)

    assert list(out.columns) == schema.names
    assert out.index.equals(new_rows.index)
    for column in schema.columns:
        assert out[column.name].dtype == column.dtype
    for name in schema.numeric:
        assert out[name].dtype == np.float64
        np.testing.assert_array_equal(out[name].to_numpy(), new_rows[name].to_numpy(dtype="float64"))
    # Unseen categories and missing values both become MISSING_CATEGORY; no NaN category remains.
    assert out["color"].tolist() == [MISSING_CATEGORY, MISSING_CATEGORY, "red", MISSING_CATEGORY, "blue"]
    assert out["size"].tolist() == [MISSING_CATEGORY, "S", MISSING_CATEGORY, MISSING_CATEGORY, "M"]
    assert not out["color"].isna().any() and not out["size"].isna().any()


def test_shared_transforms_normalise_a_frame_once_per_schema(X, X_unlabeled, new_rows):
    schema, twin = FeatureSchema.infer(X, X_unlabeled), FeatureSchema.infer(X, X_unlabeled)
    other = FeatureSchema.infer(X)  # fewer categories: its own normalisation
    with shared_transforms():
        first = schema.transform(new_rows)
        assert twin.transform(new_rows) is first
        assert other.transform(new_rows) is not first
        assert schema.transform(new_rows.copy()) is not first
    assert schema.transform(new_rows) is not first  # outside the block, nothing is shared
    pd.testing.assert_frame_equal(schema.transform(new_rows), first)


def test_transform_keeps_values_of_known_categories(X, X_unlabeled):
    schema = FeatureSchema.infer(X, X_unlabeled)
    out = schema.transform(X_unlabeled)
    expected = X_unlabeled["color"].where(X_unlabeled["color"].notna(), MISSING_CATEGORY)
    assert out["color"].astype(str).tolist() == expected.tolist()
    assert out["size"].astype(str).tolist() == X_unlabeled["size"].astype(str).tolist()
    assert out["color"].dtype.categories[-1] == MISSING_CATEGORY


def test_transform_converts_ints_and_nullables_to_float():
    frame = pd.DataFrame({"i": np.array([1, 2, 3], dtype="int32"), "n": pd.array([1, None, 3], dtype="Int64"),
                          "b": [True, False, True]})
    out = FeatureSchema.infer(frame).transform(frame)
    assert all(out[c].dtype == np.float64 for c in out.columns)
    np.testing.assert_array_equal(out["n"].to_numpy(), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(out["b"].to_numpy(), [1.0, 0.0, 1.0])


def test_transform_orders_columns_like_the_schema(X):
    schema = FeatureSchema.infer(X)
    shuffled = X[["size", "count", "color", "num_b", "num_a"]]
    out = schema.transform(shuffled)
    assert list(out.columns) == schema.names
    pd.testing.assert_frame_equal(out, schema.transform(X))


def test_normalised_frame_is_returned_as_is(X, X_unlabeled):
    schema = FeatureSchema.infer(X, X_unlabeled)
    normalised = schema.transform(X)
    assert normalised is not X
    assert schema.transform(normalised) is normalised
    # A schema inferred from a normalised frame is the same schema.
    assert FeatureSchema.infer(normalised) == schema


def test_missing_and_extra_columns_are_named(X):
    schema = FeatureSchema.infer(X)
    with pytest.raises(ValueError, match="missing columns") as info:
        schema.transform(X.drop(columns=["num_b", "color"]))
    assert "'num_b'" in str(info.value) and "'color'" in str(info.value)

    with pytest.raises(ValueError, match="unexpected columns") as info:
        schema.transform(X.assign(surprise=1.0))
    assert "'surprise'" in str(info.value)


def test_text_where_numeric_was_fitted_is_read_as_numbers_and_words_are_a_type_error(X):
    schema = FeatureSchema.infer(X)
    as_text = X.assign(num_b=X["num_b"].astype(str))  # NaN becomes "nan", which reads as missing
    pd.testing.assert_frame_equal(schema.transform(as_text), schema.transform(X))
    with pytest.raises(TypeError, match="'num_b' must be numeric, as in training, but 'word' "):
        schema.transform(X.assign(num_b="word"))


@pytest.mark.parametrize("dtype", ["float64", "float32", "Float64"])
def test_infinity_in_a_numeric_column_is_refused_and_missing_values_are_not(dtype):
    frame = pd.DataFrame({"x": pd.array([1.0, None, 3.0, 4.0], dtype=dtype), "n": [1, 2, 3, 4]})
    schema = FeatureSchema.infer(frame)
    assert schema.transform(frame)["x"].isna().sum() == 1  # missing is fine
    for position, bad in ((2, np.inf), (0, -np.inf)):
        values = frame["x"].copy()
        values[position] = bad
        expected = rf"^prediction input column 'x' holds infinity .* in 1 row \(first at row {position}\)"
        with pytest.raises(ValueError, match=expected):
            schema.transform(frame.assign(x=values), what="prediction input")


def test_duplicate_columns_are_refused(X):
    frame = pd.concat([X, X[["num_a"]]], axis=1)
    with pytest.raises(ValueError, match="duplicate") as info:
        FeatureSchema.infer(frame)
    assert "num_a" in str(info.value)
    with pytest.raises(ValueError, match="duplicate"):
        FeatureSchema.infer(X).transform(frame)


@pytest.mark.parametrize("not_a_frame", [np.zeros((3, 2)), [[1.0, 2.0]], pd.Series([1.0, 2.0])])
def test_non_dataframe_is_a_type_error(X, not_a_frame):
    with pytest.raises(TypeError, match="DataFrame"):
        FeatureSchema.infer(not_a_frame)
    with pytest.raises(TypeError, match="DataFrame"):
        FeatureSchema.infer(X).transform(not_a_frame)


def test_an_arrow_table_is_named_with_its_library_and_how_to_convert_it(X):
    pyarrow = pytest.importorskip("pyarrow")
    with pytest.raises(TypeError, match=r"^X must be a pandas DataFrame, got pyarrow\.Table\. .*\.to_pandas\(\)"):
        FeatureSchema.infer(pyarrow.table({"x": [1.0, 2.0]}))


def test_non_string_column_names_and_no_columns_are_refused():
    with pytest.raises(TypeError, match="strings"):
        FeatureSchema.infer(pd.DataFrame(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="no feature columns"):
        FeatureSchema.infer(pd.DataFrame(index=range(3)))


def test_to_dict_from_dict_round_trip(X, X_unlabeled):
    schema = FeatureSchema.infer(X, X_unlabeled)
    description = schema.to_dict()
    assert description[0] == {"name": "num_a", "kind": "numeric"}
    assert description[3]["categories"][-1] == MISSING_CATEGORY

    assert FeatureSchema.from_dict(description) == schema
    assert FeatureSchema.from_dict(json.loads(json.dumps(description))) == schema
    restored = FeatureSchema.from_dict(json.loads(json.dumps(description)))
    pd.testing.assert_frame_equal(restored.transform(X_unlabeled), schema.transform(X_unlabeled))


def test_from_dict_refuses_unknown_kind():
    with pytest.raises(ValueError, match="'when'"):
        FeatureSchema.from_dict([{"name": "when", "kind": "duration"}])


def test_column_schema_dtype():
    assert ColumnSchema("x", "numeric").dtype == np.float64
    dtype = ColumnSchema("c", "categorical", ("a", MISSING_CATEGORY)).dtype
    assert isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == ["a", MISSING_CATEGORY]


def test_frame_encoder(X, new_rows):
    encoder = FrameEncoder().fit(X)
    assert encoder.n_features_in_ == 5
    assert list(encoder.get_feature_names_out()) == list(X.columns)
    out = encoder.transform(new_rows)
    assert out["color"].tolist()[0] == MISSING_CATEGORY
    assert out.dtypes.iloc[0] == np.float64


def test_check_target_accepts_numbers(y):
    values = check_target(y, n_rows=len(y))
    assert values.dtype == np.float64 and values.shape == (len(y),)
    np.testing.assert_array_equal(values, y.to_numpy())
    np.testing.assert_array_equal(check_target([1, 2, 3], n_rows=3), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(check_target(pd.DataFrame({"t": [1, 2]}), n_rows=2), [1.0, 2.0])


@pytest.mark.parametrize(
    ("target", "error", "match"),
    [
        (pd.Series(["a", "b", "c"]), TypeError, "numeric"),
        (pd.Series(pd.Categorical([1, 2, 3])), TypeError, "numeric"),
        (["a", "b", "c"], TypeError, "numeric"),
        (np.array([1.0, np.nan, 3.0]), ValueError, "missing or infinite"),
        (pd.Series([1.0, None, 3.0], dtype="Float64"), ValueError, "missing or infinite"),
        (np.array([1.0, np.inf, 3.0]), ValueError, "missing or infinite"),
        (np.array([-np.inf, 2.0, 3.0]), ValueError, "missing or infinite"),
        (np.array([4.0, 4.0, 4.0]), ValueError, "constant"),
        (np.array([1.0, 2.0]), ValueError, "2 values but X has 3 rows"),
        (np.array([1.0, 2.0, 3.0, 4.0]), ValueError, "4 values"),
        (np.ones((3, 2)), ValueError, "one-dimensional"),
        (pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3]}), ValueError, "one column"),
    ],
    ids=["strings", "category", "list_of_strings", "nan", "pd_na", "inf", "minus_inf", "constant", "short",
         "long", "two_dim", "two_columns"],
)
def test_check_target_errors(target, error, match):
    with pytest.raises(error, match=match):
        check_target(target, n_rows=3)


def test_data_fingerprint_tells_data_apart(X, y):
    X_norm = FeatureSchema.infer(X).transform(X)
    values = y.to_numpy()
    same = data_fingerprint(X_norm, values, None)
    assert same == data_fingerprint(X_norm.copy(), values.copy(), None)
    assert same != data_fingerprint(X_norm, values + 1.0, None)
    assert same != data_fingerprint(X_norm.iloc[:-1], values[:-1], None)
    assert same != data_fingerprint(X_norm, values, X_norm)
    assert same != data_fingerprint(X_norm.rename(columns={"num_a": "renamed"}), values, None)
