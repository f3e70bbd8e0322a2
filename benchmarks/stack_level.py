"""Would a learned stack level (AutoGluon's L2: a model on the original features plus the best trials'
out-of-fold predictions) beat automl_pl's final model? A probe, run before building one into the product.

    python benchmarks/stack_level.py [--budget 60] [--cases chem_yield:full diamonds:10 ...]
                                     [--bigmart-dir ../shared/data/bigmart] [--out benchmarks/out/stack_level]

For each case of ``peers.py`` (same split, seed and lodo portfolio), one ``tune(timeout=T)``; then, from
that study's own out-of-fold predictions and kept fold models (taken where ``record_ensemble``
receives them), a second level is fitted on the first K-fold of the study's folds, fold by fold:

* ``lgbm``: LightGBM (300 trees, learning rate 0.03, 15 leaves) on the original columns plus the
  out-of-fold predictions of the five best distinct trials;
* ``lgbm_oof``: the same on the five prediction columns only;
* ``catboost``: CatBoost (500 iterations, depth 6) on the original columns plus the five columns.

The held-out rows get the first level's columns from each trial's bagged fold models (as the final
model predicts) and the second level's prediction is the mean of its fold models. Printed per case
and second level: its out-of-fold RMSE over the final model's (what a fold-correct choice would see),
its holdout RMSE over the final model's, and the holdout RMSE of greedy ensemble selection over the
five columns and the second level's (AutoGluon's ``WeightedEnsemble_L3``) with the weight it gives
the second level. Writes ``results.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

import automl_pl
import automl_pl.study
from automl_pl.ensemble import select_weights
from automl_pl.fold_models import is_twin
from automl_pl.stacking import first_kfold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_datasets import load  # noqa: E402
from peers import as_categories, read_case, starting_portfolio, write_case  # noqa: E402

CASES = ("chem_yield:full", "diamonds:10", "ames:full", "bigmart:10", "wage:full", "budgetfood:10",
         "gapminder:10", "cps1988:10")
"""The cases where automl_pl trailed the best peer most at T = 60 s (first four), and four others."""
FIRST_LEVEL = 5
"""The best distinct trials whose out-of-fold predictions feed the second level."""
SECOND_LEVELS = ("lgbm", "lgbm_oof", "catboost")


def rmse(predictions: np.ndarray, y: np.ndarray) -> float:
    return math.sqrt(float(np.mean((np.asarray(predictions) - y) ** 2)))


def run_study(X, y, pool, dataset: str, budget: float, *, seed: int = 0) -> tuple[automl_pl.TuneResult, dict]:
    """``tune(timeout=budget, random_state=seed)`` as ``peers.py`` runs it, and what ``record_ensemble`` received."""
    seen: dict = {}
    record = automl_pl.study.record_ensemble

    def spy(study, out_of_fold, y, *, kept, folds, **options):
        seen.update(out_of_fold=dict(out_of_fold), y=y, kept=kept, folds=folds)
        return record(study, out_of_fold, y, kept=kept, folds=folds, **options)

    automl_pl.study.record_ensemble = spy
    try:
        result = automl_pl.tune(X, y, X_unlabeled=pool, n_trials=None, timeout=budget, cv=5, n_jobs=2,
                                storage=optuna.storages.InMemoryStorage(), random_state=seed, show_progress_bar=False,
                                portfolio=starting_portfolio("lodo", dataset))
    finally:
        automl_pl.study.record_ensemble = record
    return result, seen


def first_level(result: automl_pl.TuneResult, seen: dict) -> list[optuna.trial.FrozenTrial]:
    """The ``FIRST_LEVEL`` best distinct completed trials with out-of-fold predictions and kept fold models."""
    chosen: list[optuna.trial.FrozenTrial] = []
    complete = result.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    for trial in sorted((t for t in complete if t.number in seen["out_of_fold"]), key=lambda t: t.value):
        if len(chosen) == FIRST_LEVEL:
            break
        if seen["kept"].get(trial.number) is not None and not any(is_twin(c.value, trial.value) for c in chosen):
            chosen.append(trial)
    return chosen


def second_level(kind: str, train: pd.DataFrame, y: np.ndarray, columns: list[str], categorical: list[str]):
    """A fitted second-level model of ``kind`` and the function that prepares its input."""
    if kind == "catboost":
        from catboost import CatBoostRegressor

        def prepare(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(**{c: frame[c].astype("string").fillna("__missing__").astype(str) for c in categorical})

        model = CatBoostRegressor(iterations=500, learning_rate=0.05, depth=6, verbose=0, thread_count=2,
                                  random_seed=0, cat_features=categorical)
    else:
        import lightgbm

        def prepare(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[columns] if kind == "lgbm_oof" else frame

        model = lightgbm.LGBMRegressor(n_estimators=300, learning_rate=0.03, num_leaves=15,
                                       min_child_samples=max(5, min(20, len(train) // 20)), subsample=0.8,
                                       subsample_freq=1, colsample_bytree=0.8, verbose=-1, n_jobs=2, random_state=0)
    model.fit(prepare(train), y)
    return model, prepare


def probe(dataset: str, regime: str, budget: float, bigmart_dir: Path, out: Path) -> list[dict]:
    case = out / "cases" / f"{dataset}-{regime}"
    data = load(dataset, bigmart_dir)
    if data is None:
        print(f"{dataset}: not available, skipped")
        return []
    write_case(case, *data, regime=regime, seed=0)
    X, y, pool, X_hold, y_hold = read_case(case)
    result, seen = run_study(X, y, pool, dataset, budget)
    final_hold = rmse(result.best_estimator_.predict(X_hold), y_hold)
    trials = first_level(result, seen)
    y_oof = np.asarray(seen["y"], dtype="float64")
    oof = np.column_stack([seen["out_of_fold"][t.number] for t in trials])
    hold = np.column_stack([np.mean([m.predict(X_hold) for m in seen["kept"].get(t.number)], axis=0)
                            for t in trials])
    columns = [f"__level1_{i}" for i in range(len(trials))]
    X_cat, X_hold_cat = as_categories(X.reset_index(drop=True), X_hold.reset_index(drop=True))
    categorical = [c for c in X_cat.columns if isinstance(X_cat[c].dtype, pd.CategoricalDtype)]
    features = pd.concat([X_cat, pd.DataFrame(oof, columns=columns)], axis=1)
    features_hold = pd.concat([X_hold_cat, pd.DataFrame(hold, columns=columns)], axis=1)
    rows = []
    for kind in SECOND_LEVELS:
        started = time.perf_counter()
        level2_oof, level2_hold = np.full(len(y_oof), np.nan), []
        for train_rows, valid_rows in first_kfold(seen["folds"]):
            model, prepare = second_level(kind, features.iloc[train_rows], y_oof[train_rows], columns, categorical)
            level2_oof[valid_rows] = model.predict(prepare(features.iloc[valid_rows]))
            level2_hold.append(model.predict(prepare(features_hold)))
        seconds = time.perf_counter() - started
        level2_hold = np.mean(level2_hold, axis=0)
        usable = np.isfinite(level2_oof) & np.isfinite(oof).all(axis=1)
        weights = select_weights(np.column_stack([oof[usable], level2_oof[usable]]), y_oof[usable])
        rows.append({
            "case": f"{dataset} {regime}", "labelled": len(X), "second_level": kind,
            "final_model": result.combination, "first_level": " ".join(t.params["model"] for t in trials),
            "final_oof": result.ensemble_cv_rmse or result.cv_rmse, "final_holdout": final_hold,
            "oof_ratio": rmse(level2_oof[usable], y_oof[usable]) / (result.ensemble_cv_rmse or result.cv_rmse),
            "holdout_ratio": rmse(level2_hold, y_hold) / final_hold,
            "greedy_holdout_ratio": rmse(np.column_stack([hold, level2_hold]) @ weights, y_hold) / final_hold,
            "greedy_weight": float(weights[-1]), "seconds": seconds,
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="DATASET:REGIME")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--out", type=Path, default=HERE / "out/stack_level")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for case in args.cases:
        dataset, regime = case.split(":")
        try:
            rows += probe(dataset, regime, args.budget, args.bigmart_dir, args.out)
        except Exception:  # one case's failure is reported, the others still run
            print(f"{case}: failed\n{traceback.format_exc()}", flush=True)
    results = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(results.pivot_table(index="case", columns="second_level",
                                  values=["oof_ratio", "holdout_ratio", "greedy_holdout_ratio"]).to_string())
    for kind, group in results.groupby("second_level"):
        chosen = int((group["oof_ratio"] < 1).sum())
        print(f"{kind}: geomean holdout ratio {float(np.exp(np.log(group['holdout_ratio']).mean())):.4f}, "
              f"greedy {float(np.exp(np.log(group['greedy_holdout_ratio']).mean())):.4f}; "
              f"beats the final model out of fold (would be chosen) on {chosen} of {len(group)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
