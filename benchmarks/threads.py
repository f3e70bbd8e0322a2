"""Fit time of each booster by thread count, data size and competing CPU load: why model threads follow the free cores.

    python benchmarks/threads.py [--rows 600 20000] [--loads idle one two bursty] [--libraries lightgbm xgboost catboost]

Every fit runs in a fresh process (OpenMP reads its settings once per process), 300 trees on
generated data (12 numeric columns, one categorical), with 1 and with 2 threads, while other
processes keep ``one`` core or ``two`` cores busy, or both busy for 2 s and idle for 2 s
(``bursty``). ``--wait-policy passive`` repeats it with ``OMP_WAIT_POLICY=passive``. Prints one
line per fit and the ratio of 2 threads to 1 per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

LOADS = {
    "idle": [],
    "one": ["while True: pass"],
    "two": ["while True: pass"] * 2,
    "bursty": [("import time\nwhile True:\n    t = time.monotonic()\n    while time.monotonic() - t < 2: pass\n"
                "    time.sleep(2)")] * 2,
}


def fit_once(library: str, n_jobs: int, rows: int) -> float:
    """In a child process: fit one booster and return its seconds."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(rows, 12)), columns=[f"x{i}" for i in range(12)])
    X["c"] = pd.Categorical(rng.choice(list("abcdefgh"), rows))
    y = X["x0"] * 3 + np.sin(X["x1"]) + rng.normal(size=rows)
    if library == "lightgbm":
        from lightgbm import LGBMRegressor
        model = LGBMRegressor(n_estimators=300, n_jobs=n_jobs, verbose=-1)
    elif library == "xgboost":
        from xgboost import XGBRegressor
        model = XGBRegressor(n_estimators=300, n_jobs=n_jobs, tree_method="hist", enable_categorical=True)
    else:
        from catboost import CatBoostRegressor
        model = CatBoostRegressor(iterations=300, thread_count=n_jobs, verbose=0, cat_features=["c"],
                                  allow_writing_files=False)
    started = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - started


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--fit-once":
        print(fit_once(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[600, 20000])
    parser.add_argument("--loads", nargs="+", default=list(LOADS), choices=list(LOADS))
    parser.add_argument("--libraries", nargs="+", default=["lightgbm", "xgboost", "catboost"])
    parser.add_argument("--wait-policy", choices=["default", "passive"], default="default")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.wait_policy == "passive":
        env["OMP_WAIT_POLICY"] = "passive"
    for library in args.libraries:
        for rows in args.rows:
            for load in args.loads:
                seconds = {}
                for n_jobs in (1, 2):
                    busy = [subprocess.Popen([sys.executable, "-c", code]) for code in LOADS[load]]
                    try:
                        time.sleep(0.3)
                        done = subprocess.run([sys.executable, __file__, "--fit-once", library, str(n_jobs), str(rows)],
                                              capture_output=True, text=True, env=env, timeout=600, check=True)
                    finally:
                        for process in busy:
                            process.kill()
                            process.wait()
                    seconds[n_jobs] = float(done.stdout.strip().splitlines()[-1])
                print(json.dumps({"library": library, "rows": rows, "load": load, "wait_policy": args.wait_policy,
                                  "1 thread": round(seconds[1], 2), "2 threads": round(seconds[2], 2),
                                  "2 / 1": round(seconds[2] / seconds[1], 2)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
