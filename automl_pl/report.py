"""Insight from a study alone: gather small NamedTuples from its trials, then draw them with plotly.

The gathering functions (``gather_trials``, ``sample_rate_curves``, ``family_summaries``,
``final_combination``, ``feature_importances``)
are what the tests check; the ``plot_*`` functions only draw; :func:`write_report` puts
every figure on one self-contained HTML page. Reads a finished or running study, nothing else.
"""

from __future__ import annotations

import html
import math
import os
import statistics
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import optuna
from optuna.trial import TrialState

from automl_pl._files import write_atomically
from automl_pl.trial_attrs import CV_RMSE_BY_ROUND, ENSEMBLE, FEATURE_IMPORTANCE, SUPERVISED_CV_RMSE

if TYPE_CHECKING:  # plotly is imported where a figure is drawn
    import plotly.graph_objects as go


class TrialPoint(NamedTuple):
    """One completed trial, as the plots see it."""

    number: int
    family: str
    sample_rate: float
    selection: str
    value: float
    supervised: float | None


class FamilySummary(NamedTuple):
    """How one model family did in the study, and what pseudo-labels bought it."""

    family: str
    n_trials: int
    best_value: float
    best_trial: int
    best_sample_rate: float
    median_gain_percent: float | None  # median of (pseudo / supervised - 1) over trials with sample_rate > 0


class FinalCombination(NamedTuple):
    """How the study's final model combines its trials, and what the choice was worth on held-out folds."""

    kind: str  # "mean" (weights summing to 1) or "stack"
    trials: list[int]
    weights: list[float]
    mean_held_out_rmse: float | None
    stack_held_out_rmse: float | None
    strayed: list[int]  # trials left out: their predictions stray on the unlabelled rows


class FeatureBar(NamedTuple):
    """One feature's importance to the final model (see :mod:`automl_pl.importance`)."""

    feature: str
    importance: float  # growth of the RMSE when the feature is shuffled
    stddev: float | None  # over the shuffles
    gain: float | None  # the boosters' share of gain, or None without a booster


class FeatureImportanceInfo(NamedTuple):
    """The final model's feature importance as recorded in the study, and on which rows it was measured."""

    bars: list[FeatureBar]  # most important first
    rows: str  # "out-of-fold" or "training rows"
    n_rows: int
    n_repeats: int


def _recorded_for_best_trial(study: optuna.Study, name: str) -> dict | None:
    """The study attribute ``name`` when it was recorded for the study's current best trial, else ``None``."""
    recorded = study.user_attrs.get(name)
    try:
        best = study.best_trial.number
    except ValueError:  # no completed trial
        return None
    return recorded if isinstance(recorded, dict) and recorded.get("best_trial") == best else None


def feature_importances(study: optuna.Study) -> FeatureImportanceInfo | None:
    """The feature importance ``tune`` (or ``TuneResult.feature_importance``) recorded for the study's best
    trial, or ``None`` (none measured, or measured for an earlier best trial)."""
    recorded = _recorded_for_best_trial(study, FEATURE_IMPORTANCE)
    if recorded is None:
        return None
    bars = [FeatureBar(str(f), float(i), s, g) for f, i, s, g in
            zip(recorded["feature"], recorded["importance"], recorded["stddev"], recorded["gain"]) if i is not None]
    return FeatureImportanceInfo(bars, str(recorded.get("rows")), int(recorded.get("n_rows") or 0),
                                 int(recorded.get("n_repeats") or 0))


def final_combination(study: optuna.Study) -> FinalCombination | None:
    """The combination ``tune`` recorded for the study's best trial, or ``None`` (none recorded, or stale)."""
    recorded = _recorded_for_best_trial(study, ENSEMBLE)
    if recorded is None:
        return None
    return FinalCombination(recorded.get("kind", "mean"), list(recorded.get("trials", [])),
                            list(recorded.get("weights", [])), recorded.get("mean_held_out_rmse"),
                            recorded.get("stack_held_out_rmse"), list(recorded.get("strayed", [])))


def gather_trials(study: optuna.Study) -> list[TrialPoint]:
    """The study's completed trials with the parameters and scores the plots need."""
    points = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if "model" not in trial.params or trial.value is None:
            continue
        points.append(TrialPoint(
            number=trial.number,
            family=trial.params["model"],
            sample_rate=float(trial.params.get("sample_rate", 0.0)),
            selection=trial.params.get("selection", "none") if trial.params.get("sample_rate", 0.0) > 0 else "none",
            value=_pseudo_labelled_value(trial),
            supervised=trial.user_attrs.get(SUPERVISED_CV_RMSE),
        ))
    return points


def sample_rate_curves(points: Sequence[TrialPoint]) -> dict[str, list[tuple[float, float]]]:
    """Per family, the best CV RMSE reached at each sample rate tried: the tutorial's figure."""
    best: dict[str, dict[float, float]] = defaultdict(dict)
    for p in points:
        rate = round(p.sample_rate, 6)
        best[p.family][rate] = min(p.value, best[p.family].get(rate, math.inf))
    return {family: sorted(rates.items()) for family, rates in sorted(best.items())}


def family_summaries(points: Sequence[TrialPoint]) -> list[FamilySummary]:
    """Per family: trials, best score and the median gain from pseudo-labels; best family first."""
    by_family: dict[str, list[TrialPoint]] = defaultdict(list)
    for p in points:
        by_family[p.family].append(p)
    summaries = []
    for family, trials in by_family.items():
        top = min(trials, key=lambda p: p.value)
        gains = [100 * (p.value / p.supervised - 1) for p in trials if p.sample_rate > 0 and p.supervised]
        summaries.append(FamilySummary(family, len(trials), top.value, top.number, top.sample_rate,
                                       statistics.median(gains) if gains else None))
    return sorted(summaries, key=lambda s: s.best_value)


def plot_sample_rate(study: optuna.Study) -> go.Figure:
    """CV RMSE against sample rate, one panel per family: every trial, and the best per rate."""
    from plotly.subplots import make_subplots

    points = gather_trials(study)
    curves = sample_rate_curves(points)
    families = list(curves) or ["(no completed trial)"]
    cols = min(3, len(families))
    rows = math.ceil(len(families) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=families, shared_xaxes=True)
    for i, family in enumerate(curves):
        row, col = i // cols + 1, i % cols + 1
        trials = [p for p in points if p.family == family]
        fig.add_scatter(x=[p.sample_rate for p in trials], y=[p.value for p in trials], mode="markers",
                        marker={"size": 6, "opacity": 0.45, "color": "#7f8c8d"}, name="trial", showlegend=i == 0,
                        text=[f"trial {p.number}, {p.selection}" for p in trials], row=row, col=col)
        fig.add_scatter(x=[r for r, _ in curves[family]], y=[v for _, v in curves[family]], mode="lines+markers",
                        line={"color": "#c0392b"}, name="best at this rate", showlegend=i == 0, row=row, col=col)
    fig.update_xaxes(title_text="sample rate", range=[-0.03, 1.03])
    fig.update_yaxes(title_text="CV RMSE")
    # 320 px a row left each panel ~140 px of plot under the titles (seen in a headless Chromium screenshot)
    fig.update_layout(title="CV RMSE against pseudo-label sample rate, per model family", height=140 + 320 * rows)
    return fig


def plot_pseudo_vs_supervised(study: optuna.Study) -> go.Figure:
    """Each trial's CV RMSE with pseudo-labels against its teachers' (supervised) CV RMSE."""
    import plotly.graph_objects as go

    points = [p for p in gather_trials(study) if p.supervised is not None and p.sample_rate > 0]
    fig = go.Figure()
    for family in sorted({p.family for p in points}):
        trials = [p for p in points if p.family == family]
        fig.add_scatter(x=[p.supervised for p in trials], y=[p.value for p in trials], mode="markers", name=family,
                        text=[f"trial {p.number}, sample rate {p.sample_rate:g}, {p.selection}" for p in trials])
    if points:
        low = min(min(p.value, p.supervised) for p in points)
        high = max(max(p.value, p.supervised) for p in points)
        fig.add_scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dash", "color": "black"},
                        name="no gain")
    fig.update_layout(title="Pseudo-labelled vs supervised CV RMSE of the same trials (below the line: pseudo-labels helped)",
                      xaxis_title="supervised CV RMSE (the trial's teachers)", yaxis_title="CV RMSE with pseudo-labels")
    return fig


def plot_family_comparison(study: optuna.Study) -> go.Figure:
    """CV RMSE of every completed trial, one box per family, best family first."""
    import plotly.graph_objects as go

    points = gather_trials(study)
    fig = go.Figure()
    for summary in family_summaries(points):
        fig.add_box(y=[p.value for p in points if p.family == summary.family], name=summary.family, boxpoints="all")
    fig.update_layout(title="Model families: CV RMSE of their trials", yaxis_title="CV RMSE", showlegend=False)
    return fig


MAX_FEATURE_BARS = 30
"""The feature importance figure shows at most this many features, the most important."""


def plot_feature_importance(study: optuna.Study) -> go.Figure:
    """The final model's permutation importance per feature (bars, with their spread) and the boosters' gain share.

    Raises:
        ValueError: no feature importance is recorded for the study's best trial.
    """
    import plotly.graph_objects as go

    info = feature_importances(study)
    if info is None:
        raise ValueError(f"study {study.study_name!r} has no feature importance recorded for its best trial; "
                         "call result.feature_importance() on the result of tune() or refit_best()")
    bars = info.bars[:MAX_FEATURE_BARS][::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure()
    fig.add_bar(x=[b.importance for b in bars], y=[b.feature for b in bars], orientation="h",
                name="RMSE growth when shuffled",
                error_x={"type": "data", "array": [b.stddev or 0.0 for b in bars], "visible": True})
    if any(b.gain is not None for b in bars):
        fig.add_bar(x=[b.gain for b in bars], y=[b.feature for b in bars], orientation="h", xaxis="x2",
                    name="boosters' gain share", marker={"color": "rgba(127, 140, 141, 0.5)"})
        fig.update_layout(xaxis2={"overlaying": "x", "side": "top", "title": "boosters' gain share", "range": [0, 1],
                                  "tickformat": ".0%", "dtick": 0.25})
    fig.update_layout(
        title={"text": f"Feature importance of the final model<br><sup>RMSE growth when a feature is shuffled "
                       f"({info.rows}, {info.n_rows} rows, {info.n_repeats} shuffles)</sup>", "y": 0.97},
        margin={"t": 130}, legend={"orientation": "h", "y": -0.15},
        xaxis_title="RMSE growth (target units)", barmode="overlay", height=max(360, 24 * len(bars) + 220))
    return fig


def plot_optimization_history(study: optuna.Study) -> go.Figure:
    """Optuna's optimization history (best value so far, trial by trial), its axis named for what the value is."""
    return optuna.visualization.plot_optimization_history(study, target_name="CV RMSE")


def plot_param_importances(study: optuna.Study) -> go.Figure:
    """Optuna's parameter importances over the dimensions every trial shares (model, sample rate, ...)."""
    with warnings.catch_warnings():  # "few trials in some regimes": expected early in a study
        warnings.simplefilter("ignore", UserWarning)
        return optuna.visualization.plot_param_importances(study)


def write_report(study: optuna.Study, path: str | os.PathLike) -> Path:
    """Write one self-contained HTML page (plotly.js inlined) with every figure and a summary table.

    Raises:
        ValueError: the study has no completed trial to report on.
    """
    points = gather_trials(study)
    if not points:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet; run it first.")
    figures = [plot_optimization_history(study), plot_sample_rate(study), plot_pseudo_vs_supervised(study),
               plot_family_comparison(study)]
    if len(points) >= 2:
        figures.append(plot_param_importances(study))
    if feature_importances(study) is not None:
        figures.append(plot_feature_importance(study))
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_height="520px")
             for i, fig in enumerate(figures)]
    page = _PAGE.format(title=html.escape(f"automl_pl study {study.study_name}"), summary=_summary_table(study, points),
                        figures="\n".join(f'<section class="figure">{p}</section>' for p in parts))
    return write_atomically(path, lambda staging: staging.write_text(page, encoding="utf-8"))


def _summary_table(study: optuna.Study, points: Sequence[TrialPoint]) -> str:
    states = defaultdict(int)
    for trial in study.get_trials(deepcopy=False):
        states[trial.state.name.lower()] += 1
    best = study.best_trial
    rows = "".join(
        f"<tr><td>{html.escape(s.family)}</td><td>{s.n_trials}</td><td>{s.best_value:.6g}</td><td>#{s.best_trial}</td>"
        f"<td>{s.best_sample_rate:g}</td><td>{'' if s.median_gain_percent is None else f'{round(s.median_gain_percent, 2) + 0.0:+.2f}%'}</td></tr>"
        for s in family_summaries(points)
    )
    supervised = best.user_attrs.get(SUPERVISED_CV_RMSE)
    return (
        f"<p>{', '.join(f'{n} {state}' for state, n in sorted(states.items()))}. Best trial #{best.number}: "
        f"<b>{html.escape(str(best.params.get('model')))}</b>, sample rate {best.params.get('sample_rate', 0):g}, "
        f"CV RMSE <b>{best.value:.6g}</b>"
        + (f" (supervised, same trial: {supervised:.6g})" if supervised is not None else "") + ".</p>"
        "<table><tr><th>family</th><th>trials</th><th>best CV RMSE</th><th>trial</th><th>its sample rate</th>"
        f"<th>median change from pseudo-labels</th></tr>{rows}</table>"
    ) + _combination_line(final_combination(study))


def _combination_line(combination: FinalCombination | None) -> str:
    """A paragraph on how the final model combines its trials, or nothing."""
    if combination is None:
        return ""
    weights = ", ".join(f"#{n} {w:.2f}" for n, w in zip(combination.trials, combination.weights))
    what = ("a stack layer over" if combination.kind == "stack" else
            "a weighted mean of" if len(combination.trials) > 1 else "the best trial alone:")
    scores = ""
    if combination.mean_held_out_rmse is not None and combination.stack_held_out_rmse is not None:
        scores = (f" On held-out folds: weighted mean {combination.mean_held_out_rmse:.6g}, "
                  f"stack {combination.stack_held_out_rmse:.6g}.")
    if combination.strayed:
        scores += (" Left out, their predictions stray on the unlabelled rows: "
                   + ", ".join(f"#{n}" for n in combination.strayed) + ".")
    return f"<p>Final model: {what} {html.escape(weights)}.{scores}</p>"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} td, th {{ border: 1px solid #ccc; padding: .3rem .7rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} section.figure {{ margin: 2rem 0; }}
</style></head>
<body><h1>{title}</h1>
{summary}
{figures}
</body></html>
"""


def _pseudo_labelled_value(trial: optuna.trial.FrozenTrial) -> float:
    """The trial's CV RMSE with pseudo-labels: its best student round, even where its teachers did better.

    A trial's value is the best of its teachers (round 0) and its students; the figures about
    pseudo-labelling compare students against teachers, so they take the students' best.
    """
    by_round = trial.user_attrs.get(CV_RMSE_BY_ROUND) or []
    if trial.params.get("sample_rate", 0.0) > 0 and len(by_round) > 1:
        return float(min(by_round[1:]))
    return float(trial.value)
