"""Feature importance of a final model: permutation importance on out-of-fold rows, and the boosters' gains.

**Permutation importance** (Breiman; AutoGluon's ``feature_importance()``): how much the model's RMSE
grows when one feature's values are shuffled among the rows, breaking its link to the target. It
works for every family. It is measured on rows the model did not fit: the final model is the mean
of fold models (:mod:`automl_pl.fold_models`), and each fold's models are scored on the rows their
fold held out, as the fold's ensemble (its trials' models with their weights), so the figure is an
out-of-fold one, like the CV RMSE. A model fitted on all rows (``bagging=False``) has no such rows:
it is scored on the labelled rows it was fitted on, and the result says so.

It is kept cheap: at most ``max_rows`` held-out rows in all, ``n_repeats`` shuffles, and each
fold model predicts every shuffled feature of one repeat in one call. Under a time limit it
first times one unshuffled pass, from which it foresees a repeat, and measures as many repeats
as fit; when not even one does, one repeat on a share of the rows (``MIN_ROWS`` at least), else
nothing (``None``), as when the time runs out between two calls.

**Gain**: LightGBM's and XGBoost's total split gain per feature and CatBoost's
``PredictionValuesChange``, each model's shares (summing to 1) averaged over the boosters of the final
model by their weights; empty where the final model has no booster. It costs nothing, but it is
measured on the rows the boosters were fitted on, so it also credits features they overfit.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from automl_pl.ensemble import rmse, weighted_prediction
from automl_pl.models._base import final_estimator

N_REPEATS = 3
"""Shuffles per feature: the spread over them is the ``stddev`` column."""
MAX_ROWS = 1000
"""Most held-out rows scored, over all folds (AutoGluon subsamples 5,000 rows; the folds' out-of-fold rows are
fewer and spread over K models)."""
MAX_CELLS = 2_000_000
"""Most cells (rows times columns) of shuffled copies one fold model predicts at once."""
TIME_MARGIN = 1.5
"""Under a time limit, the shuffles must be foreseen to take at most the time left divided by this."""
MIN_ROWS = 100
"""Under a time limit that affords less than one shuffle of every row drawn, one shuffle of a share of them is
measured, but not on fewer rows than this: below, nothing is measured."""

COLUMNS = ("feature", "importance", "stddev", "importance_share", "gain")
"""``importance``: mean growth of the RMSE (in the target's units) when the feature is shuffled; ``stddev``:
its spread over the repeats; ``importance_share``: the feature's share of the positive importances; ``gain``:
the boosters' share of gain (see the module doc), ``NaN`` without a booster."""

OUT_OF_FOLD = "out-of-fold"
TRAINING_ROWS = "training rows"


def feature_importance(model: Any, X: pd.DataFrame, y: np.ndarray, *, n_repeats: int = N_REPEATS,
                       max_rows: int = MAX_ROWS, random_state: int = 0,
                       seconds: float | None = None, sources: Mapping[str, str] | None = None) -> pd.DataFrame | None:
    """Permutation importance and gain of a fitted :class:`~automl_pl.ensemble.EnsembleRegressor`.

    Args:
        model: the final model; its ``rows`` say on which rows each member was fitted.
        X: the normalised labelled rows it was fitted on (``TuneResult.data.X``), in the same order.
        y: their targets.
        n_repeats: shuffles per feature.
        max_rows: most rows scored, over all folds.
        random_state: seeds the rows drawn and the shuffles.
        seconds: the most time to spend, or ``None`` for no limit: fewer repeats or rows are measured when it
            is short (``attrs`` says how many).
        sources: each feature the models see and the column of ``X`` it comes from
            (:attr:`~automl_pl.data.FeatureSchema.feature_sources`: a date column gives several), so that
            gains are summed per column; ``None``: the models see ``X``'s columns.

    Returns:
        One row per feature (see :data:`COLUMNS`), most important first; ``attrs["rows"]`` is
        ``"out-of-fold"`` or ``"training rows"``, ``attrs["n_rows"]`` and ``attrs["n_repeats"]``
        what was scored, ``attrs["cut_for_time"]`` whether ``seconds`` made them fewer than asked. ``None`` when it would not fit in ``seconds``.

    Raises:
        ValueError: ``n_repeats`` or ``max_rows`` below 1.
    """
    if not isinstance(n_repeats, int) or n_repeats < 1 or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"n_repeats and max_rows must be whole numbers >= 1, got {n_repeats!r} and {max_rows!r}")
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    rng = np.random.default_rng(random_state)
    y = np.asarray(y, dtype="float64")
    groups, where = _fold_groups(model, len(X), max_rows=max_rows, rng=rng)
    baseline = []
    for members, rows in groups:
        if deadline is not None and time.monotonic() >= deadline:
            return None
        baseline.append(_predict(members, X.iloc[rows]))
    cut = False  # whether the time limit cut repeats or rows
    if deadline is not None:  # a repeat shuffles every feature: about as long as one pass per feature
        per_repeat = (time.monotonic() - started) * X.shape[1] * TIME_MARGIN
        affordable = (deadline - time.monotonic()) / per_repeat if per_repeat > 0 else float(n_repeats)
        if affordable < 1:  # one shuffle on a share of the rows, or nothing when that share is too few
            share = affordable
            if share * sum(len(rows) for _, rows in groups) < MIN_ROWS:
                return None
            kept = [np.sort(rng.choice(len(rows), size=max(1, int(share * len(rows))), replace=False))
                    for _, rows in groups]
            groups = [(members, rows[k]) for (members, rows), k in zip(groups, kept)]
            baseline = [b[k] for b, k in zip(baseline, kept)]
        cut = affordable < n_repeats
        n_repeats = max(1, min(n_repeats, int(affordable)))
    truth = [y[rows] for _, rows in groups]
    base_rmse = rmse(np.concatenate(baseline), np.concatenate(truth))
    growth = np.zeros((n_repeats, X.shape[1]))
    for repeat in range(n_repeats):
        squared = np.zeros(X.shape[1])
        for (members, rows), target in zip(groups, truth):
            if deadline is not None and time.monotonic() > deadline:
                return None
            squared += _shuffled_squared_errors(members, X.iloc[rows], target, rng)
        growth[repeat] = np.sqrt(squared / sum(len(t) for t in truth)) - base_rmse
    importance = growth.mean(axis=0)
    positive = np.clip(importance, 0, None)
    table = pd.DataFrame({
        "feature": list(X.columns),
        "importance": importance,
        "stddev": growth.std(axis=0, ddof=1) if n_repeats > 1 else np.full(X.shape[1], np.nan),
        "importance_share": positive / positive.sum() if positive.sum() > 0 else np.zeros(X.shape[1]),
        "gain": booster_gain(model, list(X.columns), sources=sources),
    }).sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)
    table.attrs.update(rows=where, n_rows=int(sum(len(t) for t in truth)), n_repeats=n_repeats, cut_for_time=cut)
    return table


def _fold_groups(model: Any, n_rows: int, *, max_rows: int,
                 rng: np.random.Generator) -> tuple[list[tuple[list[tuple[float, Any]], np.ndarray]], str]:
    """The model's members grouped by the rows they were fitted on, each with the rows to score them on.

    Members fitted on the same fold's rows (one per trial of the final model) predict together, as
    that fold's ensemble, on the rows the fold held out: a sample of them, ``max_rows`` in all.
    """
    fitted_on = list(model.rows) if model.rows is not None else [None] * len(model.estimators_)
    groups: dict[bytes | None, tuple[list[tuple[float, Any]], np.ndarray | None]] = {}
    for estimator, weight, rows in zip(model.estimators_, model.weights_, fitted_on):
        key = None if rows is None else np.sort(np.asarray(rows)).tobytes()
        groups.setdefault(key, ([], rows))[0].append((float(weight), estimator))
    out_of_fold = None not in groups
    if not out_of_fold:  # fitted on all rows: no held-out rows, score the whole model on its own rows
        members = [(float(w), e) for w, e in zip(model.weights_, model.estimators_)]
        return [(members, _sample(np.arange(n_rows), max_rows, rng))], TRAINING_ROWS
    per_group = max(1, max_rows // len(groups))
    scored = []
    for members, rows in groups.values():
        held_out = np.setdiff1d(np.arange(n_rows), np.asarray(rows))
        if len(held_out):
            scored.append((members, _sample(held_out, per_group, rng)))
    return scored, OUT_OF_FOLD


def _sample(rows: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return rows if len(rows) <= size else np.sort(rng.choice(rows, size=size, replace=False))


def _predict(members: Sequence[tuple[float, Any]], X: pd.DataFrame) -> np.ndarray:
    """The members' weighted mean prediction (the weights of one fold's members, scaled to sum to 1)."""
    total = sum(w for w, _ in members)
    return weighted_prediction([e for _, e in members], [w / total for w, _ in members], X)


def _shuffled_squared_errors(members: Sequence[tuple[float, Any]], X: pd.DataFrame, y: np.ndarray,
                             rng: np.random.Generator) -> np.ndarray:
    """Per feature, the sum of squared errors on ``(X, y)`` with that feature's values shuffled among the rows."""
    n_rows, n_features = X.shape
    per_call = max(1, MAX_CELLS // max(1, n_rows * n_features))
    sums = np.zeros(n_features)
    for start in range(0, n_features, per_call):
        block = range(start, min(start + per_call, n_features))
        copies = _shuffled_copies(X, block, rng)
        predicted = _predict(members, copies).reshape(len(block), n_rows)
        sums[start:start + len(block)] = ((predicted - y) ** 2).sum(axis=1)
    return sums


def _shuffled_copies(X: pd.DataFrame, features: range, rng: np.random.Generator) -> pd.DataFrame:
    """``len(features)`` copies of ``X`` stacked, the ``i``-th with column ``features[i]`` shuffled; dtypes kept."""
    n_rows, n_copies = len(X), len(features)
    columns = {}
    for j, name in enumerate(X.columns):
        column = X[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            values = np.tile(column.cat.codes.to_numpy(), n_copies)
        else:
            values = np.tile(column.to_numpy(), n_copies)
        if j in features:
            block = features.index(j)
            part = values[block * n_rows:(block + 1) * n_rows]
            values[block * n_rows:(block + 1) * n_rows] = part[rng.permutation(n_rows)]
        columns[name] = (pd.Categorical.from_codes(values, dtype=column.dtype)
                         if isinstance(column.dtype, pd.CategoricalDtype) else values)
    return pd.DataFrame(columns)


def booster_gain(model: Any, columns: Sequence[str], *, sources: Mapping[str, str] | None = None) -> np.ndarray:
    """Per column, the boosters' shares of gain averaged by their weights (see the module doc); ``NaN`` without one.

    ``sources`` maps each feature the boosters see to its column (see :func:`feature_importance`).
    """
    sources = dict(sources) if sources is not None else {column: column for column in columns}
    features = list(sources)
    position = {column: i for i, column in enumerate(columns)}
    column_of = np.array([position[sources[feature]] for feature in features], dtype=np.intp)
    total, weight = np.zeros(len(columns)), 0.0
    for estimator, w in zip(model.estimators_, model.weights_):
        gains = _gain(final_estimator(estimator), features)
        if gains is not None and gains.sum() > 0:
            total += abs(float(w)) * np.bincount(column_of, weights=gains / gains.sum(), minlength=len(columns))
            weight += abs(float(w))
    return total / weight if weight > 0 else np.full(len(columns), np.nan)


def _gain(booster: Any, features: Sequence[str]) -> np.ndarray | None:
    """One fitted booster's own importance per feature (in ``features`` order), or ``None`` for other models."""
    if hasattr(getattr(booster, "booster_", None), "feature_importance"):  # LightGBM
        values = booster.booster_.feature_importance(importance_type="gain")
    elif hasattr(booster, "get_booster"):  # XGBoost
        scores = booster.get_booster().get_score(importance_type="total_gain")
        names = booster.get_booster().feature_names or list(features)
        values = [scores.get(name, 0.0) for name in names]
    elif hasattr(booster, "get_feature_importance"):  # CatBoost
        values = booster.get_feature_importance()
    else:
        return None
    values = np.asarray(values, dtype="float64")
    return values if len(values) == len(features) else None
