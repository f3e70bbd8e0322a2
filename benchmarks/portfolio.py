"""Build automl_pl's starting portfolio from the benchmark and source datasets, and check it leave-one-dataset-out.

    python benchmarks/portfolio.py scores [--datasets ...] [--rows 3000] [--search-seconds 40]
    python benchmarks/portfolio.py choose [--exclude DATASET] [--size 8] [--rule ensemble|single]
                                          [--out automl_pl/portfolio.json]
    python benchmarks/portfolio.py lodo [--size 8] [--sources DATASET ...]

How, as AutoGluon's and FLAML's zero-shot portfolios are built (configurations that do well
*across* datasets, found offline), at the scale of this repository:

1. ``scores``: on every dataset of ``benchmarks/peers.py`` (``bench_datasets.DATASETS``) and every source
   that only the portfolio uses (``bench_datasets.SOURCES``: panels, counts, spectra, a wide table of few
   rows, kinds the benchmark lacks) (at most ``--rows`` labelled rows, drawn with a fixed seed), a short
   supervised automl_pl study (``--search-seconds``, no portfolio) proposes candidates: the best
   configuration of each of its ``PER_DATASET`` best families. The families' own defaults are candidates
   too, and the forests as AutoGluon grows them (:data:`FOREST_DEFAULTS`). Every candidate is then
   scored on every dataset: 5-fold CV RMSE and fit seconds of one supervised trial, within
   ``--timeout`` (a configuration that cannot cross-validate 3,000 rows in 30 s has no place at the
   start of a one-minute study; it counts as no better than the worst candidate). Written to
   ``portfolio_scores.csv`` (one row per candidate and dataset; ``source`` is the dataset that
   proposed the candidate), the candidates to ``portfolio_scores_candidates.json``, so that an
   interrupted run resumes with the same ones, and each trial's out-of-fold predictions to ``out/portfolio_oof.npz`` (predictions only: the targets are
   drawn again from the datasets when needed; not committed, ``scores`` makes them again in minutes).
2. ``choose``: greedily, as AutoGluon's zero-shot portfolio selection does, but per second: each
   step adds the candidate that most lowers the mean over datasets of an error ratio (RMSE over the
   best candidate's on that dataset), divided by its cost (fit seconds over the median candidate's on
   each dataset, averaged, at least ``MIN_COST``), until ``--size`` or no candidate lowers it. Which
   error, by ``--rule``: ``single`` (the default, :data:`RULE`), that of the best configuration so far
   alone; ``ensemble``, that of the greedy weighted mean of the configurations chosen so far
   (:func:`automl_pl.ensemble.select_weights` on their out-of-fold predictions, as the final model mixes
   trials), so that a configuration earns its place by what it adds to the others. Leave one dataset
   out, ``ensemble`` did worse, even by its own measure (``benchmarks/RESULTS.md``, 2026-12-01).
   The start is the quickest family's defaults, which a timed study runs first anyway. ``--exclude D``
   leaves out dataset D *and every candidate D proposed*.
3. ``lodo``: for each dataset D, the portfolio chosen without D by each rule, scored on D (its best
   configuration alone and its greedy mix) against the families' defaults that a study without a
   portfolio starts with. This is the honest estimate of what the portfolio does on data it has
   never seen. The portfolios are written to ``portfolio_lodo.json``, from which
   ``benchmarks/peers.py`` runs each case with the portfolio chosen without its dataset
   (``--portfolio lodo``).
"""

from __future__ import annotations

import argparse
import hashlib
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
OOF = HERE / "out/portfolio_oof.npz"
"""Every scored candidate's out-of-fold predictions on every dataset's sample (float32), keyed by :func:`oof_key`.
Not committed (1.5 MB): ``scores`` writes them, also for candidates already in the scores (their rows kept as they are)."""
LODO = HERE / "portfolio_lodo.json"
"""``{"sources": datasets, rule: {dataset: portfolio chosen without it, "*": chosen on all}}``, written by
``lodo``, read by ``peers.py --portfolio lodo`` (a dataset that is not a source gets the one chosen on all)."""
RULES = ("ensemble", "single")
RULE = "single"
"""What a configuration must lower to be chosen: the greedy mix's error (``ensemble``) or the best one's alone."""
ROWS = 3000
"""Labelled rows of each dataset's sample (drawn with a fixed seed, see ``bench_datasets.sample``)."""
SIZE = 8
"""Configurations in the portfolio: about what a 60 s study on a few thousand rows gets through before TPE."""
PER_DATASET = 4
"""Candidates each dataset's search proposes: the best configuration of each of its best families."""
COST_POWER = 1.0
"""``choose`` divides what a candidate lowers by its cost to this power: 1, per second (shipped); 0, cost ignored."""
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


FOREST_DEFAULTS = (
    {"model": "random_forest", "rf_n_estimators": 300, "rf_max_features": 1.0, "rf_min_samples_leaf": 1},
    {"model": "extra_trees", "et_n_estimators": 300, "et_max_features": 1.0, "et_min_samples_leaf": 1},
)
"""Forests as AutoGluon's defaults grow them for regression (300 trees, every feature, leaves of one row):
candidates beside the families' own defaults, since the forests have none and a short search seldom proposes one."""


def defaults() -> list[dict]:
    from automl_pl.models import FAMILIES

    own = [{"model": f.name, **f.defaults} for f in FAMILIES.values() if f.defaults is not None and f.is_available()]
    return own + [dict(c) for c in FOREST_DEFAULTS]


def score(X, y, configuration: dict, *, timeout: float) -> tuple[float, float, np.ndarray | None]:
    """(5-fold CV RMSE, fit seconds, out-of-fold predictions) of one supervised trial of ``configuration``;
    NaN, NaN, None when it did not finish."""
    from unittest import mock

    import automl_pl.study
    from automl_pl.objective import PseudoLabelObjective
    from automl_pl.trial_attrs import FIT_SECONDS

    objectives = []

    class Recorded(PseudoLabelObjective):  # the study's objective, kept to read its out-of-fold predictions
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            objectives.append(self)

    with mock.patch.object(automl_pl.study, "PseudoLabelObjective", Recorded):
        study = _tune(X, y, n_trials=2, timeout=timeout, portfolio=[configuration]).study  # the quick family runs first
    trials = [t for t in study.trials if t.params.get("model") == configuration["model"] and t.state.name == "COMPLETE"]
    if not trials:
        return math.nan, math.nan, None
    out_of_fold = objectives[0].out_of_fold[trials[0].number].astype("float32")
    return float(trials[0].value), float(trials[0].user_attrs.get(FIT_SECONDS, math.nan)), out_of_fold


def oof_key(configuration: str, dataset: str) -> str:
    """The key of a candidate's (its JSON text, keys sorted) out-of-fold predictions on ``dataset`` in :data:`OOF`."""
    return hashlib.sha1(f"{dataset}\n{configuration}".encode()).hexdigest()[:16]


def load_oof(path: Path = OOF) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path) as stored:
        return {key: stored[key] for key in stored.files}


def targets(datasets, *, rows: int = ROWS, bigmart_dir: Path) -> dict[str, np.ndarray]:
    """Each dataset's sample targets, drawn as :func:`build_scores` drew them (those not available left out)."""
    from bench_datasets import sample

    return {d: s[1].to_numpy(dtype="float64") for d in datasets if (s := sample(d, rows, bigmart_dir)) is not None}


def build_scores(datasets: list[str], *, rows: int, seconds: float, timeout: float, bigmart_dir: Path,
                 out: Path, new_only: bool = False) -> pd.DataFrame:
    """Score every candidate on every dataset into ``out`` (resuming what it holds).

    A candidate scored before is scored again only for its out-of-fold predictions, when they are not
    stored; ``new_only`` keeps such rows as they are (the ``ensemble`` rule and the greedy mixes then lack
    them, see :func:`lodo`), so that new candidates are scored in minutes instead of all of them in hours.
    """
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
    oof_path = _beside(out, OOF)
    oof_path.parent.mkdir(parents=True, exist_ok=True)
    predictions = load_oof(oof_path)
    for i, (source, configuration) in enumerate(candidates):
        text = json.dumps(configuration, sort_keys=True)
        for dataset, (X, y) in samples.items():
            scored = [r for r in rows if r["configuration"] == text and r["dataset"] == dataset]
            if scored and (new_only or not math.isfinite(scored[0]["rmse"]) or oof_key(text, dataset) in predictions):
                continue
            rmse, fit, out_of_fold = score(X, y, configuration, timeout=timeout)
            if not scored:  # else only its predictions were missing: its row stays as it was
                rows.append({"candidate": i, "source": source, "configuration": text, "dataset": dataset,
                             "rmse": rmse, "seconds": fit})
            if out_of_fold is not None:
                predictions[oof_key(text, dataset)] = out_of_fold
            print(f"  {i:3d} {configuration['model']:24s} on {dataset:10s} RMSE {rmse:.5g}  {fit:.2f}s", flush=True)
            np.savez_compressed(oof_path, **predictions)  # after each, both: an interrupted run resumes
            pd.DataFrame(rows).to_csv(out, index=False)
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


def choose(scores: pd.DataFrame, *, size: int, exclude: str | None = None, rule: str = RULE,
           oof: dict[str, np.ndarray] | None = None, y: dict[str, np.ndarray] | None = None,
           cost_power: float = COST_POWER) -> list[dict]:
    """The portfolio: ``size`` configurations chosen greedily by error ratio lowered per second
    (per ``cost ** cost_power``: 0 ignores the cost, 1 is per second).

    ``rule="ensemble"`` needs the candidates' out-of-fold predictions (``oof``, see :func:`load_oof`) and
    the datasets' targets (``y``, see :func:`targets`); datasets without them are left out of the choice.
    """
    ratio, cost, _ = _matrices(scores, exclude)
    quick = [c for c in ratio.index if json.loads(c)["model"] == QUICK]
    if rule == "single":
        current = ratio.loc[quick].min() if quick else ratio.max()
        error = lambda chosen, candidate: np.minimum(current, ratio.loc[candidate])  # noqa: E731
    elif rule == "ensemble":
        if missing := missing_predictions(scores, oof or {}):
            raise ValueError(f"rule 'ensemble' needs every candidate's out-of-fold predictions; {missing} are not "
                             "stored: run `scores` without --new-only")
        mixes = _Mixes(ratio, scores, oof or {}, y or {})
        start = [c for c in quick if c == _defaults_text(QUICK)] or quick[:1]
        current = mixes.ratios(start)
        error = lambda chosen, candidate: mixes.ratios(start + chosen + [candidate])  # noqa: E731
    else:
        raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
    chosen: list[str] = []
    while len(chosen) < size:
        value = pd.Series({c: (current - error(chosen, c)).mean() / cost[c] ** cost_power
                           for c in ratio.index if c not in chosen})
        if value.empty or value.max() <= 0:
            break
        pick = value.idxmax()
        current = error(chosen, pick)
        chosen.append(pick)
    return [json.loads(c) for c in chosen]


class _Mixes:
    """Per dataset, the error ratio of the greedy weighted mean of a set of candidates (their out-of-fold
    predictions mixed by :func:`automl_pl.ensemble.select_weights`), over the best candidate's RMSE alone."""

    def __init__(self, ratio: pd.DataFrame, scores: pd.DataFrame, oof: dict[str, np.ndarray],
                 y: dict[str, np.ndarray]):
        self.datasets = [d for d in ratio.columns if d in y and any(oof_key(c, d) in oof for c in ratio.index)]
        if not self.datasets:
            raise ValueError("rule 'ensemble' needs out-of-fold predictions and targets: run `scores` first")
        self.y = y
        rmse = scores.pivot_table(index="configuration", columns="dataset", values="rmse", aggfunc="first")
        self.oof = {key: oof[key] for c in ratio.index for d in self.datasets  # only trials that finished in time
                    if math.isfinite(rmse.loc[c, d]) and (key := oof_key(c, d)) in oof}
        self.best = rmse.min()
        self.worst = ratio.max()  # a set none of whose members finished: no better than the worst that did
        self._cache: dict[tuple[str, tuple[str, ...]], float] = {}

    def ratios(self, configurations: list[str]) -> pd.Series:
        """The error ratio of the mix of ``configurations`` on every dataset."""
        return pd.Series({d: self.ratio(d, configurations) for d in self.datasets})

    def ratio(self, dataset: str, configurations: list[str]) -> float:
        """The error ratio of the mix of ``configurations`` on ``dataset`` (memoised)."""
        key = (dataset, tuple(configurations))
        if key not in self._cache:
            from automl_pl.ensemble import rmse, select_weights

            columns = [self.oof[k] for c in configurations if (k := oof_key(c, dataset)) in self.oof]
            if not columns:
                self._cache[key] = float(self.worst[dataset])
            else:
                y = self.y[dataset]
                if any(len(c) != len(y) for c in columns):
                    raise ValueError(f"{dataset}: the stored predictions are not of {len(y)} rows: "
                                     f"score with the same --rows")
                predictions = np.column_stack(columns).astype("float64")
                self._cache[key] = rmse(predictions @ select_weights(predictions, y), y) / self.best[dataset]
        return self._cache[key]


def _defaults_text(family: str) -> str:
    """The configuration text (as in the scores) of ``family``'s defaults."""
    from automl_pl.models import FAMILIES

    return json.dumps({"model": family, **(FAMILIES[family].defaults or {})}, sort_keys=True)


def _beside(scores: Path, default: Path) -> Path:
    """``default``, or the file of its name beside ``scores`` when they are not the committed ones."""
    return default if scores == SCORES else scores.with_name(default.name)


def chosen_on(scores: pd.DataFrame, sources: list[str] | None) -> pd.DataFrame:
    """The scores a portfolio chosen on ``sources`` sees: those datasets, and the candidates they (or the
    families' defaults) proposed; all of ``scores`` when ``sources`` is None."""
    if sources is None:
        return scores
    return scores[scores["dataset"].isin(sources) & scores["source"].isin([*sources, "defaults"])]


def missing_predictions(scores: pd.DataFrame, oof: dict[str, np.ndarray]) -> int:
    """How many finished (candidate, dataset) scores have no stored out-of-fold predictions."""
    finished = scores[np.isfinite(scores["rmse"])]
    return sum(oof_key(c, d) not in oof for c, d in zip(finished["configuration"], finished["dataset"]))


def lodo(scores: pd.DataFrame, *, size: int, oof: dict[str, np.ndarray], y: dict[str, np.ndarray],
         cost_power: float = COST_POWER,
         sources: list[str] | None = None) -> tuple[pd.DataFrame, dict[str, dict[str, list[dict]]]]:
    """Per dataset and rule: the portfolio chosen without the dataset, scored on it, against the default start.

    ``sources``: the datasets the portfolios are chosen on (all in ``scores`` when None); every dataset of
    ``scores`` is scored, against the best of all its candidates, so that two choices of sources compare.
    The greedy mixes (``*_mix``) need every finished candidate's out-of-fold predictions; where some are
    missing (``scores --new-only``) they are NaN, and only rule ``single`` is chosen (the rules chosen are
    the keys of the portfolios returned).
    Returns the table and what :data:`LODO` holds.
    """
    complete = not missing_predictions(scores, oof)
    rules = RULES if complete else ("single",)
    rows = []
    chosen_from = chosen_on(scores, sources)
    portfolios = {"sources": sorted(chosen_from["dataset"].unique()),
                  **{rule: {"*": choose(chosen_from, size=size, rule=rule, oof=oof, y=y, cost_power=cost_power)}
                     for rule in rules}}
    start = [_defaults_text(f) for f in DEFAULT_START]
    quick = [_defaults_text(QUICK)]
    mixes = _Mixes(_matrices(scores, None)[0], scores, oof, y) if complete else None
    for dataset in sorted(scores["dataset"].unique()):
        on = scores[scores["dataset"] == dataset].set_index("configuration")
        best = on["rmse"].min()
        mixed = mixes is not None and dataset in mixes.datasets
        row = {"dataset": dataset, "default_start_ratio": on["rmse"].reindex(start).min() / best,
               "default_start_mix": mixes.ratio(dataset, quick + start) if mixed else math.nan,
               "default_start_seconds": on["seconds"].reindex(start).sum()}
        for rule in rules:
            portfolio = choose(chosen_from, size=size, exclude=dataset, rule=rule, oof=oof, y=y,
                               cost_power=cost_power)
            portfolios[rule][dataset] = portfolio
            texts = [json.dumps(c, sort_keys=True) for c in portfolio]
            found = on["rmse"].reindex(texts)
            row |= {f"{rule}_portfolio": " ".join(c["model"] for c in portfolio),
                    f"{rule}_ratio": found.min() / best,
                    f"{rule}_mix": mixes.ratio(dataset, quick + texts) if mixed else math.nan,
                    f"{rule}_seconds": on["seconds"].reindex(texts).sum()}
        rows.append(row)
    return pd.DataFrame(rows), portfolios


def main() -> int:
    from bench_datasets import DATASETS, SOURCES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["scores", "choose", "lodo"])
    parser.add_argument("--datasets", nargs="+", default=[*DATASETS, *SOURCES], choices=[*DATASETS, *SOURCES])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--search-seconds", type=float, default=40.0)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="most seconds for one candidate on one dataset; slower ones count as not finished")
    parser.add_argument("--bigmart-dir", type=Path, default=HERE.parents[1] / "shared/data/bigmart")
    parser.add_argument("--scores", type=Path, default=SCORES)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--rule", choices=RULES, default=RULE,
                        help="choose: lower the greedy mix's error (ensemble) or the best configuration's (single)")
    parser.add_argument("--cost-power", type=float, default=COST_POWER,
                        help="choose, lodo: value per cost ** this (1: per second, shipped; 0: cost ignored)")
    parser.add_argument("--exclude", help="choose without this dataset and the candidates it proposed")
    parser.add_argument("--sources", nargs="+", help="choose, lodo: choose on these datasets of the scores and the "
                        "candidates they proposed (default: all); lodo still scores every dataset")
    parser.add_argument("--out", type=Path, help="choose: write the portfolio here (automl_pl/portfolio.json)")
    parser.add_argument("--new-only", action="store_true", help="scores: score only candidates not scored yet, "
                        "not those whose out-of-fold predictions are missing (lodo then chooses by rule single only)")
    args = parser.parse_args()
    if args.command == "scores":
        build_scores(args.datasets, rows=args.rows, seconds=args.search_seconds, timeout=args.timeout,
                     bigmart_dir=args.bigmart_dir, out=args.scores, new_only=args.new_only)
        return 0
    scores = pd.read_csv(args.scores)
    oof = load_oof(_beside(args.scores, OOF))
    y = targets(sorted(set(scores["dataset"])), rows=args.rows, bigmart_dir=args.bigmart_dir)
    if args.command == "choose":
        from automl_pl.portfolio import Portfolio

        chosen_from = chosen_on(scores, args.sources)
        portfolio = choose(chosen_from, size=args.size, exclude=args.exclude, rule=args.rule, oof=oof, y=y,
                           cost_power=args.cost_power)
        sources = sorted(set(chosen_from["dataset"]) - {args.exclude})
        for c in portfolio:
            print(json.dumps(c))
        if args.out:
            Portfolio.from_configurations(portfolio, sources=sources).write(args.out)
            print(f"wrote {args.out} (chosen on {', '.join(sources)}, rule {args.rule})")
        return 0
    table, portfolios = lodo(scores, size=args.size, oof=oof, y=y, cost_power=args.cost_power, sources=args.sources)
    rules = [rule for rule in RULES if rule in portfolios]
    if len(rules) < len(RULES):
        print(f"{missing_predictions(scores, oof)} scores have no stored out-of-fold predictions (`scores` without "
              "--new-only stores them): rule single only, greedy mixes not computed")
    with pd.option_context("display.width", 250, "display.max_colwidth", 90, "display.max_columns", 30):
        for rule in rules:
            print(table[["dataset", f"{rule}_portfolio"]].to_string(index=False))
        print(table.drop(columns=[f"{rule}_portfolio" for rule in rules]).round(3).to_string(index=False))
    geo = lambda s: float(np.exp(np.log(s).mean()))  # noqa: E731
    groups = (("all datasets", set(table["dataset"])), ("the benchmark's datasets", set(DATASETS)),
              ("the other datasets", set(table["dataset"]) - set(DATASETS)))
    for name, datasets in groups:
        part = table[table["dataset"].isin(datasets)]
        print(f"\ngeometric mean over {name} ({len(part)}), error ratio to the best candidate "
              "(leave-one-dataset-out):")
        print(f"  default start: best alone {geo(part['default_start_ratio']):.4f}, "
              f"greedy mix {geo(part['default_start_mix']):.4f}")
        for rule in rules:
            print(f"  rule {rule:8s}: best alone {geo(part[f'{rule}_ratio']):.4f}, "
                  f"greedy mix {geo(part[f'{rule}_mix']):.4f}, seconds {part[f'{rule}_seconds'].sum():.1f}")
    written = _beside(args.scores, LODO)
    written.write_text(json.dumps(portfolios, indent=1) + "\n")
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
