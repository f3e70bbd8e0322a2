"""AutoPLRegressor: :func:`automl_pl.tune` as a scikit-learn estimator.

What FLAML's ``AutoML().fit(X, y, time_budget=...)`` and AutoGluon's ``TabularPredictor.fit`` are to
their users: one object that searches model families, hyperparameters and pseudo-label settings in
``fit`` and predicts with the final model, and that scikit-learn's tools (``clone``, ``Pipeline``,
``cross_val_score``, ``GridSearchCV``) can handle like any regressor. Every ``fit`` runs a fresh
study; nothing is resumed.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from automl_pl.data import check_unique_columns
from automl_pl.portfolio import Portfolio
from automl_pl.study import tune


class AutoPLRegressor(RegressorMixin, BaseEstimator):
    """AutoML regressor with pseudo-labelling: a fresh Optuna study in every ``fit``, within ``time_budget`` seconds.

    ``fit(X, y, X_unlabeled=None)`` tunes the model family, its hyperparameters and the
    pseudo-label settings jointly by cross-validated RMSE (see :func:`automl_pl.tune`) and keeps
    the final model: the best trial's fold models, or a weighted ensemble of the best trials. The
    unlabelled rows (the rows to predict, say) are what the trials may pseudo-label; they never
    need a target.

    Parameters
    ----------
    time_budget : float or None, default=60
        Seconds for the whole ``fit``, final model included (FLAML's ``time_budget``, AutoGluon's
        ``time_limit``); ``None`` for no limit (then give ``n_trials``).
    n_trials : int or None, default=None
        The most trials to run; ``None`` runs until ``time_budget``.
    models : list of str or None, default=None
        Model families to choose from (``"lightgbm"``, ``"xgboost"``, ``"catboost"``,
        ``"random_forest"``, ``"ridge"``, ...; see ``automl_pl.models.FAMILIES``), FLAML's
        ``estimator_list``; ``None`` for every installed family.
    cv : int, default=5
        Folds of the cross-validation that scores each trial.
    cv_repeats : int or None, default=None
        Runs of the K-fold, each shuffled anew; ``None`` repeats it on few rows only.
    random_state : int, default=0
        Seeds folds, sampler, models and pseudo-label draws.
    n_jobs : int or None, default=None
        The most threads per model; ``None`` for every core this process may use.
    ensemble : bool, default=True
        Use a weighted ensemble of the best trials when it scores better out of fold.
    stacking : bool, default=True
        With ``ensemble``, let a stack layer replace the weighted mean when it wins on held-out rows.
    bagging : bool, default=True
        The final model is the mean of each trial's fold models; ``False`` refits on all rows.
    fixed_params : dict or None, default=None
        Study dimensions held at a value, e.g. ``{"sample_rate": 0.0}`` for no pseudo-labels.
    portfolio : "default", list of dict or None, default="default"
        The configurations each study runs first (see :mod:`automl_pl.portfolio`); ``None`` for the
        families' defaults only.
    teacher_round : bool, default=False
        After the trials, let the final model teach its heaviest members once more, kept only when
        the out-of-fold RMSE drops (see :mod:`automl_pl.teacher`); needs ``X_unlabeled``.
    pruner : optuna pruner or None, default=None
        Stops a trial after a fold whose running CV RMSE it finds poor; ``None`` for
        :func:`automl_pl.study.default_pruner` (the median pruner), ``optuna.pruners.NopPruner()`` to
        run every fold of every trial.
    storage : str, optuna storage or None, default=None
        Where each ``fit`` keeps its study (a new study with a name of its own every time);
        ``None`` keeps it in memory.
    verbosity : int, default=0
        0 silent (scikit-learn's habit: ``GridSearchCV`` fits many); 1 warnings and a summary per
        ``fit``; 2 also one line per trial; 3 also Optuna's own log (as :func:`automl_pl.tune`).

    Attributes
    ----------
    result_ : TuneResult
        What :func:`automl_pl.tune` returned: summary, export, feature importance.
    study_ : optuna.Study
        The study this ``fit`` ran.
    model_ : EnsembleRegressor
        The final model; ``predict`` calls it.
    leaderboard_ : pandas.DataFrame
        One row per trial, best first (see :func:`automl_pl.leaderboard.leaderboard`).
    best_params_ : dict
        The best trial's parameters, ``model`` (the family) and ``sample_rate`` included.
    cv_rmse_ : float
        The best trial's cross-validated RMSE.
    n_trials_ : int
        Trials the study ran.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit``, when ``X`` has string column names.

    See Also
    --------
    automl_pl.tune : the same search as a function, with resumable studies.
    automl_pl.PseudoLabelRegressor : pseudo-labelling around one given regressor.

    Notes
    -----
    In scikit-learn's meta-estimators, pass the unlabelled rows as metadata: call
    ``sklearn.set_config(enable_metadata_routing=True)`` and ``set_fit_request(X_unlabeled=True)``,
    then ``GridSearchCV(...).fit(X, y, X_unlabeled=pool)`` or ``cross_val_score(..., params={"X_unlabeled": pool})``.
    They pass it on as it is: transformers placed before this estimator in a ``Pipeline`` do not
    transform it, and a pool with exactly as many rows as ``X`` would be split into folds like ``X``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from automl_pl import AutoPLRegressor
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = AutoPLRegressor(time_budget=None, n_trials=2, models=["ridge"], cv=3, n_jobs=1)
    >>> model.fit(X[:300], y[:300], X_unlabeled=X[300:]).best_params_["model"]
    'ridge'
    >>> model.predict(X[300:]).shape
    (142,)
    """

    _parameter_constraints: dict = {
        "time_budget": [Interval(Real, 0, None, closed="neither"), None],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "models": [list, tuple, None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "cv_repeats": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Interval(Integral, 1, None, closed="left"), None],
        "ensemble": ["boolean"],
        "stacking": ["boolean"],
        "bagging": ["boolean"],
        "fixed_params": [dict, None],
        "portfolio": [StrOptions({"default"}), list, tuple, Portfolio, None],
        "teacher_round": ["boolean"],
        "pruner": [optuna.pruners.BasePruner, None],
        "storage": [str, optuna.storages.BaseStorage, None],
        "verbosity": [Interval(Integral, 0, 3, closed="both")],
    }

    def __init__(self, *, time_budget=60, n_trials=None, models=None, cv=5, cv_repeats=None, random_state=0,
                 n_jobs=None, ensemble=True, stacking=True, bagging=True, fixed_params=None, portfolio="default",
                 teacher_round=False, pruner=None, storage=None, verbosity=0):
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.models = models
        self.cv = cv
        self.cv_repeats = cv_repeats
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.ensemble = ensemble
        self.stacking = stacking
        self.bagging = bagging
        self.fixed_params = fixed_params
        self.portfolio = portfolio
        self.teacher_round = teacher_round
        self.pruner = pruner
        self.storage = storage
        self.verbosity = verbosity

    def fit(self, X, y, X_unlabeled=None):
        """Run a fresh study on ``(X, y)`` and the unlabelled rows; keep its final model.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Labelled rows: numeric, categorical and missing values are fine in a DataFrame.
        y : array-like of shape (n_samples,)
            Their numeric target.
        X_unlabeled : DataFrame or array-like of shape (n_unlabeled, n_features), default=None
            Unlabelled rows with the same columns, which trials may pseudo-label.

        Returns
        -------
        self : AutoPLRegressor
        """
        self._validate_params()
        if y is None:
            raise ValueError("AutoPLRegressor requires y to be passed, but the target y is None: pass the labelled "
                             "rows' targets, and any rows without a target as X_unlabeled.")
        if self.time_budget is None and self.n_trials is None:
            raise ValueError("AutoPLRegressor needs time_budget (seconds), n_trials or both; with neither the "
                             "search would never end. E.g. AutoPLRegressor(time_budget=60).")
        frame = self._frame(X, reset=True)
        if len(frame) < self.cv:
            raise ValueError(f"AutoPLRegressor(cv={self.cv}) needs at least {self.cv} labelled rows for its folds, "
                             f"got n_samples={len(frame)}. Add labelled rows or lower cv.")
        pool = None if X_unlabeled is None else self._frame(X_unlabeled, reset=False, what="X_unlabeled")
        target = y if isinstance(y, pd.Series) else column_or_1d(y, warn=True)
        result = tune(
            frame, target, X_unlabeled=pool, models=None if self.models is None else list(self.models),
            n_trials=self.n_trials, timeout=self.time_budget, cv=self.cv, cv_repeats=self.cv_repeats,
            storage=self.storage, random_state=self.random_state, n_jobs=self.n_jobs,
            fixed_params=self.fixed_params, show_progress_bar=False, verbosity=self.verbosity, ensemble=self.ensemble,
            stacking=self.stacking, bagging=self.bagging, portfolio=self.portfolio, teacher_round=self.teacher_round,
            pruner=self.pruner,
        )
        self.result_ = result
        self.study_ = result.study
        self.model_ = result.best_estimator_
        self.best_params_ = result.best_params
        self.cv_rmse_ = result.cv_rmse
        self.leaderboard_ = result.leaderboard()
        self.n_trials_ = len(result.study.trials)
        return self

    def predict(self, X) -> np.ndarray:
        """Predict the target of ``X`` with the final model.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows with the columns ``fit`` saw.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.model_.predict(self._frame(X, reset=False))

    def feature_importance(self, **options) -> pd.DataFrame | None:
        """The final model's feature importance (see :meth:`automl_pl.TuneResult.feature_importance`)."""
        check_is_fitted(self)
        return self.result_.feature_importance(**options)

    def _frame(self, X, *, reset: bool, what: str = "X") -> pd.DataFrame:
        """``X`` as a DataFrame with the feature names ``fit`` saw (``x0``, ``x1``, ... for an array).

        A DataFrame is passed on as it is (automl_pl checks its columns and dtypes itself); an array is
        checked by scikit-learn's rules first (2-D, dense, not complex; missing values allowed).
        scikit-learn's errors about another argument than ``X`` say which (``what``).
        """
        if isinstance(X, pd.DataFrame):
            check_unique_columns(X, what=what)  # before scikit-learn, whose message names no column
        try:
            if isinstance(X, pd.DataFrame):
                validate_data(self, X, reset=reset, skip_check_array=True)  # n_features_in_, feature_names_in_
                named = all(isinstance(c, str) for c in X.columns)
                return X if named else X.set_axis([str(c) for c in X.columns], axis=1)
            array = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")
        except ValueError as exc:
            if what == "X":
                raise
            raise ValueError(f"{what}: {exc}") from None
        names = getattr(self, "feature_names_in_", None)
        columns = list(names) if names is not None else [f"x{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array, columns=columns).infer_objects()  # an object array of numbers holds numbers

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values are a category or imputed, per family
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.time_budget is not None  # how many trials fit in it depends on the machine
        return tags
