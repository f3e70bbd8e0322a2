"""How much :func:`automl_pl.tune` says while it runs: ``verbosity`` 0 to 3 and the progress display.

=========  ==================================================================================
verbosity  what is shown (on standard error)
=========  ==================================================================================
0          nothing: no progress, no warnings, Optuna's own logging at ERROR only
1          warnings and a final summary, and progress (see below); the default
2          also one line per trial, on a terminal too (written above the bar)
3          also Optuna's own INFO lines (the study created, each trial's parameters) and
           automl_pl's debug messages
=========  ==================================================================================

Progress (``show_progress_bar=True``, the default) is a bar only where a bar can redraw itself:
on a terminal or in a notebook. Anywhere else (a log file, a pipe, CI) it is one plain line per
trial instead, so a redirected run writes no ``\\r`` updates. ``show_progress_bar=False`` shows no
progress; ``verbosity >= 2`` still shows the lines.

Optuna's per-trial INFO lines (with whole parameter dicts) are shown only at ``verbosity=3``;
at 1 and 2 automl_pl's own shorter lines take their place.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl_pl.data import check_whole_number, plain_number
from automl_pl.trial_attrs import (
    DUPLICATE_OF,
    FAIL_REASON,
    PRUNED_AS_DUPLICATE,
    PRUNED_AS_FAILING,
    PRUNED_AS_SAME_MODEL,
    PRUNED_BY,
    PRUNED_BY_TEACHER_GATE,
    PRUNED_FOR_TIME,
)

DEFAULT_VERBOSITY = 1
T = TypeVar("T")

_OPTUNA_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.WARNING, 3: logging.INFO}
_OWN_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
_OPTUNA_TRIAL_LOGGER = "optuna.study._optimize"
"""The logger Optuna reports failed trials on (with the traceback)."""
_PRUNED = {PRUNED_FOR_TIME: "out of time", PRUNED_BY_TEACHER_GATE: "teachers too far behind the best",
           PRUNED_AS_DUPLICATE: "a duplicate", PRUNED_AS_SAME_MODEL: "the same model as an earlier trial",
           PRUNED_AS_FAILING: "its family failed every trial so far, not fitted again"}


@dataclass(frozen=True)
class Progress:
    """What one :func:`tune` call shows: its verbosity, a progress bar, one line per trial."""

    verbosity: int
    bar: bool
    lines: bool

    @classmethod
    def plan(cls, verbosity: int, show_progress_bar: bool) -> Progress:
        """The display for ``verbosity`` and ``show_progress_bar`` where this process writes now.

        Raises:
            ValueError: ``verbosity`` is not 0, 1, 2 or 3.
        """
        verbosity = check_whole_number(verbosity, "verbosity", minimum=0, maximum=3)
        if verbosity == 0 or not show_progress_bar:
            return cls(verbosity, bar=False, lines=verbosity >= 2)
        bar = can_redraw()
        return cls(verbosity, bar=bar, lines=verbosity >= 2 or not bar)

    def say(self, text: str) -> None:
        """Write ``text`` to standard error unless silent, above the progress bar if one is shown."""
        if self.verbosity >= 1:
            say(text)

    def trial_lines(self, n_trials: int | None) -> list[Any]:
        """The Optuna callbacks that write one line per finished trial (none if not wanted)."""
        return [_TrialLines(n_trials)] if self.lines else []


def can_redraw() -> bool:
    """Whether standard error can show a progress bar: a terminal, or a notebook (Jupyter)."""
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced, or closed
        terminal = False
    return terminal or "ipykernel" in sys.modules


def say(text: str) -> None:
    """Write a line to standard error without breaking a progress bar on it."""
    from tqdm import tqdm  # Optuna's own dependency, for its progress bar

    tqdm.write(text, file=sys.stderr)


@contextmanager
def speaking(verbosity: int) -> Iterator[None]:
    """Optuna's and automl_pl's loggers at ``verbosity``'s levels while the block runs, then as they were.

    At 0, Python warnings are silenced too. A trial stopped by Ctrl-C is not reported with its
    traceback (Optuna logs one for every failed trial): the command says it was interrupted.
    """
    own = logging.getLogger("automl_pl")
    before = optuna.logging.get_verbosity(), own.level
    optuna.logging.set_verbosity(_OPTUNA_LEVELS[verbosity])
    own.setLevel(_OWN_LEVELS[verbosity])
    handler = None
    if verbosity >= 2 and not own.hasHandlers():  # else the caller's logging shows automl_pl's INFO lines
        handler = _SayHandler()
        own.addHandler(handler)
    hide = _HideInterruptedTrial()
    trial_logger = logging.getLogger(_OPTUNA_TRIAL_LOGGER)
    trial_logger.addFilter(hide)
    try:
        with warnings.catch_warnings():
            if verbosity == 0:
                warnings.simplefilter("ignore")
            yield
    finally:
        trial_logger.removeFilter(hide)
        if handler is not None:
            own.removeHandler(handler)
        optuna.logging.set_verbosity(before[0])
        own.setLevel(before[1])


def speaks_at_verbosity(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function`` (which takes a ``verbosity`` keyword) inside :func:`speaking` at that verbosity, so that
    everything it does, from checking the data to the final model, is as quiet or as talkative as asked."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> T:
        verbosity = check_whole_number(kwargs.get("verbosity", DEFAULT_VERBOSITY), "verbosity", minimum=0, maximum=3)
        with speaking(verbosity):
            return function(*args, **kwargs)

    return call


def describe_trial(study: optuna.Study, trial: FrozenTrial) -> str:
    """One line about a finished trial: state, family, score or why it stopped, time, the best so far."""
    model = trial.params.get("model", "?")
    seconds = f", {trial.duration.total_seconds():.1f} s" if trial.duration is not None else ""
    if trial.state == TrialState.COMPLETE:
        try:
            best = study.best_trial
        except ValueError:
            best = trial
        tail = "best so far" if best.number == trial.number else f"best {plain_number(best.value)} (#{best.number})"
        return f"trial #{trial.number} {model}: CV RMSE {plain_number(trial.value)}{seconds}; {tail}"
    if trial.state == TrialState.PRUNED:
        why = _PRUNED.get(trial.user_attrs.get(PRUNED_BY), "by the pruner")
        if trial.user_attrs.get(DUPLICATE_OF) is not None:
            twin = trial.user_attrs[DUPLICATE_OF]
            same = trial.user_attrs.get(PRUNED_BY) == PRUNED_AS_SAME_MODEL
            why = f"the same model as #{twin} (other parameters)" if same else f"a duplicate of #{twin}"
        return f"trial #{trial.number} {model}: pruned, {why}{seconds}"
    return f"trial #{trial.number} {model}: failed, {trial.user_attrs.get(FAIL_REASON, 'see the log')}{seconds}"


class _TrialLines:
    """An Optuna callback: one line per trial this process finishes, with the count against the total."""

    def __init__(self, n_trials: int | None) -> None:
        self.n_trials = n_trials

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        count = ""
        if self.n_trials is not None:
            done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
            count = f"[{done}/{self.n_trials}] "
        say(count + describe_trial(study, trial))


class _SayHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(self.format(record))
        except Exception:
            self.handleError(record)


class _HideInterruptedTrial(logging.Filter):
    """Drops Optuna's report (traceback, then value) of a trial that Ctrl-C stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.trials: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt):
            self.trials.add(message.split(" failed", 1)[0])  # "Trial 5"
            return False
        return message.split(" failed", 1)[0] not in self.trials
