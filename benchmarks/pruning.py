"""Which pruner throws away the fewest winners for the time it saves, chosen leave one dataset out.

    python benchmarks/pruning.py collect [--datasets ...] [--rows 3000] [--seconds 40]
                                         [--out benchmarks/pruning_folds.csv]
    python benchmarks/pruning.py rules [--folds benchmarks/pruning_folds.csv] [--regret-cap 0.002]

A pruner stops a trial after a fold whose score looks poor; issue 20 asks that pruning on one
noisy fold not throw away a trial whose later folds would win. To see what each pruner would have
done, the trials must have run every fold:

1. ``collect``: on every dataset of ``bench_datasets.py`` (at most ``--rows`` labelled rows, drawn
   with a fixed seed, as ``portfolio.py`` does; no unlabelled rows), one automl_pl study of ``--seconds`` with
   ``tune(pruner=optuna.pruners.NopPruner())``: every trial runs every fold unless cut for time.
   Writes one row per completed trial: its family, fit seconds and per-fold RMSE (of the round it
   chose). The trials follow TPE's draws in a study without pruning; with pruning, TPE would have
   drawn others, so this replays pruners on one realistic sequence of trials, not on their own.
2. ``rules``: replays each dataset's trials, in order, through real Optuna pruners (a fresh study
   per pruner: ``ask``, ``report`` fold by fold, ``should_prune``, ``tell``), reporting the running
   CV RMSE as automl_pl does (the per-fold RMSE for ``WilcoxonPruner``, which compares folds
   paired with the best trial's). Per pruner and dataset: the share of fold seconds it saves, whether
   it pruned the trial that scored best over all folds, its regret (the best kept trial's CV RMSE
   over the best trial's, minus one) and the share of the five best trials it kept (the ensemble's
   candidates). Then, leave one dataset out: for each dataset D, the pruner that saves the most
   time on the other datasets with their mean regret within ``--regret-cap``, and what it does on D,
   beside today's default (``automl_pl.study.default_pruner``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_datasets import DATASETS, sample  # noqa: E402  (beside this script)

TODAY = "median from fold 0"
PRUNERS: dict[str, tuple[Callable[[], optuna.pruners.BasePruner], str]] = {
    TODAY: (lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0), "running"),
    "median from fold 1": (lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1), "running"),
    "median from fold 2": (lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2), "running"),
    "75th percentile from fold 0": (lambda: optuna.pruners.PercentilePruner(75.0, n_startup_trials=5), "running"),
    "successive halving": (lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
                           "running"),
    "wilcoxon p < 0.1": (lambda: optuna.pruners.WilcoxonPruner(p_threshold=0.1), "fold"),
    "none": (lambda: optuna.pruners.NopPruner(), "running"),
}
"""Pruner name: (a new pruner, what each fold reports: the running CV RMSE or the fold's own RMSE)."""
TOP = 5
"""The best trials whose keeping counts: an ensemble's candidates."""


def collect(datasets: list[str], *, rows: int, seconds: float, bigmart_dir: Path, out: Path) -> pd.DataFrame:
    """Run one unpruned study per dataset; one row per completed trial with its per-fold RMSE."""
    import automl_pl
    from automl_pl.trial_attrs import FIT_SECONDS, FOLD_RMSE

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    frames = []
    for dataset in datasets:
        drawn = sample(dataset, rows, bigmart_dir)
        if drawn is None:
            print(f"{dataset}: not available, skipped")
            continue
        X, y = drawn
        started = time.perf_counter()
        study = automl_pl.tune(X, y, n_trials=None, timeout=seconds, refit=False, ensemble=False, random_state=0,
                               show_progress_bar=False, verbosity=0, pruner=optuna.pruners.NopPruner()).study
        trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        frames.append(pd.DataFrame([{"dataset": dataset, "trial": t.number, "family": t.params["model"],
                                     "fit_seconds": t.user_attrs[FIT_SECONDS],
                                     "fold_rmse": " ".join(map(str, t.user_attrs[FOLD_RMSE]))} for t in trials]))
        seconds_taken = time.perf_counter() - started
        print(f"{dataset}: {len(trials)} complete trials of {len(study.trials)} in {seconds_taken:.0f} s")
    folds = pd.concat(frames, ignore_index=True)
    folds.to_csv(out, index=False)
    return folds


def replay(trials: pd.DataFrame, name: str) -> dict[str, float]:
    """What pruner ``name`` does to one dataset's trials, replayed in order."""
    make, reports = PRUNERS[name]
    study = optuna.create_study(direction="minimize", pruner=make())
    fold_rmse = [np.array(list(map(float, f.split()))) for f in trials["fold_rmse"]]
    cv_rmse = np.array([math.sqrt(np.mean(f ** 2)) for f in fold_rmse])
    spent = total = 0.0
    kept = []
    for rmse, seconds in zip(fold_rmse, trials["fit_seconds"], strict=True):
        trial = study.ask()
        per_fold = seconds / len(rmse)
        total += seconds
        for step in range(len(rmse)):
            spent += per_fold
            value = rmse[step] if reports == "fold" else math.sqrt(np.mean(rmse[:step + 1] ** 2))
            trial.report(float(value), step)
            if step + 1 < len(rmse) and trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                kept.append(False)
                break
        else:
            study.tell(trial, float(math.sqrt(np.mean(rmse ** 2))))
            kept.append(True)
    kept = np.array(kept)
    best = int(np.argmin(cv_rmse))
    top = np.argsort(cv_rmse)[:TOP]
    return {"saved": 1 - spent / total, "lost_best": float(not kept[best]),
            "regret": cv_rmse[kept].min() / cv_rmse[best] - 1, "top_kept": float(kept[top].mean()),
            "trials": len(cv_rmse)}


def rules(folds: pd.DataFrame, *, regret_cap: float) -> pd.DataFrame:
    """Every pruner replayed on every dataset, then each dataset's pruner chosen without it."""
    table = pd.DataFrame([{"dataset": dataset, "pruner": name, **replay(trials.sort_values("trial"), name)}
                          for dataset, trials in folds.groupby("dataset", sort=True) for name in PRUNERS])
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print(table.pivot(index="pruner", columns="dataset", values="regret").round(4).to_string(), "\n")
        print("mean over datasets:")
        print(table.groupby("pruner")[["saved", "lost_best", "regret", "top_kept"]].mean().round(4).to_string(), "\n")
    chosen = []
    for dataset in sorted(folds["dataset"].unique()):
        others = table[table["dataset"] != dataset].groupby("pruner")[["saved", "regret"]].mean()
        allowed = others[others["regret"] <= regret_cap]
        name = allowed["saved"].idxmax() if len(allowed) else "none"
        row = table[(table["dataset"] == dataset) & (table["pruner"] == name)].iloc[0]
        today = table[(table["dataset"] == dataset) & (table["pruner"] == TODAY)].iloc[0]
        chosen.append({"dataset": dataset, "chosen without it": name, "saved": row["saved"], "regret": row["regret"],
                       "lost_best": row["lost_best"], "today saved": today["saved"], "today regret": today["regret"],
                       "today lost_best": today["lost_best"]})
    chosen = pd.DataFrame(chosen)
    print(f"leave one dataset out (the pruner saving the most time on the other datasets with their mean regret "
          f"<= {regret_cap:.2%}):")
    print(chosen.round(4).to_string(index=False))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("collect")
    run.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    run.add_argument("--rows", type=int, default=3000)
    run.add_argument("--seconds", type=float, default=40.0)
    run.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    run.add_argument("--out", type=Path, default=HERE / "pruning_folds.csv")
    replayed = sub.add_parser("rules")
    replayed.add_argument("--folds", type=Path, default=HERE / "pruning_folds.csv")
    replayed.add_argument("--regret-cap", type=float, default=0.002)
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.datasets, rows=args.rows, seconds=args.seconds, bigmart_dir=args.bigmart_dir, out=args.out)
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # WilcoxonPruner
        rules(pd.read_csv(args.folds), regret_cap=args.regret_cap)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
