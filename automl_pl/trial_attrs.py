"""The names of what automl_pl records on trials and studies (Optuna user attributes), in one place.

The dashboard, the report, a resumed study and other workers read these names from the storage:
changing one changes the format of every study written from then on.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------------- per trial
FOLD_RMSE = "fold_rmse"
"""RMSE of each fold of the round the trial chose."""
SUPERVISED_FOLD_RMSE = "supervised_fold_rmse"
"""RMSE of each fold's teacher (no pseudo-labels)."""
SUPERVISED_CV_RMSE = "supervised_cv_rmse"
"""The teachers' CV RMSE: the trial's score without pseudo-labels, at no extra fit."""
CV_RMSE_BY_ROUND = "cv_rmse_by_round"
"""CV RMSE of the teachers (round 0) and of each round of students."""
BEST_N_ROUNDS = "best_n_rounds"
"""The round the trial chose: 0 when the teachers won."""
N_PSEUDO_LABELED = "n_pseudo_labeled"
"""Unlabelled rows pseudo-labelled per fold."""
N_TREES = "n_trees"
"""A booster's trees per fold (its best iteration when it stopped early)."""
FIT_SECONDS = "fit_seconds"
"""Seconds the trial's folds took."""
FAIL_REASON = "fail_reason"
"""Why a failed trial failed."""
PRUNED_BY = "pruned_by"
"""Why a pruned trial was pruned, when not by the pruner: one of the ``PRUNED_*`` values below."""
MIX_GAIN = "mix_gain"
"""Set on a trial the pruner would have stopped that went on because mixing it into the ensemble lowered
the MSE on the rows validated so far by this share (the last such fold's; see :mod:`automl_pl.mix_gain`)."""
DUPLICATE_OF = "duplicate_of"
"""The trial that already evaluated a duplicate's configuration, or gave a same-model trial's model."""
FIRST_FOLD_SKETCH = "first_fold_sketch"
"""A sketch of the first fold's teacher predictions, by which later draws find the same model
(see :func:`automl_pl.duplicates.prediction_sketch`)."""
WORKER = "worker"
"""``host:pid`` of the process that ran the trial."""
SURPLUS = "surplus"
"""Set on a trial that stepped aside because other workers had claimed the study's total."""

# ------------------------------------------------------------------------ values of PRUNED_BY
PRUNED_FOR_TIME = "deadline"
"""Cut for time: its folds were not foreseen to end in the time left, or a fit was stopped."""
PRUNED_BY_TEACHER_GATE = "teacher_gate"
"""Its teachers trailed the best trial too far for pseudo-labels to catch up."""
PRUNED_AS_DUPLICATE = "duplicate"
"""Its configuration was already evaluated (see :mod:`automl_pl.duplicates`)."""
PRUNED_AS_SAME_MODEL = "same_model"
"""Other parameters, but its first fold gave the model an evaluated trial gave (see :mod:`automl_pl.duplicates`)."""
PRUNED_AS_FAILING = "failing_family"
"""Its family failed its first trials and never completed one: not fitted again (see :mod:`automl_pl.duplicates`)."""
PRUNED_AS_EXHAUSTED = "exhausted"
"""Its family had stopped giving new models (not set by this version; kept so that studies that
recorded it are read right)."""

# ---------------------------------------------------------------------- values of FAIL_REASON
INTERRUPTED = "interrupted"
"""Stopped by Ctrl-C (KeyboardInterrupt): the next run of the study makes the trial up."""

# ----------------------------------------------------------------------------------- per study
SETTINGS = "automl_pl"
"""The study's data fingerprint, folds, seed, version, target and features."""
ENSEMBLE = "ensemble"
"""The trials of the final model and their weights."""
TEACHER_ROUND = "teacher_round"
"""What the ensemble-as-teacher round did (see :mod:`automl_pl.teacher`): kept or not, the out-of-fold
RMSE before and after, the trials refitted as students, or why it was skipped."""
FEATURE_IMPORTANCE = "feature_importance"
"""The final model's feature importance (see :mod:`automl_pl.importance`), for the best trial it was measured for."""
