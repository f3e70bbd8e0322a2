"""Feature importance of the final model: permutation on out-of-fold rows, boosters' gain, and where it shows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from automl_pl import load_model, tune
from automl_pl.importance import COLUMNS, MAX_ROWS, OUT_OF_FOLD, TRAINING_ROWS, feature_importance
from automl_pl.report import feature_importances, write_report
from automl_pl.trial_attrs import FEATURE_IMPORTANCE

SETTINGS = dict(n_trials=3, cv=3, cv_repeats=1, show_progress_bar=False, n_jobs=1, random_state=0)


def _data(n_rows: int, *, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """A strong feature, a categorical one, and pure noise that the target never sees."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "signal": rng.normal(size=n_rows),
        "noise": rng.normal(size=n_rows),
        "group": pd.Categorical(rng.choice(["a", "b", "c"], size=n_rows)),
    })
    y = 3.0 * X["signal"] + X["group"].map({"a": -1.0, "b": 0.0, "c": 1.0}).astype(float) + 0.2 * rng.normal(size=n_rows)
    return X, y.rename("target")


@pytest.fixture(scope="module")
def result():
    X, y = _data(240, seed=0)
    pool, _ = _data(120, seed=1)
    return tune(X, y, X_unlabeled=pool, models=["ridge", "lightgbm"], **SETTINGS)


def test_tune_measures_it_and_an_informative_feature_beats_noise(result):
    table = result.importance_
    assert table is not None and list(table.columns) == list(COLUMNS)
    importance = dict(zip(table["feature"], table["importance"]))
    assert list(table["feature"][:2]) == ["signal", "group"]
    assert importance["signal"] > 1.0 > 0.05 > abs(importance["noise"])
    assert table.attrs["rows"] == OUT_OF_FOLD and table.attrs["n_rows"] == 240  # every row held out once
    assert table["importance_share"].sum() == pytest.approx(1.0)
    assert result.feature_importance() is table  # kept, not measured again


def test_boosters_gain_is_given_where_the_model_has_one():
    X, y = _data(150, seed=2)
    boosted = tune(X, y, models=["lightgbm"], **SETTINGS)
    gain = dict(zip(boosted.importance_["feature"], boosted.importance_["gain"]))
    assert sum(gain.values()) == pytest.approx(1.0) and gain["signal"] == max(gain.values())
    linear = tune(X, y, models=["ridge"], **SETTINGS)
    assert linear.importance_["gain"].isna().all()


def test_without_bagging_it_is_measured_on_the_training_rows():
    X, y = _data(150, seed=3)
    refitted = tune(X, y, models=["ridge"], bagging=False, **SETTINGS)
    assert refitted.importance_.attrs["rows"] == TRAINING_ROWS
    assert refitted.importance_["feature"].iloc[0] == "signal"


def test_it_is_bounded_in_rows_and_time(result):
    few = feature_importance(result.best_estimator_, result.data.X, result.data.y, max_rows=30, n_repeats=1)
    assert few.attrs["n_rows"] <= 30 and math.isnan(few["stddev"].iloc[0])
    assert feature_importance(result.best_estimator_, result.data.X, result.data.y, seconds=0.0) is None
    assert MAX_ROWS >= 240


def test_one_cut_short_by_a_time_limit_is_measured_again_in_full_on_demand():
    X, y = _data(150, seed=4)
    result = tune(X, y, models=["ridge"], **SETTINGS)
    first = result.importance_
    assert first.attrs["cut_for_time"] is False and result.feature_importance() is first
    first.attrs["cut_for_time"] = True  # as tune() leaves it when its timeout afforded fewer shuffles or rows
    assert result.feature_importance(seconds=60) is first  # a limit again: what was measured will do
    again = result.feature_importance()
    assert again is not first and again.attrs["cut_for_time"] is False and again.attrs["n_repeats"] == 3


def test_it_reaches_the_study_the_report_and_the_artifact(result, tmp_path):
    recorded = result.study.user_attrs[FEATURE_IMPORTANCE]
    assert recorded["best_trial"] == result.best_trial.number
    assert recorded["feature"] == list(result.importance_["feature"])
    info = feature_importances(result.study)
    assert [bar.feature for bar in info.bars] == recorded["feature"] and info.rows == OUT_OF_FOLD
    page = write_report(result.study, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Feature importance of the final model" in page
    model = load_model(result.export(tmp_path / "model"))
    assert model.metadata["feature_importance"]["feature"][0] == "signal"
    json.dumps(model.metadata["feature_importance"], allow_nan=False)  # plain JSON: no NaN


def test_a_stale_record_is_not_reported(result):
    study = result.study
    recorded = dict(study.user_attrs[FEATURE_IMPORTANCE])
    try:
        study.set_user_attr(FEATURE_IMPORTANCE, {**recorded, "best_trial": -1})
        assert feature_importances(study) is None
    finally:
        study.set_user_attr(FEATURE_IMPORTANCE, recorded)
