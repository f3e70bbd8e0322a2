"""The starting portfolio: known-good configurations a new study runs, in order, before TPE proposes any.

TPE starts blind: its first trials are random draws, and with a short budget or slow families
(CatBoost at random settings) a study can spend its time on poor models, then mix whatever finished.
FLAML's zero-shot starting points and AutoGluon's zero-shot portfolios answer this with
configurations chosen offline, on other datasets, for how well they do *across* datasets. So does
this module: ``portfolio.json`` beside it is an ordered list of configurations (family and its
hyperparameters, never pseudo-label settings: the study asks that question of the best model
itself), written by ``benchmarks/portfolio.py``. That script chooses them greedily, each step the
configuration that most lowers the mean error ratio to the best known configuration over the
source datasets per second it costs, and checks the choice leave-one-dataset-out (see the
README section "Starting portfolio").

A configuration is given in the study's own parameter names (``{"model": "lightgbm",
"lgbm_num_leaves": 63, ...}``); for a study, each is clipped into the bounds its family asks for
on the study's data (:func:`automl_pl.models._base.starting_params`), so one chosen on 5,000 rows
stays valid on 200. Missing parameters take the family's defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from automl_pl.models import ModelFamily
from automl_pl.models._base import starting_params

PORTFOLIO_FILE = Path(__file__).with_name("portfolio.json")


@dataclass(frozen=True)
class Portfolio:
    """An ordered list of configurations to start a study with.

    Attributes:
        configurations: each a ``{"model": family, <family parameter>: value, ...}`` mapping.
        sources: the datasets it was chosen on (for the record: a benchmark must not score a
            portfolio on a dataset it was chosen on).
    """

    configurations: tuple[Mapping[str, Any], ...]
    sources: tuple[str, ...] = field(default=())

    @classmethod
    def default(cls) -> Portfolio:
        """The portfolio that ships with automl_pl (``portfolio.json``)."""
        return cls.read(PORTFOLIO_FILE)

    @classmethod
    def read(cls, path: str | Path) -> Portfolio:
        """A portfolio written by :meth:`write` (or ``benchmarks/portfolio.py``)."""
        document = json.loads(Path(path).read_text())
        return cls.from_configurations(document["configurations"], sources=document.get("sources", ()))

    @classmethod
    def from_configurations(cls, configurations: Sequence[Mapping[str, Any]], *,
                            sources: Sequence[str] = ()) -> Portfolio:
        """Check and wrap configurations given in Python.

        Raises:
            ValueError: a configuration is not a mapping with a ``model``.
        """
        checked = []
        for i, configuration in enumerate(configurations):
            if not isinstance(configuration, Mapping) or not isinstance(configuration.get("model"), str):
                raise ValueError(f"portfolio configuration {i} must be a mapping with a 'model' (a family name), "
                                 f"e.g. {{'model': 'lightgbm', 'lgbm_num_leaves': 63}}; got {configuration!r}")
            checked.append(dict(configuration))
        return cls(tuple(checked), tuple(sources))

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"sources": list(self.sources),
                                          "configurations": [dict(c) for c in self.configurations]}, indent=1) + "\n")

    def for_study(self, families: Mapping[str, ModelFamily], *, n_rows: int,
                  fixed: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The configurations a study may run, in order, each clipped into its family's bounds for ``n_rows`` rows.

        Configurations of families the study may not choose (not in ``families``, or another than a
        fixed ``model``) are left out, as are repeats once clipped.
        """
        fixed = fixed or {}
        out: list[dict[str, Any]] = []
        for configuration in self.configurations:
            family = families.get(configuration["model"])
            if family is None or fixed.get("model", family.name) != family.name:
                continue
            own = {k: v for k, v in configuration.items() if k.startswith(family.prefix)}
            defaults = dict(family.defaults or {})
            params = starting_params(_with_defaults(family, {**defaults, **own}), n_rows)
            if params is None:
                continue
            entry = {"model": family.name, **params}
            if entry not in out:
                out.append(entry)
        return out

    def __len__(self) -> int:
        return len(self.configurations)


def _with_defaults(family: ModelFamily, defaults: Mapping[str, Any]) -> ModelFamily:
    """``family`` with ``defaults`` as its starting configuration (for :func:`starting_params`'s clipping)."""
    return replace(family, defaults=dict(defaults))
