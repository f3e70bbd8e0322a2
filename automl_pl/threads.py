"""How many threads a model fit gets: as many as the cores other processes leave free, now.

Measured on 2 cores (``benchmarks/RESULTS.md``, issue 19): on an idle machine two threads fit
LightGBM, XGBoost and CatBoost 1.6-1.9x faster than one on 20,000 rows. With one core busy
elsewhere, two threads are already slower than one (XGBoost on 600 rows: 1.55 s against 0.32 s),
and with both busy they collapse (LightGBM on 600 rows: 3.7 s against 0.43 s). The boosters'
OpenMP threads meet at a barrier several times per tree; a thread whose core another process
holds arrives a scheduler time slice late, and its sibling spins at the barrier meanwhile,
burning the very core it waits for. ``OMP_WAIT_POLICY=passive`` only softens that (1.3 s) and
makes idle fits twice as slow, so the number of threads follows the free cores instead: read
before each fold from ``/proc/stat`` (the busy time of the cores this process may use, less this
process's own), it is one thread as soon as less than ``FREE_FOR_A_THREAD`` of a core is free
for each thread beyond the first. Elsewhere than Linux, every allowed thread is used.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from automl_pl.models._base import final_estimator

FREE_FOR_A_THREAD = 0.75
"""A thread beyond the first needs this share of a core free; a little load elsewhere is tolerated."""

MIN_WINDOW_SECONDS = 0.1
"""The shortest span over which busy time is measured (at 100 ticks per second, 10 ticks per core);
asked again sooner, the last answer stands."""

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


THREAD_PARAMS = ("n_jobs", "thread_count")
"""The parameters that set a model's threads: scikit-learn, LightGBM and XGBoost's, CatBoost's."""


def use_threads(model, n_threads: int) -> None:
    """Let a fitted model predict with ``n_threads``: set the thread parameter of the estimator that predicts,
    through frozen, pseudo-labelling and pipeline wrappers.

    A fold model fitted with two threads while the machine was idle would otherwise predict with
    two on a busy machine, where they collapse as in a fit.
    """
    model = final_estimator(model)
    if hasattr(model, "set_predict_threads"):  # a fitted CatBoost model refuses set_params
        model.set_predict_threads(n_threads)
        return
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    changed = {name: n_threads for name in THREAD_PARAMS if params.get(name) not in (None, n_threads)}
    if changed:
        model.set_params(**changed)


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ModelThreads:
    """Threads per model fit, at most ``limit``, fewer while other processes keep the cores busy.

    Args:
        limit: the most threads a fit gets (``n_jobs``).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        self._last = self._sample()
        self._answer = limit

    def now(self) -> int:
        """Threads for a fit starting now: ``limit`` when the others leave the cores free, else fewer."""
        if self.limit <= 1 or self._last is None:
            return self.limit
        sample = self._sample()
        if sample is None:
            return self.limit
        if sample[0] - self._last[0] < MIN_WINDOW_SECONDS:  # too short to measure: as decided last
            return self._answer
        wall = sample[0] - self._last[0]
        others = max(0.0, (sample[1] - self._last[1]) - (sample[2] - self._last[2])) / _TICKS / wall  # busy cores
        self._last = sample
        free = len(self._cores or [1]) - others
        self._answer = max(1, min(self.limit, 1 + math.floor((free - 1) / FREE_FOR_A_THREAD + 1e-9)))
        return self._answer

    def _sample(self) -> tuple[float, float, float] | None:
        """(monotonic time, busy ticks of the usable cores, this process's ticks), or ``None`` off Linux."""
        try:
            lines = Path("/proc/stat").read_text().splitlines()
            own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        wanted = None if self._cores is None else {f"cpu{c}" for c in self._cores}
        busy = 0
        for line in lines:
            fields = line.split()
            if not fields or not fields[0].startswith("cpu") or fields[0] == "cpu":
                continue
            if wanted is not None and fields[0] not in wanted:
                continue
            ticks = [int(v) for v in fields[1:8]]  # user nice system idle iowait irq softirq
            busy += sum(ticks) - ticks[3] - ticks[4]
        # /proc/self/stat after the name: state is field 3, utime and stime fields 14 and 15
        mine = int(own[11]) + int(own[12])
        return time.monotonic(), float(busy), float(mine)
