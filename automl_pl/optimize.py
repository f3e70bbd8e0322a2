"""Running trials until the study's total or the deadline: one process, or many workers on one study.

Optuna's own ``n_trials`` counts the trials of one process. A study shared by several
workers needs a total that holds across all of them, so two rules make it exact:

* a worker starts trials only while finished plus running trials fall short of the
  total; otherwise it waits, since a running trial may still fail (or its worker die)
  and leave a place to fill. Without heartbeats (a journal file) a dead worker's trial
  would stay "running" for ever, so there the worker leaves the last trials to the
  workers running them instead of waiting;
* trial numbers are unique and dense in every Optuna storage, so a trial that finds
  the total already claimed by lower-numbered trials (two workers started at the same
  instant) steps aside at once, before fitting anything, and is recorded as failed with
  the user attribute ``surplus``.

A trial whose worker died is failed by Optuna's heartbeat and queued again
(:class:`automl_pl.storage.DeadWorkerSweep`), so the study still reaches its total.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState
from sklearn.exceptions import ConvergenceWarning

from automl_pl.objective import TrialModelError
from automl_pl.storage import DeadWorkerSweep
from automl_pl.trial_attrs import FAIL_REASON, INTERRUPTED, SURPLUS, WORKER

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
CLAIMED = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
MAX_FAILED_IN_A_ROW = 10
WAIT_SECONDS = 1.0
"""How often a worker waiting for the other workers' last trials looks again."""

_log = logging.getLogger(__name__)


class SurplusTrialError(RuntimeError):
    """The study's total was already claimed by lower-numbered trials when this one started."""


def run_trials(study: optuna.Study, objective: Callable[[optuna.Trial], float], *, n_trials: int | None,
               deadline: float | Callable[[], float | None] | None, show_progress_bar: bool = False,
               callbacks: Sequence[Callable[[optuna.Study, FrozenTrial], None]] = (),
               wait_for_running: bool = True) -> None:
    """Run trials until ``study`` holds ``n_trials`` finished ones, counting every worker's, or the deadline passes.

    ``deadline`` is a :func:`time.monotonic` time, or a function giving the current one (it
    may move while trials run, e.g. to keep time for a refit). Failed trials do not count towards the
    total, so they are made up for, but ``MAX_FAILED_IN_A_ROW`` failures in a row end the
    run rather than looping on a broken model. With ``wait_for_running=False`` the run ends
    as soon as finished plus running trials reach the total.
    """
    current_deadline = deadline if callable(deadline) else lambda: deadline
    guarded = _WithinTotal(objective, n_trials)
    callbacks = [*callbacks, _StopAtTotal(n_trials, current_deadline)]
    said_waiting = False
    sweep = DeadWorkerSweep(study)
    while True:
        finished, running = count_finished(study), _count(study, TrialState.RUNNING)
        end = current_deadline()
        left = None if end is None else end - time.monotonic()
        if (n_trials is not None and finished >= n_trials) or (left is not None and left <= 0):
            return
        if n_trials is not None and finished + running >= n_trials:
            if not wait_for_running:
                return
            if not said_waiting:
                _log.info("waiting for %d running trial(s) of other workers to finish the study's %d", running, n_trials)
                said_waiting = True
            sweep()  # a dead worker's trial is failed and queued again
            time.sleep(WAIT_SECONDS if left is None else min(WAIT_SECONDS, left))
            continue
        timeout = None if left is None else max(round(left, 1), 0.1)  # rounded for the progress bar
        with warnings.catch_warnings():
            # An iterative model (elastic net on collinear one-hot columns, say) stopping at its
            # iteration cap is part of a trial's budget, and its CV score judges the result: a
            # warning per fold would bury the study's own output.
            warnings.simplefilter("ignore", ConvergenceWarning)
            study.optimize(guarded, n_trials=None if n_trials is None else n_trials - finished - running,
                           timeout=timeout, catch=(TrialModelError, SurplusTrialError), callbacks=callbacks,
                           show_progress_bar=show_progress_bar)
        if n_trials is None or failed_in_a_row(study) >= MAX_FAILED_IN_A_ROW:
            return


def count_finished(study: optuna.Study) -> int:
    return _count(study, *FINISHED)


def failed_in_a_row(study: optuna.Study) -> int:
    """How many of the study's latest trials failed, counting back to the last one that did not.

    Trials that stepped aside as surplus are not failures and are skipped.
    """
    count = 0
    for trial in reversed(study.get_trials(deepcopy=False)):
        if trial.state == TrialState.FAIL and trial.user_attrs.get(SURPLUS):
            continue
        if trial.state != TrialState.FAIL:
            break
        count += 1
    return count


def worker_name() -> str:
    """``host:pid`` of this process, recorded in every trial it runs (user attribute ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _WithinTotal:
    """The objective, behind the check that the study's total is not already claimed."""

    def __init__(self, objective: Callable[[optuna.Trial], float], n_trials: int | None) -> None:
        self.objective = objective
        self.n_trials = n_trials
        self.worker = worker_name()

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER, self.worker)
        if self.n_trials is not None:
            before = sum(t.number < trial.number for t in trial.study.get_trials(deepcopy=False, states=CLAIMED))
            if before >= self.n_trials:
                trial.set_user_attr(SURPLUS, True)
                raise SurplusTrialError(f"the study's {self.n_trials} trials were claimed by other workers first")
        try:
            return self.objective(trial)
        except KeyboardInterrupt:  # Optuna records the trial as failed, then re-raises: say why in the study
            trial.set_user_attr(FAIL_REASON, INTERRUPTED)
            raise


class _StopAtTotal:
    """Stop this worker's ``optimize`` once finished plus running trials reach the total, or the deadline passed."""

    def __init__(self, n_trials: int | None, deadline: Callable[[], float | None]) -> None:
        self.n_trials = n_trials
        self.deadline = deadline

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        end = self.deadline()
        if ((self.n_trials is not None and _count(study, *FINISHED, TrialState.RUNNING) >= self.n_trials)
                or (end is not None and time.monotonic() >= end)):
            study.stop()


def _count(study: optuna.Study, *states: TrialState) -> int:
    return len(study.get_trials(deepcopy=False, states=states))
