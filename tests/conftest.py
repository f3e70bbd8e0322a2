"""Small mixed-type regression data shared by the test modules.

Every frame has the same five feature columns:

* ``num_a``: float with missing values (the strongest signal);
* ``num_b``: float, complete;
* ``count``: int64;
* ``color``: object column of strings with ``None`` for missing;
* ``size``: pandas ``category``.

The target is a real function of the features plus seeded noise, so a model that
learns something beats the mean.
"""

from __future__ import annotations

import os

# Tests run two at a time (pytest -n 2) on small machines; OpenMP and BLAS pools sized to every core,
# in both workers at once, spin against each other and make a sub-second fit take a minute.
# One thread per worker, unless the caller set it. Set before numpy and the model libraries load.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

COLORS = ["red", "green", "blue"]
SIZES = ["S", "M", "L"]
COLOR_EFFECT = {"red": 2.0, "green": -1.0, "blue": 0.5}
SIZE_EFFECT = {"S": -1.5, "M": 0.0, "L": 1.5}
FEATURES = ["num_a", "num_b", "count", "color", "size"]


def make_features(n_rows: int, *, seed: int, nan_share: float = 0.1) -> pd.DataFrame:
    """``n_rows`` rows of the mixed-type features, seeded."""
    rng = np.random.default_rng(seed)
    num_a = rng.normal(size=n_rows)
    num_a[rng.random(n_rows) < nan_share] = np.nan
    color = rng.choice(COLORS, size=n_rows).astype(object)
    color[rng.random(n_rows) < nan_share] = None
    return pd.DataFrame(
        {
            "num_a": num_a,
            "num_b": rng.uniform(-2.0, 2.0, size=n_rows),
            "count": rng.integers(0, 10, size=n_rows).astype("int64"),
            "color": pd.Series(color, dtype=object),
            "size": pd.Categorical(rng.choice(SIZES, size=n_rows), categories=SIZES),
        }
    )


def make_target(X: pd.DataFrame, *, seed: int, noise: float = 0.3) -> pd.Series:
    """A signal in every column plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    signal = (
        3.0 * X["num_a"].fillna(0.0).to_numpy()
        + 1.0 * X["num_b"].to_numpy()
        + 0.2 * X["count"].to_numpy()
        + X["color"].map(COLOR_EFFECT).fillna(0.0).to_numpy(dtype=float)
        + X["size"].astype(object).map(SIZE_EFFECT).fillna(0.0).to_numpy(dtype=float)
    )
    return pd.Series(signal + noise * rng.normal(size=len(X)), name="target")


@pytest.fixture
def X() -> pd.DataFrame:
    """200 labelled rows of mixed-type features with missing values."""
    return make_features(200, seed=1)


@pytest.fixture
def y(X: pd.DataFrame) -> pd.Series:
    return make_target(X, seed=2)


@pytest.fixture
def X_unlabeled() -> pd.DataFrame:
    """150 unlabelled rows with the same columns; one colour appears only here."""
    frame = make_features(150, seed=3)
    frame.loc[:9, "color"] = "yellow"  # a category the labelled rows never have
    return frame


@pytest.fixture
def new_rows() -> pd.DataFrame:
    """Rows to predict: categories never seen in training, missing values everywhere they may be."""
    return pd.DataFrame(
        {
            "num_a": [0.5, np.nan, -1.0, np.nan, 2.0],
            "num_b": [0.0, 1.0, -1.0, 0.5, 1.5],
            "count": np.array([1, 2, 3, 4, 5], dtype="int64"),
            "color": pd.Series(["purple", None, "red", "never-seen", "blue"], dtype=object),
            "size": pd.Categorical(["XL", "S", None, "XS", "M"], categories=["S", "M", "L", "XL", "XS"]),
        }
    )


@pytest.fixture
def storage_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/study.db"


@pytest.fixture(scope="session")
def make_data():
    """A factory ``make_data(n_rows, seed=...) -> (X, y)`` for tests that need other sizes or seeds."""

    def make(n_rows: int, *, seed: int) -> tuple[pd.DataFrame, pd.Series]:
        features = make_features(n_rows, seed=seed)
        return features, make_target(features, seed=seed + 1000)

    return make


@pytest.fixture(autouse=True)
def _quiet_optuna():
    """Optuna's per-trial INFO lines only bury a failure's own output."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(before)
