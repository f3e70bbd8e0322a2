"""A/B of automl_pl's search options on the peers' cases: one run, arms interleaved case by case.

    python benchmarks/search_ab.py [--budget 60] [--cases ames:full bigmart:10 ...]
                                   [--arms "none=--portfolio none" "lodo=--portfolio lodo" ...]
                                   [--bigmart-dir ../shared/data/bigmart] [--out benchmarks/out/search_ab]
    python benchmarks/search_ab.py --arms "base@/tmp/wt-base=" "new@/tmp/wt-new="     # two commits

Each arm is a set of ``benchmarks/peers.py`` options for automl_pl alone (``--portfolio``,
``--teacher-round``), and optionally a checkout of another commit (``NAME@CHECKOUT=OPTIONS``: that
checkout's ``benchmarks/peers.py`` run by its own ``.venv/bin/python``, e.g. a ``git worktree`` with its
own virtual environment); every arm runs every case on the same split and seed, the arms one after the
other within each case, so that whatever else the machine does falls on all of them alike. Prints
holdout RMSE and wall / T per case and arm, each arm's RMSE over the first arm's, and their geometric
means; writes ``results.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CASES = ("ames:full", "bigmart:10", "bigmart:full", "budgetfood:10", "chem_yield:full", "cps1988:10",
         "diamonds:10", "gapminder:full", "wage:full")
"""One regime of each of ``peers.py``'s datasets (and both of Big Mart's), as in the first A/B of issue 20."""
ARMS = ("none=--portfolio none", "lodo=--portfolio lodo")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="DATASET:REGIME")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), help="NAME=peers.py options")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--out", type=Path, default=HERE / "out/search_ab")
    args = parser.parse_args()
    arms = dict(_arm(arm) for arm in args.arms)
    rows = []
    for case in args.cases:
        dataset, regime = case.split(":")
        for name, (python, script, options) in arms.items():
            out = args.out / name / case.replace(":", "-")
            command = [python, script, "--systems", "automl_pl", "--budgets", str(args.budget),
                       "--datasets", dataset, "--regimes", regime, "--seed", str(args.seed), "--out", str(out),
                       "--bigmart-dir", str(args.bigmart_dir),
                       *shlex.split(options)]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            result = pd.read_csv(out / "results.csv").iloc[0]
            rows.append({"case": f"{dataset} {regime}", "arm": name, "rmse": result.get("rmse", np.nan),
                         "wall_T": result["wall"] / args.budget if "wall" in result else np.nan,
                         "fit_wall_T": result["fit_wall"] / args.budget if "fit_wall" in result else np.nan,
                         "trials": result.get("trials", "")})
            print(f"{dataset} {regime:4s} {name:10s} RMSE {rows[-1]['rmse']:.6g}  wall {rows[-1]['wall_T']:.3f} T  "
                  f"{rows[-1]['trials']}", flush=True)
    results = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    summarize(results, list(arms))
    return 0


def _arm(spec: str) -> tuple[str, tuple[str, str, str]]:
    """``NAME[@CHECKOUT]=OPTIONS`` as ``(NAME, (python, peers.py, OPTIONS))``: this checkout's or CHECKOUT's."""
    head, options = spec.split("=", 1)
    name, _, checkout = head.partition("@")
    if not checkout:
        return name, (sys.executable, str(HERE / "peers.py"), options)
    root = Path(checkout).resolve()
    python, script = root / ".venv/bin/python", root / "benchmarks/peers.py"
    for path in (python, script):
        if not path.exists():
            raise SystemExit(f"arm {name!r}: {path} does not exist (a checkout with its own .venv is needed)")
    return name, (str(python), str(script), options)


def summarize(results: pd.DataFrame, arms: list[str]) -> None:
    rmse = results.pivot_table(index="case", columns="arm", values="rmse")[arms]
    wall = results.pivot_table(index="case", columns="arm", values="wall_T")[arms]
    fit = results.pivot_table(index="case", columns="arm", values="fit_wall_T").reindex(columns=arms)
    base = arms[0]
    ratios = rmse[arms[1:]].div(rmse[base], axis=0).add_suffix(f"/{base}")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print("\nholdout RMSE")
        print(rmse.join(ratios).to_string())
        print("\nwall / T (fit and predict of the held-out rows)")
        print(wall.to_string())
        print("\nfit wall / T (until tune returns: what timeout promises)")
        print(fit.to_string())
    for arm in arms[1:]:
        ratio = rmse[arm] / rmse[base]
        print(f"geomean {arm}/{base} over {ratio.notna().sum()} cases: {float(np.exp(np.log(ratio).mean())):.4f}; "
              f"worst {ratio.max():.4f} ({ratio.idxmax()}), best {ratio.min():.4f} ({ratio.idxmin()})")
    print(f"worst wall / T: {wall.max().max():.3f}; worst fit wall / T: {fit.max().max():.3f}")


if __name__ == "__main__":
    sys.exit(main())
