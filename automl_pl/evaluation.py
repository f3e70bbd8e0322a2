"""Scoring a model on labelled rows: RMSE, MAE and R², and a residual plot (gather, then draw)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from automl_pl._files import write_atomically


class Evaluation(NamedTuple):
    """How a model's predictions compare with the true target on some rows."""

    target: str
    y_true: np.ndarray
    y_pred: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.y_true)

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean((self.y_true - self.y_pred) ** 2)))

    @property
    def mae(self) -> float:
        return float(np.mean(np.abs(self.y_true - self.y_pred)))

    @property
    def r2(self) -> float | None:
        """1 - residual / total sum of squares; ``None`` where the true values do not vary (one row, say)."""
        total = float(np.sum((self.y_true - self.y_true.mean()) ** 2))
        if total == 0.0:
            return None
        return 1.0 - float(np.sum((self.y_true - self.y_pred) ** 2)) / total

    def summary(self) -> str:
        r2 = "n/a (the true values do not vary)" if self.r2 is None else f"{self.r2:.6g}"
        return "\n".join([f"  RMSE  {self.rmse:.6g}", f"  MAE   {self.mae:.6g}", f"  R²    {r2}"])


def evaluate(y_true: np.ndarray, y_pred: np.ndarray, *, target: str = "target") -> Evaluation:
    """Gather the evaluation of ``y_pred`` against ``y_true`` (float arrays of one length)."""
    return Evaluation(target, np.asarray(y_true, dtype="float64"), np.asarray(y_pred, dtype="float64"))


def residual_figure(evaluation: Evaluation):
    """A plotly figure: predicted against true (with the line of perfect predictions), and residuals against
    predicted."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    y, p = evaluation.y_true, evaluation.y_pred
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Predicted against true", "Residual against predicted"))
    figure.add_trace(go.Scattergl(x=y, y=p, mode="markers", marker={"size": 4, "opacity": 0.5}, name="rows"), 1, 1)
    low, high = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dash"},
                                name="predicted = true"), 1, 1)
    figure.add_trace(go.Scattergl(x=p, y=y - p, mode="markers", marker={"size": 4, "opacity": 0.5},
                                  name="residual (true - predicted)"), 1, 2)
    figure.add_hline(y=0.0, line_dash="dash", row=1, col=2)
    figure.update_xaxes(title_text=f"true {evaluation.target}", row=1, col=1)
    figure.update_yaxes(title_text=f"predicted {evaluation.target}", row=1, col=1)
    figure.update_xaxes(title_text=f"predicted {evaluation.target}", row=1, col=2)
    figure.update_yaxes(title_text="true - predicted", row=1, col=2)
    r2 = "n/a" if evaluation.r2 is None else f"{evaluation.r2:.4g}"
    figure.update_layout(title=f"{evaluation.target} on {evaluation.n_rows} rows: RMSE {evaluation.rmse:.4g}, "
                               f"MAE {evaluation.mae:.4g}, R² {r2}", showlegend=False)
    return figure


def write_residual_plot(evaluation: Evaluation, path: str | os.PathLike) -> Path:
    """Write the residual plot as one self-contained HTML page (plotly.js included), atomically."""
    page = residual_figure(evaluation).to_html(full_html=True, include_plotlyjs=True)
    return write_atomically(path, lambda staging: staging.write_text(page, encoding="utf-8"))
