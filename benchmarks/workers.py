"""Workers and memory: trials per minute with 1 and 2 local workers, and a study's peak memory on 1M x 20.

    python benchmarks/workers.py [--seconds 60] [--rows 1000000] [--skip-memory] [--skip-throughput]

Throughput: the same study (Gapminder, 30% labels, every trial the same fixed LightGBM with
pseudo-labels, so each costs the same) run for ``--seconds`` by one ``automl-pl worker`` with
one model thread, one worker with every core, and two workers with one thread each, sharing a
journal file. It prints finished trials per minute and the ratio of two workers to one
(target >= 1.8 on 2 cores).

Memory: in a fresh process, a study (``cv=3``, LightGBM and ridge, 2 trials, refit included) on
generated data of ``--rows`` rows x 20 float64 columns, half of them labelled. Peak resident
memory above what the process held before the data existed, over the data's own size (target <= 4).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

FIXED = {
    "model": "lightgbm", "lgbm_n_estimators": 200, "lgbm_learning_rate": 0.05, "lgbm_num_leaves": 31,
    "lgbm_min_child_samples": 10, "lgbm_subsample": 0.8, "lgbm_colsample_bytree": 0.8, "lgbm_reg_lambda": 1.0,
    "sample_rate": 0.2, "selection": "random", "pseudo_weight": 1.0, "n_rounds": 1,
}
SPEC = """
[data]
dataset = "gapminder"
labeled_fraction = 0.3
[study]
name = "{name}"
storage = "journal:{journal}"
n_trials = 100000
timeout = {seconds}
cv = 5
fixed_params = {fixed}
"""


def throughput(seconds: float, workers: int, n_jobs: int, directory: Path) -> float:
    """Finished trials per minute of ``workers`` processes running one study for ``seconds``."""
    name = f"w{workers}j{n_jobs}"
    journal = directory / f"{name}.log"
    fixed = "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in FIXED.items()) + " }"
    spec = directory / f"{name}.toml"
    spec.write_text(SPEC.format(name=name, journal=journal, seconds=seconds, fixed=fixed))
    command = [sys.executable, "-m", "automl_pl.cli", "worker", str(spec), "--n-jobs", str(n_jobs)]
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(workers)]
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"worker failed: {err}")
    study = optuna.load_study(study_name=name, storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))))
    finished = [t for t in study.trials if t.state.is_finished() and t.state != optuna.trial.TrialState.FAIL]
    starts = [t.datetime_start for t in finished]
    ends = [t.datetime_complete for t in finished]
    span = (max(ends) - min(starts)).total_seconds()
    return 60 * len(finished) / span


MEMORY_CHILD = """
import resource, sys, numpy as np, pandas as pd
import automl_pl
rows = int(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(rows, 20)), columns=[f"f{i}" for i in range(20)])
y = X["f0"] * 2 + X["f1"] ** 2 + rng.normal(size=rows)
half = rows // 2
data_bytes = X.memory_usage(index=False).sum() + y.nbytes
automl_pl.tune(X.iloc[:half], y.iloc[:half], X_unlabeled=X.iloc[half:], models=["lightgbm", "ridge"], n_trials=2,
               cv=3, storage="sqlite:///:memory:", show_progress_bar=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - before) * 1024 / data_bytes, data_bytes / 2**20, (peak - before) / 1024)
"""


def memory(rows: int) -> tuple[float, float, float]:
    """(peak memory / data size, data MiB, peak MiB above the baseline) of a study in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(rows)], capture_output=True, text=True, check=True)
    ratio, data_mib, peak_mib = map(float, out.stdout.split())
    return ratio, data_mib, peak_mib


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per throughput run")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores, optuna {optuna.__version__}")
    ok = True
    if not args.skip_throughput:
        with tempfile.TemporaryDirectory() as tmp:
            one = throughput(args.seconds, 1, 1, Path(tmp))
            one_all = throughput(args.seconds, 1, cores, Path(tmp))
            two = throughput(args.seconds, 2, 1, Path(tmp))
        print(f"trials per minute: 1 worker x 1 thread {one:.1f}; 1 worker x {cores} threads {one_all:.1f}; "
              f"2 workers x 1 thread {two:.1f}")
        print(f"2 workers / 1 worker (1 thread each): {two / one:.2f}  (target >= 1.8)")
        print(f"2 workers x 1 thread / 1 worker x {cores} threads: {two / one_all:.2f}")
        ok &= two / one >= 1.8
    if not args.skip_memory:
        ratio, data_mib, peak_mib = memory(args.rows)
        print(f"memory: data {data_mib:.0f} MiB ({args.rows} rows x 20 columns + target), "
              f"study peak {peak_mib:.0f} MiB above the baseline: {ratio:.2f}x the data  (target <= 4)")
        ok &= ratio <= 4
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
