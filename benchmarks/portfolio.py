"""Build automl_pl's starting portfolio from the benchmark datasets, and check it leave-one-dataset-out.

    python benchmarks/portfolio.py scores [--datasets ...] [--rows 3000] [--search-seconds 40]
    python benchmarks/portfolio.py choose [--exclude DATASET] [--size 8] [--out automl_pl/portfolio.json]
    python benchmarks/portfolio.py lodo [--size 8]

How, as AutoGluon's and FLAML's zero-shot portfolios are built (configurations that do well
*across* datasets, found offline), at the scale of this repository:

1. ``scores``: on every dataset of ``benchmarks/peers.py`` (``bench_datasets.py``) (at most ``--rows`` labelled rows, drawn
   with a fixed seed), a short supervised automl_pl study (``--search-seconds``, no portfolio)
   proposes candidates: the best configuration of each of its ``PER_DATASET`` best families. The
   families' own defaults are candidates too. Every candidate is then scored on every dataset:
   5-fold CV RMSE and fit seconds of one supervised trial, within ``--timeout`` (a configuration
   that cannot cross-validate 3,000 rows in 30 s has no place at the start of a one-minute study;
   it counts as no better than the worst candidate). Written to ``portfolio_scores.csv`` (one row per
   candidate and dataset; ``source`` is the dataset that proposed the candidate), the candidates to
   ``portfolio_scores_candidates.json``, so that an interrupted run resumes with the same ones.
2. ``choose``: greedily, as AutoGluon's zero-shot portfolio selection does, but per second: each
   step adds the candidate that most lowers the mean over datasets of the best error ratio so far
   (RMSE over the best candidate's on that dataset), divided by its cost (fit seconds over the
   median candidate's on each dataset, averaged, at least ``MIN_COST``), until ``--size`` or no
   candidate lowers it. The start is the quickest family's defaults, which a timed study runs
   first anyway. ``--exclude D`` leaves out dataset D *and every candidate D proposed*.
3. ``lodo``: for each dataset D, the portfolio chosen without D, scored on D against the families'
   defaults that a study without a portfolio starts with. This is the honest estimate of what the
   portfolio does on data it has never seen; ``benchmarks/peers.py`` likewise runs each case with
   the portfolio chosen without its dataset (``--portfolio lodo``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SCORES = HERE / "portfolio_scores.csv"
SIZE = 8
"""Configurations in the portfolio: about what a 60 s study on a few thousand rows gets through before TPE."""
PER_DATASET = 4
"""Candidates each dataset's search proposes: the best configuration of each of its best families."""
MIN_COST = 0.2
"""A candidate's cost is at least this share of the median candidate's: a configuration fitted in
milliseconds must still earn its place by what it adds, not by its speed alone."""
QUICK = "ridge"
"""The family whose defaults a timed study runs first: the portfolio's starting point."""
DEFAULT_START = ("lightgbm", "catboost")
"""What a study without a portfolio starts with (``automl_pl.steering``): the baseline ``lodo`` compares with."""


def _tune(X, y, **kwargs):
    import optuna

    import automl_pl

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return automl_pl.tune(X, y, storage=optuna.storages.InMemoryStorage(), random_state=0, refit=False,
                          ensemble=False, show_progress_bar=False, fixed_params={"sample_rate": 0.0}, **kwargs)


def _configuration(params: dict) -> dict:
    from automl_pl.objective import PSEUDO_LABEL_PARAMS

    return {k: v for k, v in params.items() if k not in PSEUDO_LABEL_PARAMS}


def propose(X, y, *, seconds: float) -> list[dict]:
    """The best configuration of each of the ``PER_DATASET`` best families of a short supervised study."""
    from optuna.trial import TrialState

    study = _tune(X, y, n_trials=None, timeout=seconds, portfolio=None).study
    best: dict[str, tuple[float, dict]] = {}
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):
        family = trial.params["model"]
        if family not in best or trial.value < best[family][0]:
            best[family] = (trial.value, _configuration(trial.params))
    return [configuration for _, configuration in sorted(best.values(), key=lambda b: b[0])[:PER_DATASET]]


def defaults() -> list[dict]:
    from automl_pl.models import FAMILIES

    return [{"model": f.name, **f.defaults} for f in FAMILIES.values() if f.defaults is not None and f.is_available()]


def score(X, y, configuration: dict, *, timeout: float) -> tuple[float, float]:
    """(5-fold CV RMSE, fit seconds) of one supervised trial of ``configuration``; NaN when it did not finish."""
    from automl_pl.trial_attrs import FIT_SECONDS

    study = _tune(X, y, n_trials=2, timeout=timeout, portfolio=[configuration]).study  # the quick family runs first
    trials = [t for t in study.trials if t.params.get("model") == configuration["model"] and t.state.name == "COMPLETE"]
    if not trials:
        return math.nan, math.nan
    return float(trials[0].value), float(trials[0].user_attrs.get(FIT_SECONDS, math.nan))


def build_scores(datasets: list[str], *, rows: int, seconds: float, timeout: float, bigmart_dir: Path,
                 out: Path) -> pd.DataFrame:
    from bench_datasets import sample

    samples = {d: s for d in datasets if (s := sample(d, rows, bigmart_dir)) is not None}
    proposals = out.with_name(out.stem + "_candidates.json")  # kept: a resumed run scores the same candidates
    candidates: list[tuple[str, dict]] = [("defaults", c) for c in defaults()]
    known = json.loads(proposals.read_text()) if proposals.exists() else {}
    for dataset, (X, y) in samples.items():
        if dataset not in known:
            started = time.perf_counter()
            known[dataset] = propose(X, y, seconds=seconds)
            print(f"{dataset}: proposed {[c['model'] for c in known[dataset]]} in {time.perf_counter() - started:.0f}s",
                  flush=True)
            proposals.write_text(json.dumps(known, indent=1) + "\n")
        candidates += [(dataset, c) for c in known[dataset]]
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["candidate", "source", "configuration",
                                                                         "dataset", "rmse", "seconds"])
    rows = done.to_dict("records")
    for i, (source, configuration) in enumerate(candidates):
        text = json.dumps(configuration, sort_keys=True)
        for dataset, (X, y) in samples.items():
            if any(r["configuration"] == text and r["dataset"] == dataset for r in rows):
                continue
            rmse, fit = score(X, y, configuration, timeout=timeout)
            rows.append({"candidate": i, "source": source, "configuration": text, "dataset": dataset,
                         "rmse": rmse, "seconds": fit})
            print(f"  {i:3d} {configuration['model']:24s} on {dataset:10s} RMSE {rmse:.5g}  {fit:.2f}s", flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)  # after each: an interrupted run resumes
    return pd.DataFrame(rows)


def _matrices(scores: pd.DataFrame, exclude: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(error ratio, cost, source) per candidate configuration (rows) and dataset (columns), ``exclude`` left out."""
    kept = scores[(scores["dataset"] != exclude) & (scores["source"] != exclude)]
    rmse = kept.pivot_table(index="configuration", columns="dataset", values="rmse", aggfunc="first")
    seconds = kept.pivot_table(index="configuration", columns="dataset", values="seconds", aggfunc="first")
    ratio = rmse / rmse.min()
    worst = ratio.max()
    ratio = ratio.fillna(worst)  # did not finish: no better than the worst that did
    cost = (seconds / seconds.median()).fillna(seconds.max() / seconds.median()).mean(axis=1).clip(lower=MIN_COST)
    source = kept.groupby("configuration")["source"].first()
    return ratio, cost, source


def choose(scores: pd.DataFrame, *, size: int, exclude: str | None = None) -> list[dict]:
    """The portfolio: ``size`` configurations chosen greedily by error ratio lowered per second."""
    ratio, cost, _ = _matrices(scores, exclude)
    quick = [c for c in ratio.index if json.loads(c)["model"] == QUICK]
    current = ratio.loc[quick].min() if quick else ratio.max()
    chosen: list[str] = []
    while len(chosen) < size:
        gains = (current - ratio.clip(upper=current, axis=1)).mean(axis=1)
        value = (gains / cost).drop(index=chosen)
        if value.empty or value.max() <= 0:
            break
        pick = value.idxmax()
        chosen.append(pick)
        current = np.minimum(current, ratio.loc[pick])
    return [json.loads(c) for c in chosen]


def lodo(scores: pd.DataFrame, *, size: int) -> pd.DataFrame:
    """Per dataset: the portfolio chosen without it, scored on it, against the default start."""
    rows = []
    for dataset in sorted(scores["dataset"].unique()):
        portfolio = choose(scores, size=size, exclude=dataset)
        on = scores[scores["dataset"] == dataset].set_index("configuration")
        best = on["rmse"].min()
        texts = [json.dumps(c, sort_keys=True) for c in portfolio]
        start = [json.dumps({"model": f, **c}, sort_keys=True) for f, c in _default_configurations().items()]
        found = on["rmse"].reindex(texts)
        rows.append({"dataset": dataset, "portfolio": " ".join(c["model"] for c in portfolio),
                     "portfolio_ratio": found.min() / best,
                     "first_3_ratio": found.iloc[:3].min() / best,
                     "default_start_ratio": on["rmse"].reindex(start).min() / best,
                     "portfolio_seconds": on["seconds"].reindex(texts).sum(),
                     "default_start_seconds": on["seconds"].reindex(start).sum()})
    return pd.DataFrame(rows)


def _default_configurations() -> dict[str, dict]:
    from automl_pl.models import FAMILIES

    return {f: {k: v for k, v in FAMILIES[f].defaults.items()} for f in DEFAULT_START}


def main() -> int:
    from bench_datasets import DATASETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["scores", "choose", "lodo"])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--search-seconds", type=float, default=40.0)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="most seconds for one candidate on one dataset; slower ones count as not finished")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--scores", type=Path, default=SCORES)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--exclude", help="choose without this dataset and the candidates it proposed")
    parser.add_argument("--out", type=Path, help="choose: write the portfolio here (automl_pl/portfolio.json)")
    args = parser.parse_args()
    if args.command == "scores":
        build_scores(args.datasets, rows=args.rows, seconds=args.search_seconds, timeout=args.timeout,
                     bigmart_dir=args.bigmart_dir, out=args.scores)
        return 0
    scores = pd.read_csv(args.scores)
    if args.command == "choose":
        from automl_pl.portfolio import Portfolio

        portfolio = choose(scores, size=args.size, exclude=args.exclude)
        sources = sorted(set(scores["dataset"]) - {args.exclude})
        for c in portfolio:
            print(json.dumps(c))
        if args.out:
            Portfolio.from_configurations(portfolio, sources=sources).write(args.out)
            print(f"wrote {args.out} (chosen on {', '.join(sources)})")
        return 0
    table = lodo(scores, size=args.size)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(table.round(3).to_string(index=False))
    geo = lambda s: float(np.exp(np.log(s).mean()))  # noqa: E731
    print(f"\ngeometric mean, error ratio to the best candidate on each dataset (leave-one-dataset-out): "
          f"portfolio {geo(table['portfolio_ratio']):.4f}, its first 3 {geo(table['first_3_ratio']):.4f}, "
          f"default start {geo(table['default_start_ratio']):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
