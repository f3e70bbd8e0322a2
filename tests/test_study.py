"""tune(): a tiny real study, resume, refit, failing families and input errors."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import ElasticNet
from sklearn.preprocessing import StandardScaler

import automl_pl
from automl_pl import TuneResult, refit_best, tune
from automl_pl.models import FAMILIES, ModelFamily
from automl_pl.study import make_folds

MODELS = ["ridge", "lightgbm"]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class _BrokenRegressor:
    """Has fit and predict, so it passes PseudoLabelRegressor's checks, but fit always raises."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        raise RuntimeError("boom: this family always fails")

    def predict(self, X):
        raise AssertionError("never fitted")


BOOM = ModelFamily(name="boom", prefix="boom_", suggest=lambda trial, n_rows: {},
                   build=lambda params, *, schema, random_state, n_jobs: _BrokenRegressor(), relative_cost=1.0)


@pytest.fixture(scope="module")
def small_data(make_data):
    X, y = make_data(120, seed=21)
    X_unlabeled, _ = make_data(80, seed=23)
    return X, y, X_unlabeled


@pytest.fixture(scope="module")
def tuned(small_data, tmp_path_factory):
    """One 6-trial study refitting its best trial alone, shared by the tests that only read it.

    On 120 labelled rows its 3-fold runs three times by default: 9 folds.
    """
    X, y, X_unlabeled = small_data
    folder = tmp_path_factory.mktemp("tuned")
    url = f"sqlite:///{folder}/study.db"
    result = tune(X, y, X_unlabeled=X_unlabeled, models=MODELS, n_trials=6, cv=3, storage=url, study_name="tiny",
                  show_progress_bar=False, n_jobs=1, ensemble=False)
    return result, folder, url


def test_tune_finds_and_refits_a_best_model(tuned, small_data, new_rows):
    result, _, _ = tuned
    X, y, X_unlabeled = small_data

    assert isinstance(result, TuneResult)
    assert len(result.study.get_trials(states=FINISHED)) == 6
    params = result.best_params
    assert params["model"] in MODELS
    assert 0.0 <= params["sample_rate"] <= 1.0
    assert result.cv_rmse == result.best_trial.value == min(
        t.value for t in result.study.get_trials(states=(TrialState.COMPLETE,)))
    assert result.supervised_cv_rmse == result.best_trial.user_attrs["supervised_cv_rmse"]

    # 120 labelled rows: the 3-fold ran three times, each trial scored on 9 folds...
    assert all(len(t.user_attrs["fold_rmse"]) == 9 for t in result.study.get_trials(states=(TrialState.COMPLETE,)))
    # ...and the final model is the best trial's 9 fold models, kept from its cross-validation: no refit.
    model = result.best_estimator_
    assert len(model.estimators_) == 9 and all(isinstance(m, FrozenEstimator) for m in model.estimators_)
    np.testing.assert_allclose(model.weights_, [1 / 9] * 9)
    fold_mean = np.mean([m.predict(new_rows) for m in model.estimators_], axis=0)
    np.testing.assert_allclose(model.predict(new_rows), fold_mean, rtol=1e-12)

    predictions = model.predict(new_rows)  # unseen categories and missing values
    assert predictions.shape == (len(new_rows),) and np.all(np.isfinite(predictions))
    # It has learnt something: better than predicting the mean on the training rows.
    assert np.sqrt(np.mean((model.predict(X) - y) ** 2)) < y.std()

    recorded = result.study.user_attrs["automl_pl"]
    assert recorded["cv"] == 3 and recorded["cv_repeats"] == 3 and recorded["random_state"] == 0
    assert recorded["features"] == list(X.columns)
    assert "best trial #" in result.summary() and "(all kept from the cross-validation, no refit)" in result.summary()


def test_resume_runs_only_the_missing_trials(tuned, small_data, tmp_path):
    result, folder, _ = tuned
    X, y, X_unlabeled = small_data
    shutil.copy(folder / "study.db", tmp_path / "study.db")
    url = f"sqlite:///{tmp_path}/study.db"
    before = [(t.number, t.state, t.value, t.params) for t in result.study.trials]

    resumed = tune(X, y, X_unlabeled=X_unlabeled, models=MODELS, n_trials=9, cv=3, storage=url, study_name="tiny",
                   show_progress_bar=False, n_jobs=1)

    trials = resumed.study.trials
    assert len(resumed.study.get_trials(states=FINISHED)) == 9
    assert len(trials) == 9
    assert [(t.number, t.state, t.value, t.params) for t in trials[:6]] == before
    # The resumed sampler does not replay the first run's draws.
    assert [t.params for t in trials[6:]] != [t.params for t in trials[:3]]

    # Nothing is left to run: a third call adds no trial.
    again = tune(X, y, X_unlabeled=X_unlabeled, models=MODELS, n_trials=9, cv=3, storage=url, study_name="tiny",
                 show_progress_bar=False, n_jobs=1, refit=False)
    assert len(again.study.trials) == 9
    assert again.best_estimator_ is None


def test_a_study_made_before_cv_repeats_resumes_with_one_k_fold(tuned, small_data, tmp_path):
    _, folder, _ = tuned
    X, y, X_unlabeled = small_data
    shutil.copy(folder / "study.db", tmp_path / "study.db")
    url = f"sqlite:///{tmp_path}/study.db"
    study = optuna.load_study(study_name="tiny", storage=url)
    recorded = study.user_attrs["automl_pl"]
    del recorded["cv_repeats"]  # as an older automl_pl recorded it
    study.set_user_attr("automl_pl", recorded)
    resumed = tune(X, y, X_unlabeled=X_unlabeled, models=MODELS, n_trials=7, cv=3, storage=url, study_name="tiny",
                   show_progress_bar=False, n_jobs=1)
    assert len(resumed.best_estimator_.estimators_) == 3 * len(resumed.members_)  # its one 3-fold, not three
    with pytest.raises(ValueError, match="was run with other cv_repeats"):
        tune(X, y, X_unlabeled=X_unlabeled, models=MODELS, n_trials=8, cv=3, cv_repeats=3, storage=url,
             study_name="tiny", show_progress_bar=False, n_jobs=1)


def test_refit_best_rebuilds_the_best_trial(tuned, small_data, new_rows):
    result, _, url = tuned
    X, y, X_unlabeled = small_data
    refitted = refit_best(X, y, X_unlabeled=X_unlabeled, storage=url, study_name="tiny", n_jobs=1)
    assert refitted.best_params == result.best_params
    # Refitted on the study's folds with their seeds: the very fold models tune() kept.
    assert not any(isinstance(m, FrozenEstimator) for m in refitted.best_estimator_.estimators_)
    assert refitted.refit_time_ > 0 and "(0 of 9 kept from the cross-validation" in refitted.summary()
    np.testing.assert_allclose(refitted.best_estimator_.predict(new_rows), result.best_estimator_.predict(new_rows),
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="no study named"):
        refit_best(X, y, X_unlabeled=X_unlabeled, storage=url, study_name="missing", n_jobs=1)


def test_without_bagging_each_trial_is_refitted_once_on_all_rows(small_data, storage_url, new_rows, tmp_path):
    X, y, X_unlabeled = small_data
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "knn"], n_trials=4, cv=3, storage=storage_url,
                  study_name="whole", show_progress_bar=False, n_jobs=1, bagging=False)
    model = result.best_estimator_
    assert len(model.estimators_) == len(result.members_) and model.rows == [None] * len(result.members_)
    member = model.estimators_[0]
    assert isinstance(member, automl_pl.PseudoLabelRegressor) and member.teacher_.n_features_in_ == X.shape[1]
    assert "final model: refitted on 120 labelled rows" in result.summary()
    metadata = automl_pl.load_model(result.export(tmp_path / "m")).metadata
    assert [m["fold"] for m in metadata["members"]] == [None] * len(result.members_)
    assert metadata["study"]["models_per_trial"] == 1
    again = refit_best(X, y, X_unlabeled=X_unlabeled, storage=storage_url, study_name="whole", n_jobs=1, bagging=False)
    np.testing.assert_allclose(again.best_estimator_.predict(new_rows), model.predict(new_rows), rtol=1e-12)
    # The mean of the fold models is another model.
    bagged = refit_best(X, y, X_unlabeled=X_unlabeled, storage=storage_url, study_name="whole", n_jobs=1)
    assert len(bagged.best_estimator_.estimators_) == 9 * len(result.members_)
    assert not np.allclose(bagged.best_estimator_.predict(new_rows), model.predict(new_rows))


@pytest.mark.parametrize("change", ["target", "features", "unlabeled", "cv", "cv_repeats", "seed"])
def test_resuming_with_other_data_or_settings_is_refused(tuned, small_data, tmp_path, change):
    _, folder, _ = tuned
    X, y, X_unlabeled = small_data
    shutil.copy(folder / "study.db", tmp_path / "study.db")
    url = f"sqlite:///{tmp_path}/study.db"
    kwargs = dict(X_unlabeled=X_unlabeled, models=MODELS, n_trials=9, cv=3, storage=url, study_name="tiny",
                  show_progress_bar=False, n_jobs=1, random_state=0)
    if change == "target":
        y = y + 1.0
    elif change == "features":
        X = X.assign(num_b=X["num_b"] * 2)
    elif change == "unlabeled":
        kwargs["X_unlabeled"] = X_unlabeled.iloc[:-1]
    elif change == "cv":
        kwargs["cv"] = 4
    elif change == "cv_repeats":
        kwargs["cv_repeats"] = 1
    else:
        kwargs["random_state"] = 1

    with pytest.raises(ValueError, match="was run with other"):
        tune(X, y, **kwargs)
    assert len(optuna.load_study(study_name="tiny", storage=url).trials) == 6


def test_failing_family_fails_its_trials_and_the_study_goes_on(monkeypatch, small_data, storage_url):
    X, y, X_unlabeled = small_data
    monkeypatch.setitem(FAMILIES, "boom", BOOM)
    study = optuna.create_study(storage=storage_url, study_name="boom", direction="minimize")
    study.enqueue_trial({"model": "boom", "sample_rate": 0.5})
    study.enqueue_trial({"model": "ridge", "ridge_alpha": 1.0, "sample_rate": 0.0})

    result = tune(X, y, X_unlabeled=X_unlabeled, models=["boom", "ridge"], n_trials=4, cv=3, storage=storage_url,
                  study_name="boom", show_progress_bar=False, n_jobs=1)

    trials = result.study.trials
    assert trials[0].state == TrialState.FAIL
    assert trials[0].params["model"] == "boom"
    assert "boom failed in fold 0" in trials[0].user_attrs["fail_reason"]
    assert "always fails" in trials[0].user_attrs["fail_reason"]
    assert trials[1].state == TrialState.COMPLETE and trials[1].params["model"] == "ridge"
    assert len(trials) >= 4
    assert all(t.state != TrialState.FAIL or t.params["model"] == "boom" for t in trials)
    assert result.best_params["model"] == "ridge"
    assert result.best_estimator_ is not None


def test_failed_trials_do_not_count_towards_n_trials(monkeypatch, small_data, storage_url):
    X, y, X_unlabeled = small_data
    monkeypatch.setitem(FAMILIES, "boom", BOOM)
    study = optuna.create_study(storage=storage_url, study_name="boom", direction="minimize")
    study.enqueue_trial({"model": "boom", "sample_rate": 0.5})
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["boom", "ridge"], n_trials=3, cv=3, storage=storage_url,
                  study_name="boom", show_progress_bar=False, n_jobs=1, refit=False)
    assert result.study.trials[0].state == TrialState.FAIL
    assert len(result.study.get_trials(states=FINISHED)) == 3


def test_study_where_every_trial_failed_has_nothing_to_refit(monkeypatch, small_data, storage_url):
    X, y, X_unlabeled = small_data
    monkeypatch.setitem(FAMILIES, "boom", BOOM)
    with pytest.raises(RuntimeError, match="no completed trial") as info:
        tune(X, y, X_unlabeled=X_unlabeled, models=["boom"], n_trials=2, cv=3, storage=storage_url,
             show_progress_bar=False, n_jobs=1)
    assert "always fails" in str(info.value)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"models": ["ridge", "nope"]}, ValueError, "nope"),
        ({"models": []}, ValueError, "empty"),
        ({"n_trials": None, "timeout": None}, ValueError, "n_trials, timeout"),
        ({"n_trials": -1}, ValueError, "n_trials"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"cv": 1}, ValueError, "cv"),
        ({"cv_repeats": 0}, ValueError, "cv_repeats must be a whole number >= 1"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"storage": "not a url"}, ValueError, "not a database URL"),
    ],
    ids=["unknown_model", "no_models", "no_budget", "negative_trials", "zero_timeout", "one_fold", "no_repeat", "no_threads",
         "bad_storage"],
)
def test_bad_settings_are_refused(small_data, storage_url, change, error, match):
    X, y, X_unlabeled = small_data
    kwargs = dict(X_unlabeled=X_unlabeled, models=MODELS, n_trials=1, cv=3, storage=storage_url,
                  show_progress_bar=False, n_jobs=1)
    kwargs.update(change)
    with pytest.raises(error, match=match):
        tune(X, y, **kwargs)


def test_more_folds_than_rows_is_refused(small_data, storage_url):
    X, y, _ = small_data
    with pytest.raises(ValueError, match="cv=10 folds need at least 10 labelled rows"):
        tune(X.iloc[:6], y.iloc[:6], models=["ridge"], n_trials=1, cv=10, storage=storage_url,
             show_progress_bar=False)


def test_target_with_nan_is_refused(small_data, storage_url):
    X, y, X_unlabeled = small_data
    y = y.copy()
    y.iloc[3] = np.nan
    with pytest.raises(ValueError, match="missing or infinite"):
        tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=1, cv=3, storage=storage_url,
             show_progress_bar=False)


def test_unlabelled_rows_missing_a_numeric_column_are_refused(small_data, storage_url):
    X, y, X_unlabeled = small_data
    with pytest.raises(ValueError, match="X_unlabeled") as info:
        tune(X, y, X_unlabeled=X_unlabeled.drop(columns=["num_b"]), models=["ridge"], n_trials=1, cv=3,
             storage=storage_url, show_progress_bar=False)
    assert "'num_b'" in str(info.value)


def test_unlabelled_rows_missing_a_categorical_column_are_refused(small_data, storage_url):
    X, y, X_unlabeled = small_data
    with pytest.raises(ValueError, match="'color'"):
        tune(X, y, X_unlabeled=X_unlabeled.drop(columns=["color"]), models=["ridge"], n_trials=1, cv=3,
             storage=storage_url, show_progress_bar=False)


def test_unlabelled_rows_with_a_wrongly_typed_column_are_refused(small_data, storage_url):
    X, y, X_unlabeled = small_data
    with pytest.raises(TypeError, match="X_unlabeled column 'count' must be numeric, as in training, but 'many'"):
        tune(X, y, X_unlabeled=X_unlabeled.assign(count="many"), models=["ridge"],
             n_trials=1, cv=3, storage=storage_url, show_progress_bar=False)


def test_fixed_sample_rate_zero_gives_a_purely_supervised_study(small_data, storage_url, tmp_path):
    X, y, X_unlabeled = small_data
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=4, cv=3, storage=storage_url,
                  fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1)
    for trial in result.study.trials:
        assert trial.params["sample_rate"] == 0.0
        assert "selection" not in trial.params  # no pseudo-label dimensions without pseudo-labels
        assert trial.value == pytest.approx(trial.user_attrs["supervised_cv_rmse"])
    assert result.export(tmp_path / "m") and automl_pl.load_model(tmp_path / "m").metadata["rows"]["pseudo_labeled"] == 0


class _PruneAfterFirstFold(optuna.pruners.BasePruner):
    """Prunes every trial at its first report: shows whether tune asks the pruner it was given."""

    def prune(self, study, trial) -> bool:
        return True


@pytest.mark.parametrize("pruner, pruned", [(_PruneAfterFirstFold(), True), (optuna.pruners.NopPruner(), False)])
def test_the_pruner_given_decides_after_each_fold(small_data, pruner, pruned):
    X, y, X_unlabeled = small_data
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=7, cv=3, cv_repeats=1, refit=False,
                  fixed_params={"sample_rate": 0.0}, show_progress_bar=False, n_jobs=1, pruner=pruner)
    study = result.study
    by_the_pruner = [t for t in study.trials if t.state == TrialState.PRUNED and "pruned_by" not in t.user_attrs]
    if pruned:  # no trial completed: the summary says so (no best trial) instead of failing
        assert len(by_the_pruner) == 7 and all(list(t.intermediate_values) == [0] for t in by_the_pruner)
        assert "no completed trial" in result.summary()
    else:  # median pruning would stop some of 7 trials; without a pruner each evaluated trial runs its 3 folds
        assert not by_the_pruner
        assert all(len(t.intermediate_values) == 3 for t in study.trials if t.state == TrialState.COMPLETE)


def test_fixed_pseudo_label_settings_are_used_and_exported(small_data, storage_url, tmp_path):
    X, y, X_unlabeled = small_data
    fixed = {"sample_rate": 0.33, "selection": "confidence", "pseudo_weight": 0.5, "n_rounds": 2}
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=2, cv=3, storage=storage_url,
                  fixed_params=fixed, show_progress_bar=False, n_jobs=1)
    for trial in result.study.trials:
        assert {k: trial.params[k] for k in fixed} == fixed
        assert len(trial.user_attrs["cv_rmse_by_round"]) == 3  # the teachers, then two rounds
        assert trial.user_attrs["best_n_rounds"] in (1, 2)  # a fixed sample_rate is kept
    metadata = automl_pl.load_model(result.export(tmp_path / "m")).metadata
    n_rounds = result.best_trial.user_attrs["best_n_rounds"]
    for described in (metadata, *metadata["members"]):
        assert (described["selection"], described["pseudo_weight"], described["sample_rate"], described["n_rounds"]) == (
            "confidence", 0.5, 0.33, n_rounds)
    assert metadata["rows"]["pseudo_labeled"] == int(0.33 * len(X_unlabeled))


@pytest.mark.parametrize(("fixed", "match"), [
    ({"sample_rate": 1.5}, r"fixed_params\['sample_rate'\] = 1.5 is invalid: it must be a number in \[0, 1\]"),
    ({"sample_rate": -0.1}, r"a number in \[0, 1\]"),
    ({"selection": "best"}, r"one of \['random', 'confidence'\]"),
    ({"n_rounds": 9}, "from 1 to 5"),
    ({"model": "knn"}, r"one of the study's models \['ridge'\]"),
    ({"xgb_max_depth": 3}, r"unknown dimensions \['xgb_max_depth'\]"),
    ({"typo": 1}, r"unknown dimensions \['typo'\]"),
])
def test_bad_fixed_params_are_refused_before_any_trial(small_data, storage_url, fixed, match):
    X, y, X_unlabeled = small_data
    with pytest.raises(ValueError, match=match):
        tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=1, cv=3, storage=storage_url,
             fixed_params=fixed, show_progress_bar=False)
    assert optuna.get_all_study_summaries(storage_url) == []  # nothing was created


def test_new_study_starts_with_the_portfolio_without_then_with_pseudo_labels(small_data, storage_url):
    from automl_pl.portfolio import Portfolio

    X, y, X_unlabeled = small_data
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], n_trials=3, cv=3, storage=storage_url,
                  show_progress_bar=False, n_jobs=1)
    first, second = result.study.trials[:2]
    families = {name: FAMILIES[name] for name in ("ridge", "lightgbm")}
    start = Portfolio.default().for_study(families, n_rows=80)[0]  # the training rows of a 3-fold split of 120
    assert first.params == {**start, "sample_rate": 0.0}
    assert second.params == {**start, "sample_rate": 0.3, "selection": "random", "pseudo_weight": 1.0, "n_rounds": 1}
    # A resumed study enqueues nothing more.
    again = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], n_trials=4, cv=3, storage=storage_url,
                 show_progress_bar=False, n_jobs=1)
    assert len(again.study.trials) == 4 and len(again.study.get_trials(states=(TrialState.WAITING,))) == 0


def test_a_new_best_supervised_trial_is_tried_again_with_pseudo_labels(small_data, storage_url):
    X, y, X_unlabeled = small_data
    result = tune(X, y, X_unlabeled=X_unlabeled, models=["ridge"], n_trials=4, cv=3, storage=storage_url,
                  show_progress_bar=False, n_jobs=1)
    trials = result.study.trials
    first = trials[0]
    assert first.params["sample_rate"] == 0.0 and first.state == TrialState.COMPLETE
    same_model = {k: v for k, v in first.params.items() if k != "sample_rate"}
    retried = [t for t in trials[1:] if {k: t.params.get(k) for k in same_model} == same_model
               and t.params["sample_rate"] > 0 and t.params["selection"] == "random" and t.params["n_rounds"] == 1]
    # The starting pseudo-labelled trial (0.3) and the one asked for by the new best (half the range: 0.5).
    assert sorted(t.params["sample_rate"] for t in retried) == [0.3, 0.5]


def test_timeout_keeps_time_for_the_refit_of_a_best_trial_whose_fold_models_are_not_kept():
    from automl_pl.budget import TimeBudget
    from automl_pl.final_model import REFIT_MARGIN
    from automl_pl.fold_models import KeptFoldModels
    from automl_pl.steering import KeepTimeForTheRefit

    class Objective:
        budget = TimeBudget(100.0, finish_margin=0.0)
        fold_models = KeptFoldModels()
        folds = [None] * 5

    study = optuna.create_study()
    keep = KeepTimeForTheRefit(Objective)
    keep(study, None)  # no completed trial yet: nothing to estimate from
    assert Objective.budget.reserved == 0.0
    Objective.fold_models.offer(0, 1.0, ["fold model"])
    study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={"fit_seconds": 8.0}))
    keep(study, study.trials[-1])
    assert Objective.budget.reserved == 0.0  # its fold models are kept: its final model costs no fit
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"fit_seconds": 8.0}))
    keep(study, study.trials[-1])  # a best trial (from another worker, say) whose folds must be refitted
    assert Objective.budget.reserved == pytest.approx(REFIT_MARGIN * 8.0)
    assert Objective.budget.trials_left() == pytest.approx(100.0 - REFIT_MARGIN * 8.0, abs=1.0)
    Objective.budget.reserve(1.0)  # a cheaper estimate later ...
    assert Objective.budget.reserved == pytest.approx(REFIT_MARGIN * 8.0)  # ... never hands the time back


def test_a_refit_on_all_rows_takes_about_one_fold_fit():
    from automl_pl.final_model import refit_seconds
    from automl_pl.fold_models import KeptFoldModels

    trial = optuna.trial.create_trial(value=1.0, user_attrs={"fit_seconds": 8.0})
    folds = make_folds(20, cv=5, random_state=0)
    assert refit_seconds(trial, None, folds=folds) == pytest.approx(8.0 / 4)  # no bagging: one fit on all rows
    assert refit_seconds(trial, KeptFoldModels(), folds=folds) == 8.0  # its fold models, refitted
    # Three K-folds: 15 fold fits in the trial's 8 s, and one fit on all rows is a fold's 5 / 4 of them.
    thrice = make_folds(20, cv=5, random_state=0, repeats=3)
    assert refit_seconds(trial, None, folds=thrice) == pytest.approx(8.0 / 15 * 5 / 4)
    assert refit_seconds(trial, KeptFoldModels(), folds=thrice) == 8.0


def test_a_model_stopping_at_its_iteration_cap_does_not_flood_the_output(storage_url):
    # 20 near-copies of one column: an elastic net with a tiny alpha stops at max_iter in every fold.
    rng = np.random.default_rng(0)
    base = rng.normal(size=(90, 1))
    X = pd.DataFrame(base + 1e-3 * rng.normal(size=(90, 20)), columns=[f"x{i}" for i in range(20)])
    y = pd.Series(3 * base[:, 0] + rng.normal(size=90))
    fixed = {"sample_rate": 0.0, "enet_alpha": 1e-4, "enet_l1_ratio": 0.5}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ElasticNet(alpha=1e-4, l1_ratio=0.5, max_iter=5000).fit(StandardScaler().fit_transform(X), y)
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)  # the data does what it should
        caught.clear()
        result = tune(X[:60], y[:60], X_unlabeled=X[60:], models=["elastic_net"], n_trials=1, cv=3,
                      storage=storage_url, fixed_params=fixed, show_progress_bar=False, n_jobs=1)
    assert [w for w in caught if issubclass(w.category, ConvergenceWarning)] == []
    assert [t.state for t in result.study.trials] == [TrialState.COMPLETE]  # every fold of it, without a warning
