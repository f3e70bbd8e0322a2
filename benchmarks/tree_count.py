"""How many trees? CatBoost's count fixed, or chosen by early stopping and then refitted. A probe.

    python benchmarks/tree_count.py [--cases diamonds:10 bigmart:10 ...] [--rounds 50] [--kinds es es_median ...]
                                    [--bigmart-dir ../shared/data/bigmart]

On each case of ``peers.py`` (its split, seed 0), CatBoost (depth 6, L2 3, plain CatBoost on the raw
columns, categorical columns as CatBoost's own) is cross-validated (5 folds) in these ways (``--kinds``;
``280`` always runs, as the base):

* ``280``: 280 trees at 0.08 (the portfolio's kind of configuration); ``1000``: 1,000 at 0.05 (CatBoost's own);
* ``es``: each fold's training rows split 90/10, trees added at 0.05 (at most 3,000) until ``--rounds``
  in a row do not lower the error on the 10%, then a refit on all the fold's training rows with the
  count found, so that no row is given up;
* ``es_median``: the same stopping in every fold, then every fold refitted with the median of the counts;
* ``es_once``: one stopping on a fifth of all the labelled rows (at 0.05, at most 3,000), its count for every fold;
* ``trim280``: 280 at 0.08 as a cap, one stopping (``cap // 4`` = 70 rounds) on a quarter of the first
  fold's training rows, its count for every fold: what the second A/B arm of 2026-12-01 (a1ab4af) did.

Printed per case: CV RMSE and holdout RMSE (mean of the fold models) over ``280``'s, seconds, and the
counts per fold of the stopping kinds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor
from sklearn.model_selection import KFold, train_test_split

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_datasets import load  # noqa: E402
from peers import read_case, write_case  # noqa: E402

from automl_pl.ensemble import rmse  # noqa: E402

KINDS = ("280", "1000", "es", "es_median", "es_once", "trim280")
CASES = ("diamonds:10", "bigmart:10", "wage:full", "cps1988:10", "budgetfood:10", "gapminder:full", "chem_yield:full")


def _text(X: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    return X.assign(**{c: X[c].astype("string").fillna("__nan__").astype(str) for c in categorical})


def _catboost(trees: int, rate: float, categorical: list[str], **options) -> CatBoostRegressor:
    return CatBoostRegressor(iterations=trees, learning_rate=rate, depth=6, l2_leaf_reg=3.0, verbose=0, thread_count=2,
                             random_seed=0, cat_features=categorical, **options)


def _stopping_count(X, y, categorical, *, share: float, trees: int, rate: float, rounds: int) -> int:
    """Trees of CatBoost's best iteration, fitted on ``X`` less ``share`` of its rows and stopped on that share."""
    X_fit, X_stop, y_fit, y_stop = train_test_split(X, y, test_size=share, random_state=0)
    stopped = _catboost(trees, rate, categorical, early_stopping_rounds=rounds).fit(X_fit, y_fit,
                                                                                     eval_set=(X_stop, y_stop))
    return stopped.get_best_iteration() + 1


def catboost_cases(cases: list[str], *, bigmart_dir: Path, out: Path) -> Iterator[tuple]:
    """``(case, X, y, X_hold, y_hold, categorical)`` of each available ``DATASET:REGIME`` case, split as in
    ``peers.py`` (seed 0), text columns as CatBoost takes them and ``y`` as floats; a missing dataset is
    reported and skipped."""
    for case in cases:
        dataset, regime = case.split(":")
        data = load(dataset, bigmart_dir)
        if data is None:
            print(f"{dataset}: not available, skipped")
            continue
        directory = out / "cases" / f"{dataset}-{regime}"
        write_case(directory, *data, regime=regime, seed=0)
        X, y, _, X_hold, y_hold = read_case(directory)
        categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        yield case, _text(X, categorical), y.to_numpy(dtype="float64"), _text(X_hold, categorical), y_hold, categorical


FIXED = {"280": (280, 0.08), "1000": (1000, 0.05)}
"""The fixed kinds' (trees, learning rate)."""


def cross_validate(kind: str, X, y, X_hold, categorical, *,
                   rounds: int = 50) -> tuple[float, np.ndarray, float, list[int]]:
    """(CV RMSE, holdout predictions, seconds, trees per fold) of one way of counting the trees."""
    started, out_of_fold, hold, counts = time.perf_counter(), np.zeros(len(y)), [], []
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    rate = 0.08 if kind == "trim280" else 0.05  # of the stopping kinds
    if kind in ("es", "es_median"):
        counts = [_stopping_count(X.iloc[train_rows], y[train_rows], categorical, share=0.1, trees=3000, rate=rate,
                                  rounds=rounds) for train_rows, _ in folds]
        if kind == "es_median":  # one count for the trial, from every fold's stopping (training rows only)
            counts = [int(np.median(counts))] * len(folds)
    if kind == "es_once":  # one stopping on a fifth of all the labelled rows, its count for every fold
        counts = [_stopping_count(X, y, categorical, share=0.2, trees=3000, rate=rate, rounds=rounds)] * len(folds)
    if kind == "trim280":  # the 280 at 0.08 as a cap: one stopping on a quarter of fold 0's training rows
        first = folds[0][0]
        counts = [_stopping_count(X.iloc[first], y[first], categorical, share=0.25, trees=280, rate=rate,
                                  rounds=70)] * len(folds)
    for k, (train_rows, valid_rows) in enumerate(folds):
        X_train, y_train = X.iloc[train_rows], y[train_rows]
        trees, fold_rate = FIXED.get(kind) or (counts[k], rate)
        model = _catboost(trees, fold_rate, categorical).fit(X_train, y_train)
        out_of_fold[valid_rows] = model.predict(X.iloc[valid_rows])
        hold.append(model.predict(X_hold))
    return rmse(out_of_fold, y), np.mean(hold, axis=0), time.perf_counter() - started, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="DATASET:REGIME")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--out", type=Path, default=HERE / "out/tree_count")
    parser.add_argument("--rounds", type=int, default=50, help="early-stopping rounds of es, es_median and es_once")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="280 always runs: the base")
    args = parser.parse_args()
    for case, X, y, X_hold, y_hold, categorical in catboost_cases(args.cases, bigmart_dir=args.bigmart_dir,
                                                                   out=args.out):
        results = {kind: cross_validate(kind, X, y, X_hold, categorical, rounds=args.rounds)
                   for kind in dict.fromkeys(["280", *args.kinds])}
        base_cv, base_hold = results["280"][0], rmse(results["280"][1], y_hold)
        parts = [f"{kind}: cv {cv / base_cv:.4f} hold {rmse(hold, y_hold) / base_hold:.4f} "
                 f"{seconds:.1f}s" for kind, (cv, hold, seconds, _) in results.items()]
        counts = "".join(f"  {kind} trees {results[kind][3]}" for kind in ("es", "es_median", "es_once", "trim280")
                         if kind in results)
        print(f"{case:16s} " + "  ".join(parts) + counts, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
