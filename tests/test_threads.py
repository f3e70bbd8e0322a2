"""Model threads follow the cores other processes leave free."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
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


@pytest.mark.parametrize("name", ["lightgbm", "xgboost", "catboost", "random_forest", "knn"])
def test_a_fitted_model_predicts_with_the_threads_it_is_given(name, X, y):
    """Through the wrappers a final model holds (frozen, pseudo-labelling, pipelines), and with the same predictions."""
    from sklearn.frozen import FrozenEstimator

    from automl_pl import PseudoLabelRegressor
    from automl_pl.data import FeatureSchema
    from automl_pl.models import FAMILIES, build_model
    from automl_pl.models._base import starting_params
    from automl_pl.threads import THREAD_PARAMS, use_threads

    family = FAMILIES[name]
    if not family.is_available():
        pytest.skip(f"{family.requires} is not installed")
    params = starting_params(family, len(X)) or {}
    pipeline = build_model(family, params, schema=FeatureSchema.infer(X), random_state=0, n_jobs=2)
    model = FrozenEstimator(PseudoLabelRegressor(pipeline, sample_rate=0.0).fit(X, y))
    before = model.predict(X)
    use_threads(model, 1)
    final = model.estimator.estimator_.steps[-1][1]
    while hasattr(final, "steps"):
        final = final.steps[-1][1]
    threads = {k: v for k, v in final.get_params(deep=False).items() if k in THREAD_PARAMS}
    if hasattr(final, "set_predict_threads"):  # CatBoost: for its predictions only
        threads = {"thread_count": final._predict_threads}
    assert threads and set(threads.values()) == {1}
    np.testing.assert_allclose(model.predict(X), before)
