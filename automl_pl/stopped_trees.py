"""A booster trial's tree count: the count it drew as a cap, trimmed by early stopping once per trial.

XGBoost, LightGBM and CatBoost trials do not fit the tree count they drew as it is. Before its
folds, such a trial fits its configuration once on the first fold's *training* rows, a quarter of
them (:data:`STOPPING_SHARE`) held out to stop on, and stops once :func:`stopping_rounds` trees in a
row did not lower the error there. The trees of its best iteration, at most the drawn count, are the
trial's count: every fold model is then fitted with it on all its training rows, so no fold gives
rows up. The trial records it as ``stopped_trees``; refits of the trial (the final model, students of
the teacher round, a study refitted from its storage) read it back with :func:`fitted_params`.

What the count sees: the first fold's training rows, which hold the other folds' validation rows,
so the count is chosen as the drawn hyperparameters are (by rows every fold is scored on), one number
per trial; no fold model is ever stopped on its own validation rows.

Why so (``benchmarks/tree_count.py`` and the A/Bs in ``benchmarks/RESULTS.md``, issue 20):

* A count found once per trial is refitted on all rows: fold models that kept their own stopping gave
  up a tenth of their rows and lost more than stopping won (Gapminder 4-5 %).
* Once, on a quarter of one fold's rows, not once per fold: one fold's tenth is too few rows to stop on
  (per-fold counts of one case ranged 285 to 2,331), and stopping every fold doubled the cost of a trial.
* The drawn count is the cap: letting stopping grow up to twice as many trees found better counts on
  the data that want them, but made trials so much slower that at 60 s the studies lost more (Ames:
  CatBoost's stopping alone ran out of time, +6 %). Trimmed, a trial costs at most one fit more than
  its drawn count, and less where fewer trees suffice (CatBoost 280 trees at 0.08: 92 on Big Mart, 56 on
  BudgetFood, 74 on CPS, 1.5-2.8 % lower RMSE out of fold, in a third of the time).

Trials on folds of fewer than :data:`~automl_pl.models._early_stopping.MIN_ROWS` training rows do not
stop: there the drawn count is fitted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automl_pl.models import ModelFamily, get_family
from automl_pl.models._early_stopping import stops_early
from automl_pl.trial_attrs import STOPPED_TREES

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

STOPPING_SHARE = 0.25
"""The share of the first fold's training rows the stopping fit holds out to stop on."""
MIN_ROUNDS, MAX_ROUNDS = 20, 200
"""Bounds of the early-stopping rounds: a quarter of the cap within them (see :func:`stopping_rounds`)."""


def stops_trees(family: ModelFamily, n_train: int) -> bool:
    """Whether trials of ``family`` on folds of ``n_train`` training rows trim their tree count by stopping."""
    return family.trees is not None and family.stopping_rounds is not None and stops_early(MIN_ROUNDS, n_train)


def stopping_rounds(cap: int) -> int:
    """Trees in a row that must not lower the error before a fit of at most ``cap`` trees stops."""
    return int(min(MAX_ROUNDS, max(MIN_ROUNDS, cap // 4)))


def stopping_params(family: ModelFamily, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` for the stopping fit: the drawn count as the cap, the library's early-stopping rounds set."""
    return {**params, family.stopping_rounds: stopping_rounds(int(params[family.trees]))}


def with_trees(family: ModelFamily, params: Mapping[str, Any], trees: int | None) -> dict[str, Any]:
    """``params`` with the family's tree count set to ``trees`` (unchanged when ``trees`` is ``None``)."""
    return dict(params) if trees is None or family.trees is None else {**params, family.trees: int(trees)}


def fitted_params(trial: optuna.Trial | FrozenTrial) -> dict[str, Any]:
    """The parameters a trial's fold models were fitted with: those it drew, with the count it stopped at, if any."""
    return with_trees(get_family(trial.params["model"]), trial.params, trial.user_attrs.get(STOPPED_TREES))
