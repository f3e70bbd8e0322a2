"""Resume a study: the same storage and study name continue it; n_trials is the study's total.

    python examples/resume_study.py
"""

from __future__ import annotations

import automl_pl
from automl_pl.datasets import hide_labels, load_dataset

X, y = load_dataset("tips")
X_labeled, y_labeled, X_unlabeled = hide_labels(X, y, labeled_fraction=0.5, random_state=0)
settings = dict(X_unlabeled=X_unlabeled, models=["ridge", "lightgbm"], storage="sqlite:///studies/resume_example.db",
                study_name="resume_example", random_state=0, show_progress_bar=False)

first = automl_pl.tune(X_labeled, y_labeled, n_trials=8, **settings)
print(f"first run: {len(first.study.trials)} trials, best CV RMSE {first.cv_rmse:.4f}")

# Later, maybe after a crash or on another day: ask for a total of 16.
second = automl_pl.tune(X_labeled, y_labeled, n_trials=16, **settings)
print(f"resumed: {len(second.study.trials)} trials, best CV RMSE {second.cv_rmse:.4f}")
