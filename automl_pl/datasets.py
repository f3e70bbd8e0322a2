"""Real regression datasets that ship inside installed packages (no download needed).

Used by the README demo, the examples and the tests; a study spec names one with
``dataset = "..."`` instead of files.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _gapminder() -> tuple[pd.DataFrame, pd.Series]:
    import plotly.data

    frame = plotly.data.gapminder().drop(columns=["iso_alpha", "iso_num"])
    return frame.drop(columns="lifeExp"), frame["lifeExp"]


def _tips() -> tuple[pd.DataFrame, pd.Series]:
    import plotly.data

    frame = plotly.data.tips()
    return frame.drop(columns="tip"), frame["tip"]


def _diabetes() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    return bunch.data, bunch.target.rename("disease_progression")


DATASETS: dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]] = {
    "gapminder": _gapminder,  # 1,704 rows: life expectancy by country, continent, year, population, GDP
    "tips": _tips,  # 244 rows: restaurant tips with categorical day, time, sex, smoker
    "diabetes": _diabetes,  # 442 rows: disease progression from ten numeric measurements
}


def load_dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target of the bundled dataset ``name``.

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    try:
        loader = DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}. Valid names: {', '.join(DATASETS)}.") from None
    return loader()


def hide_labels(
    X: pd.DataFrame, y: pd.Series, *, labeled_fraction: float, random_state: int = 0
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None]:
    """Keep the labels of a seeded random ``labeled_fraction`` of rows; the rest become unlabelled.

    Returns:
        ``(X_labeled, y_labeled, X_unlabeled)``; ``X_unlabeled`` is ``None`` at fraction 1.
    """
    if not 0 < labeled_fraction <= 1:
        raise ValueError(f"labeled_fraction must be in (0, 1], got {labeled_fraction!r}")
    if labeled_fraction == 1:
        return X, y, None
    rng = np.random.default_rng(random_state)
    labeled = np.zeros(len(X), dtype=bool)
    labeled[rng.choice(len(X), size=max(2, round(labeled_fraction * len(X))), replace=False)] = True
    return X[labeled].reset_index(drop=True), y[labeled].reset_index(drop=True), X[~labeled].reset_index(drop=True)
