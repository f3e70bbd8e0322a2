"""Early stopping on rows of the fit's own, for the boosters' estimators; off in the study (measured worse).

XGBoost's, LightGBM's and CatBoost's estimators here (``Stoppable*``) stop early when their
library's early-stopping rounds are set and no ``eval_set`` is given: each fit of at least
:data:`MIN_ROWS` rows then holds out :data:`STOPPING_SHARE` of them (inside a cross-validation fold:
its training part, never its validation rows, so the fold's score stays honest), stops once that
many rounds in a row did not lower the error on them, and keeps its best iteration. Histogram
gradient boosting does the same with its own ``early_stopping``. Each reports the trees it predicts
with as ``n_trees_``; a trial records them per fold (``n_trees``).

Nothing in the study turns it on: each fold model grows the tree count its trial tuned. Two
variants were measured at T = 60 s against that (benchmarks/RESULTS.md, issue 20): a fixed large cap
(4,000 trees, 50 rounds) ran far longer than the tuned counts at low learning rates, so most trials
were cut for time (Ames: 13 of 20 where 1 had been) and the studies got worse; the tuned count as
the cap and a tenth of it in rounds (10 to 100) kept the time right but gave up a tenth of each fit's rows,
and twice cost Gapminder (1,278 labelled rows) 4-5 % and diamonds at 10 % 1.2 %, for no gain
elsewhere beyond the cases' noise. Stopping only to choose one count per trial, then refitting every
fold on all its rows, was measured too (2026-12-01, A/Bs at a1ab4af and bc00076): neutral at best, and
Gapminder worse in every run. Set the library's settings on the final estimator to use it.

On fewer than :data:`MIN_ROWS` rows a fit does not stop early: a tenth of a few hundred rows is
too few to tell when to stop, and too many to give up for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.utils import _safe_indexing

STOPPING_SHARE = 0.1
"""The share of a fit's rows held out to decide when it stops."""
MIN_ROWS = 1000
"""Fits of fewer rows do not stop early, whatever their settings say."""


def stops_early(rounds, n_rows: int) -> bool:
    """Whether a fit of ``n_rows`` rows with early-stopping ``rounds`` (``None`` or 0: off) stops early."""
    return bool(rounds) and rounds > 0 and n_rows >= MIN_ROWS


def split_off_stopping_rows(X, y, sample_weight, *, random_state) -> tuple[tuple, tuple]:
    """``((X, y, w) to fit, (X, y, w) to stop on)``: :data:`STOPPING_SHARE` of the rows, drawn with ``random_state``."""
    n_rows = len(y)
    rng = np.random.default_rng(random_state if isinstance(random_state, int | np.integer) else None)
    order = rng.permutation(n_rows)
    n_stop = max(1, round(STOPPING_SHARE * n_rows))
    parts = []
    for rows in (np.sort(order[n_stop:]), np.sort(order[:n_stop])):
        weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
        parts.append((_safe_indexing(X, rows), np.asarray(y)[rows], weight))
    return parts[0], parts[1]


@contextmanager
def parameters_set(estimator, **params) -> Iterator[None]:
    """Within the block ``estimator`` has ``params``; after it, the values it had before."""
    before = {name: estimator.get_params()[name] for name in params}
    estimator.set_params(**params)
    try:
        yield
    finally:
        estimator.set_params(**before)
