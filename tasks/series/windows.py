"""From one long series to training examples: sliding windows, a chronological split, scaling.

The series is cut in time, never shuffled before the cut, so that the model is always tested on
a future it has not seen::

    time ─────────────────────────────────────────────────────────────────────────────▶
    │            train  (fit weights, scaler, AR)        │   validation   │    test    │
    0                                                    a                b            T

One example looks W steps back and K steps ahead. Its first target is step e::

                inputs (W steps, all C columns)          targets (K steps)
              ┌───────────────────────────────────────┐┌─────────────────────────────┐
    … x[e-W-1]│ x[e-W]  x[e-W+1]   …   x[e-2]  x[e-1] ││ x[e]  x[e+1]   …   x[e+K-1] │ x[e+K] …
              └───────────────────────────────────────┘└─────────────────────────────┘
                                                 ▲ last input: the window-relative origin
    next example: the same frame slid one step right (first target e+1)

An example belongs to the split that holds all K of its targets. Training examples lie wholly
inside the train part (inputs and targets); validation and test examples may take their inputs
from earlier parts, because at forecast time that past is known. So no validation or test value
ever reaches the weights, the scaler or the yardsticks' fits.

Scaling is fitted on the training inputs only. Two choices of origin:

- window-relative (default): each window minus its own last value, so the network sees shapes
  (rises, seasons) rather than levels, and adds the last value back to its output. A trending
  series leaves the training range in the test part; relative inputs do not.
- global: one mean for the whole series, as in most tutorials; a trend then pushes test inputs
  outside anything seen in training, and the network fails there.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tasks.errors import BadInput

SPLITS = ("train", "val", "test")


def split_points(length: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Where validation and test begin: rows [0, a) train, [a, b) validation, [b, length) test."""
    if not (0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
        raise BadInput(
            f"split fractions must be positive and leave room for training, got val {val_fraction}, test {test_fraction}"
        )
    b = length - round(length * test_fraction)
    a = b - round(length * val_fraction)
    return a, b


@dataclass
class Windows:
    """Examples cut from one series: ``inputs[i]`` is followed by ``targets[i]``."""

    inputs: np.ndarray  # (N, W, C) raw values, oldest step first
    targets: np.ndarray  # (N, K, C) raw values of the next K steps
    starts: np.ndarray  # (N,) row index of each example's first target (e in the picture)

    def __len__(self) -> int:
        return len(self.starts)


# --8<-- [start:make_windows]
def make_windows(values: np.ndarray, window: int, horizon: int, lo: int, hi: int) -> Windows:
    """Every example whose K targets all lie in rows [lo, hi) and whose W inputs precede them.

    The first targets e run over max(lo, W) .. hi - K; empty when the range holds none.
    """
    _, columns = values.shape
    first = max(lo, window)
    count = max(0, hi - horizon - first + 1)
    if count == 0:
        empty = np.empty((0, window, columns)), np.empty((0, horizon, columns))
        return Windows(*empty, np.empty(0, dtype=int))
    frames = sliding_window_view(values, window + horizon, axis=0)  # (T-W-K+1, C, W+K)
    frames = frames[first - window : first - window + count].transpose(0, 2, 1)  # (N, W+K, C)
    starts = np.arange(first, first + count)
    inputs = frames[:, :window].reshape(count, window, columns).copy()
    targets = frames[:, window:].reshape(count, horizon, columns).copy()
    return Windows(inputs, targets, starts)
    # --8<-- [end:make_windows]


def split_windows(
    values: np.ndarray, window: int, horizon: int, val_fraction: float, test_fraction: float
) -> dict[str, Windows]:
    """The train, validation and test examples of the picture above; each split holds at least one."""
    if window < 1 or horizon < 1:
        raise BadInput(
            f"window and horizon must be at least 1, got window {window}, horizon {horizon}"
        )
    length = len(values)
    a, b = split_points(length, val_fraction, test_fraction)
    bounds = {"train": (0, a), "val": (a, b), "test": (b, length)}
    splits = {
        name: make_windows(values, window, horizon, lo, hi) for name, (lo, hi) in bounds.items()
    }
    for name, part in splits.items():
        if len(part) == 0:
            lo, hi = bounds[name]
            raise BadInput(
                f"too few rows for one window: the {name} part (rows {lo}..{hi - 1} of {length}) holds no example "
                f"of {window} inputs + {horizon} targets; use a longer series or a smaller --window/--horizon"
            )
    return splits


@dataclass
class Scaler:
    """Maps raw windows to what the network sees, and its outputs back; fitted on training inputs."""

    relative: bool  # True: origin is each window's last value; False: the training mean
    mean: np.ndarray  # (C,) mean of the training inputs (the origin in global mode)
    scale: np.ndarray  # (C,) spread of the training inputs around their origin

    @classmethod
    def fit(cls, train_inputs: np.ndarray, relative: bool) -> "Scaler":
        """Fit on training inputs (N, W, C) only: validation and test values never enter."""
        mean = train_inputs.mean(axis=(0, 1))
        origin = train_inputs[:, -1:, :] if relative else mean
        scale = (train_inputs - origin).std(axis=(0, 1))
        return cls(relative, mean, np.where(scale > 0, scale, 1.0))

    def origin(self, inputs: np.ndarray) -> np.ndarray:
        """The value each window is measured from: (N, 1, C)."""
        if self.relative:
            return inputs[:, -1:, :]
        return np.broadcast_to(self.mean, (len(inputs), 1, len(self.mean)))

    def encode(self, inputs: np.ndarray) -> np.ndarray:
        """Raw inputs (N, W, C) to network inputs (N, W, C)."""
        return (inputs - self.origin(inputs)) / self.scale

    def encode_targets(
        self, inputs: np.ndarray, targets: np.ndarray, cols: list[int]
    ) -> np.ndarray:
        """Raw targets (N, K, C) of columns ``cols`` to network targets (N, K, len(cols))."""
        return (targets[..., cols] - self.origin(inputs)[..., cols]) / self.scale[cols]

    def decode(self, inputs: np.ndarray, outputs: np.ndarray, cols: list[int]) -> np.ndarray:
        """Network outputs (N, K, len(cols)) back to raw values of columns ``cols``."""
        return outputs * self.scale[cols] + self.origin(inputs)[..., cols]

    def state(self) -> dict:
        """Plain numbers for a checkpoint (loadable with ``weights_only=True``)."""
        return {"relative": self.relative, "mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @staticmethod
    def holds(saved: object) -> bool:
        """Is ``saved`` (read back from a checkpoint) what ``state`` writes: a switch and two
        equally long lists of finite numbers, the scales above 0?"""
        if not isinstance(saved, dict) or not isinstance(saved.get("relative"), bool):
            return False
        mean, scale = saved.get("mean"), saved.get("scale")
        numbers = [
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in (mean if isinstance(mean, list) else [None])
            + (scale if isinstance(scale, list) else [None])
        ]
        return all(numbers) and len(mean) == len(scale) > 0 and min(scale) > 0

    @classmethod
    def from_state(cls, state: dict) -> "Scaler":
        """Inverse of ``state``."""
        return cls(bool(state["relative"]), np.array(state["mean"]), np.array(state["scale"]))


def roll_forward(
    step: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, steps: int
) -> np.ndarray:
    """Recursive forecast: predict one step, append it to the window, drop the oldest, repeat.

    ``step`` maps raw windows (N, W, C) to the next raw values of every column (N, C); every
    column is needed because the prediction becomes an input. Returns (N, steps, C). Errors
    compound: from the second step on, the inputs contain the model's own guesses::

        [x1 x2 x3 x4] → ŷ5      [x2 x3 x4 ŷ5] → ŷ6      [x3 x4 ŷ5 ŷ6] → ŷ7   …
    """
    window = inputs
    predictions = []
    for _ in range(steps):
        nxt = step(window)  # (N, C)
        predictions.append(nxt)
        window = np.concatenate([window[:, 1:], nxt[:, None, :]], axis=1)  # (N, W, C)
    return np.stack(predictions, axis=1)
