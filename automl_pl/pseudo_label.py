"""Pseudo-labelling (self-training) for any scikit-learn regressor.

Knows nothing of Optuna: it is a plain meta-estimator, usable on its own.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d


class PseudoLabelRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Self-training regressor: a teacher labels unlabelled rows, a student learns from both.

    ``fit`` clones ``estimator`` as the *teacher* and fits it on the labelled rows,
    draws ``floor(sample_rate * len(X_unlabeled))`` unlabelled rows at random
    (seeded by ``random_state``), labels them with the teacher's predictions and
    fits a fresh clone, the *student*, on the labelled plus pseudo-labelled rows.
    The student makes every prediction.

    With ``sample_rate=0`` or no unlabelled rows this is exactly fitting
    ``estimator`` on the labelled rows: the teacher is the final model.

    Parameters
    ----------
    estimator : regressor
        Any scikit-learn compatible regressor; it is cloned, never fitted itself.
    sample_rate : float, default=0.2
        Share of the unlabelled rows, in [0, 1], added with pseudo-labels.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of pseudo-labelled rows.

    Attributes
    ----------
    estimator_ : regressor
        The fitted student (or the teacher when no row was pseudo-labelled).
    teacher_ : regressor
        The fitted teacher, trained on the labelled rows only.
    n_pseudo_labeled_ : int
        Number of pseudo-labelled rows the student was trained on.
    pseudo_labeled_indices_ : ndarray of int
        Positions, in ``X_unlabeled``, of the pseudo-labelled rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : the classification relative.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from automl_pl import PseudoLabelRegressor
    >>> rng = np.random.default_rng(0)
    >>> X, X_unlabeled = rng.normal(size=(50, 3)), rng.normal(size=(100, 3))
    >>> y = X @ [1.0, 2.0, 3.0]
    >>> model = PseudoLabelRegressor(Ridge(), sample_rate=0.3, random_state=0)
    >>> model.fit(X, y, X_unlabeled=X_unlabeled).n_pseudo_labeled_
    30
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "sample_rate": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, sample_rate=0.2, random_state=None):
        self.estimator = estimator
        self.sample_rate = sample_rate
        self.random_state = random_state

    def fit(self, X, y, X_unlabeled=None):
        """Fit the teacher on ``(X, y)``, pseudo-label a sample of ``X_unlabeled``, fit the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Labelled rows.
        y : array-like of shape (n_samples,)
            Their true targets.
        X_unlabeled : array-like or DataFrame of shape (n_unlabeled, n_features), default=None
            Unlabelled rows of the same kind as ``X`` (same columns for a DataFrame).

        Returns
        -------
        self : PseudoLabelRegressor
        """
        self._validate_params()
        y = column_or_1d(y, warn=True)
        self.teacher_ = clone(self.estimator).fit(X, y)
        self.estimator_ = self.teacher_
        self.pseudo_labeled_indices_ = np.empty(0, dtype=np.intp)

        n_unlabeled = 0 if X_unlabeled is None else _n_rows(X_unlabeled)
        n_pick = math.floor(round(self.sample_rate * n_unlabeled, 9))  # 0.29 * 100 is 28.99999...
        if n_pick > 0:
            X_unlabeled = _aligned(X, X_unlabeled)
            rng = check_random_state(self.random_state)
            picked = np.sort(rng.choice(n_unlabeled, size=n_pick, replace=False))
            X_pseudo = _take_rows(X_unlabeled, picked)
            y_pseudo = np.asarray(self.teacher_.predict(X_pseudo), dtype="float64")
            X_student = _stack_rows(X, X_pseudo)
            y_student = np.concatenate([np.asarray(y, dtype="float64"), y_pseudo.ravel()])
            self.estimator_ = clone(self.estimator).fit(X_student, y_student)
            self.pseudo_labeled_indices_ = picked
        self.n_pseudo_labeled_ = len(self.pseudo_labeled_indices_)
        self._copy_input_attributes()
        return self

    def predict(self, X):
        """Predict with the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def _copy_input_attributes(self) -> None:
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.teacher_, name):
                setattr(self, name, getattr(self.teacher_, name))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.string = inner.input_tags.string
        return tags


def _n_rows(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _aligned(X, X_unlabeled):
    """``X_unlabeled`` checked against ``X``; a DataFrame's columns put in ``X``'s order."""
    if isinstance(X, pd.DataFrame) != isinstance(X_unlabeled, pd.DataFrame):
        raise TypeError(
            f"X is a {type(X).__name__} but X_unlabeled is a {type(X_unlabeled).__name__}; pass both as DataFrames or both as arrays."
        )
    if isinstance(X, pd.DataFrame):
        missing = [c for c in X.columns if c not in X_unlabeled.columns]
        extra = [c for c in X_unlabeled.columns if c not in X.columns]
        if missing or extra:
            raise ValueError(
                f"X_unlabeled must have the same feature columns as X: missing {missing}, unexpected {extra}. "
                "Drop the target and any columns X does not have."
            )
        return X_unlabeled[list(X.columns)]
    if not sp.issparse(X_unlabeled):
        X_unlabeled = np.asarray(X_unlabeled)
    if X_unlabeled.shape[1:] != np.shape(X)[1:]:
        raise ValueError(f"X_unlabeled has {X_unlabeled.shape[1]} features but X has {np.shape(X)[1]}.")
    return X_unlabeled


def _take_rows(X, rows: np.ndarray):
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows]
    return X[rows]


def _stack_rows(X, X_more):
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, X_more], ignore_index=True)
    if sp.issparse(X) or sp.issparse(X_more):
        return sp.vstack([X, X_more], format="csr")
    return np.concatenate([np.asarray(X), np.asarray(X_more)])
