"""The report's data, gathered from a study's trials (the figures only draw it)."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

import automl_pl
from automl_pl.report import (
    FamilySummary,
    family_summaries,
    gather_trials,
    sample_rate_curves,
    write_report,
)

DISTRIBUTIONS = {
    "model": CategoricalDistribution(["ridge", "lightgbm"]),
    "sample_rate": FloatDistribution(0.0, 1.0, step=0.05),
    "selection": CategoricalDistribution(["random", "confidence"]),
}
# (family, sample_rate, selection, value, supervised)
TRIALS = [
    ("ridge", 0.0, None, 10.0, 10.0),
    ("ridge", 0.5, "random", 9.0, 10.0),      # -10%
    ("ridge", 0.5, "confidence", 8.0, 10.0),  # -20%, best ridge
    ("lightgbm", 0.0, None, 7.0, 7.0),        # best overall
    ("lightgbm", 1.0, "random", 7.7, 7.0),    # +10%
]


@pytest.fixture
def study() -> optuna.Study:
    study = optuna.create_study(direction="minimize", study_name="report")
    for family, rate, selection, value, supervised in TRIALS:
        params = {"model": family, "sample_rate": rate, **({"selection": selection} if selection else {})}
        study.add_trial(create_trial(value=value, params=params,
                                     distributions={k: DISTRIBUTIONS[k] for k in params},
                                     user_attrs={"supervised_cv_rmse": supervised}))
    study.add_trial(create_trial(state=TrialState.FAIL, params={"model": "ridge"},
                                 distributions={"model": DISTRIBUTIONS["model"]}))
    return study


def test_gather_keeps_completed_trials_only(study):
    points = gather_trials(study)
    assert [(p.family, p.sample_rate, p.selection, p.value, p.supervised) for p in points] == [
        (f, r, s or "none", v, sup) for f, r, s, v, sup in TRIALS
    ]


def test_sample_rate_curves_keep_the_best_per_rate(study):
    assert sample_rate_curves(gather_trials(study)) == {
        "lightgbm": [(0.0, 7.0), (1.0, 7.7)],
        "ridge": [(0.0, 10.0), (0.5, 8.0)],
    }


def test_family_summaries_rank_families_and_measure_the_gain(study):
    summaries = family_summaries(gather_trials(study))
    assert summaries == [
        FamilySummary("lightgbm", 2, 7.0, 3, 0.0, pytest.approx(10.0)),
        FamilySummary("ridge", 3, 8.0, 2, 0.5, pytest.approx(-15.0)),
    ]


def test_report_page_is_self_contained(study, tmp_path):
    path = write_report(study, tmp_path / "out" / "report.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for title in ("CV RMSE against pseudo-label sample rate", "Pseudo-labelled vs supervised", "Model families",
                  "Optimization History", "Hyperparameter Importances"):
        assert title in page
    # plotly.js is inlined (megabytes of it), not fetched: the page works offline.
    assert '<script src="http' not in page and len(page) > 1_000_000 and "Plotly.newPlot" in page
    assert "<td>ridge</td><td>3</td><td>8</td><td>#2</td>" in page
    assert list((tmp_path / "out").iterdir()) == [path]  # no staging file left behind


def test_report_on_a_study_without_completed_trials_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no completed trial"):
        write_report(optuna.create_study(study_name="empty"), tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_plot_functions_are_public_and_draw(study):
    for plot in (automl_pl.plot_sample_rate, automl_pl.plot_pseudo_vs_supervised, automl_pl.plot_family_comparison,
                 automl_pl.plot_optimization_history, automl_pl.plot_param_importances):
        assert plot(study).data  # a figure with traces
