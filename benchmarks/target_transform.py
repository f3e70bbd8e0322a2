"""Fit on sqrt(y) or log(y) instead of y? CatBoost's out-of-fold and held-out RMSE, against another seed. A probe.

    python benchmarks/target_transform.py [--cases diamonds:10 wage:10 ...] [--bigmart-dir ../shared/data/bigmart]

Prices, sales and wages are skewed; fitting on a compressed target and squaring (or exponentiating)
back is a common trick, and a tuned "target transform" would be a search dimension no peer has. This
asks whether it is worth one. On each case of ``peers.py`` (its split, seed 0), one CatBoost
configuration of the portfolio's kind (280 trees at 0.08, depth 6, L2 3, CatBoost's own categorical
columns) is cross-validated (5 folds; each fold model also predicts the held-out rows, as the
final model's fold models do) in four ways:

* ``raw``: fitted on ``y``, the base every ratio is over;
* ``seed1``: the same on ``y`` with another random seed: the control, what any second model adds;
* ``sqrt``: fitted on ``sqrt(y + shift)``, predictions squared back (negative ones clipped at 0);
* ``log``: fitted on ``log(y + shift)``, predictions exponentiated back (no bias correction);

``shift`` is 0 when every target is positive, else enough to make them so. Printed per case: each
kind's out-of-fold (``cv``) and held-out (``hold``) RMSE over ``raw``'s, and those of the plain mean
of ``raw`` and that kind (``+raw``): what an ensemble mixing the two could get. A transform is worth
a search dimension only where it beats ``seed1``, on its own or mixed with ``raw``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tree_count import FIXED, _catboost, catboost_cases  # noqa: E402

from automl_pl.ensemble import rmse  # noqa: E402

KINDS = ("raw", "seed1", "sqrt", "log")
CASES = ("diamonds:10", "diamonds:full", "bigmart:10", "bigmart:full", "wage:10", "wage:full", "cps1988:10",
         "cps1988:full", "budgetfood:10", "gapminder:full", "chem_yield:10", "chem_yield:full", "ames:10",
         "ames:full")
TRANSFORMS = {"sqrt": (np.sqrt, lambda z: np.clip(z, 0, None) ** 2), "log": (np.log, np.exp)}
"""(forward, inverse) of each transformed kind."""


def cross_validate(kind: str, X, y, X_hold, categorical) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold predictions, mean held-out predictions of the fold models) of one kind, on ``y``'s scale."""
    shift = 0.0 if y.min() > 0 else 1e-3 * (y.max() - y.min()) - y.min()
    forward, inverse = TRANSFORMS.get(kind, (None, None))
    out_of_fold, hold = np.zeros(len(y)), []
    for train_rows, valid_rows in KFold(5, shuffle=True, random_state=0).split(X):
        target = y[train_rows] if forward is None else forward(y[train_rows] + shift)
        model = _catboost(*FIXED["280"], categorical).set_params(random_seed=int(kind == "seed1"))
        model.fit(X.iloc[train_rows], target)
        predicted, held = model.predict(X.iloc[valid_rows]), model.predict(X_hold)
        if inverse is not None:
            predicted, held = inverse(predicted) - shift, inverse(held) - shift
        out_of_fold[valid_rows] = predicted
        hold.append(held)
    return out_of_fold, np.mean(hold, axis=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="DATASET:REGIME")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--out", type=Path, default=HERE / "out/target_transform")
    args = parser.parse_args()
    for case, X, y, X_hold, y_hold, categorical in catboost_cases(args.cases, bigmart_dir=args.bigmart_dir,
                                                                   out=args.out):
        results = {kind: cross_validate(kind, X, y, X_hold, categorical) for kind in KINDS}
        base_cv, base_hold = rmse(results["raw"][0], y), rmse(results["raw"][1], y_hold)
        parts = []
        for kind in KINDS[1:]:
            (oof, hold), (raw_oof, raw_hold) = results[kind], results["raw"]
            parts.append(f"{kind}: cv {rmse(oof, y) / base_cv:.4f} hold {rmse(hold, y_hold) / base_hold:.4f} "
                         f"+raw: cv {rmse((oof + raw_oof) / 2, y) / base_cv:.4f} "
                         f"hold {rmse((hold + raw_hold) / 2, y_hold) / base_hold:.4f}")
        print(f"{case:16s} rows {len(y):6d} skew {pd.Series(y).skew():5.2f}  " + "  |  ".join(parts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
