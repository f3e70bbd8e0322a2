"""The MLflow model of an automl_pl artifact, run by MLflow itself when it loads the model ("models from code").

MLflow copies this file into the model directory; loading runs it, and :func:`mlflow.models.set_model`
hands MLflow the model object. Nothing is pickled: the estimators stay in the artifact directory that
MLflow keeps under ``artifacts/``, in their libraries' own formats, verified by :func:`automl_pl.load_model`.
"""

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from automl_pl.export.mlflow_model import ARTIFACT_KEY


class AutomlPlModel(PythonModel):
    """Loads the automl_pl artifact in ``load_context``; ``predict`` returns one number per row."""

    def load_context(self, context):
        from automl_pl import load_model

        self.model = load_model(context.artifacts[ARTIFACT_KEY])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        return self.model.predict(model_input)


mlflow.models.set_model(AutomlPlModel())
