"""PseudoLabelRegressor: the scikit-learn contract and the self-training semantics."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from automl_pl import PseudoLabelRegressor
from automl_pl.budget import OutOfTime, TimeBudget
from automl_pl.pseudo_label import PREDICT_CHUNK


@parametrize_with_checks(
    [
        PseudoLabelRegressor(Ridge()),
        PseudoLabelRegressor(DecisionTreeRegressor(random_state=0), sample_rate=0.5, random_state=0),
    ],
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _numeric_data(n_rows=120, n_unlabeled=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=n_rows)
    X_unlabeled = rng.normal(size=(n_unlabeled, 4))
    return X, y, X_unlabeled


@pytest.mark.parametrize(
    "base",
    [Ridge(alpha=0.5), RandomForestRegressor(n_estimators=10, random_state=0)],
    ids=["ridge", "random_forest"],
)
@pytest.mark.parametrize("unlabeled", [True, False], ids=["sample_rate_0", "no_unlabeled"])
def test_without_pseudo_labels_it_is_the_base_estimator(base, unlabeled):
    X, y, X_unlabeled = _numeric_data()
    if unlabeled:
        model = PseudoLabelRegressor(base, sample_rate=0.0, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    else:
        model = PseudoLabelRegressor(base, sample_rate=0.7, random_state=0).fit(X, y)
    reference = clone(base).fit(X, y)
    X_test = np.vstack([X[:20], X_unlabeled[:20]])

    np.testing.assert_array_equal(model.predict(X_test), reference.predict(X_test))
    assert model.n_pseudo_labeled_ == 0
    assert model.pseudo_labeled_indices_.shape == (0,)
    assert model.estimator_ is model.teacher_


@pytest.mark.parametrize("sample_rate", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
def test_number_and_positions_of_pseudo_labeled_rows(sample_rate):
    X, y, X_unlabeled = _numeric_data(n_unlabeled=37)
    model = PseudoLabelRegressor(Ridge(), sample_rate=sample_rate, random_state=1).fit(X, y, X_unlabeled=X_unlabeled)

    expected = math.floor(sample_rate * len(X_unlabeled))
    assert model.n_pseudo_labeled_ == expected
    indices = model.pseudo_labeled_indices_
    assert len(indices) == expected
    assert len(np.unique(indices)) == expected
    assert np.all((indices >= 0) & (indices < len(X_unlabeled)))
    assert np.issubdtype(indices.dtype, np.integer)


def test_sample_rate_count_is_not_lost_to_float_rounding():
    X, y, X_unlabeled = _numeric_data(n_unlabeled=100)
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.29, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    assert model.n_pseudo_labeled_ == 29


def test_two_column_target_is_refused_whatever_the_sample_rate():
    X, y, X_unlabeled = _numeric_data()
    y2 = np.column_stack([y, -y])
    for rate in (0.0, 0.5):
        with pytest.raises(ValueError, match="1d array"):
            PseudoLabelRegressor(Ridge(), sample_rate=rate, random_state=0).fit(X, y2, X_unlabeled=X_unlabeled)


def test_random_state_fixes_the_pseudo_labeled_rows():
    X, y, X_unlabeled = _numeric_data(n_unlabeled=100)

    def indices(seed):
        model = PseudoLabelRegressor(Ridge(), sample_rate=0.3, random_state=seed)
        return model.fit(X, y, X_unlabeled=X_unlabeled).pseudo_labeled_indices_

    np.testing.assert_array_equal(indices(7), indices(7))
    assert not np.array_equal(indices(7), indices(8))


def test_student_learns_from_the_pseudo_labels():
    X, y, X_unlabeled = _numeric_data(n_rows=60, n_unlabeled=50)
    model = PseudoLabelRegressor(KNeighborsRegressor(n_neighbors=1), sample_rate=0.5, random_state=0)
    model.fit(X, y, X_unlabeled=X_unlabeled)

    picked = model.pseudo_labeled_indices_
    assert model.estimator_ is not model.teacher_
    assert model.estimator_.n_samples_fit_ == len(X) + len(picked)
    # A 1-NN student's nearest neighbour of a pseudo-labelled row is that row, labelled by the teacher.
    np.testing.assert_allclose(model.predict(X_unlabeled[picked]), model.teacher_.predict(X_unlabeled[picked]))
    # Its labelled rows keep their true targets.
    np.testing.assert_allclose(model.predict(X), y)


def test_pseudo_labeled_row_changes_the_prediction_nearby():
    # Labelled points at 0 and 10; the teacher (1-NN) labels 4 with y(0) = 0.
    X, y = np.array([[0.0], [10.0]]), np.array([0.0, 100.0])
    X_unlabeled = np.array([[4.0]])
    model = PseudoLabelRegressor(KNeighborsRegressor(n_neighbors=1), sample_rate=1.0, random_state=0)
    model.fit(X, y, X_unlabeled=X_unlabeled)

    # At 5.5 the teacher's nearest labelled point is 10, the student's nearest point is the pseudo-labelled 4.
    assert model.teacher_.predict([[5.5]])[0] == 100.0
    assert model.predict([[5.5]])[0] == 0.0


def test_dataframes_are_stacked_by_column_name():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"], index=np.arange(100, 140))
    y = pd.Series(X["a"] - X["b"], index=X.index)
    X_unlabeled = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    model = PseudoLabelRegressor(DecisionTreeRegressor(random_state=0), sample_rate=0.5, random_state=0)
    model.fit(X, y, X_unlabeled=X_unlabeled)

    assert model.n_pseudo_labeled_ == 15
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert model.n_features_in_ == 3
    picked = X_unlabeled.iloc[model.pseudo_labeled_indices_]
    np.testing.assert_allclose(model.predict(picked), model.teacher_.predict(picked))


def test_unlabeled_columns_in_another_order_are_accepted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = X["a"] + X["b"]
    X_unlabeled = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])[["c", "a", "b"]]
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    assert model.n_pseudo_labeled_ == 15


def test_fit_never_fits_the_users_estimator():
    X, y, X_unlabeled = _numeric_data()
    base = Ridge()
    model = PseudoLabelRegressor(base, sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)

    assert model.estimator is base
    with pytest.raises(NotFittedError):
        check_is_fitted(base)
    assert model.teacher_ is not base and model.estimator_ is not base


@pytest.mark.parametrize("sample_rate", [1.5, -0.1])
def test_sample_rate_out_of_range_is_refused_at_fit(sample_rate):
    X, y, X_unlabeled = _numeric_data()
    model = PseudoLabelRegressor(Ridge(), sample_rate=sample_rate)  # __init__ only stores it
    assert model.sample_rate == sample_rate
    with pytest.raises(InvalidParameterError, match="sample_rate") as info:
        model.fit(X, y, X_unlabeled=X_unlabeled)
    assert isinstance(info.value, ValueError)


def test_unlabeled_frame_with_other_columns_is_refused():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    y = X["a"].to_numpy()
    X_unlabeled = pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "other"])
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, random_state=0)
    with pytest.raises(ValueError, match="other") as info:
        model.fit(X, y, X_unlabeled=X_unlabeled)
    assert "'b'" in str(info.value)


def test_unlabeled_array_with_other_width_is_refused():
    X, y, _ = _numeric_data()
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, random_state=0)
    with pytest.raises(ValueError, match="features"):
        model.fit(X, y, X_unlabeled=np.zeros((10, 3)))


def test_dataframe_with_array_unlabeled_is_refused():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    y = X["a"].to_numpy()
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, random_state=0)
    with pytest.raises(TypeError, match="DataFrame"):
        model.fit(X, y, X_unlabeled=rng.normal(size=(20, 2)))


def test_clone_and_params_round_trip():
    model = PseudoLabelRegressor(Ridge(alpha=2.0), sample_rate=0.3, random_state=4)
    params = model.get_params(deep=False)
    assert set(params) == {"estimator", "sample_rate", "selection", "pseudo_weight", "n_rounds", "random_state"}
    assert params["sample_rate"] == 0.3 and params["random_state"] == 4

    deep = model.get_params(deep=True)
    assert deep["estimator__alpha"] == 2.0

    cloned = clone(model)
    assert cloned is not model
    assert cloned.estimator is not model.estimator
    assert cloned.get_params(deep=True).keys() == deep.keys()
    assert cloned.get_params()["estimator__alpha"] == 2.0
    assert (cloned.sample_rate, cloned.random_state) == (0.3, 4)

    assert model.set_params(sample_rate=0.8, estimator__alpha=5.0) is model
    assert model.sample_rate == 0.8
    assert model.estimator.alpha == 5.0
    assert cloned.sample_rate == 0.3 and cloned.estimator.alpha == 2.0

    # A fitted model's clone is unfitted and equal in parameters.
    X, y, X_unlabeled = _numeric_data()
    model.fit(X, y, X_unlabeled=X_unlabeled)
    refreshed = clone(model)
    with pytest.raises(NotFittedError):
        check_is_fitted(refreshed)
    assert refreshed.get_params()["estimator__alpha"] == 5.0


def test_confidence_never_pseudo_labels_the_rows_the_teachers_disagree_on_most():
    # A tenth of the pool lies far outside the labelled data, where a linear fit's teachers
    # diverge: confidence selection leaves those rows out; random selection does not.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(80, 1))
    y = 2 * X[:, 0] + rng.normal(scale=0.3, size=80)
    X_unlabeled = np.vstack([rng.uniform(-1, 1, size=(90, 1)), rng.uniform(20, 30, size=(10, 1))])
    far = np.arange(90, 100)

    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, selection="confidence", random_state=0).fit(
        X, y, X_unlabeled=X_unlabeled)
    assert model.n_pseudo_labeled_ == 50
    assert model.unlabeled_spread_.shape == (100,)
    assert model.unlabeled_spread_[far].min() > model.unlabeled_spread_[:90].max()
    assert not np.isin(model.pseudo_labeled_indices_, far).any()
    # ... but among the trusted rows it draws at random instead of taking only the surest half.
    surest = np.sort(np.argsort(model.unlabeled_spread_)[:50])
    assert not np.array_equal(model.pseudo_labeled_indices_, surest)

    random = PseudoLabelRegressor(Ridge(), sample_rate=0.5, random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    assert random.unlabeled_spread_ is None
    assert np.isin(random.pseudo_labeled_indices_, far).any()


def test_confidence_takes_untrusted_rows_only_when_the_sample_rate_needs_them():
    X, y, X_unlabeled = _numeric_data(n_unlabeled=60)
    everything = PseudoLabelRegressor(Ridge(), sample_rate=1.0, selection="confidence", random_state=0).fit(
        X, y, X_unlabeled=X_unlabeled)
    np.testing.assert_array_equal(everything.pseudo_labeled_indices_, np.arange(60))
    most = PseudoLabelRegressor(Ridge(), sample_rate=0.95, selection="confidence", random_state=0).fit(
        X, y, X_unlabeled=X_unlabeled)
    least_sure = np.argsort(most.unlabeled_spread_)[-3:]  # 57 rows asked for: only the 3 least sure are left out
    np.testing.assert_array_equal(most.pseudo_labeled_indices_, np.setdiff1d(np.arange(60), least_sure))


def test_confidence_labels_its_rows_with_the_mean_of_all_its_teachers():
    from automl_pl.pseudo_label import confidence_teacher_predictions

    X, y, X_unlabeled = _numeric_data(n_unlabeled=60)
    model = PseudoLabelRegressor(Ridge(), sample_rate=0.5, selection="confidence", random_state=0)
    model.fit(X, y, X_unlabeled=X_unlabeled)

    votes = confidence_teacher_predictions(Ridge(), X, y, X_unlabeled, random_state=np.random.RandomState(0))
    np.testing.assert_allclose(model.unlabeled_spread_, votes.std(axis=0))
    picked = model.pseudo_labeled_indices_
    labels = (votes[:, picked].sum(axis=0) + model.teacher_.predict(X_unlabeled[picked])) / (len(votes) + 1)
    by_hand = Ridge().fit(np.vstack([X, X_unlabeled[picked]]), np.r_[y, labels])
    np.testing.assert_allclose(model.estimator_.coef_, by_hand.coef_)
    teacher_labelled = Ridge().fit(np.vstack([X, X_unlabeled[picked]]), np.r_[y, model.teacher_.predict(X_unlabeled[picked])])
    assert not np.allclose(model.estimator_.coef_, teacher_labelled.coef_)  # the ensemble's labels differ


def test_pseudo_weight_reaches_the_final_step_of_nested_pipelines():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, X_unlabeled = _numeric_data(n_unlabeled=100)
    y_shifted = y + 5.0
    nested = make_pipeline(StandardScaler(), make_pipeline(Ridge(alpha=30.0)))
    weighted = PseudoLabelRegressor(nested, sample_rate=1.0, pseudo_weight=0.01, random_state=0)
    weighted.fit(X, y_shifted, X_unlabeled=X_unlabeled)
    assert weighted.n_pseudo_labeled_ == 100
    unweighted = PseudoLabelRegressor(nested, sample_rate=1.0, random_state=0).fit(X, y_shifted, X_unlabeled=X_unlabeled)
    assert not np.allclose(weighted.predict(X), unweighted.predict(X))  # the weights matter here...
    # ...and they arrived at the ridge: the same fit done by hand with routed weights.
    manual = make_pipeline(StandardScaler(), make_pipeline(Ridge(alpha=30.0)))
    X_student = np.vstack([X, X_unlabeled[weighted.pseudo_labeled_indices_]])
    y_student = np.r_[y_shifted, weighted.teacher_.predict(X_unlabeled[weighted.pseudo_labeled_indices_])]
    manual.fit(X_student, y_student, pipeline__ridge__sample_weight=np.r_[np.ones(len(y)), np.full(100, 0.01)])
    np.testing.assert_allclose(weighted.predict(X), manual.predict(X))


def test_pseudo_weight_needs_an_estimator_that_takes_weights():
    from sklearn.neighbors import KNeighborsRegressor

    X, y, X_unlabeled = _numeric_data()
    with pytest.raises(ValueError, match="KNeighborsRegressor.fit takes no sample_weight"):
        PseudoLabelRegressor(KNeighborsRegressor(), sample_rate=0.5, pseudo_weight=0.5).fit(X, y, X_unlabeled=X_unlabeled)


def test_each_round_relabels_with_the_latest_student():
    X, y, X_unlabeled = _numeric_data(n_unlabeled=60)
    model = PseudoLabelRegressor(DecisionTreeRegressor(max_depth=3, random_state=0), sample_rate=0.5, n_rounds=3,
                                 random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    assert len(model.round_estimators_) == 3 and model.estimator_ is model.round_estimators_[-1]
    one = PseudoLabelRegressor(DecisionTreeRegressor(max_depth=3, random_state=0), sample_rate=0.5, n_rounds=1,
                               random_state=0).fit(X, y, X_unlabeled=X_unlabeled)
    np.testing.assert_allclose(one.predict(X), model.round_estimators_[0].predict(X))  # round 1 is the classic student


@pytest.mark.parametrize(("params", "match"), [
    ({"selection": "best"}, "selection"), ({"pseudo_weight": 0.0}, "pseudo_weight"),
    ({"pseudo_weight": 1.5}, "pseudo_weight"), ({"n_rounds": 0}, "n_rounds"),
])
def test_bad_pseudo_label_settings_are_refused_at_fit(params, match):
    X, y, X_unlabeled = _numeric_data()
    with pytest.raises(ValueError, match=match):
        PseudoLabelRegressor(Ridge(), **params).fit(X, y, X_unlabeled=X_unlabeled)


class _SlowPredictor(Ridge):
    """A ridge whose every predict call sleeps: a pool predict that would outlast the time budget."""

    def predict(self, X):
        time.sleep(0.1)
        return super().predict(X)


def test_a_large_pool_predict_stops_when_the_study_time_is_up():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    pool = rng.normal(size=(10 * PREDICT_CHUNK, 2))
    model = PseudoLabelRegressor(_SlowPredictor(), sample_rate=1.0, selection="confidence", random_state=0)
    budget = TimeBudget(0.25, finish_margin=0.0)
    started = time.monotonic()
    with budget.fits_end_in_time(), pytest.raises(OutOfTime):
        model.fit(X, y, X_unlabeled=pool)
    assert time.monotonic() - started < 1.0  # the three teachers would sleep 3 s over their pool parts


def test_a_pool_predicted_in_parts_gives_the_same_labels():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 3)), rng.normal(size=80)
    pool = pd.DataFrame(rng.normal(size=(2 * PREDICT_CHUNK + 7, 3)), columns=list("abc"))
    frame = pd.DataFrame(X, columns=list("abc"))
    whole = PseudoLabelRegressor(KNeighborsRegressor(), sample_rate=0.5, selection="confidence", random_state=0)
    whole.fit(frame, y, X_unlabeled=pool)
    with TimeBudget(600.0).fits_end_in_time():
        parts = clone(whole).fit(frame, y, X_unlabeled=pool)
    np.testing.assert_array_equal(whole.unlabeled_spread_, parts.unlabeled_spread_)
    np.testing.assert_array_equal(whole.predict(pool), parts.predict(pool))
