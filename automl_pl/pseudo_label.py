"""Pseudo-labelling (self-training) for any scikit-learn regressor.

Knows nothing of Optuna: it is a plain meta-estimator, usable on its own.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, has_fit_parameter

from automl_pl.budget import check_fit_time, fit_deadline

SELECTIONS = ("random", "confidence")
"""How pseudo-labelled rows are chosen; see :class:`PseudoLabelRegressor`."""

CONFIDENCE_TEACHERS = 3
"""Teachers whose disagreement ranks the unlabelled rows for ``selection="confidence"``."""

PREDICT_CHUNK = 4096
"""Under a time budget, unlabelled rows are predicted in parts of this many, the time checked between them."""

CONFIDENCE_DROP = 0.1
"""With ``selection="confidence"``, the share of the pool with the largest disagreement that is
never pseudo-labelled (unless ``sample_rate`` asks for more rows than the rest holds)."""


class PseudoLabelRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Self-training regressor: a teacher labels unlabelled rows, a student learns from both.

    ``fit`` clones ``estimator`` as the *teacher* and fits it on the labelled rows,
    selects ``floor(sample_rate * len(X_unlabeled))`` unlabelled rows, labels them
    with the teacher's predictions (with ``selection="confidence"``, the mean of all
    its teachers') and fits a fresh clone, the *student*, on the
    labelled plus pseudo-labelled rows. With ``n_rounds > 1`` each further round
    re-labels the same rows with the latest student and fits a new one. The last
    student makes every prediction.

    With ``sample_rate=0`` or no unlabelled rows this is exactly fitting
    ``estimator`` on the labelled rows: the teacher is the final model.

    Which selection to use:

    * ``"random"`` (the classic recipe) draws the rows at random. Cheap; right when
      the teacher is about equally good everywhere.
    * ``"confidence"`` lets the teachers' disagreement decide what to trust: it fits
      ``CONFIDENCE_TEACHERS`` extra teachers on K-fold parts of the labelled rows,
      never pseudo-labels the ``CONFIDENCE_DROP`` share of the pool they disagree on
      most, draws the rows at random from the rest, and labels them with the mean of
      all the teachers (an ensemble labels better than any one of its members). It
      costs those extra fits, and pays when the teacher is unstable (few labels, deep
      trees, boosters on small data) or the pool reaches outside the labelled data,
      since noisy pseudo-labels are what makes self-training hurt.

      It does not keep only the very surest rows: measured on three datasets and
      three families, a student taught the surest rows did worse than one taught a
      random draw with the same labels in most cases. The surest rows are the ones
      the labelled data already covers, so they teach nothing new, and they crowd
      into the easy range of the target (see ``benchmarks/RESULTS.md``).

    ``pseudo_weight < 1`` makes pseudo-labelled rows count less than true ones
    (it needs an estimator whose ``fit`` takes ``sample_weight``; pipelines route it
    to their last step).

    Parameters
    ----------
    estimator : regressor
        Any scikit-learn compatible regressor; it is cloned, never fitted itself.
    sample_rate : float, default=0.2
        Share of the unlabelled rows, in [0, 1], added with pseudo-labels.
    selection : {"random", "confidence"}, default="random"
        How the pseudo-labelled rows are chosen (see above).
    pseudo_weight : float in (0, 1], default=1.0
        Sample weight of each pseudo-labelled row; true rows weigh 1.
    n_rounds : int >= 1, default=1
        Self-training rounds: each re-labels the chosen rows with the latest model.
    random_state : int, RandomState instance or None, default=None
        Seeds the random selection and the confidence teachers' folds.

    Attributes
    ----------
    estimator_ : regressor
        The fitted student (or the teacher when no row was pseudo-labelled).
    teacher_ : regressor
        The fitted teacher, trained on the labelled rows only.
    round_estimators_ : list of regressors
        The student of each round, in order (empty when no row was pseudo-labelled).
    n_pseudo_labeled_ : int
        Number of pseudo-labelled rows the student was trained on.
    pseudo_labeled_indices_ : ndarray of int
        Positions, in ``X_unlabeled``, of the pseudo-labelled rows.
    unlabeled_spread_ : ndarray of float or None
        With ``selection="confidence"``: the confidence teachers' standard deviation
        for each unlabelled row (lower is surer); otherwise ``None``.
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
        "selection": [StrOptions(set(SELECTIONS))],
        "pseudo_weight": [Interval(Real, 0, 1, closed="right")],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, sample_rate=0.2, selection="random", pseudo_weight=1.0, n_rounds=1,
                 random_state=None):
        self.estimator = estimator
        self.sample_rate = sample_rate
        self.selection = selection
        self.pseudo_weight = pseudo_weight
        self.n_rounds = n_rounds
        self.random_state = random_state

    def fit(self, X, y, X_unlabeled=None, *, teacher=None):
        """Fit the teacher on ``(X, y)``, pseudo-label a sample of ``X_unlabeled``, fit the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Labelled rows.
        y : array-like of shape (n_samples,)
            Their true targets.
        X_unlabeled : array-like or DataFrame of shape (n_unlabeled, n_features), default=None
            Unlabelled rows of the same kind as ``X`` (same columns for a DataFrame).
        teacher : fitted regressor, default=None
            A teacher already fitted on exactly ``(X, y)`` (for instance one whose score
            was checked before paying for students); by default a clone of ``estimator``
            is fitted. It is used as is, never refitted.

        Returns
        -------
        self : PseudoLabelRegressor
        """
        self._validate_params()
        y = np.asarray(column_or_1d(y, warn=True), dtype="float64")
        rng = check_random_state(self.random_state)
        if teacher is None:
            teacher = clone(self.estimator).fit(X, y)
        else:
            check_is_fitted(teacher)
        self.teacher_ = teacher
        self.round_estimators_ = []
        self.pseudo_labeled_indices_ = np.empty(0, dtype=np.intp)
        self.unlabeled_spread_ = None

        n_unlabeled = 0 if X_unlabeled is None else _n_rows(X_unlabeled)
        n_pick = n_pseudo_labeled(self.sample_rate, n_unlabeled)
        if n_pick > 0:
            X_unlabeled = _aligned(X, X_unlabeled)
            if self.selection == "confidence":
                votes = confidence_teacher_predictions(self.estimator, X, y, X_unlabeled, random_state=rng)
                self.unlabeled_spread_ = np.std(votes, axis=0)
                picked = _draw_trusted(self.unlabeled_spread_, n_pick, rng)
                X_pseudo = _safe_indexing(X_unlabeled, picked)
                labels = np.vstack([votes[:, picked], _predict(teacher, X_pseudo)]).mean(axis=0)
            else:
                picked = np.sort(rng.choice(n_unlabeled, size=n_pick, replace=False))
                X_pseudo = _safe_indexing(X_unlabeled, picked)
                labels = _predict(teacher, X_pseudo)
            X_student = _stack_rows(X, X_pseudo)
            weight = None if self.pseudo_weight == 1 else np.r_[np.ones(len(y)), np.full(n_pick, float(self.pseudo_weight))]
            for round_ in range(1, self.n_rounds + 1):
                student = _fit_weighted(clone(self.estimator), X_student, np.concatenate([y, labels]), weight)
                self.round_estimators_.append(student)
                if round_ < self.n_rounds:
                    labels = _predict(student, X_pseudo)  # the next round learns from this one
            self.pseudo_labeled_indices_ = picked
        self.estimator_ = self.round_estimators_[-1] if self.round_estimators_ else self.teacher_
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


def n_pseudo_labeled(sample_rate: float, n_unlabeled: int) -> int:
    """How many of ``n_unlabeled`` rows a ``sample_rate`` pseudo-labels: ``floor(sample_rate * n_unlabeled)``."""
    return math.floor(round(sample_rate * n_unlabeled, 9))  # 0.29 * 100 is 28.99999...


def confidence_teacher_predictions(estimator, X, y: np.ndarray, X_unlabeled, *,
                                   n_teachers: int = CONFIDENCE_TEACHERS, random_state=None) -> np.ndarray:
    """The predictions of ``n_teachers`` teachers for every unlabelled row, shape ``(n_teachers, n_unlabeled)``.

    Each teacher is a clone of ``estimator`` fitted on all labelled rows but one K-fold
    part, so they see only the rows passed in: inside a cross-validation fold, nothing
    of the held-out rows. Their spread per row measures how sure the teacher is there.
    """
    n_splits = max(2, min(n_teachers, _n_rows(X)))
    folds = KFold(n_splits=n_splits, shuffle=True, random_state=check_random_state(random_state).randint(2**31 - 1))
    return np.vstack([_predict(clone(estimator).fit(_safe_indexing(X, train), y[train]), X_unlabeled)
                      for train, _ in folds.split(np.zeros((_n_rows(X), 1)))])


def _draw_trusted(spread: np.ndarray, n_pick: int, rng: np.random.RandomState) -> np.ndarray:
    """``n_pick`` sorted positions drawn at random among the rows whose ``spread`` is not in the top ``CONFIDENCE_DROP``."""
    n_trusted = max(n_pick, len(spread) - math.floor(CONFIDENCE_DROP * len(spread)))
    trusted = np.argsort(spread, kind="stable")[:n_trusted]
    return np.sort(rng.choice(trusted, size=n_pick, replace=False))


def _predict(estimator, X) -> np.ndarray:
    """``estimator``'s predictions for ``X`` as a flat float array. Under a study's time budget (see
    :meth:`automl_pl.budget.TimeBudget.fits_end_in_time`) a large pool is predicted in parts of
    :data:`PREDICT_CHUNK` rows with the time checked between them: a pool of many thousand rows can
    take longer than the fit (kNN, deep forests on a busy machine), and no model stops its own predict."""
    n_rows = _n_rows(X)
    if fit_deadline() is None or n_rows <= PREDICT_CHUNK:
        return np.asarray(estimator.predict(X), dtype="float64").ravel()
    parts = []
    for start in range(0, n_rows, PREDICT_CHUNK):
        check_fit_time()
        part = _safe_indexing(X, np.arange(start, min(start + PREDICT_CHUNK, n_rows)))
        parts.append(np.asarray(estimator.predict(part), dtype="float64").ravel())
    return np.concatenate(parts)


def _fit_weighted(estimator, X, y: np.ndarray, sample_weight: np.ndarray | None):
    """Fit ``estimator``, routing ``sample_weight`` through nested pipelines to the final step.

    For a pipeline whose last step is a pipeline the key is ``model__model__sample_weight``, and so on.
    """
    if sample_weight is None:
        return estimator.fit(X, y)
    final, names = estimator, []
    while isinstance(final, Pipeline):
        name, final = final.steps[-1]
        names.append(name)
    if not has_fit_parameter(final, "sample_weight"):
        raise ValueError(f"{type(final).__name__}.fit takes no sample_weight, so pseudo_weight must be 1.0.")
    # ``step__sample_weight`` is the routing of pipelines without metadata routing: a caller who turned it on
    # (sklearn.set_config(enable_metadata_routing=True), to route X_unlabeled to AutoPLRegressor) must not break it.
    with config_context(enable_metadata_routing=False):
        return estimator.fit(X, y, **{"__".join([*names, "sample_weight"]): sample_weight})


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


def _stack_rows(X, X_more):
    if isinstance(X, pd.DataFrame):
        return pd.concat([X, X_more], ignore_index=True)
    if sp.issparse(X) or sp.issparse(X_more):
        return sp.vstack([X, X_more], format="csr")
    return np.concatenate([np.asarray(X), np.asarray(X_more)])
