"""AutoPLRegressor as any scikit-learn regressor: fit, score, leaderboard, feature importance, GridSearchCV.

    python examples/estimator.py

Diabetes progression (scikit-learn's diabetes data, 442 rows): 150 rows keep their label, the
rest are unlabelled rows the study may pseudo-label. About 20 seconds on 2 idle cores.
"""

from __future__ import annotations

import sklearn
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split

from automl_pl import AutoPLRegressor

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=150, random_state=0)

# 1. fit / predict / score, as with FLAML's AutoML().fit(X, y, time_budget=...). X_test has no labels to leak:
#    the study may pseudo-label it.
model = AutoPLRegressor(time_budget=8, models=["ridge", "lightgbm", "knn"], cv=5, random_state=0)
model.fit(X_train, y_train, X_unlabeled=X_test)
print(f"best: {model.best_params_['model']}, CV RMSE {model.cv_rmse_:.2f}, "
      f"R² on the held-out rows {model.score(X_test, y_test):.3f}, {model.n_trials_} trials")

# 2. The leaderboard (AutoGluon's predictor.leaderboard()): every trial, and every family.
print(model.leaderboard_[["trial", "family", "state", "cv_rmse", "supervised_cv_rmse", "sample_rate",
                          "fit_seconds", "pruned_by"]].head(8).to_string(index=False))
print(model.result_.leaderboard(by="family").to_string(index=False))

# 3. Feature importance of the final model: RMSE growth when a feature is shuffled, out of fold.
print(model.feature_importance()[["feature", "importance", "stddev", "gain"]].head(5).to_string(index=False))

# 4. scikit-learn's tools, with the unlabelled rows routed as metadata.
sklearn.set_config(enable_metadata_routing=True)
quick = AutoPLRegressor(time_budget=None, n_trials=3, models=["ridge"], cv=3, random_state=0)
quick.set_fit_request(X_unlabeled=True)
scores = cross_val_score(quick, X_train, y_train, cv=KFold(3), params={"X_unlabeled": X_test})
print(f"cross_val_score R²: {scores.round(3)}")
search = GridSearchCV(quick, {"models": [["ridge"], ["knn"]]}, cv=2).fit(X_train, y_train, X_unlabeled=X_test)
print(f"GridSearchCV chose models={search.best_params_['models']} (R² {search.best_score_:.3f})")
