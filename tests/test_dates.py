"""Date columns: read from datetime64 or ISO 8601 text, expanded into days and calendar parts for the models,
checked at prediction, kept in the artifact, named in file terms on the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import automl_pl
from automl_pl.data import FeatureSchema
from automl_pl.models import FAMILIES

DAY = 86_400


def _sales(n_rows: int, *, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Sales that are 3 higher at weekends and grow with time: only a model that sees the weekday gets them right."""
    rng = np.random.default_rng(seed)
    sold = pd.Timestamp("2021-01-04") + pd.to_timedelta(rng.integers(0, 700, n_rows), unit="D")
    price = rng.normal(size=n_rows)
    weekend = np.asarray(sold.day_of_week >= 5, dtype=float)
    y = 3 * weekend + 0.003 * np.asarray((sold - sold.min()).days) + price + rng.normal(scale=0.2, size=n_rows)
    return pd.DataFrame({"sold": sold, "price": price}), pd.Series(y, name="sales")


def test_a_date_column_gives_the_models_its_days_and_the_parts_that_vary():
    frame = pd.DataFrame({"sold": pd.to_datetime(["2024-01-01", "2024-03-15", None, "2025-07-06"]),
                          "x": [1.0, 2.0, 3.0, 4.0]})
    schema = FeatureSchema.infer(frame)

    [sold, x] = schema.columns
    assert (sold.kind, sold.parts) == ("datetime", ("year", "month", "day", "day_of_week", "day_of_year"))
    assert schema.names == ["sold", "x"] and schema.dates == ["sold"]
    assert schema.numeric == ["sold", *(f"sold.{part}" for part in sold.parts), "x"]
    assert schema.feature_sources["sold.month"] == "sold"

    seen = schema.transform(frame)
    assert list(seen.columns) == [*schema.numeric[:-1], "x"]
    assert seen["sold"].tolist()[:2] == [19723.0, 19797.0]  # days since 1970-01-01
    assert seen.loc[3, ["sold.year", "sold.month", "sold.day", "sold.day_of_week"]].tolist() == [2025, 7, 6, 6]
    assert seen.loc[2].drop("x").isna().all()  # a missing date: missing in every feature

    kept = schema.normalise(frame)
    assert list(kept.columns) == ["sold", "x"] and kept["sold"].dtype == np.dtype("datetime64[us]")
    pd.testing.assert_frame_equal(schema.transform(kept), seen)


def test_iso_text_reads_as_dates_and_other_spellings_stay_categories():
    frame = pd.DataFrame({"iso": ["2024-01-01", "2024-01-02 10:30", None],
                          "slashes": ["01/02/2024", "02/02/2024", "03/02/2024"],
                          "words": ["a", "b", "2024-01-01"]})
    schema = FeatureSchema.infer(frame)
    assert [c.kind for c in schema.columns] == ["datetime", "categorical", "categorical"]
    assert schema.columns[0].parts == ("day", "day_of_week", "day_of_year", "hour", "minute")

    as_dates = frame.assign(iso=pd.to_datetime(frame["iso"], format="ISO8601"))
    pd.testing.assert_frame_equal(schema.transform(frame), schema.transform(as_dates))


def test_a_time_zone_is_dropped_keeping_the_wall_clock():
    paris = pd.DataFrame({"at": pd.date_range("2024-06-01 09:00", periods=3, freq="h", tz="Europe/Paris")})
    schema = FeatureSchema.infer(paris)
    assert schema.transform(paris)["at.hour"].tolist() == [9.0, 10.0, 11.0]


def test_offsets_that_differ_from_row_to_row_are_read_as_instants_in_utc():
    frame = pd.DataFrame({"at": ["2024-01-01T10:00+01:00", "2024-06-02T10:00+02:00", "2024-03-01T09:00Z", None]})
    schema = FeatureSchema.infer(frame)
    assert schema.columns[0].kind == "datetime"
    assert schema.transform(frame)["at.hour"].tolist()[:3] == [9.0, 8.0, 9.0]


def test_what_is_not_a_date_is_named_with_where_it_is():
    schema = FeatureSchema.infer(pd.DataFrame({"sold": pd.date_range("2024-01-01", periods=3)}))
    bad = pd.DataFrame({"sold": ["2024-02-01", "31/02/2024", "soon"]})
    with pytest.raises(TypeError, match=r"^prediction input column 'sold' must hold dates, as in training, but "
                                        r"'31/02/2024' \(at row 1, and 1 row more\) is not a date in ISO 8601 form"):
        schema.transform(bad, what="prediction input")
    with pytest.raises(TypeError, match=r"'31/02/2024' \(on line 3, and 1 row more\)"):
        schema.check(bad, what="new.csv", first_line=2)
    with pytest.raises(TypeError, match=r"column 'sold' must hold dates, as in training, but has dtype float64"):
        schema.transform(pd.DataFrame({"sold": [1.0]}))


@pytest.mark.parametrize(("values", "advice"), [
    (pd.to_timedelta([1, 2, 3], unit="h"), r"series\.dt\.total_seconds\(\)"),
    (pd.period_range("2024-01", periods=3, freq="M"), r"series\.dt\.start_time"),
])
def test_durations_and_periods_are_refused_with_the_conversion(values, advice):
    with pytest.raises(TypeError, match=rf"^column 'when' has dtype .* Convert .*{advice}"):
        FeatureSchema.infer(pd.DataFrame({"when": values}))


def test_a_feature_name_a_date_would_take_is_refused():
    frame = pd.DataFrame({"sold": pd.date_range("2024-01-01", periods=40), "sold.month": 1.0})
    with pytest.raises(ValueError, match=r"named \['sold.month'\], which X has already\. Rename"):
        FeatureSchema.infer(frame)


def test_the_schema_round_trips_with_its_date_parts():
    frame = pd.DataFrame({"sold": pd.date_range("2024-01-01", periods=40, freq="6h")})
    schema = FeatureSchema.infer(frame)
    restored = FeatureSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert restored == schema and restored.columns[0].parts == ("day", "day_of_week", "day_of_year", "hour")
    with pytest.raises(ValueError, match="unknown date parts"):
        FeatureSchema.from_dict([{"name": "sold", "kind": "datetime", "parts": ["fortnight"]}])


def test_a_study_learns_the_weekday_from_a_date_and_its_artifact_reads_iso_text(tmp_path):
    X, y = _sales(240, seed=0)
    kwargs = dict(models=["lightgbm"], n_trials=2, cv=3, portfolio=None, show_progress_bar=False,
                  fixed_params={"sample_rate": 0.0})
    with_dates = automl_pl.tune(X, y, **kwargs)
    without = automl_pl.tune(X.drop(columns="sold"), y, **kwargs)
    assert with_dates.cv_rmse < 0.5 * without.cv_rmse  # the weekend's 3 is most of the error without the date

    new, truth = _sales(60, seed=1)
    exported = automl_pl.load_model(with_dates.export(tmp_path / "model"))
    assert exported.metadata["schema"][0]["kind"] == "datetime"
    as_text = new.assign(sold=new["sold"].dt.strftime("%Y-%m-%d"))
    predicted = exported.predict(as_text)
    np.testing.assert_allclose(predicted, with_dates.best_estimator_.predict(new), rtol=1e-6)
    assert np.sqrt(np.mean((predicted - truth) ** 2)) < 0.6 * np.std(truth)

    importance = with_dates.feature_importance(n_repeats=2)
    assert sorted(importance["feature"]) == ["price", "sold"]  # the user's columns, a date's features summed
    assert importance.set_index("feature").loc["sold", "gain"] > 0.3


def test_onnx_export_refuses_dates_and_says_what_serves_them(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("skl2onnx")
    X, y = _sales(60, seed=0)
    result = automl_pl.tune(X, y, models=["ridge"], n_trials=1, cv=3, portfolio=None, show_progress_bar=False)
    with pytest.raises(ValueError, match=r"date columns \['sold'\] have no ONNX type.* MLflow model"):
        result.export_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_fits_dates_and_numbers_written_as_text_and_exports_them(family, tmp_path):
    if not FAMILIES[family].is_available():
        pytest.skip(f"{FAMILIES[family].requires} is not installed")
    X, y = _sales(90, seed=2)
    X["hp"] = np.where(np.arange(90) % 9 == 0, "?", (100 + 10 * X["price"]).round(1).astype(str))
    result = automl_pl.tune(X, y, models=[family], n_trials=1, cv=2, cv_repeats=1, portfolio=None,
                            show_progress_bar=False, verbosity=0)
    assert result.leaderboard()["state"].tolist() == ["complete"]
    exported = automl_pl.load_model(result.export(tmp_path / "model"))
    as_text = X.assign(sold=X["sold"].dt.strftime("%Y-%m-%d"))
    np.testing.assert_allclose(exported.predict(as_text), result.best_estimator_.predict(X), rtol=1e-6, atol=1e-9)
