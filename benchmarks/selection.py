"""Which unlabelled rows to pseudo-label, and with which labels: one fixed model, no tuning.

    python benchmarks/selection.py [--share 0.1] [--seeds 4] [--families lightgbm catboost random_forest]
                                   [--bigmart-dir ../shared/data/bigmart]

For every dataset of ``label_scarcity.py``, labelled share and split seed, each family's
default model is fitted as the teacher on the labelled rows, and a student is fitted on the
labelled rows plus ``min(2 x labelled, pool / 3)`` pseudo-labelled rows (about what a study's
capped ``sample_rate`` adds) chosen and labelled in four ways:

* ``random``: a random draw labelled by the teacher (``selection="random"``);
* ``random_mean``: the same draw labelled by the mean of the teacher and the
  ``CONFIDENCE_TEACHERS`` K-fold teachers;
* ``surest_mean``: the rows those teachers disagree on least, labelled by their mean;
* ``confidence``: ``selection="confidence"`` as shipped (the most disputed tenth left out,
  a random draw from the rest, labelled by the mean);

and two ceilings, what true labels would buy, from the training rows whose labels the split
hid (the pool's first rows):

* ``true_draw``: as many of those rows, drawn at random, with their *true* labels: a perfect
  pseudo-labeller of the same number of rows;
* ``all_true``: all of them with their true labels, i.e. the same model on the 100% share.

Prints each student's holdout RMSE over the teacher's (below 1: the pseudo-labels helped),
as a geometric mean over the seeds. This separates what the extra teachers' *labels* buy
from what their *ranking* buys, and shows how much room perfect labels would leave.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from automl_pl import PseudoLabelRegressor
from automl_pl.data import FeatureSchema
from automl_pl.models import build_model, get_family
from automl_pl.pseudo_label import confidence_teacher_predictions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_scarcity import datasets, positions, rmse, split  # noqa: E402


def students(model, X, y: np.ndarray, pool: pd.DataFrame, X_hold, y_hold: np.ndarray, *, hidden: np.ndarray,
             n_pick: int, seed: int) -> dict[str, float]:
    """Holdout RMSE of the teacher and of each way's student; ``hidden`` holds the true labels of
    the pool's first rows."""
    teacher = clone(model).fit(X, y)
    teacher_labels = teacher.predict(pool)
    votes = confidence_teacher_predictions(model, X, y, pool, random_state=np.random.RandomState(seed))
    mean_labels = np.vstack([votes, teacher_labels]).mean(axis=0)
    drawn = np.sort(np.random.default_rng(seed).choice(len(pool), size=n_pick, replace=False))
    surest = np.sort(np.argsort(votes.std(axis=0), kind="stable")[:n_pick])
    true_drawn = np.sort(np.random.default_rng(seed).choice(len(hidden), size=min(n_pick, len(hidden)), replace=False))

    def student(rows: np.ndarray, labels: np.ndarray) -> float:
        fitted = clone(model).fit(pd.concat([X, pool.iloc[rows]], ignore_index=True), np.r_[y, labels[rows]])
        return rmse(y_hold, fitted.predict(X_hold))

    shipped = PseudoLabelRegressor(model, sample_rate=n_pick / len(pool), selection="confidence", random_state=seed)
    return {
        "teacher": rmse(y_hold, teacher.predict(X_hold)),
        "random": student(drawn, teacher_labels),
        "random_mean": student(drawn, mean_labels),
        "surest_mean": student(surest, mean_labels),
        "confidence": rmse(y_hold, shipped.fit(X, y, X_unlabeled=pool, teacher=teacher).predict(X_hold)),
        "true_draw": student(true_drawn, hidden),
        "all_true": student(np.arange(len(hidden)), hidden),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.1, help="labelled share of the non-holdout rows")
    parser.add_argument("--seeds", type=int, default=4, help="split seeds 0 .. N-1")
    parser.add_argument("--families", nargs="+", default=["lightgbm", "catboost", "random_forest"])
    parser.add_argument("--bigmart-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bigmart")
    args = parser.parse_args()

    rows = []
    for name, (X, y, extra) in datasets(args.bigmart_dir).items():
        for seed in range(args.seeds):
            X_lab, y_lab, pool, X_hold, y_hold = split(X, y, extra, share=args.share, seed=seed)
            hidden = y.iloc[positions(len(X), share=args.share, seed=seed)[1]].to_numpy("float64")
            schema = FeatureSchema.infer(X_lab, pool)
            n_pick = min(2 * len(X_lab), len(pool) // 3)
            for family in args.families:
                model = build_model(get_family(family), {}, schema=schema, random_state=seed, n_jobs=2)
                rows.append({"dataset": name, "family": family, "seed": seed,
                             **students(model, X_lab, y_lab.to_numpy("float64"), pool, X_hold, y_hold,
                                        hidden=hidden, n_pick=n_pick, seed=seed)})
            print(f"{name} seed {seed} done", flush=True)

    results = pd.DataFrame(rows)
    selections = ["random", "random_mean", "surest_mean", "confidence"]
    ways = [*selections, "true_draw", "all_true"]
    ratios = results[ways].div(results["teacher"], axis=0).assign(dataset=results["dataset"], family=results["family"])
    table = ratios.groupby(["dataset", "family"])[ways].agg(lambda r: math.exp(np.log(r).mean()))
    print(f"\nstudent / teacher holdout RMSE, {100 * args.share:g}% labels, geometric mean over {args.seeds} splits:")
    print(table.round(4).to_string())
    for way in selections[1:]:
        wins = int((table[way] < table["random"]).sum())
        print(f"{way} beats random on {wins} of {len(table)} dataset x family cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
