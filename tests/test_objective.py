"""PseudoLabelObjective: each fold's teacher and student see that fold's training rows only.

A recording regressor logs the row ids and targets of every fit, so the tests can
check what reached each model rather than trusting the scores.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import FixedTrial, TrialState
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from automl_pl import PseudoLabelRegressor
from automl_pl.budget import TimeBudget, check_fit_time
from automl_pl.data import FeatureSchema
from automl_pl.models import build_model, get_family
from automl_pl.models._base import ModelFamily
from automl_pl.objective import MAX_SKIPPED_TRIALS, PseudoLabelObjective, TrialModelError
from automl_pl.study import default_cv_repeats, make_folds

RANDOM_ONE_ROUND = {"selection": "random", "pseudo_weight": 1.0, "n_rounds": 1}
"""The classic recipe: random rows, full weight, one round."""

FIT_LOG: list[dict[str, np.ndarray]] = []
"""One entry per RecordingRegressor.fit: the row ids and the targets it was given."""

LABELED_ID_BASE = 1_000
UNLABELED_ID_BASE = 100_000
CV = 3


class RecordingRegressor(RegressorMixin, BaseEstimator):
    """Predicts the mean target; every fit logs the ``row_id`` column and ``y`` into FIT_LOG."""

    def fit(self, X, y, sample_weight=None):
        ids = X["row_id"].to_numpy()
        assert np.all(ids == np.round(ids))
        FIT_LOG.append({"ids": ids.astype(np.int64), "y": np.asarray(y, dtype="float64").copy()})
        self.mean_ = float(np.mean(y))
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class NaNRegressor(RecordingRegressor):
    def predict(self, X):
        return np.full(len(X), np.nan)


class FailingRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("this model always fails")

    def predict(self, X):
        raise AssertionError("never fitted, never asked")


def _family(name, estimator_class):
    return ModelFamily(
        name=name, prefix=f"{name}_", suggest=lambda trial, n_rows: {},
        build=lambda params, *, schema, random_state, n_jobs: estimator_class(), relative_cost=1.0,
    )


RECORDING = _family("recording", RecordingRegressor)


@pytest.fixture(autouse=True)
def _fresh_log():
    FIT_LOG.clear()
    yield
    FIT_LOG.clear()


@pytest.fixture
def id_data(make_data):
    """Normalised labelled and unlabelled frames with a ``row_id`` feature from disjoint ranges.

    Labelled ids are shuffled, so an id is not a row position.
    """
    X, y = make_data(60, seed=10)
    X_unlabeled, _ = make_data(40, seed=11)
    rng = np.random.default_rng(12)
    X.insert(0, "row_id", LABELED_ID_BASE + rng.permutation(len(X)))
    X_unlabeled.insert(0, "row_id", UNLABELED_ID_BASE + np.arange(len(X_unlabeled)))
    schema = FeatureSchema.infer(X, X_unlabeled)
    return schema.transform(X), y.to_numpy(), schema.transform(X_unlabeled), schema


def _objective(X, y, X_unlabeled, schema, families, folds=None, random_state=0):
    folds = folds if folds is not None else make_folds(len(X), cv=CV, random_state=random_state)
    # The test families have no parameters and predict the mean: every draw repeats one configuration,
    # which a study would not fit twice (tests/test_duplicates.py); these tests look at folds and time.
    return PseudoLabelObjective(X, y, X_unlabeled, families=families, schema=schema, folds=folds,
                                random_state=random_state, n_jobs=1, skip_repeats=False)


def _check_fold_fits(log, folds, X, y, X_unlabeled, sample_rate):
    """Assert what each fold's teacher and student were fitted on; AssertionError on any leak."""
    ids = X["row_id"].to_numpy().astype(np.int64)
    true_y = dict(zip(ids, y))
    unlabeled_ids = set(X_unlabeled["row_id"].to_numpy().astype(np.int64))
    n_pseudo = math.floor(sample_rate * len(X_unlabeled))
    fits_per_fold = 2 if n_pseudo else 1
    assert len(log) == fits_per_fold * len(folds)

    for k, (train_rows, valid_rows) in enumerate(folds):
        train_ids, valid_ids = ids[train_rows], set(ids[valid_rows])
        teacher = log[fits_per_fold * k]
        student = log[fits_per_fold * k + fits_per_fold - 1]

        # The teacher: exactly the fold's training rows, with their true targets.
        assert sorted(teacher["ids"]) == sorted(train_ids)
        assert not valid_ids & set(teacher["ids"])
        np.testing.assert_array_equal(teacher["y"], [true_y[i] for i in teacher["ids"]])

        # The student: the same training rows with true targets, then pseudo-labelled unlabelled rows only.
        n_train = len(train_rows)
        labelled_part, pseudo_part = student["ids"][:n_train], student["ids"][n_train:]
        assert sorted(labelled_part) == sorted(train_ids)
        np.testing.assert_array_equal(student["y"][:n_train], [true_y[i] for i in labelled_part])
        assert len(pseudo_part) == n_pseudo
        assert len(set(pseudo_part)) == n_pseudo
        assert set(pseudo_part) <= unlabeled_ids
        assert not valid_ids & set(student["ids"])
        # Pseudo-labels are the teacher's predictions: the fold's training mean.
        np.testing.assert_allclose(student["y"][n_train:], np.mean(teacher["y"]))


@pytest.mark.parametrize("how", ["fixed_trial", "study"])
@pytest.mark.parametrize("sample_rate", [0.5, 1.0, 0.0])
def test_each_fold_fits_only_its_training_rows(id_data, how, sample_rate):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    params = {"model": "recording", "sample_rate": sample_rate, **(RANDOM_ONE_ROUND if sample_rate else {})}
    if how == "fixed_trial":
        trial = FixedTrial(params)
        value = objective(trial)
        attrs = trial.user_attrs
    else:
        study = optuna.create_study(direction="minimize")
        study.enqueue_trial(params)
        study.optimize(objective, n_trials=1)
        frozen = study.trials[0]
        assert frozen.state == TrialState.COMPLETE and frozen.params == params
        value, attrs = frozen.value, frozen.user_attrs

    _check_fold_fits(FIT_LOG, objective.folds, X, y, X_unlabeled, sample_rate)
    assert math.isfinite(value) and value > 0
    assert attrs["n_pseudo_labeled"] == math.floor(sample_rate * len(X_unlabeled))
    assert len(attrs["fold_rmse"]) == CV and len(attrs["supervised_fold_rmse"]) == CV


def test_fold_check_catches_a_leaky_objective(id_data):
    """The check above fails for an objective that fits on all labelled rows instead of the fold's."""
    X, y, X_unlabeled, schema = id_data
    folds = make_folds(len(X), cv=CV, random_state=0)
    leaky = [(np.arange(len(X)), valid_rows) for _, valid_rows in folds]  # what fitting on self.X amounts to
    _objective(X, y, X_unlabeled, schema, {"recording": RECORDING}, folds=leaky)(
        FixedTrial({"model": "recording", "sample_rate": 0.5, **RANDOM_ONE_ROUND}))
    with pytest.raises(AssertionError):
        _check_fold_fits(FIT_LOG, folds, X, y, X_unlabeled, 0.5)


def test_folds_partition_the_rows():
    folds = make_folds(50, cv=4, random_state=3)
    assert len(folds) == 4
    valid = np.concatenate([v for _, v in folds])
    assert sorted(valid) == list(range(50))
    for train_rows, valid_rows in folds:
        assert not set(train_rows) & set(valid_rows)
        assert len(train_rows) + len(valid_rows) == 50
    again = make_folds(50, cv=4, random_state=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], make_folds(50, cv=4, random_state=4)[0][1])


def _by_hand(X, y, X_unlabeled, folds, make_model, sample_rate):
    student, teacher = [], []
    for step, (train_rows, valid_rows) in enumerate(folds):
        model = PseudoLabelRegressor(make_model(), sample_rate=sample_rate, random_state=0 + step)
        model.fit(X.iloc[train_rows], y[train_rows], X_unlabeled=X_unlabeled)
        student.append(np.mean((y[valid_rows] - model.predict(X.iloc[valid_rows])) ** 2))
        teacher.append(np.mean((y[valid_rows] - model.teacher_.predict(X.iloc[valid_rows])) ** 2))
    return math.sqrt(np.mean(student)), math.sqrt(np.mean(teacher))


def test_value_is_cv_rmse_of_a_plain_ridge():
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(90, 3)), columns=["a", "b", "c"])
    y = X.to_numpy() @ [1.0, -1.0, 2.0] + rng.normal(size=90)
    schema = FeatureSchema.infer(X)
    folds = make_folds(len(X), cv=CV, random_state=0)
    plain_ridge = _family("plain_ridge", Ridge)
    trial = FixedTrial({"model": "plain_ridge", "sample_rate": 0.0})
    value = _objective(X, y, None, schema, {"plain_ridge": plain_ridge}, folds=folds)(trial)

    mse = [np.mean((y[va] - Ridge().fit(X.iloc[tr], y[tr]).predict(X.iloc[va])) ** 2) for tr, va in folds]
    assert value == pytest.approx(math.sqrt(np.mean(mse)), rel=1e-12)
    assert trial.user_attrs["supervised_cv_rmse"] == pytest.approx(value, rel=1e-12)
    assert trial.user_attrs["fold_rmse"] == [round(math.sqrt(m), 6) for m in mse]
    assert trial.user_attrs["n_pseudo_labeled"] == 0


def test_value_and_supervised_score_of_the_ridge_family(X, y, X_unlabeled):
    schema = FeatureSchema.infer(X, X_unlabeled)
    Xn, Un, yv = schema.transform(X), schema.transform(X_unlabeled), y.to_numpy()
    folds = make_folds(len(Xn), cv=CV, random_state=0)
    ridge = get_family("ridge")
    objective = _objective(Xn, yv, Un, schema, {"ridge": ridge}, folds=folds)

    def make():
        return build_model(ridge, {"ridge_alpha": 1.0}, schema=schema, random_state=0, n_jobs=1)

    plain = FixedTrial({"model": "ridge", "ridge_alpha": 1.0, "sample_rate": 0.0})
    plain_value = objective(plain)
    assert plain_value == pytest.approx(_by_hand(Xn, yv, Un, folds, make, 0.0)[0], rel=1e-10)
    assert plain.user_attrs["supervised_cv_rmse"] == plain_value

    pseudo = FixedTrial({"model": "ridge", "ridge_alpha": 1.0, "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    pseudo_value = objective(pseudo)
    student, teacher = _by_hand(Xn, yv, Un, folds, make, 0.5)
    assert pseudo.user_attrs["cv_rmse_by_round"] == pytest.approx([teacher, student], abs=1e-6)  # stored to 6 digits
    # The value is the better of the teachers (round 0: pseudo-labels turned down) and the student.
    assert pseudo_value == pytest.approx(min(student, teacher), rel=1e-10)
    assert pseudo.user_attrs["best_n_rounds"] == (0 if teacher < student else 1)
    assert pseudo.user_attrs["supervised_cv_rmse"] == pytest.approx(teacher, rel=1e-10)
    # The teachers are the sample_rate=0 models: same score.
    assert pseudo.user_attrs["supervised_cv_rmse"] == pytest.approx(plain_value, rel=1e-10)
    assert pseudo.user_attrs["n_pseudo_labeled"] == len(Un) // 2


def test_no_unlabelled_pool_allows_only_sample_rate_zero(id_data):
    X, y, _, schema = id_data
    objective = _objective(X, y, None, schema, {"recording": RECORDING})
    assert math.isfinite(objective(FixedTrial({"model": "recording", "sample_rate": 0.0})))
    assert len(FIT_LOG) == CV  # one fit per fold: nothing to pseudo-label
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=3)
    assert [t.params["sample_rate"] for t in study.trials] == [0.0, 0.0, 0.0]


def test_sample_rate_is_drawn_on_a_grid_that_includes_zero(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    family = objective.suggest(trial)
    assert family is RECORDING
    distribution = trial.distributions["sample_rate"]
    assert (distribution.low, distribution.high, distribution.step) == (0.0, 1.0, 0.05)
    assert 0.0 <= trial.params["sample_rate"] <= 1.0


@pytest.mark.parametrize(("estimator_class", "message"),
                         [(FailingRegressor, "always fails"), (NaNRegressor, "NaN or infinite")])
def test_failing_model_fails_the_trial_with_a_reason(id_data, estimator_class, message):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"broken": _family("broken", estimator_class)})
    trial = FixedTrial({"model": "broken", "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    with pytest.raises(TrialModelError, match=message):
        objective(trial)
    assert "broken failed in fold 0" in trial.user_attrs["fail_reason"]
    assert message in trial.user_attrs["fail_reason"]


def test_pruned_trial_keeps_its_fold_scores(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    study.enqueue_trial({"model": "recording", "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    study.optimize(objective, n_trials=1)

    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert len(trial.user_attrs["fold_rmse"]) == 1
    assert len(FIT_LOG) == 2  # the first fold's teacher and student, nothing more


def _budget(seconds: float) -> TimeBudget:
    """A budget whose trials must end ``seconds`` from now (no finish margin)."""
    return TimeBudget(seconds, finish_margin=0.0)


def test_no_fold_starts_after_the_deadline(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = PseudoLabelObjective(X, y, X_unlabeled, families={"recording": RECORDING}, schema=schema,
                                     folds=make_folds(len(X), cv=CV, random_state=0), random_state=0, n_jobs=1,
                                     budget=TimeBudget(1.0, started=time.monotonic() - 2))
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "recording", "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == TrialState.PRUNED
    assert FIT_LOG == []  # nothing was fitted


class SlowRegressor(RecordingRegressor):
    """Every fit takes at least ``SLOW_FIT_SECONDS``: a family whose fit cannot stop on time."""

    def fit(self, X, y, sample_weight=None):
        time.sleep(SLOW_FIT_SECONDS)
        return super().fit(X, y, sample_weight)


SLOW_FIT_SECONDS = 0.1
SLOW = _family("slow", SlowRegressor)


class StoppingSlowRegressor(RecordingRegressor):
    """A fit of ``STOPPING_FIT_SECONDS`` in small steps that checks the study's time between them, as the boosters do."""

    def fit(self, X, y, sample_weight=None):
        for _ in range(100):
            time.sleep(STOPPING_FIT_SECONDS / 100)
            check_fit_time()
        return super().fit(X, y, sample_weight)


STOPPING_FIT_SECONDS = 5.0
STOPPING_SLOW = dataclasses.replace(_family("stopping", StoppingSlowRegressor), stops_on_time=True)


@pytest.mark.parametrize("folds_of_time", [1.5, 2.5], ids=["next_fold_too_long", "remaining_folds_too_long"])
def test_a_trial_that_cannot_finish_its_folds_in_time_stops_after_the_first(id_data, folds_of_time):
    """The trial's own first fold says how long the others take. With 1.5 folds' time the next
    cannot end; with 2.5 of its 3 folds' time the other 2 cannot both end: either way none is started."""
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"slow": SLOW})
    objective.budget = budget = _budget(folds_of_time * SLOW_FIT_SECONDS)
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "slow", "sample_rate": 0.0})
    study.optimize(objective, n_trials=1)

    trial = study.trials[0]
    assert CV == 3 and trial.state == TrialState.PRUNED and trial.user_attrs["pruned_by"] == "deadline"
    assert len(FIT_LOG) == 1 and len(trial.user_attrs["supervised_fold_rmse"]) == 1
    assert budget.closed  # no whole trial fits in what is left: the study stops starting trials


def test_the_studys_first_trial_of_its_quickest_family_may_finish_in_the_time_kept_for_the_end(id_data):
    """Without a complete trial the call would return no model: the quickest family's trial may run
    into the finish margin (never past the end); once a trial is complete, the next is cut as usual."""
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"slow": SLOW})
    # The trials must end after 2.5 folds of time, the call after 10: the 3 folds end between the two.
    objective.budget = TimeBudget(10 * SLOW_FIT_SECONDS, finish_margin=0.75)
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "slow", "sample_rate": 0.0})
    study.enqueue_trial({"model": "slow", "sample_rate": 0.5, **RANDOM_ONE_ROUND})  # another configuration
    study.optimize(objective, n_trials=2)
    first, second = study.trials
    assert first.state == TrialState.COMPLETE and len(first.user_attrs["fold_rmse"]) == CV
    assert second.state == TrialState.PRUNED and second.user_attrs["pruned_by"] == "deadline"


def test_a_fit_still_running_when_the_time_is_up_is_stopped(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"stopping": STOPPING_SLOW})
    objective.budget = _budget(0.5)
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "stopping", "sample_rate": 0.0})
    started = time.monotonic()
    study.optimize(objective, n_trials=1)
    assert time.monotonic() - started < 0.5 + 1.0  # not the fit's 5 s
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED and trial.user_attrs["pruned_by"] == "deadline"
    assert FIT_LOG == []  # the fit never ended
    assert "fold_rmse" not in trial.user_attrs  # no fold ended: nothing to record


def _slow_and_quick_timed(id_data, seconds: float):
    """An objective over the slow and the recording family with a budget of ``seconds``, both families timed."""
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"slow": SLOW, "recording": RECORDING})
    study = optuna.create_study(direction="minimize")
    for model in ("slow", "recording"):
        study.enqueue_trial({"model": model, "sample_rate": 0.0})
    study.optimize(objective, n_trials=2)  # no deadline: both families' folds are timed
    timed = objective.budget
    objective.budget = _budget(seconds)
    return objective, study, timed


def test_a_trial_cut_after_a_fold_leaves_the_rest_of_the_budget_to_quicker_trials(id_data):
    objective, study, _ = _slow_and_quick_timed(id_data, 2.9 * SLOW_FIT_SECONDS)
    rows = objective.fitted_rows({"sample_rate": 0.0})
    objective.budget.time_fold(SLOW, SLOW_FIT_SECONDS / 100, rows)  # foreseen quick, so its first fold starts
    objective.budget.time_fold(RECORDING, 1e-4, rows)
    # Its 3 folds of at least SLOW_FIT_SECONDS cannot all end; what is left after the first still fits
    # a quick trial, even on a loaded machine.
    for model in ("slow", "recording"):
        study.enqueue_trial({"model": model, "sample_rate": 0.0})
    study.optimize(objective, n_trials=2)
    cut, quick = study.trials[2:]
    assert cut.state == TrialState.PRUNED and cut.user_attrs["pruned_by"] == "deadline"
    assert len(cut.user_attrs["supervised_fold_rmse"]) == 1  # cut after its first fold
    assert not objective.budget.closed  # the study goes on ...
    assert quick.state == TrialState.COMPLETE  # ... and a quick trial still uses the time


def test_a_family_never_timed_starts_when_its_first_fold_fits(id_data):
    """Foreseen from another family, a never-timed family looks slow (here: all its 3 folds do not fit,
    one does): its first fold runs and times it, instead of the trial being cut before any fit."""
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"slow": SLOW, "recording": RECORDING})
    rows = objective.fitted_rows({"sample_rate": 0.0})
    objective.budget = _budget(2 * SLOW_FIT_SECONDS)
    objective.budget.time_fold(SLOW, SLOW_FIT_SECONDS, rows)  # the only family timed: foresees the other's folds
    assert not objective.budget.fits(CV * objective.budget.expected_fold(RECORDING, rows, families=objective.families))
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "recording", "sample_rate": 0.0})
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE  # its real folds are quick: once timed, the rest fitted
    assert objective.budget.timed(RECORDING)


def test_rows_fitted_per_fold_grow_with_pseudo_labels_teachers_and_rounds(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    n_train, n_pool = len(objective.folds[0][0]), len(X_unlabeled)
    pseudo = math.floor(0.5 * n_pool)
    assert objective.fitted_rows({"sample_rate": 0.0}) == n_train
    assert objective.fitted_rows({"sample_rate": 0.5, **RANDOM_ONE_ROUND}) == 2 * n_train + pseudo
    assert objective.fitted_rows({"sample_rate": 0.5, "selection": "random", "pseudo_weight": 1.0,
                                  "n_rounds": 3}) == n_train + 3 * (n_train + pseudo)
    assert objective.fitted_rows({"sample_rate": 0.5, "selection": "confidence", "pseudo_weight": 1.0,
                                  "n_rounds": 1}) == 4 * n_train + pseudo  # two more teachers' worth of rows


def test_a_trial_whose_family_cannot_fit_a_fold_in_time_fits_nothing(id_data):
    objective, study, timed = _slow_and_quick_timed(id_data, 0.5 * SLOW_FIT_SECONDS)
    rows = objective.fitted_rows({"sample_rate": 0.0})
    assert timed.expected_fold(SLOW, rows) >= SLOW_FIT_SECONDS  # its folds were timed
    objective.budget.time_fold(SLOW, SLOW_FIT_SECONDS, rows)
    FIT_LOG.clear()
    study.enqueue_trial({"model": "slow", "sample_rate": 0.0})
    study.optimize(objective, n_trials=1)
    assert study.trials[-1].state == TrialState.PRUNED and FIT_LOG == []


def test_a_slow_draw_near_the_deadline_queues_the_quickest_family_that_fits(id_data):
    objective, study, _ = _slow_and_quick_timed(id_data, 60 * SLOW_FIT_SECONDS)  # time for quick trials only
    rows = objective.fitted_rows({"sample_rate": 0.0})
    objective.budget.time_fold(SLOW, 100 * SLOW_FIT_SECONDS, rows)
    objective.budget.time_fold(RECORDING, 1e-4, rows)

    study.enqueue_trial({"model": "slow", "sample_rate": 0.0})
    study.optimize(objective, n_trials=2)
    states = [(t.params["model"], t.state) for t in study.trials[2:]]
    assert states == [("slow", TrialState.PRUNED), ("recording", TrialState.COMPLETE)]  # queued by the slow draw
    assert not objective.budget.closed  # the study goes on

    for _ in range(MAX_SKIPPED_TRIALS + 1):  # but not for ever: slow draws in a row end it
        study.enqueue_trial({"model": "slow", "sample_rate": 0.0})
    study.optimize(objective, n_trials=MAX_SKIPPED_TRIALS + 1)
    assert objective.budget.closed


@pytest.mark.parametrize("selection", ["random", "confidence"])
def test_confidence_teachers_and_later_rounds_stay_inside_the_fold(id_data, selection):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    trial = FixedTrial({"model": "recording", "sample_rate": 0.5, "selection": selection, "pseudo_weight": 0.5,
                        "n_rounds": 3})
    objective(trial)
    ids = X["row_id"].to_numpy().astype(np.int64)
    unlabeled_ids = set(X_unlabeled["row_id"].to_numpy().astype(np.int64))
    extra_teachers = 3 if selection == "confidence" else 0
    fits_per_fold = 1 + extra_teachers + 3  # teacher, confidence teachers, one student per round
    assert len(FIT_LOG) == fits_per_fold * len(objective.folds)
    for k, (train_rows, valid_rows) in enumerate(objective.folds):
        allowed = set(ids[train_rows]) | unlabeled_ids
        for fit in FIT_LOG[k * fits_per_fold:(k + 1) * fits_per_fold]:
            assert set(fit["ids"]) <= allowed  # never a held-out row, as a labelled or an unlabelled one
    assert len(trial.user_attrs["cv_rmse_by_round"]) == 4  # the teachers, then one per round
    assert trial.user_attrs["best_n_rounds"] in (0, 1, 2, 3)


def test_tuned_sample_rate_adds_at_most_two_pseudo_rows_per_training_row(id_data):
    X, y, X_unlabeled, schema = id_data
    pool = pd.concat([X_unlabeled] * 10, ignore_index=True)  # 400 rows against 40 training rows per fold
    objective = _objective(X, y, pool, schema, {"recording": RECORDING})
    high, step = objective.sample_rate_range()
    n_train = len(objective.folds[0][0])
    assert high * len(pool) <= 2 * n_train < (high + step) * len(pool)
    assert high / step >= 5  # still a grid worth searching
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        objective.suggest(trial)
        assert math.floor(trial.params["sample_rate"] * len(pool)) <= 2 * n_train
        study.tell(trial, 0.0)


def _study_with_best(value: float) -> optuna.Study:
    """A study whose only, best trial reported ``value`` after every fold."""
    study = optuna.create_study(direction="minimize")
    study.add_trial(optuna.trial.create_trial(
        params={"model": "recording", "sample_rate": 0.0},
        distributions={"model": optuna.distributions.CategoricalDistribution(["recording"]),
                       "sample_rate": optuna.distributions.FloatDistribution(0.0, 1.0, step=0.05)},
        value=value, intermediate_values={step: value for step in range(CV)}))
    return study


@pytest.mark.parametrize(("best_is_far_better", "fits"), [(True, 1), (False, 2 * CV)])
def test_teacher_gate_prunes_before_paying_for_students(id_data, best_is_far_better, fits):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    teacher_rmse = float(np.std(y))  # about what a mean-predicting teacher scores
    study = _study_with_best(teacher_rmse / 2 if best_is_far_better else teacher_rmse * 2)
    study.enqueue_trial({"model": "recording", "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    study.optimize(objective, n_trials=1)
    trial = study.trials[-1]
    assert len(FIT_LOG) == fits  # gated: fold 0's teacher only; otherwise a teacher and a student per fold
    if best_is_far_better:
        assert trial.state == TrialState.PRUNED and trial.user_attrs["pruned_by"] == "teacher_gate"
        assert trial.user_attrs["n_pseudo_labeled"] == 0
    else:
        assert trial.state == TrialState.COMPLETE and "pruned_by" not in trial.user_attrs


def test_teacher_gate_leaves_supervised_trials_alone(id_data):
    X, y, X_unlabeled, schema = id_data
    objective = _objective(X, y, X_unlabeled, schema, {"recording": RECORDING})
    study = _study_with_best(float(np.std(y)) / 10)
    study.enqueue_trial({"model": "recording", "sample_rate": 0.0})
    study.optimize(objective, n_trials=1)
    assert study.trials[-1].state == TrialState.COMPLETE and len(FIT_LOG) == CV


def test_a_given_teacher_is_used_as_is(id_data):
    X, y, X_unlabeled, _ = id_data
    teacher = RecordingRegressor().fit(X, y)
    FIT_LOG.clear()
    model = PseudoLabelRegressor(RecordingRegressor(), sample_rate=0.5, random_state=0)
    model.fit(X, y, X_unlabeled=X_unlabeled, teacher=teacher)
    assert model.teacher_ is teacher
    assert len(FIT_LOG) == 1  # the student only
    with pytest.raises(Exception, match="not fitted"):
        PseudoLabelRegressor(RecordingRegressor(), sample_rate=0.5).fit(X, y, X_unlabeled=X_unlabeled,
                                                                         teacher=RecordingRegressor())


@pytest.mark.parametrize("keep_fold_models", [True, False])
def test_a_pseudo_label_variant_takes_its_supervised_twins_fold_models_as_teachers(id_data, keep_fold_models):
    X, y, X_unlabeled, schema = id_data
    objective = PseudoLabelObjective(X, y, X_unlabeled, families={"recording": RECORDING}, schema=schema,
                                     folds=make_folds(len(X), cv=CV, random_state=0), random_state=0, n_jobs=1,
                                     skip_repeats=False, keep_fold_models=keep_fold_models)
    study = optuna.create_study(direction="minimize")
    study.enqueue_trial({"model": "recording", "sample_rate": 0.0})
    study.enqueue_trial({"model": "recording", "sample_rate": 0.5, **RANDOM_ONE_ROUND})
    study.optimize(objective, n_trials=2)
    supervised, variant = study.trials
    assert variant.state == TrialState.COMPLETE
    # The teachers' scores are the supervised twin's, fitted or not.
    assert variant.user_attrs["supervised_fold_rmse"] == supervised.user_attrs["fold_rmse"]
    variant_fits = FIT_LOG[CV:]
    if keep_fold_models:  # the kept fold models teach: only the students are fitted
        assert len(variant_fits) == CV
        assert all(len(fit["ids"]) > len(X) * (CV - 1) // CV for fit in variant_fits)
    else:
        assert len(variant_fits) == 2 * CV


def test_zero_rounds_refits_the_teacher_alone(id_data):
    from automl_pl.objective import make_estimator

    _, _, _, schema = id_data
    params = {"model": "ridge", "ridge_alpha": 1.0, "sample_rate": 0.4, "selection": "confidence",
              "pseudo_weight": 0.5, "n_rounds": 3}
    turned_down = make_estimator(get_family("ridge"), params, schema=schema, random_state=0, n_jobs=1, n_rounds=0)
    assert (turned_down.sample_rate, turned_down.n_rounds) == (0.0, 1)
    kept = make_estimator(get_family("ridge"), params, schema=schema, random_state=0, n_jobs=1, n_rounds=2)
    assert (kept.sample_rate, kept.n_rounds, kept.selection) == (0.4, 2, "confidence")


def test_repeated_k_folds_partition_the_rows_once_per_repeat():
    once = make_folds(50, cv=4, random_state=3)
    thrice = make_folds(50, cv=4, random_state=3, repeats=3)
    assert len(thrice) == 12
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(once, thrice[:4]))  # the first is the plain K-fold
    for r in range(3):
        assert sorted(np.concatenate([valid for _, valid in thrice[4 * r:4 * r + 4]])) == list(range(50))
    assert not np.array_equal(thrice[0][1], thrice[4][1]) and not np.array_equal(thrice[4][1], thrice[8][1])


def test_the_k_fold_is_repeated_by_default_only_on_few_rows():
    assert [default_cv_repeats(n) for n in (10, 128, 200, 300, 499, 500, 8000)] == [3, 3, 3, 2, 2, 1, 1]


def test_repeated_folds_score_every_fold_and_average_the_out_of_fold_predictions():
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = X.to_numpy() @ [1.0, -1.0, 2.0] + rng.normal(size=60)
    folds = make_folds(len(X), cv=CV, random_state=0, repeats=2)
    objective = _objective(X, y, None, FeatureSchema.infer(X), {"plain_ridge": _family("plain_ridge", Ridge)},
                           folds=folds)
    trial = FixedTrial({"model": "plain_ridge", "sample_rate": 0.0})
    value = objective(trial)

    fitted = [Ridge().fit(X.iloc[train], y[train]) for train, _ in folds]
    mse = [np.mean((y[valid] - m.predict(X.iloc[valid])) ** 2) for m, (_, valid) in zip(fitted, folds)]
    assert value == pytest.approx(math.sqrt(np.mean(mse)), rel=1e-12)
    assert len(trial.user_attrs["fold_rmse"]) == 2 * CV
    # Each row was held out once per K-fold: its out-of-fold prediction is the mean of the two.
    by_hand = np.zeros(len(y))
    for m, (_, valid) in zip(fitted, folds):
        by_hand[valid] += m.predict(X.iloc[valid]) / 2
    np.testing.assert_allclose(objective.out_of_fold[trial.number], by_hand, rtol=1e-12)
