"""TimeBudget: the end, what is kept for the final model, and how long a fold is foreseen to take."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest

from automl_pl.budget import FINISH_MARGIN, UNSTOPPABLE_MARGIN, OutOfTime, TimeBudget, check_fit_time, fit_deadline
from automl_pl.models._base import ModelFamily


def _family(name: str, *, relative_cost: float = 1.0, stops_on_time: bool = False) -> ModelFamily:
    return ModelFamily(name=name, prefix=f"{name}_", suggest=lambda trial, n_rows: {}, build=lambda params, **kw: None,
                       relative_cost=relative_cost, stops_on_time=stops_on_time)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_unlimited_budget_always_fits():
    budget = TimeBudget.unlimited()
    assert not budget.limited and budget.trials_end is None and budget.seconds_left() is None
    assert budget.fits(1e9) and budget.trials_left() == math.inf and not budget.closed


def test_reserves_for_several_purposes_add_up_and_one_may_be_handed_back():
    budget = TimeBudget(100.0, finish_margin=0.0, clock=Clock())
    budget.reserve(10.0)
    budget.reserve(6.0, purpose="teacher round", grow_only=False)
    assert budget.reserved == 16.0 and budget.trials_left() == pytest.approx(84.0)
    budget.reserve(0.0, purpose="teacher round", grow_only=False)  # the round no longer fits: its time goes back
    budget.reserve(2.0)  # the refit's only grows
    assert budget.reserved == 10.0 and budget.trials_left() == pytest.approx(90.0)


def test_the_trials_end_a_margin_and_the_reserve_before_the_end():
    clock = Clock()
    budget = TimeBudget(100.0, clock=clock)
    assert budget.end == 1100.0
    assert budget.trials_left() == pytest.approx(100.0 * (1 - FINISH_MARGIN))
    budget.reserve(10.0)
    budget.reserve(4.0)  # only ever grows
    assert budget.reserved == 10.0 and budget.trials_left() == pytest.approx(87.0)
    clock.now += 50.0
    assert budget.seconds_left() == pytest.approx(50.0) and budget.fits(30.0) and not budget.fits(40.0)
    clock.now += 40.0
    assert budget.closed and not budget.fits(0.0)  # the trials' time is spent; the final model's is not
    assert budget.seconds_left() == pytest.approx(10.0)


def test_closing_stops_every_fold_from_starting():
    budget = TimeBudget(100.0)
    budget.close()
    assert budget.closed and not budget.fits(0.0) and budget.trials_end <= time.monotonic()


def test_time_spent_before_the_study_counts():
    budget = TimeBudget(10.0, started=time.monotonic() - 20.0)
    assert budget.closed and budget.seconds_left() < 0


def test_fits_under_a_budget_stop_at_its_trials_end():
    assert fit_deadline() is None
    check_fit_time()  # outside a budget: never out of time
    with TimeBudget(1.0, started=time.monotonic() - 5.0).fits_end_in_time():
        assert fit_deadline() is not None
        with pytest.raises(OutOfTime):
            check_fit_time()
    with TimeBudget(60.0).fits_end_in_time():
        check_fit_time()
    assert fit_deadline() is None


def test_a_family_that_stops_on_time_is_foreseen_by_its_quickest_fold_one_that_cannot_by_its_slowest():
    budget = TimeBudget(60.0)
    stopping, unstoppable = _family("stopping", stops_on_time=True), _family("unstoppable")
    for family in (stopping, unstoppable):
        budget.time_fold(family, 1.0, 100)  # a fold of 100 rows took 1 s ...
        budget.time_fold(family, 3.0, 100)  # ... and once, on a busy machine, 3 s
    assert budget.expected_fold(stopping, 200) == pytest.approx(2.0)
    assert budget.expected_fold(unstoppable, 200) == pytest.approx(UNSTOPPABLE_MARGIN * 6.0)


def test_a_family_that_cannot_stop_is_foreseen_from_its_folds_of_comparable_size():
    """A linear model's fold is mostly fixed cost: 0.05 s on 160 rows, 0.25 s on 1,000. Foreseen
    per row from the small fold, 1,100 rows would take 0.34 s; from the fold of comparable size, 0.28 s."""
    budget = TimeBudget(60.0)
    linear = _family("linear")
    budget.time_fold(linear, 0.05, 160)
    budget.time_fold(linear, 0.25, 1000)
    assert budget.expected_fold(linear, 1100) == pytest.approx(UNSTOPPABLE_MARGIN * 0.25 * 1.1)
    assert budget.expected_fold(linear, 150) == pytest.approx(UNSTOPPABLE_MARGIN * 0.05 * 150 / 160)
    assert budget.expected_fold(linear, 5000) == pytest.approx(UNSTOPPABLE_MARGIN * 0.25 * 5)  # the nearest in size
    budget.time_fold(linear, 0.6, 1200)  # once, on a busy machine: the slowest of comparable size counts
    assert budget.expected_fold(linear, 1100) == pytest.approx(UNSTOPPABLE_MARGIN * 0.6 * 1100 / 1200)


def test_a_configuration_is_timed_by_its_work():
    """Twice the trees take twice the time: the fold of a heavier configuration is foreseen."""
    budget = TimeBudget(60.0)
    family = _family("boost", stops_on_time=True)
    budget.time_fold(family, 2.0, 100, 50)  # a fold of 100 rows at work 50 took 2 s
    assert budget.expected_fold(family, 100, 500) == pytest.approx(20.0)
    assert budget.expected_fold(family, 200, None) == pytest.approx(4.0)  # without work: by rows only


def test_a_family_not_seen_yet_is_foreseen_from_comparable_families_and_its_relative_cost():
    budget = TimeBudget(60.0)
    linear = _family("linear", relative_cost=0.1)
    quick, slow = _family("quick", stops_on_time=True), _family("slow", stops_on_time=True)
    heavy = _family("heavy", relative_cost=20.0, stops_on_time=True)
    cheap = _family("cheap", relative_cost=0.5)
    families = {f.name: f for f in (linear, quick, slow, heavy, cheap)}
    assert budget.expected_fold(heavy, 100, families=families) == 0.0  # nothing timed yet: no guess
    budget.time_fold(linear, 0.1, 100)  # mostly fixed overhead: 10x a booster's time for a tenth of its cost
    assert budget.expected_fold(heavy, 100, families=families) == 0.0  # not comparable to a booster
    budget.time_fold(quick, 1e-3, 100)
    budget.time_fold(slow, 4e-3, 100)
    # A family that stops on time: the quickest comparable family for its cost, scaled.
    assert budget.expected_fold(heavy, 100, families=families) == pytest.approx(20 * 1e-3)
    # One that cannot: every timed family, the slowest for its cost, with the margin.
    assert budget.expected_fold(cheap, 100, families=families) == pytest.approx(UNSTOPPABLE_MARGIN * 0.5 * 1.0)


def test_the_quickest_trial_is_of_the_family_foreseen_quickest():
    budget = TimeBudget(60.0)
    quick, slow = _family("quick", stops_on_time=True), _family("slow", stops_on_time=True)
    budget.time_fold(quick, 0.01, 100)
    budget.time_fold(slow, 1.0, 100)
    families = {"slow": slow, "quick": quick}
    assert budget.quickest_trial(families, rows=100, n_folds=5) == ("quick", pytest.approx(0.05))
    untimed = dataclasses.replace(quick, name="untimed", relative_cost=0.5)  # foreseen from the quick one
    name, seconds = budget.quickest_trial({**families, "untimed": untimed}, rows=100, n_folds=5)
    assert name == "untimed" and seconds == pytest.approx(0.025)
