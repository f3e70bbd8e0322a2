"""A target far from zero (1e9 plus or minus a few units): fitted centred, predicted in 64 bits, exported with its offset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl_pl
from automl_pl.data import target_offset


def _data(offset: float) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = offset + 2 * X["a"] + np.sin(3 * X["b"]) + rng.normal(scale=0.1, size=400)
    return X, pd.Series(y, name="y")


def test_only_a_target_far_from_zero_is_centred():
    assert target_offset(np.array([1e9 + 1.0, 1e9 - 1.0])) == 1e9
    assert target_offset(np.array([100.0, 300.0])) == 0.0
    assert target_offset(np.array([-5e12, -5e12 + 2.0])) == -5e12 + 1.0


@pytest.mark.parametrize("family", ["xgboost", "lightgbm", "catboost"])
def test_the_boosters_learn_a_target_of_1e9_as_they_learn_it_at_0(family, tmp_path):
    pytest.importorskip(family)
    options = dict(models=[family], n_trials=1, cv=3, portfolio=None, show_progress_bar=False,
                   fixed_params={"sample_rate": 0.0})
    X, y = _data(0.0)
    near = automl_pl.tune(X, y, **options)
    far = automl_pl.tune(X, y + 1e9, **options)  # 32-bit floats: ~64 apart at 1e9, the whole spread is ~5
    assert far.cv_rmse == pytest.approx(near.cv_rmse, rel=1e-3) and near.cv_rmse < 0.3 * y.std()

    predicted = far.best_estimator_.predict(X.head(20))
    np.testing.assert_allclose(predicted - 1e9, near.best_estimator_.predict(X.head(20)), atol=1e-3)
    exported = automl_pl.load_model(far.export(tmp_path / "model"))
    assert exported.metadata["format_version"] == 3 and exported.metadata["target_offset"] == pytest.approx(1e9)
    np.testing.assert_allclose(exported.predict(X.head(20)), predicted, rtol=0, atol=1e-3)


def test_onnx_export_refuses_a_target_offset_and_says_what_serves_it(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("skl2onnx")
    X, y = _data(1e9)
    result = automl_pl.tune(X, y, models=["ridge"], n_trials=1, cv=3, portfolio=None, show_progress_bar=False)
    with pytest.raises(ValueError, match=r"target sits at 1e\+09, far from zero, .* MLflow model"):
        result.export_onnx(tmp_path / "model.onnx")
