"""Run as a script in a child process by :func:`automl_pl.model_files.check_in_child`, never imported.

``python _booster_check.py FORMAT FILE [FORMAT FILE ...]`` loads each booster file and predicts
one row, printing a marker line after each file checked, so that the parent can name a file whose parser
fails (exit status 1) or aborts the process. Only the boosters named are imported.
"""

from __future__ import annotations

import sys

import numpy as np


def check_xgboost(file: str) -> None:
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(file)
    booster.inplace_predict(np.zeros((1, booster.num_features())))


def check_lightgbm(file: str) -> None:
    import lightgbm

    booster = lightgbm.Booster(model_file=file)
    booster.predict(np.zeros((1, booster.num_feature())))


def check_catboost(file: str) -> None:
    import catboost

    catboost.CatBoost().load_model(file, format="cbm")


CHECKED_MARKER = "automl_pl: checked"  # model_files.CHECKED_MARKER: this script imports nothing of automl_pl
CHECKS = {"xgboost": check_xgboost, "lightgbm": check_lightgbm, "catboost": check_catboost}


def main(arguments: list[str]) -> None:
    for artifact_format, file in zip(arguments[::2], arguments[1::2]):
        CHECKS[artifact_format](file)
        print(CHECKED_MARKER, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
