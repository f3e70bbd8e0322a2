"""Early stopping for the boosters: a large tree cap, stopped on rows taken from the fit's own rows.

On enough rows (:data:`MIN_ROWS` per fit), XGBoost, LightGBM, CatBoost and histogram gradient
boosting do not have their tree count tuned: each fit holds out :data:`STOPPING_SHARE` of the
rows it is given, grows up to :data:`MAX_TREES` trees on the rest, and stops once
:data:`STOPPING_ROUNDS` trees in a row did not lower the error on the held-out part; the model
keeps its best iteration. Inside a cross-validation fold those rows come from the fold's training
part, never from its validation rows, so the fold's score stays honest. With pseudo-labels the
held-out part is drawn from the labelled and pseudo-labelled rows alike.

On fewer rows a held-out part of a few dozen rows would stop at noise; there the tree count
stays a tuned parameter, as before. ``MIN_ROWS`` is a judgement (a stopping set of 100 rows at
the 10 % share), not a value fitted on the benchmark data.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import _safe_indexing

STOPPING_SHARE = 0.1
"""The share of a fit's rows held out to decide when it stops."""

STOPPING_ROUNDS = 50
"""A fit stops after this many trees in a row without a lower error on the held-out rows."""

MAX_TREES = 4000
"""The tree cap of an early-stopped fit."""

MIN_ROWS = 1000
"""Training rows per fold from which the boosters stop early instead of having their tree count tuned."""

TREES_PER_UNIT_RATE = 10.0
"""Early stopped, a booster grows about this many trees divided by its learning rate: the work
the time budget foresees for a configuration (see :attr:`automl_pl.models.ModelFamily.work`)."""


def stops_early(n_rows: int) -> bool:
    """Whether boosters fitted on ``n_rows`` training rows per fold stop early (see :data:`MIN_ROWS`)."""
    return n_rows >= MIN_ROWS


def foreseen_trees(learning_rate: float) -> float:
    """About how many trees an early-stopped fit at ``learning_rate`` grows (for the time budget only)."""
    return min(MAX_TREES, TREES_PER_UNIT_RATE / learning_rate)


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
