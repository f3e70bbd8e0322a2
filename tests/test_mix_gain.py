"""A trial the pruner would stop goes on when it would improve the ensemble (automl_pl.mix_gain)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from automl_pl.data import FeatureSchema
from automl_pl.ensemble import select_weights
from automl_pl.mix_gain import MIN_MIX_GAIN, EnsembleReference, gain_threshold, mix_gain
from automl_pl.models._base import ModelFamily
from automl_pl.objective import PseudoLabelObjective
from automl_pl.study import make_folds
from automl_pl.trial_attrs import MIX_GAIN


def test_mix_gain_is_the_share_of_the_mse_the_best_convex_mix_takes_away():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    reference = y + rng.normal(size=500)
    other = y + rng.normal(size=500)  # as good, errors independent: the even mix halves the MSE
    assert mix_gain(reference, reference, y) == 0.0
    assert mix_gain(reference, y, y) == pytest.approx(1.0)
    assert mix_gain(reference, other, y) == pytest.approx(0.5, abs=0.08)
    weights = np.linspace(0, 1, 1001)
    mse = [np.mean((y - ((1 - w) * reference + w * other)) ** 2) for w in weights]
    assert mix_gain(reference, other, y) == pytest.approx(1 - min(mse) / np.mean((y - reference) ** 2), abs=1e-5)


def test_a_candidate_that_only_repeats_the_errors_gains_nothing():
    rng = np.random.default_rng(1)
    y = rng.normal(size=300)
    reference = y + rng.normal(size=300)
    worse = y + 2 * (reference - y)  # the same errors, twice as large: no weight in [0, 1] helps
    assert mix_gain(reference, worse, y) == 0.0


def test_the_threshold_asks_more_of_fewer_rows():
    assert gain_threshold(20) > gain_threshold(1_000) > gain_threshold(100_000) > MIN_MIX_GAIN
    assert gain_threshold(1_000) == pytest.approx(MIN_MIX_GAIN + 0.002)


def test_the_reference_is_the_greedy_ensemble_of_the_candidates():
    rng = np.random.default_rng(2)
    y = rng.normal(size=200)
    out_of_fold = {n: y + rng.normal(scale=0.5 + n, size=200) for n in range(3)}
    reference = EnsembleReference(y)
    assert reference.predictions(out_of_fold, []) is None
    columns = np.column_stack([out_of_fold[n] for n in (0, 2)])
    np.testing.assert_allclose(reference.predictions(out_of_fold, [0, 2]), columns @ select_weights(columns, y))
    np.testing.assert_allclose(reference.predictions(out_of_fold, [1]), out_of_fold[1])


# ------------------------------------------------------------------------- in a study


class PruneAllButTheFirst(optuna.pruners.BasePruner):
    """Asks to stop every trial after every fold, except trial 0."""

    def prune(self, study, trial) -> bool:
        return trial.number > 0


def _one_column_family(name: str, column: str) -> ModelFamily:
    """A linear model of one column: on ``y = a + b`` each such family misses half the target."""
    return ModelFamily(
        name=name, prefix=f"{name}_", suggest=lambda trial, n_rows: {}, relative_cost=1.0,
        build=lambda params, *, schema, random_state, n_jobs: make_pipeline(
            ColumnTransformer([("one", "passthrough", [column])]), LinearRegression()),
    )


@pytest.fixture
def halves():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] + X["b"] + rng.normal(scale=0.1, size=300)).to_numpy()
    schema = FeatureSchema.infer(X, None)
    families = {"only_a": _one_column_family("only_a", "a"), "only_b": _one_column_family("only_b", "b")}
    objective = PseudoLabelObjective(schema.transform(X), y, None, families=families, schema=schema,
                                     folds=make_folds(len(X), cv=3, random_state=0), random_state=0, n_jobs=1,
                                     skip_repeats=False)
    return objective


def test_a_trial_the_pruner_would_stop_goes_on_when_it_completes_the_ensemble(halves):
    study = optuna.create_study(pruner=PruneAllButTheFirst())
    for family in ("only_a", "only_b", "only_a"):
        study.enqueue_trial({"model": family, "sample_rate": 0.0})
    study.optimize(halves, n_trials=3)
    first, other_half, same_again = study.trials

    assert first.state == TrialState.COMPLETE
    # The other half is as poor alone, but the mix of the two halves the MSE: it runs every fold.
    assert other_half.state == TrialState.COMPLETE
    assert len(other_half.user_attrs["fold_rmse"]) == 3
    assert other_half.user_attrs[MIX_GAIN] > 0.3
    # The first model again adds nothing to the mix of both: stopped after its first fold.
    assert same_again.state == TrialState.PRUNED
    assert len(same_again.intermediate_values) == 1
    assert MIX_GAIN not in same_again.user_attrs


def test_without_a_completed_trial_the_pruner_decides(halves):
    class PruneAll(optuna.pruners.BasePruner):
        def prune(self, study, trial) -> bool:
            return True

    study = optuna.create_study(pruner=PruneAll())
    study.enqueue_trial({"model": "only_a", "sample_rate": 0.0})
    study.optimize(halves, n_trials=1)
    assert study.trials[0].state == TrialState.PRUNED and len(study.trials[0].intermediate_values) == 1
