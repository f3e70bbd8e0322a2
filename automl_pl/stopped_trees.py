"""One tree count per booster trial, found by early stopping on every fold's training rows.

XGBoost, LightGBM and CatBoost trials do not fit the tree count they drew as it is. Before its
folds, such a trial fits its configuration once per fold with up to :data:`CAP_FACTOR` times the drawn
count, on the fold's *training* rows only: a tenth of them held out to stop on
(:mod:`automl_pl.models._early_stopping`), stopped once :func:`stopping_rounds` trees in a row did not
lower the error there. The median of the folds' best counts is the trial's count: every fold model
is then fitted with it on all its training rows, as without stopping, so no row is given up and the
validation rows never choose anything. The trial records it as ``stopped_trees``; refits of the
trial (final model, students of the teacher round) read it back with :func:`fitted_params`.

Why the median and a refit: one fold's count swings (180 to 2,331 trees across the five folds of
one case, benchmarks/tree_count.py), and a fold model that keeps a tenth of its rows aside to stop
on lost more than stopping won (benchmarks/RESULTS.md, issue 20's fifth A/B). Out of fold, one count
per trial from the five stoppings beat a fixed 280 trees at 0.08 and CatBoost's own 1,000 at 0.05
on seven benchmark cases (tree_count.py, 200 rounds); what it costs is the stopping fits.

Folds of fewer than :data:`~automl_pl.models._early_stopping.MIN_ROWS` training rows do not stop:
there the drawn count is fitted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from automl_pl.models import ModelFamily
from automl_pl.models._early_stopping import stops_early
from automl_pl.trial_attrs import STOPPED_TREES

CAP_FACTOR = 2
"""The stopping fits may grow this many times the drawn count: stopping finds more trees as well as fewer."""
MIN_ROUNDS, MAX_ROUNDS = 20, 200
"""Bounds of the early-stopping rounds: a quarter of the cap within them (see :func:`stopping_rounds`)."""


def stops_trees(family: ModelFamily, n_train: int) -> bool:
    """Whether trials of ``family`` on folds of ``n_train`` training rows find their tree count by stopping."""
    return family.trees is not None and family.stopping_rounds is not None and stops_early(MIN_ROUNDS, n_train)


def stopping_rounds(cap: int) -> int:
    """Trees in a row that must not lower the error before a fit of at most ``cap`` trees stops."""
    return int(min(MAX_ROUNDS, max(MIN_ROUNDS, cap // 4)))


def stopping_params(family: ModelFamily, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` for a stopping fit: the drawn count times :data:`CAP_FACTOR` as the cap, the rounds set."""
    cap = CAP_FACTOR * int(params[family.trees])
    return {**params, family.trees: cap, family.stopping_rounds: stopping_rounds(cap)}


def trial_tree_count(counts: Sequence[int]) -> int:
    """The trial's count from the folds' stopping counts: their median, rounded down, at least 1."""
    return max(1, int(np.median(counts)))


def with_trees(family: ModelFamily, params: Mapping[str, Any], trees: int | None) -> dict[str, Any]:
    """``params`` with the family's tree count set to ``trees`` (unchanged when ``trees`` is ``None``)."""
    return dict(params) if trees is None or family.trees is None else {**params, family.trees: int(trees)}


def fitted_params(family: ModelFamily, params: Mapping[str, Any], user_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a trial's fold models were fitted with: its ``params`` and the count it stopped at, if any."""
    return with_trees(family, params, user_attrs.get(STOPPED_TREES))
