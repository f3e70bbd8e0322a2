"""AutoGluon's side of benchmarks/peers.py, run with the AutoGluon environment's own Python.

    benchmarks/.venv-autogluon/bin/python benchmarks/peer_autogluon.py SYSTEM CASE_DIR BUDGET SEED OUT_DIR

SYSTEM is ``ag_default`` (default presets), ``ag_best`` (``presets="best_quality"``) or
``ag_pseudo`` (default presets for half the budget, then ``fit_pseudolabel`` on the case's
pool for the other half). Imports nothing from automl_pl: AutoGluon pins its own pandas.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from autogluon.tabular import TabularPredictor


def main() -> int:
    system, case, budget, out = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[5])  # AutoGluon seeds itself
    train = pd.read_parquet(case / "train.parquet")
    pool = pd.read_parquet(case / "pool.parquet")
    holdout = pd.read_parquet(case / "holdout.parquet").drop(columns="__target__")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as models:
        predictor = TabularPredictor(label="__target__", problem_type="regression", eval_metric="root_mean_squared_error",
                                     path=models, verbosity=0)
        if system == "ag_pseudo":
            predictor.fit(train, time_limit=budget / 2)
            predictor.fit_pseudolabel(pseudo_data=pool, time_limit=budget / 2)
        else:
            predictor.fit(train, time_limit=budget, presets="best_quality" if system == "ag_best" else None)
        fit_wall = time.perf_counter() - started
        predictions = predictor.predict(holdout).to_numpy(dtype="float64")
        n_models = len(predictor.model_names())
        final = _final(predictor)
    wall = time.perf_counter() - started
    np.save(out / "predictions.npy", predictions)
    (out / "run.json").write_text(json.dumps({"wall": wall, "fit_wall": fit_wall, "predict_seconds": wall - fit_wall,
                                                 "trials": {"models": n_models, "final": final}, "overhead": None}))
    return 0


def _final(predictor: TabularPredictor) -> str:
    """The model AutoGluon predicts with, and for a weighted ensemble its members by weight."""
    best = predictor.model_best
    try:
        weights = predictor._trainer.load_model(best)._get_model_weights()  # {member: weight} for WeightedEnsemble
    except Exception:  # not an ensemble, or a private API that moved: the name alone
        return best
    return f"{best}: " + " + ".join(f"{m} {w:.2f}" for m, w in sorted(weights.items(), key=lambda m: -m[1]))


if __name__ == "__main__":
    raise SystemExit(main())
