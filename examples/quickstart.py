"""Quickstart: tune, refit, export, load and predict on data bundled with plotly.

    python examples/quickstart.py

Life expectancy (Gapminder): 30% of the rows keep their label, the other 70% are the
unlabelled pool the study may pseudo-label; those are also the rows we predict.
"""

from __future__ import annotations

import numpy as np

import automl_pl
from automl_pl.datasets import hide_labels, load_dataset

X, y = load_dataset("gapminder")
X_labeled, y_labeled, X_unlabeled = hide_labels(X, y, labeled_fraction=0.3, random_state=0)

result = automl_pl.tune(
    X_labeled, y_labeled, X_unlabeled=X_unlabeled,
    models=["lightgbm", "hist_gradient_boosting", "ridge"],  # None tries every installed family
    n_trials=20, cv=5, storage="sqlite:///studies/quickstart.db", study_name="quickstart", random_state=0,
)
print(result.summary())

path = result.export("models/quickstart")
model = automl_pl.load_model(path)
predictions = model.predict(X_unlabeled)
assert np.allclose(predictions, result.best_estimator_.predict(X_unlabeled))
print(f"exported to {path}; first predictions: {np.round(predictions[:5], 2)}")
