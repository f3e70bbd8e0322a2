"""Big Mart Sales, the pseudo-labelling tutorial's data, through the Python API.

    python examples/bigmart.py path/to/bigmart [--timeout 600]

The directory must hold the tutorial's train.csv and test.csv; test.csv is the
unlabelled pool (and the rows a submission predicts).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import automl_pl

parser = argparse.ArgumentParser()
parser.add_argument("data_dir", type=Path)
parser.add_argument("--timeout", type=float, default=600)
args = parser.parse_args()

train = pd.read_csv(args.data_dir / "train.csv")
test = pd.read_csv(args.data_dir / "test.csv")
y = train.pop("Item_Outlet_Sales")
ids = ["Item_Identifier"]  # a product code: an identifier, not a feature

result = automl_pl.tune(
    train.drop(columns=ids), y, X_unlabeled=test.drop(columns=ids),
    n_trials=1000, timeout=args.timeout, storage="sqlite:///studies/bigmart_example.db", study_name="bigmart", random_state=0,
)
print(result.summary())
result.export("models/bigmart_example", ignored_columns=ids)

submission = test[ids + ["Outlet_Identifier"]].assign(Item_Outlet_Sales=result.best_estimator_.predict(test.drop(columns=ids)))
submission.to_csv("bigmart_submission.csv", index=False)
print("wrote bigmart_submission.csv")
