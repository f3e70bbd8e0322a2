"""Big Mart: automl_pl's study against the tutorial's baseline, on the same folds.

Usage (after `automl-pl run studies/bigmart.toml --data-dir DIR`):

    python benchmarks/bigmart.py --data-dir ../shared/data/bigmart [--spec studies/bigmart.toml]

Prints the tutorial's default XGBoost and its pseudo-labeler (XGBoost, sample rate 0.3)
scored by CV RMSE on the study's own folds, the study's best trial, and the ratios.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from xgboost import XGBRegressor

from automl_pl import PseudoLabelRegressor
from automl_pl.spec import load_spec
from automl_pl.storage import open_storage
from automl_pl.study import make_folds

TARGET = "Item_Outlet_Sales"


def tutorial_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The tutorial's preprocessing: mean-impute weight, tidy fat content, outlet age, label-encode, drop ids."""
    frame = frame.copy()
    frame["Item_Weight"] = frame["Item_Weight"].fillna(frame["Item_Weight"].mean())
    frame["Item_Fat_Content"] = frame["Item_Fat_Content"].replace({"low fat": "Low Fat", "LF": "Low Fat", "reg": "Regular"})
    frame["Outlet_Establishment_Year"] = 2013 - frame["Outlet_Establishment_Year"]
    for column in ["Outlet_Size", "Outlet_Location_Type", "Outlet_Type", "Item_Fat_Content"]:
        frame[column] = frame[column].astype(str).astype("category").cat.codes
    return frame.drop(columns=["Outlet_Identifier", "Item_Type", "Item_Identifier"])


def cv_rmse(make_model, X: pd.DataFrame, y: np.ndarray, folds, X_unlabeled=None) -> float:
    mse = []
    for train, valid in folds:
        model = make_model()
        if X_unlabeled is None:
            model.fit(X.iloc[train], y[train])
        else:
            model.fit(X.iloc[train], y[train], X_unlabeled=X_unlabeled)
        mse.append(np.mean((y[valid] - model.predict(X.iloc[valid])) ** 2))
    return math.sqrt(np.mean(mse))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--spec", default=Path(__file__).parents[1] / "studies" / "bigmart.toml", type=Path)
    args = parser.parse_args()

    spec = load_spec(args.spec, data_dir=args.data_dir)
    train, test = pd.read_csv(spec.labeled), pd.read_csv(spec.unlabeled)
    # Encode train and test together, as the tutorial did, so codes agree.
    both = tutorial_features(pd.concat([train.drop(columns=TARGET), test], ignore_index=True))
    X, X_test = both.iloc[: len(train)].reset_index(drop=True), both.iloc[len(train):].reset_index(drop=True)
    y = train[TARGET].to_numpy(dtype="float64")
    folds = make_folds(len(X), cv=spec.cv, random_state=spec.seed)

    baseline = cv_rmse(lambda: XGBRegressor(random_state=42, n_jobs=2), X, y, folds)
    pseudo = cv_rmse(lambda: PseudoLabelRegressor(XGBRegressor(random_state=42, n_jobs=2), sample_rate=0.3, random_state=42),
                     X, y, folds, X_unlabeled=X_test)
    study = optuna.load_study(study_name=spec.study_name, storage=open_storage(spec.storage))
    best = study.best_trial
    states = pd.Series([t.state.name for t in study.trials]).value_counts().to_dict()

    print(f"Big Mart, {len(X)} labelled rows, {len(X_test)} unlabelled, {spec.cv}-fold CV (seed {spec.seed})")
    print(f"{'system':58} {'CV RMSE':>9} {'vs baseline':>12}")
    rows = [
        ("tutorial baseline: default XGBoost", baseline),
        ("tutorial pseudo-labeler: XGBoost, sample 0.3", pseudo),
        (f"automl_pl best: {best.params['model']}, sample_rate {best.params['sample_rate']:g}", best.value),
        ("  same trial, supervised (teachers)", best.user_attrs.get("supervised_cv_rmse", float("nan"))),
    ]
    for name, value in rows:
        print(f"{name:58} {value:9.2f} {value / baseline - 1:+11.1%}")
    print(f"study {spec.study_name!r}: {len(study.trials)} trials {states}")
    return 0 if best.value <= 0.92 * baseline else 1


if __name__ == "__main__":
    sys.exit(main())
