"""The shipped Big Mart spec on the tutorial's data, when ../shared/data/bigmart is present."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl_pl
from automl_pl.spec import load_data, load_spec

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "bigmart"

pytestmark = pytest.mark.skipif(not (DATA / "train.csv").is_file(), reason=f"Big Mart data not found at {DATA}")


def test_bigmart_spec_runs_exports_and_predicts_the_raw_test_file(tmp_path):
    spec = load_spec(REPO / "studies" / "bigmart.toml", data_dir=DATA)
    X, y, X_unlabeled = load_data(spec)
    assert (len(X), len(X_unlabeled)) == (8523, 5681)
    assert "Item_Identifier" not in X.columns and "Item_Outlet_Sales" not in X_unlabeled.columns

    spec = dataclasses.replace(spec, storage=f"sqlite:///{tmp_path / 'bigmart.db'}")
    result = automl_pl.tune(X, y, X_unlabeled=X_unlabeled, models=["lightgbm"], n_trials=2, cv=3,
                            storage=spec.storage, study_name=spec.study_name, n_jobs=1, show_progress_bar=False)
    model = automl_pl.load_model(result.export(tmp_path / "model", ignored_columns=spec.drop))

    raw_test = pd.read_csv(DATA / "test.csv")  # still has Item_Identifier, which the spec drops
    predictions = model.predict(raw_test)
    assert predictions.shape == (5681,) and np.isfinite(predictions).all()
    assert np.allclose(predictions, result.best_estimator_.predict(X_unlabeled))
    assert 500 < result.cv_rmse < 2000  # sales in the thousands; a broken pipeline lands far outside
