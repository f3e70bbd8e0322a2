"""The leaderboard of a study: one row per trial, or one per model family, as a pandas DataFrame.

AutoGluon's ``TabularPredictor.leaderboard()`` and FLAML's per-estimator best losses, for a study:
every trial with its state, CV RMSE, the same trial's supervised CV RMSE (its teachers, before
pseudo-labels), the pseudo-label settings it drew and used, fit seconds, the boosters' trees and
why it was pruned. Read from the study alone (the trials' user attributes, see
:mod:`automl_pl.trial_attrs`), so a running study, a resumed one and another worker's trials
are listed alike.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from automl_pl.trial_attrs import (
    BEST_N_ROUNDS,
    ENSEMBLE,
    FAIL_REASON,
    FIT_SECONDS,
    N_PSEUDO_LABELED,
    N_TREES,
    PRUNED_BY,
    SUPERVISED_CV_RMSE,
)

TRIAL_COLUMNS = ("trial", "family", "state", "cv_rmse", "supervised_cv_rmse", "sample_rate", "selection",
                 "pseudo_weight", "n_rounds", "rounds_used", "n_pseudo_labeled", "fit_seconds", "n_trees",
                 "pruned_by", "final_weight")
"""The columns of :func:`leaderboard` by trial.

``cv_rmse`` is the trial's value (complete trials only); ``supervised_cv_rmse`` its teachers' CV RMSE
(no pseudo-labels). ``sample_rate`` .. ``n_rounds`` are the pseudo-label settings the trial drew
(``selection`` and the rest are empty with ``sample_rate`` 0); ``rounds_used`` is the round it kept
(0: its teachers won and pseudo-labels were turned down); ``n_pseudo_labeled`` the unlabelled rows
pseudo-labelled per fold. ``n_trees`` is a booster's mean tree count over its folds (its best
iteration where it stopped early). ``pruned_by`` says why a pruned trial stopped when not by the
pruner (``deadline``, ``teacher_gate``, ``duplicate``, ``same_model``), or why a failed one failed. ``final_weight``
is the trial's weight in the final model, where one was recorded for the study's best trial."""

FAMILY_COLUMNS = ("family", "trials", "complete", "pruned", "failed", "best_cv_rmse", "best_trial",
                  "supervised_cv_rmse", "best_sample_rate", "median_fit_seconds", "total_fit_seconds")
"""The columns of :func:`leaderboard` by family: counts by state, the family's best trial (its CV RMSE,
its supervised CV RMSE and sample rate) and its trials' fit seconds."""

BY = ("trial", "family")


def leaderboard(study: optuna.Study, *, by: str = "trial") -> pd.DataFrame:
    """The study's leaderboard: one row per trial (``by="trial"``) or per model family (``by="family"``).

    Rows by trial are every trial of the study, whatever its state: the complete ones by CV RMSE,
    best first, then the others by number. Rows by family are best family first. See
    :data:`TRIAL_COLUMNS` and :data:`FAMILY_COLUMNS` for what each column holds; missing values are ``NaN``
    (numbers; ``<NA>`` in the columns of whole numbers) or ``None``.

    Raises:
        ValueError: ``by`` is neither ``"trial"`` nor ``"family"``.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {list(BY)}, got {by!r}")
    weights = _final_weights(study)
    rows = [_trial_row(t, weights) for t in study.get_trials(deepcopy=False)]
    table = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS)).astype(
        {"trial": "int64", "n_rounds": "Int64", "rounds_used": "Int64", "n_pseudo_labeled": "Int64"})
    if by == "family":
        return _by_family(table)
    complete = table["state"] == TrialState.COMPLETE.name.lower()
    order = np.lexsort((table["trial"].to_numpy(), table["cv_rmse"].fillna(math.inf).to_numpy(), ~complete.to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def _trial_row(trial: FrozenTrial, weights: dict[int, float]) -> dict[str, Any]:
    params, attrs = trial.params, trial.user_attrs
    sample_rate = params.get("sample_rate")
    pseudo = sample_rate is not None and sample_rate > 0
    trees = attrs.get(N_TREES)
    why = attrs.get(PRUNED_BY) if trial.state == TrialState.PRUNED else None
    if trial.state == TrialState.PRUNED and why is None:
        why = "pruner"
    elif trial.state == TrialState.FAIL:
        why = attrs.get(FAIL_REASON, "failed")
    return {
        "trial": trial.number,
        "family": params.get("model"),
        "state": trial.state.name.lower(),
        "cv_rmse": _number(trial.value if trial.state == TrialState.COMPLETE else None),
        "supervised_cv_rmse": _number(attrs.get(SUPERVISED_CV_RMSE)),
        "sample_rate": _number(sample_rate),
        "selection": params.get("selection") if pseudo else None,
        "pseudo_weight": _number(params.get("pseudo_weight") if pseudo else None),
        "n_rounds": _number(params.get("n_rounds") if pseudo else None),
        "rounds_used": _number(attrs.get(BEST_N_ROUNDS)),
        "n_pseudo_labeled": _number(attrs.get(N_PSEUDO_LABELED)),
        "fit_seconds": _number(attrs.get(FIT_SECONDS)),
        "n_trees": _number(statistics.fmean(t for t in trees if t is not None)
                           if trees and any(t is not None for t in trees) else None),
        "pruned_by": why,
        "final_weight": _number(weights.get(trial.number)),
    }


def _by_family(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for family, group in table.dropna(subset=["family"]).groupby("family", sort=False):
        complete = group[group["state"] == "complete"]
        best = complete.loc[complete["cv_rmse"].idxmin()] if len(complete) else None
        rows.append({
            "family": family,
            "trials": len(group),
            "complete": len(complete),
            "pruned": int((group["state"] == "pruned").sum()),
            "failed": int((group["state"] == "fail").sum()),
            "best_cv_rmse": math.nan if best is None else best["cv_rmse"],
            "best_trial": None if best is None else int(best["trial"]),
            "supervised_cv_rmse": math.nan if best is None else best["supervised_cv_rmse"],
            "best_sample_rate": math.nan if best is None else best["sample_rate"],
            "median_fit_seconds": group["fit_seconds"].median(),
            "total_fit_seconds": group["fit_seconds"].sum(),
        })
    frame = pd.DataFrame(rows, columns=list(FAMILY_COLUMNS)).astype({"best_trial": "Int64"})
    return frame.sort_values(["best_cv_rmse", "family"], na_position="last").reset_index(drop=True)


def _final_weights(study: optuna.Study) -> dict[int, float]:
    """``{trial number: weight}`` of the final model recorded for the study's best trial, or ``{}``."""
    recorded = study.user_attrs.get(ENSEMBLE)
    try:
        best = study.best_trial.number
    except ValueError:  # no completed trial
        return {}
    if not isinstance(recorded, dict) or recorded.get("best_trial") != best:
        return {}
    return dict(zip(recorded.get("trials", []), recorded.get("weights", [])))


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def format_leaderboard(table: pd.DataFrame, *, columns: Sequence[str] | None = None) -> str:
    """``table`` as aligned text for a terminal: numbers to 6 significant digits, missing values blank."""
    shown = table if columns is None else table[list(columns)]
    return shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.6g}")
