"""TimeBudget: the one owner of a study's time.

``tune(timeout=T)`` promises a model within ``T`` seconds, on an idle or a busy machine. Three
things share that time: the trials' folds, the final model (ensemble choice, any refit) and a
margin for what cannot be foreseen. One object knows all three, so that the objective, the
study callbacks and the final model ask it instead of each writing a deadline of its own:

* **the end**: ``start + timeout``; the trials must stop ``finish_margin`` of the timeout
  before it, and before any time :meth:`TimeBudget.reserve` keeps for the final model;
* **inside a fit**: :meth:`TimeBudget.fits_end_in_time` makes every fit started under it stop
  at the trials' end. Families that can stop a fit (the boosters' training callbacks, scikit-learn
  gradient boosting's ``monitor``) check :func:`check_fit_time` after each iteration and raise
  :class:`OutOfTime`; the objective records the trial as pruned. Families that cannot are only
  started when their foreseen fold fits in what is left (see :meth:`TimeBudget.expected_fold`);
* **how long a fold takes**: the quickest fold seen per family, per row fitted and per unit of
  the configuration's work, foretells the next one. A family that can stop its fit is foreseen
  by its quickest fold (an error only costs the part of the fold that is cut); one that cannot
  by its slowest rate seen, with a margin, since a machine that got busy since makes it slower.

Without a timeout the budget is unlimited: every question answers "it fits".
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

FINISH_MARGIN = 0.03
"""With a timeout, the trials' folds end this share of it early: room for a last fit that a
machine gone busy slows down, choosing the ensemble and the first predictions."""

UNSTOPPABLE_MARGIN = 1.5
"""A fold of a family whose fit cannot stop on time is foreseen this many times its slowest rate
seen: the load on a shared machine comes and goes, and such a fit, once started, runs to its end."""

class ModelFamily(Protocol):
    """What the budget knows of a model family (:class:`automl_pl.models.ModelFamily` is one)."""

    name: str
    relative_cost: float
    stops_on_time: bool


_FIT_DEADLINE: ContextVar[float | None] = ContextVar("automl_pl_fit_deadline", default=None)


class OutOfTime(RuntimeError):
    """A fit was stopped because the study's time ran out (see :meth:`TimeBudget.fits_end_in_time`)."""


def seconds_since_process_start() -> float:
    """How long this process has run (Linux: from ``/proc``; elsewhere 0), so that a command's
    timeout counts its interpreter start, imports and data reading too."""
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))


def fit_deadline() -> float | None:
    """The :func:`time.monotonic` time by which a fit running now must stop, or ``None``."""
    return _FIT_DEADLINE.get()


def fit_time_is_up() -> bool:
    """Whether a fit running now has passed its deadline (families with training callbacks ask after each iteration)."""
    deadline = _FIT_DEADLINE.get()
    return deadline is not None and time.monotonic() >= deadline


def check_fit_time() -> None:
    """Raise :class:`OutOfTime` when a fit running now has passed its deadline."""
    if fit_time_is_up():
        raise OutOfTime("the time budget ran out during a fit")


class TimeBudget:
    """The time of one ``tune`` call: its end, what is kept for the final model, how long a fold takes.

    Args:
        timeout: seconds for the whole call, or ``None`` for no limit.
        finish_margin: share of ``timeout`` the trials leave unused at the end.
        started: the :func:`time.monotonic` time the call started (default: now), so that time
            spent before the study (reading data, say) counts too.
        clock: the clock, :func:`time.monotonic`; tests may pass their own.
    """

    def __init__(self, timeout: float | None, *, finish_margin: float = FINISH_MARGIN, started: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self.start = clock() if started is None else started
        self.end = None if timeout is None else self.start + timeout
        """When the call must have returned (``None`` without a timeout)."""
        self._margin = 0.0 if timeout is None else finish_margin * timeout
        self._reserved: dict[str, float] = {}
        self._closed = False
        self._quickest_per_row: dict[str, float] = {}
        self._slowest_per_row: dict[str, float] = {}
        self._quickest_per_work: dict[str, float] = {}
        self._slowest_per_work: dict[str, float] = {}
        self._folds: dict[str, list[tuple[float, float]]] = {}  # per family: (rows, seconds) of each fold timed

    @classmethod
    def unlimited(cls) -> TimeBudget:
        return cls(None)

    # ------------------------------------------------------------------------------------- the end

    @property
    def limited(self) -> bool:
        return self.end is not None

    @property
    def trials_end(self) -> float | None:
        """The :func:`time.monotonic` time by which every fold must end, or ``None`` without a limit."""
        if self.end is None:
            return None
        return self._clock() if self._closed else self.end - self._margin - self.reserved

    def trials_left(self) -> float:
        """Seconds left for folds (``inf`` without a limit; 0 once closed or spent)."""
        end = self.trials_end
        return math.inf if end is None else max(0.0, end - self._clock())

    def trials_share_left(self) -> float:
        """The share of the trials' time (from the start to the trials' end) still left: 1.0 without a limit."""
        end = self.trials_end
        if end is None:
            return 1.0
        return max(0.0, end - self._clock()) / max(end - self.start, 1e-9)

    def seconds_left(self) -> float | None:
        """Seconds until the call must have returned, or ``None`` without a limit."""
        return None if self.end is None else self.end - self._clock()

    def fits(self, seconds: float) -> bool:
        """Whether work of ``seconds`` started now ends before the trials' end."""
        return seconds <= self.trials_left() and not self.closed

    @property
    def closed(self) -> bool:
        """Whether no fold may start any more: :meth:`close` was called, or the time is spent."""
        return self._closed or (self.end is not None and self.trials_left() <= 0)

    def close(self) -> None:
        """No fold starts from now on: nothing that could still run fits in what is left."""
        self._closed = True

    def reserve(self, seconds: float, *, purpose: str = "refit", grow_only: bool = True) -> None:
        """Keep ``seconds`` before the end for ``purpose`` (the final model's refits, say); the purposes add up.

        With ``grow_only``, what is kept for a purpose only ever grows: a later, cheaper estimate does
        not hand back time the trials may already have planned without. Without, the new estimate
        replaces the old: for a purpose that a later estimate may drop altogether (a teacher round
        that no longer fits), whose time is better handed back to the trials than left unused.
        """
        kept = self._reserved.get(purpose, 0.0)
        self._reserved[purpose] = max(kept, float(seconds)) if grow_only else float(seconds)

    @property
    def reserved(self) -> float:
        """Seconds kept before the end, for every purpose together."""
        return sum(self._reserved.values())

    def fits_end_in_time(self) -> AbstractContextManager[None]:
        """Inside, fits that check the time (:func:`check_fit_time`) stop at the trials' end."""
        return self.fits_end_by(self.trials_end)

    @contextmanager
    def fits_end_by(self, deadline: float | None) -> Iterator[None]:
        """Inside, fits that check the time stop at ``deadline`` (a :func:`time.monotonic` time; ``None``: never)."""
        token = _FIT_DEADLINE.set(deadline)
        try:
            yield
        finally:
            _FIT_DEADLINE.reset(token)

    @property
    def finish_seconds(self) -> float:
        """Seconds the trials leave unused at the end (``finish_margin`` of the timeout; 0 without one)."""
        return self._margin

    # ----------------------------------------------------------------------- how long a fold takes

    def time_fold(self, family: ModelFamily, seconds: float, rows: float, work: float | None = None) -> None:
        """Record that a fold of ``family`` fitting ``rows`` rows (of a configuration of ``work``) took ``seconds``."""
        per_row = seconds / max(rows, 1.0)
        self._folds.setdefault(family.name, []).append((max(rows, 1.0), seconds))
        _keep(self._quickest_per_row, family.name, per_row, min)
        _keep(self._slowest_per_row, family.name, per_row, max)
        if work:
            _keep(self._quickest_per_work, family.name, per_row / work, min)
            _keep(self._slowest_per_work, family.name, per_row / work, max)

    def timed(self, family: ModelFamily) -> bool:
        """Whether a fold of ``family`` has been timed."""
        return family.name in self._quickest_per_row

    def expected_fold(self, family: ModelFamily, rows: float, work: float | None = None, *,
                      families: Mapping[str, ModelFamily] | None = None) -> float:
        """Seconds a fold of ``family`` fitting ``rows`` rows should take (0 before anything was timed).

        From the family's own folds, per row and unit of ``work`` where both are known, else per row:
        the quickest when the family stops its fits on time (a wrong guess costs only the part of a
        fold that is cut), else the slowest of its folds of comparable size times ``UNSTOPPABLE_MARGIN``. A family not timed yet is
        foreseen from the ``families`` that were, per row scaled by ``relative_cost``: for a family
        that stops on time, from the others that do (tree ensembles, whose costs compare; a linear
        model's time is mostly fixed overhead, which would make a booster look a hundred times slower
        than it is) and the quickest of them for their cost; for one that cannot, from all of them
        and the slowest: a guess errs on the safe side.
        """
        optimistic = family.stops_on_time
        per_work = (self._quickest_per_work if optimistic else self._slowest_per_work).get(family.name)
        per_row = (self._quickest_per_row if optimistic else self._slowest_per_row).get(family.name)
        margin = 1.0 if optimistic else UNSTOPPABLE_MARGIN
        if work and per_work is not None:
            return margin * per_work * rows * work
        if per_row is not None and not optimistic:
            return margin * self._slowest_near(family.name, rows)
        if per_row is not None:
            return margin * per_row * rows
        others = {name: f for name, f in (families or {}).items() if f.stops_on_time or not optimistic}
        rates = self._quickest_per_row if optimistic else self._slowest_per_row
        per_cost = [rate / others[name].relative_cost for name, rate in rates.items() if name in others]
        if not per_cost:
            return 0.0
        return margin * (min if optimistic else max)(per_cost) * family.relative_cost * rows

    def _slowest_near(self, name: str, rows: float) -> float:
        """Seconds of a fold of ``rows`` rows, scaled from the family's folds of comparable size (half to
        twice as many rows; the slowest of them), else from the fold nearest in size. A fold's time is
        partly fixed (a linear model's pipeline), so a rate per row taken from a small fold would make
        a larger one look far slower than it is."""
        folds = self._folds[name]
        near = [seconds * rows / fold_rows for fold_rows, seconds in folds if 0.5 <= rows / fold_rows <= 2.0]
        if near:
            return max(near)
        fold_rows, seconds = min(folds, key=lambda fold: abs(math.log(rows / fold[0])))
        return seconds * rows / fold_rows

    def quickest_trial(self, families: Mapping[str, ModelFamily], *, rows: float, n_folds: int,
                       work: Mapping[str, float | None] | None = None) -> tuple[str, float]:
        """The family of ``families`` whose whole supervised trial on ``rows`` rows per fold is foreseen
        quickest, and that trial's seconds; ``work`` is each family's configuration's work, where known."""
        work = work or {}

        def seconds(name: str) -> float:
            return n_folds * self.expected_fold(families[name], rows, work.get(name), families=families)

        name = min(families, key=seconds)
        return name, seconds(name)


def _keep(table: dict[str, float], key: str, value: float, pick: Callable[[float, float], float]) -> None:
    table[key] = pick(table[key], value) if key in table else value
