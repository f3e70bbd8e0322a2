"""Which way of mixing a study's trials wins on rows nobody tuned on? A probe of the final model's weights.

    python benchmarks/mixing.py [--budget 60] [--cases ames:full bigmart:10 ...] [--seeds 0 1]
                                [--bigmart-dir ../shared/data/bigmart] [--out benchmarks/out/mixing]

For each case of ``peers.py`` (its split for each seed, the lodo portfolio), one ``tune(timeout=T)``; then,
from that study's own out-of-fold predictions and kept fold models (taken where ``record_ensemble``
receives them, as ``stack_level.py`` does), the final model's candidates (the best distinct trials with
kept fold models, less those the pool guard left out) are mixed in other ways, and every mix is scored
on the held-out rows, each trial predicting there as the final model does (the mean of its fold
models). Because every mix is made from the same study, the comparison carries none of the search's
run-to-run noise. Mixes:

* ``best``: the best trial alone;
* ``greedy``: greedy ensemble selection over the candidates (:func:`automl_pl.ensemble.select_weights`),
  the shipped weighted mean without the stack layer;
* ``bagged``: the mean of ``BAGS`` greedy selections, each on a bootstrap sample of the labelled rows
  (Caruana et al. 2006's remedy for weights that fit the out-of-fold noise of few rows);
* ``top3`` / ``top5``: the plain mean of the 3 / 5 best candidates.

Printed: each mix's holdout RMSE over the final model's, per case and as geometric means. Writes
``results.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from automl_pl.ensemble import rmse, select_weights
from automl_pl.fold_models import KEPT_TRIALS, best_distinct
from automl_pl.trial_attrs import ENSEMBLE

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_datasets import load  # noqa: E402
from peers import read_case, write_case  # noqa: E402
from stack_level import run_study  # noqa: E402

CASES = ("ames:full", "bigmart:10", "bigmart:full", "budgetfood:10", "chem_yield:full", "cps1988:10",
         "diamonds:10", "gapminder:full", "wage:full")
"""``search_ab.py``'s nine cases."""
BAGS = 20
"""Bootstrap samples whose greedy selections ``bagged`` averages."""


def bagged_weights(oof: np.ndarray, y: np.ndarray, *, bags: int = BAGS, seed: int = 0) -> np.ndarray:
    """The mean of ``bags`` greedy selections, each on a bootstrap sample of the rows."""
    rng = np.random.default_rng(seed)
    weights = np.zeros(oof.shape[1])
    for _ in range(bags):
        rows = rng.integers(0, len(y), len(y))
        weights += select_weights(oof[rows], y[rows])
    return weights / bags


def mixes(oof: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per mix, its weights over the candidates (columns of ``oof``, best first)."""
    n = oof.shape[1]
    top = lambda k: np.r_[np.full(min(k, n), 1 / min(k, n)), np.zeros(n - min(k, n))]  # noqa: E731
    return {"best": np.eye(n)[0], "greedy": select_weights(oof, y), "bagged": bagged_weights(oof, y),
            "top3": top(3), "top5": top(5)}


def probe(dataset: str, regime: str, budget: float, seed: int, bigmart_dir: Path, out: Path) -> list[dict]:
    case = out / "cases" / f"{dataset}-{regime}-{seed}"
    data = load(dataset, bigmart_dir)
    if data is None:
        print(f"{dataset}: not available, skipped")
        return []
    write_case(case, *data, regime=regime, seed=seed)
    X, y, pool, X_hold, y_hold = read_case(case)
    result, seen = run_study(X, y, pool, dataset, budget, seed=seed)
    final = rmse(result.best_estimator_.predict(X_hold), y_hold)
    complete = result.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    strayed = set((result.study.user_attrs.get(ENSEMBLE) or {}).get("strayed", []))  # the pool guard's
    candidates = best_distinct((t for t in complete if t.number in seen["out_of_fold"] and t.number not in strayed
                                and seen["kept"].get(t.number) is not None), limit=KEPT_TRIALS)
    y_oof = np.asarray(seen["y"], dtype="float64")
    oof = np.column_stack([seen["out_of_fold"][t.number] for t in candidates])
    hold = np.column_stack([np.mean([m.predict(X_hold) for m in seen["kept"].get(t.number)], axis=0)
                            for t in candidates])
    row = {"case": f"{dataset} {regime}", "seed": seed, "labelled": len(X), "candidates": len(candidates),
           "final_model": result.combination, "final_holdout": final}
    weights_of = mixes(oof, y_oof)
    greedy_oof = rmse(oof @ weights_of["greedy"], y_oof)
    for name, weights in weights_of.items():
        row[f"{name}_ratio"] = rmse(hold @ weights, y_hold) / final
        row[f"{name}_oof_ratio"] = rmse(oof @ weights, y_oof) / greedy_oof
        row[f"{name}_members"] = int(np.count_nonzero(weights))
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    return [row]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="DATASET:REGIME")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--out", type=Path, default=HERE / "out/mixing")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for seed in args.seeds:
        for case in args.cases:
            dataset, regime = case.split(":")
            try:
                rows += probe(dataset, regime, args.budget, seed, args.bigmart_dir, args.out)
            except Exception:  # one case's failure is reported, the others still run
                print(f"{case}: failed\n{traceback.format_exc()}", flush=True)
    results = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    names = [c.removesuffix("_ratio") for c in results.columns if c.endswith("_ratio") and "_oof" not in c]
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(results.set_index(["case", "seed"])[[f"{n}_ratio" for n in names]].to_string())
    for name in names:
        ratios = results[f"{name}_ratio"]
        print(f"{name:7s}: holdout RMSE over the final model's, geomean {float(np.exp(np.log(ratios).mean())):.4f}, "
              f"worst {ratios.max():.4f}, better on {int((ratios < 1).sum())} of {len(ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
