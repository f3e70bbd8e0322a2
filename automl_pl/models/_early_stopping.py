"""Early stopping on rows of the fit's own, for the boosters' estimators.

XGBoost's, LightGBM's and CatBoost's estimators here (``Stoppable*``) stop early when their
library's early-stopping rounds are set and no ``eval_set`` is given: each fit then holds out
:data:`STOPPING_SHARE` of the rows it is given (inside a cross-validation fold: its training part,
never its validation rows, so the fold's score stays honest), stops once that many rounds in a row
did not lower the error on them, and keeps its best iteration. Histogram gradient boosting does the
same with its own ``early_stopping``. Each reports the trees it predicts with as ``n_trees_``.

The families do not turn it on: their tree count stays a tuned parameter. Tried on 2026-11-30 as
"a 4,000-tree cap, stopped after 50 rounds, on 1,000 or more training rows per fold", the A/B at
T = 60 s (benchmarks/RESULTS.md, issue 20) made the studies worse, most on Ames (+6% holdout RMSE):
at low learning rates the capped fits ran far longer than the tuned counts did, so 13 of 20 trials
were cut for time where 1 was before, and CatBoost never completed.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import _safe_indexing

STOPPING_SHARE = 0.1
"""The share of a fit's rows held out to decide when it stops."""


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
