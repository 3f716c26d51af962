"""Honest yardsticks and the scores that compare them with the network.

A network forecast means little alone: CO2 rises smoothly and repeats every year, so "tomorrow
equals today" is already close. Each yardstick sees exactly the window the network sees:

- naive: every future step equals the last input.
- seasonal naive: every future step equals the same point one season earlier.
- linear autoregression: least squares from the (scaled) window to the next value(s); fitted on
  the training examples only.

Scores are computed in the series' own units: RMSE, MAE, and MASE, the MAE divided by the MAE
that the one-season-back forecast makes inside the training part (below 1: better than that).
"""

from dataclasses import dataclass

import numpy as np

from tasks.errors import BadInput
from tasks.series.windows import Scaler, Windows, roll_forward


def naive(inputs: np.ndarray, horizon: int, col: int) -> np.ndarray:
    """The last input of column ``col`` repeated: (N, W, C) -> (N, K)."""
    return np.repeat(inputs[:, -1:, col], horizon, axis=1)


def seasonal_naive(inputs: np.ndarray, horizon: int, col: int, period: int) -> np.ndarray:
    """Step e+h takes the value of the latest step that is a whole number of seasons earlier.

    For h < period that is x[e+h-period]; further ahead the last season repeats. (N, K).
    """
    window = inputs.shape[1]
    if period > window:
        raise BadInput(
            f"seasonal naive needs a window of at least one season ({period} steps), got {window}"
        )
    h = np.arange(horizon)
    back = period * (h // period + 1)  # whole seasons back from e+h, landing inside the window
    return inputs[:, window + h - back, col]


@dataclass
class LinearAR:
    """Linear autoregression: next values = [flattened scaled window, 1] @ coef (least squares)."""

    scaler: Scaler  # the same scaling the network uses, fitted on the training inputs
    cols: list[int]  # which columns it predicts
    horizon: int  # how many steps ahead it predicts at once
    coef: np.ndarray  # (W*C + 1, K*len(cols)) least-squares weights, intercept last

    @classmethod
    def fit(
        cls, inputs: np.ndarray, targets: np.ndarray, scaler: Scaler, cols: list[int]
    ) -> "LinearAR":
        """Fit on training examples: inputs (N, W, C), targets (N, K, C)."""
        features = cls._features(scaler, inputs)
        wanted = scaler.encode_targets(inputs, targets, cols).reshape(
            len(inputs), -1
        )  # (N, K*len(cols))
        coef, *_ = np.linalg.lstsq(features, wanted, rcond=None)
        return cls(scaler, cols, targets.shape[1], coef)

    @staticmethod
    def _features(scaler: Scaler, inputs: np.ndarray) -> np.ndarray:
        flat = scaler.encode(inputs).reshape(len(inputs), -1)  # (N, W*C)
        return np.concatenate([flat, np.ones((len(inputs), 1))], axis=1)  # (N, W*C + 1)

    def next_values(self, inputs: np.ndarray) -> np.ndarray:
        """The first predicted step, (N, len(cols)): what ``roll_forward`` feeds back."""
        return self.predict(inputs)[:, 0]

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Raw inputs (N, W, C) to raw forecasts (N, K, len(cols))."""
        out = (self._features(self.scaler, inputs) @ self.coef).reshape(
            len(inputs), self.horizon, len(self.cols)
        )
        return self.scaler.decode(inputs, out, self.cols)


def rmse(forecast: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error over every forecast value."""
    return float(np.sqrt(np.mean((forecast - truth) ** 2)))


def mae(forecast: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error over every forecast value."""
    return float(np.mean(np.abs(forecast - truth)))


def mase_scale(train_target: np.ndarray, period: int) -> float:
    """MAE of the one-season-back forecast inside the training part: MASE's denominator.

    Zero for a training part that repeats exactly; MASE is then undefined (NaN).
    """
    if len(train_target) <= period:
        raise BadInput(
            f"MASE needs more than one season ({period} steps) of training data, got {len(train_target)}"
        )
    return float(np.mean(np.abs(train_target[period:] - train_target[:-period])))


def scores(forecast: np.ndarray, truth: np.ndarray, scale: float) -> dict[str, float]:
    """RMSE, MAE and MASE of one set of forecasts."""
    error = mae(forecast, truth)
    return {
        "rmse": rmse(forecast, truth),
        "mae": error,
        "mase": error / scale if scale > 0 else float("nan"),
    }


def yardstick_forecasts(
    train: Windows, inputs: np.ndarray, scaler: Scaler, horizon: int, target: int, period: int
) -> dict[str, np.ndarray]:
    """Every yardstick's forecast of the target over ``inputs`` (N, W, C): name -> (N, K).

    The linear autoregression comes twice: on raw values (the classical fit, with an intercept;
    a global standardization changes nothing for least squares) and, when the network gets
    window-relative inputs, on those same inputs, so that the network's advantage is not just
    its scaling. Each is run recursively (one-step fit fed back) and directly (K outputs).
    """
    columns = list(range(inputs.shape[2]))
    out = {"naive": naive(inputs, horizon, target)}
    if 1 < period <= inputs.shape[1]:  # a season of 1 step is the naive forecast again
        out["seasonal naive"] = seasonal_naive(inputs, horizon, target, period)
    fits = {"raw values": Scaler.fit(train.inputs, relative=False)}
    if scaler.relative:
        fits["window-relative"] = scaler
    for label, fit_scaler in fits.items():
        one = LinearAR.fit(train.inputs, train.targets[:, :1], fit_scaler, columns)
        direct = LinearAR.fit(train.inputs, train.targets[:, :horizon], fit_scaler, [target])
        rolled = roll_forward(one.next_values, inputs, horizon)  # (N, K, C)
        out[f"linear AR ({label}), recursive"] = rolled[..., target]
        out[f"linear AR ({label}), direct"] = direct.predict(inputs)[..., 0]
    return out


def score_table(
    forecasts: dict[str, np.ndarray], truth: np.ndarray, scale: float
) -> dict[str, dict[str, dict[str, float]]]:
    """Scores of each forecaster's (N, K) forecasts: name -> {"1-step": ..., "K-step": ...}."""
    return {
        name: {"1-step": scores(f[:, 0], truth[:, 0], scale), "K-step": scores(f, truth, scale)}
        for name, f in forecasts.items()
    }


def markdown_table(table: dict[str, dict[str, dict[str, float]]], horizon: int, unit: str) -> str:
    """The score table as markdown, the best K-step RMSE in bold."""
    unit = f" ({unit})" if unit else ""
    columns = [f"{h}-step {m}" for h in (1, horizon) for m in (f"RMSE{unit}", "MAE", "MASE")]
    lines = ["| forecaster | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    best = min(row["K-step"]["rmse"] for row in table.values())
    for name, row in table.items():
        cells = [f"{row[h][m]:.3f}" for h in ("1-step", "K-step") for m in ("rmse", "mae", "mase")]
        if row["K-step"]["rmse"] == best:
            cells[3] = f"**{cells[3]}**"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
