"""Model threads follow the cores other processes leave free."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from automl_pl.threads import ModelThreads, usable_cores

linux_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat (Linux only)")


def test_one_thread_asked_is_one_thread():
    assert ModelThreads(1).now() == 1


@linux_proc
@pytest.mark.skipif(usable_cores() < 2, reason="needs 2 cores to tell free from busy")
def test_threads_drop_to_one_while_another_process_keeps_every_core_busy():
    threads = ModelThreads(usable_cores())
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(usable_cores())]
    try:
        time.sleep(0.5)
        threads.now()  # the window since construction may hold the spin-up
        time.sleep(0.3)
        assert threads.now() == 1
    finally:
        for process in busy:
            process.kill()
            process.wait()
