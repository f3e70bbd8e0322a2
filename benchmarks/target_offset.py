"""A target far from zero: the same study on ``y`` and on ``y + 1e9``, side by side (holdout RMSE).

    python benchmarks/target_offset.py [--timeout 30] [--offset 1e9]

1,500 rows of a smooth function of two columns (``2a + sin 3b`` plus noise, sd 0.1), the first 1,000
labelled, the rest held out; the study (every family, ``timeout`` seconds, seed 0) runs once on
the target as it is and once on it plus ``offset``. With 32-bit boosters an uncentred target of
1e9 is a handful of values (see :func:`automl_pl.data.target_offset`); the two lines should agree.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def main() -> None:
    import optuna

    import automl_pl

    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--offset", type=float, default=1e9)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=1500), "b": rng.normal(size=1500)})
    signal = 2 * X["a"] + np.sin(3 * X["b"]) + rng.normal(scale=0.1, size=1500)
    for offset in (0.0, args.offset):
        y = pd.Series(offset + signal, name="y")
        result = automl_pl.tune(X.iloc[:1000], y.iloc[:1000], timeout=args.timeout, random_state=0,
                                storage=optuna.storages.InMemoryStorage(), show_progress_bar=False, verbosity=0)
        held_out = y.iloc[1000:].to_numpy()
        rmse = float(np.sqrt(np.mean((result.best_estimator_.predict(X.iloc[1000:]) - held_out) ** 2)))
        board = result.leaderboard(by="family").set_index("family")
        failed = {family: int(n) for family, n in board["failed"].items() if n}
        print(f"offset {offset:g}: CV RMSE {result.cv_rmse:.4f}, holdout RMSE {rmse:.4f}, final {result.combination}, "
              f"failed trials {failed or 'none'}")


if __name__ == "__main__":
    main()
