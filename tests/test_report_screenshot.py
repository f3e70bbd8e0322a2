"""The report, rendered by headless Chromium as a reader's browser would: its plots are drawn, not blank."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from automl_pl import tune
from automl_pl.report import write_report

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "report_screenshot.py"
PLOT_BACKGROUND = (229, 236, 246)
"""plotly's default plot area colour (#E5ECF6): there only where JavaScript drew a figure."""


def _script():
    spec = importlib.util.spec_from_file_location("report_screenshot", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_report_renders_in_headless_chromium(tmp_path, make_data):
    script = _script()
    if script.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    X, y = make_data(80, seed=61)
    pool, _ = make_data(40, seed=62)
    result = tune(X, y, X_unlabeled=pool, models=["ridge", "lightgbm"], n_trials=4, cv=2, show_progress_bar=False,
                  n_jobs=1)
    page = write_report(result.study, tmp_path / "report.html")

    png = script.screenshot(page, tmp_path / "report.png", width=1000, height=3000)
    with image.open(png) as picture:
        assert picture.size == (1000, 3000)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
    plot_area = sum(count for count, colour in colours if colour == PLOT_BACKGROUND)
    assert plot_area > 0.1 * 1000 * 3000  # several figures drawn, not an empty page of text


def test_the_script_says_what_is_missing(tmp_path):
    assert _script().main([str(tmp_path / "missing.html"), "-o", str(tmp_path / "x.png")]) == 1
