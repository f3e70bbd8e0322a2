"""Label scarcity: holdout RMSE against the share of labelled rows, pseudo-labelling vs supervised.

    python benchmarks/label_scarcity.py [--budget 25] [--shares 0.05 0.1 0.25 0.5 1.0] [--seeds 0 1 2]
                                        [--systems supervised automl_pl teacher ...] [--portfolio lodo]
                                        [--bigmart-dir ../shared/data/bigmart] [--out benchmarks/out]
    python benchmarks/label_scarcity.py --summarize run1.csv run2.csv   # merge runs, print and plot again

For every dataset, labelled share and split seed, on the same split:

* 25% of the labelled rows are held out for scoring only;
* of the rest, the given share keeps its labels; the others join the unlabelled pool
  with their labels removed, together with the held-out rows' features (transductive,
  as in the tutorial) and any extra unlabelled file (Big Mart's test.csv);
* systems: ``supervised`` (automl_pl's study with sample_rate fixed at 0), ``tutorial``
  (the tutorial's pseudo-labeler: default XGBoost, sample rate 0.3, random rows),
  ``random`` and ``confidence`` (automl_pl with the selection fixed), ``automl_pl``
  (every dimension tuned) and, when asked for, ``teacher`` (``automl_pl`` with ``teacher_round=True``:
  the final ensemble teaches its best members once more). Every study gets the same time budget
  and starts with the same portfolio (``--portfolio``, as in ``peers.py``: by default ``lodo``, the one
  chosen without the case's dataset).

Prints a table and the ratios, and writes a CSV and a self-contained HTML plot to --out.
With several seeds, each case's ratio is the geometric mean of its per-split ratios: on a
few hundred labelled rows one split's ratio moves by several percent from split to split.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

import automl_pl
from automl_pl.data import FeatureSchema
from automl_pl.datasets import load_dataset
from automl_pl.models import build_model, get_family

STUDIES = {  # system: (fixed_params, teacher_round)
    "supervised": ({"sample_rate": 0.0}, False),
    "random": ({"selection": "random"}, False),
    "confidence": ({"selection": "confidence"}, False),
    "automl_pl": ({}, False),
    "teacher": ({}, True),
}
SYSTEMS = ("tutorial", *STUDIES)
DEFAULT_SYSTEMS = ("tutorial", "supervised", "random", "confidence", "automl_pl")


def bigmart(directory: Path) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame] | None:
    if not (directory / "train.csv").is_file():
        return None
    train, test = pd.read_csv(directory / "train.csv"), pd.read_csv(directory / "test.csv")
    y = train.pop("Item_Outlet_Sales")
    return train.drop(columns="Item_Identifier"), y, test.drop(columns="Item_Identifier")


def datasets(bigmart_dir: Path) -> dict[str, tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]]:
    found = {}
    if (bm := bigmart(bigmart_dir)) is not None:
        found["bigmart"] = bm
    for name in ("gapminder", "diabetes"):
        X, y = load_dataset(name)
        found[name] = (X, y, None)
    return found


def positions(n_rows: int, *, share: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labelled, unlabelled, holdout) row positions of one split. The labelled rows of a
    smaller share are the first of a larger one's (same seed), so shares are nested."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_holdout = n_rows // 4
    holdout, rest = order[:n_holdout], order[n_holdout:]
    n_labeled = max(10, round(share * len(rest)))
    return rest[:n_labeled], rest[n_labeled:], holdout


def split(X, y, extra, *, share: float, seed: int):
    """(X_labeled, y_labeled, X_pool, X_holdout, y_holdout) for one labelled share.

    The pool's first rows are the unlabelled ones of :func:`positions`, in its order."""
    labeled, unlabeled, holdout = positions(len(X), share=share, seed=seed)
    pool = [X.iloc[unlabeled], X.iloc[holdout]] + ([extra] if extra is not None else [])
    return (X.iloc[labeled].reset_index(drop=True), y.iloc[labeled].reset_index(drop=True),
            pd.concat(pool, ignore_index=True), X.iloc[holdout].reset_index(drop=True),
            y.iloc[holdout].to_numpy(dtype="float64"))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return math.sqrt(float(np.mean((y_true - np.asarray(y_pred)) ** 2)))


def tutorial(X, y, pool, *, seed: int) -> automl_pl.PseudoLabelRegressor:
    """The tutorial's pseudo-labeler: default XGBoost, 30% of the pool at random."""
    schema = FeatureSchema.infer(X, pool)
    model = automl_pl.PseudoLabelRegressor(
        build_model(get_family("xgboost"), {}, schema=schema, random_state=seed, n_jobs=2), sample_rate=0.3,
        random_state=seed)
    return model.fit(X, y, X_unlabeled=pool)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=25.0, help="seconds per study")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.05, 0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--bigmart-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bigmart")
    parser.add_argument("--datasets", nargs="*", help="restrict to these datasets")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="split seeds, one run of every case each")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(DEFAULT_SYSTEMS),
                        help="'supervised' is always run: every ratio is to it")
    parser.add_argument("--portfolio", choices=("lodo", "default", "none"), default="lodo",
                        help="the studies' starting portfolio, as peers.py's --portfolio")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="CSV",
                        help="run nothing: merge these earlier label_scarcity.csv files, then print and plot them")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    if args.summarize:
        results = pd.concat([pd.read_csv(path) for path in args.summarize], ignore_index=True)
        if "seed" not in results.columns:
            parser.error("--summarize needs CSVs with a 'seed' column (written since --seeds existed); "
                         "add one holding the split seed that run used.")
    else:
        results = pd.DataFrame(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "label_scarcity.csv", index=False)
    summarize(results)
    plot(results).write_html(args.out / "label_scarcity.html", include_plotlyjs=True)
    return 0


def run(args: argparse.Namespace) -> list[dict]:
    from peers import starting_portfolio

    rows = []
    systems = ["supervised", *(s for s in args.systems if s != "supervised")]
    for name, (X, y, extra) in datasets(args.bigmart_dir).items():
        if args.datasets and name not in args.datasets:
            continue
        portfolio = starting_portfolio(args.portfolio, name)
        for share, seed in itertools.product(args.shares, args.seeds):
            X_lab, y_lab, pool, X_hold, y_hold = split(X, y, extra, share=share, seed=seed)
            case = {"dataset": name, "share": share, "seed": seed, "labeled": len(X_lab), "pool": len(pool)}
            if "tutorial" in systems:
                started = time.perf_counter()
                rows.append({**case, "system": "tutorial",
                             "rmse": rmse(y_hold, tutorial(X_lab, y_lab, pool, seed=seed).predict(X_hold)),
                             "trials": 1, "best": "xgboost, sample 0.3", "seconds": time.perf_counter() - started})
            for system in (s for s in systems if s in STUDIES):
                fixed, teach = STUDIES[system]
                started = time.perf_counter()
                result = automl_pl.tune(X_lab, y_lab, X_unlabeled=pool, n_trials=None, timeout=args.budget, cv=5,
                                        storage=optuna.storages.InMemoryStorage(), study_name=system,
                                        random_state=seed, fixed_params=fixed, show_progress_bar=False,
                                        portfolio=portfolio, teacher_round=teach)
                best = result.best_params
                rows.append({**case, "system": system, "rmse": rmse(y_hold, result.best_estimator_.predict(X_hold)),
                             "trials": len(result.study.trials),
                             "best": f"{best['model']}, sample {best['sample_rate']:g}"
                                     + (f", {best['selection']}" if best["sample_rate"] else ""),
                             "seconds": time.perf_counter() - started})
            table = pd.DataFrame([r for r in rows if (r["dataset"], r["share"], r["seed"]) == (name, share, seed)])
            print(table[["dataset", "share", "seed", "labeled", "system", "rmse", "trials", "best"]].to_string(index=False),
                  flush=True)
    return rows


def case_ratios(results: pd.DataFrame) -> pd.DataFrame:
    """Each system's holdout RMSE over the supervised study's, per (dataset, share): the geometric mean over seeds."""
    per_split = results.pivot_table(index=["dataset", "share", "seed"], columns="system", values="rmse")
    log_ratios = np.log(per_split.div(per_split["supervised"], axis=0))
    return np.exp(log_ratios.groupby(level=["dataset", "share"]).mean())


def summarize(results: pd.DataFrame) -> None:
    seeds = sorted(int(seed) for seed in results["seed"].unique())
    print(f"\nholdout RMSE relative to the supervised study (same budget), geometric mean over split seeds {seeds}:")
    ratios = case_ratios(results)
    print(ratios.round(4).to_string())
    targets = {"automl_pl": ("issue 3", 1.005, 0.97), "teacher": ("issue 20", 0.975, 0.99)}
    for system, (issue, mean_target, bigmart_target) in targets.items():
        if system not in ratios.columns:
            continue
        print(f"\n{issue}: geometric mean, {system} / supervised over all cases: "
              f"{math.exp(np.log(ratios[system]).mean()):.4f}  (target <= {mean_target})")
        if ("bigmart", 0.1) in ratios.index:
            print(f"{issue}: Big Mart, 10% labels, {system} / supervised: {ratios.loc[('bigmart', 0.1), system]:.4f}"
                  f"  (target <= {bigmart_target})")
    at_ten = ratios.xs(0.1, level="share") if 0.1 in ratios.index.get_level_values("share") else ratios.iloc[0:0]
    if {"confidence", "random"} <= set(ratios.columns):
        wins = [d for d in at_ten.index if at_ten.loc[d, "confidence"] < at_ten.loc[d, "random"]]
        print(f"issue 3: 10% labels, confidence beats random on: {wins or 'none'}  (target: at least two datasets)")


def plot(results: pd.DataFrame):
    from plotly.subplots import make_subplots

    results = results.groupby(["dataset", "share", "system"], sort=False, as_index=False)["rmse"].mean()
    names = list(dict.fromkeys(results["dataset"]))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    colors = {"supervised": "#2c3e50", "tutorial": "#95a5a6", "random": "#e67e22", "confidence": "#27ae60",
              "automl_pl": "#c0392b", "teacher": "#8e44ad"}
    for i, name in enumerate(names, start=1):
        data = results[results["dataset"] == name]
        for system, color in colors.items():
            part = data[data["system"] == system].sort_values("share")
            if part.empty:
                continue
            fig.add_scatter(x=100 * part["share"], y=part["rmse"], mode="lines+markers", name=system,
                            line={"color": color}, showlegend=i == 1, row=1, col=i)
        fig.update_xaxes(title_text="labelled share (%)", type="log", row=1, col=i)
    fig.update_yaxes(title_text="holdout RMSE (mean over split seeds)", col=1)
    fig.update_layout(title="Holdout RMSE against the share of labelled rows", height=480, width=420 * len(names))
    return fig


if __name__ == "__main__":
    sys.exit(main())
