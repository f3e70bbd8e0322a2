"""result.leaderboard() and `automl-pl leaderboard`: one row per trial of the study, or per family."""

from __future__ import annotations

import math

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from automl_pl import tune
from automl_pl.cli import main
from automl_pl.leaderboard import FAMILY_COLUMNS, TRIAL_COLUMNS, leaderboard
from automl_pl.spec import load_data, load_spec


@pytest.fixture(scope="module")
def result(make_data):
    X, y = make_data(160, seed=5)
    pool, _ = make_data(80, seed=6)
    return tune(X, y, X_unlabeled=pool, models=["ridge", "lightgbm"], n_trials=5, cv=2, cv_repeats=1,
                show_progress_bar=False, n_jobs=1, random_state=0)


def test_one_row_per_trial_with_what_the_trial_recorded(result):
    board = result.leaderboard()
    trials = {t.number: t for t in result.study.trials}
    assert list(board.columns) == list(TRIAL_COLUMNS)
    assert sorted(board["trial"]) == sorted(trials)
    for row in board.itertuples():
        trial = trials[row.trial]
        assert row.family == trial.params["model"] and row.state == trial.state.name.lower()
        if trial.state == TrialState.COMPLETE:
            assert row.cv_rmse == trial.value
            assert row.supervised_cv_rmse == trial.user_attrs["supervised_cv_rmse"]
            assert row.fit_seconds == trial.user_attrs["fit_seconds"]
            assert row.sample_rate == trial.params["sample_rate"]
        # LightGBM records its trees per fold; ridge has none.
        assert math.isnan(row.n_trees) == (row.family == "ridge" or trial.state != TrialState.COMPLETE)
    complete = board[board["state"] == "complete"]
    assert list(complete["cv_rmse"]) == sorted(complete["cv_rmse"])  # best first
    assert board.iloc[0]["trial"] == result.best_trial.number


def test_the_final_models_weights_are_in_the_board(result):
    board = result.leaderboard()
    weighted = board.dropna(subset=["final_weight"])
    assert dict(zip(weighted["trial"], weighted["final_weight"])) == pytest.approx(result.members_)


def test_one_row_per_family_sums_the_trials(result):
    families = result.leaderboard(by="family")
    board = result.leaderboard()
    assert list(families.columns) == list(FAMILY_COLUMNS)
    assert families["trials"].sum() == len(result.study.trials)
    for row in families.itertuples():
        mine = board[(board["family"] == row.family) & (board["state"] == "complete")]
        assert row.best_cv_rmse == mine["cv_rmse"].min() and row.complete == len(mine)
    assert families.iloc[0]["best_trial"] == result.best_trial.number
    with pytest.raises(ValueError, match="by must be one of"):
        result.leaderboard(by="model")


def test_a_duplicate_says_why_it_was_pruned(X, y):
    fixed = {"model": "ridge", "ridge_alpha": 1.0, "sample_rate": 0.0}  # the second draw repeats the first
    result = tune(X, y, models=["ridge"], fixed_params=fixed, n_trials=2, cv=2, cv_repeats=1,
                  show_progress_bar=False, n_jobs=1)
    board = result.leaderboard()
    pruned = board[board["state"] == "pruned"]
    assert list(pruned["pruned_by"]) == ["duplicate"] and math.isnan(pruned.iloc[0]["cv_rmse"])


def test_an_empty_study_has_an_empty_board():
    study = optuna.create_study()
    assert leaderboard(study).empty and leaderboard(study, by="family").empty


def test_the_cli_prints_and_writes_the_board(tmp_path, capsys):
    spec = tmp_path / "lb.toml"
    spec.write_text('[data]\ndataset = "diabetes"\nlabeled_fraction = 0.5\n[study]\nn_trials = 3\ncv = 2\n'
                    'models = ["ridge"]\n')
    X, y, pool = load_data(load_spec(spec))
    study = tune(X, y, X_unlabeled=pool, models=["ridge"], n_trials=3, cv=2, cv_repeats=1, storage=load_spec(spec).storage,
                 study_name="lb", show_progress_bar=False, n_jobs=1).study
    assert main(["leaderboard", str(spec), "-o", str(tmp_path / "board.csv")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:3] == ["trial", "family", "state"]
    assert len(printed) == 1 + len(study.trials)
    written = pd.read_csv(tmp_path / "board.csv")
    assert sorted(written["trial"]) == [t.number for t in study.trials]
    assert main(["leaderboard", str(spec), "--by", "family"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["ridge", "3"]
    assert main(["leaderboard", str(spec), "--study-name", "missing"]) == 1
    assert "no study named 'missing'" in capsys.readouterr().err
