"""Load an exported model in a fresh process and predict: nothing is unpickled.

    python examples/quickstart.py                   # writes models/quickstart
    python examples/load_and_predict.py models/quickstart

Without a CSV argument it predicts a few Gapminder rows; with one it predicts that file.
"""

from __future__ import annotations

import sys

import pandas as pd

import automl_pl
from automl_pl.datasets import load_dataset

model = automl_pl.load_model(sys.argv[1] if len(sys.argv) > 1 else "models/quickstart")
print(model, "trained on", model.metadata["rows"], "CV RMSE", round(model.metadata["cv_rmse"], 4))

rows = pd.read_csv(sys.argv[2]) if len(sys.argv) > 2 else load_dataset("gapminder")[0].sample(5, random_state=1)
print(rows.assign(**{model.target: model.predict(rows)}).to_string())
