"""The series chapter: cutting one series into training examples (W1, W2)."""

from learn.exercise import Exercise, Probe, Quantity, rand, size


def sliding_windows(values, window, horizon):
    """Every example of a series: W inputs, then the K values that follow as targets, the
    frame slid one step at a time.

    values: (T, C), oldest first; window W and horizon K: ints. Returns inputs (E, W, C) and
    targets (E, K, C), with E = T − W − K + 1 examples; example e starts at row e.
    """
    count = len(values) - window - horizon + 1
    inputs = values.unfold(0, window, 1)[:count].transpose(1, 2)  # (W1)   (E, W, C)
    targets = values[window:].unfold(0, horizon, 1)[:count].transpose(1, 2)  # (W2)   (E, K, C)
    return inputs, targets


def _draw(g):
    T, C = size(g, 8, 14), size(g, 1, 3)
    return {"values": rand(g, T, C), "window": size(g, 2, 4), "horizon": size(g, 1, 3)}


_AXES = ("example", "step", "column")
EXERCISE = Exercise(
    chapter="series",
    labels={
        "W1": "inputs[e] = x[e], …, x[e + W − 1]",
        "W2": "targets[e] = x[e + W], …, x[e + W + K − 1]",
    },
    returns=(
        Quantity("inputs", "W1", _AXES, "rows e to e + W − 1 of the series, oldest first"),
        Quantity(
            "targets",
            "W2",
            _AXES,
            "the K rows right after the inputs: e + W to e + W + K − 1, no overlap, no gap",
        ),
    ),
    probes=(Probe("a random series of 8 to 14 rows, W 2 to 4, K 1 to 3", _draw),),
    solution=sliding_windows,
    hint="E = T − W − K + 1 examples. A loop over e with values[e : e + W] is fine; "
    "Tensor.unfold does it in one call.",
)
