"""The proving-equality chapter: the scaled error compare reports (Q1)."""

from learn.exercise import Exercise, Probe, Quantity, rand, size


def scaled_error(ours, ref):
    """The error compare reports for one tensor: the largest difference, scaled by the
    reference's size when that size is above 1, so that large and small tensors are judged alike.

    ours, ref: tensors of one shape. Returns a 0-d tensor.
    """
    error = (ours - ref).abs().max() / ref.abs().max().clamp(min=1)  # (Q1)
    return error


def _draw(scale: float):
    def draw(g):
        shape = (size(g, 1, 4), size(g, 1, 5))
        ref = rand(g, *shape, scale=scale)
        return {"ours": ref + rand(g, *shape, scale=1e-3), "ref": ref}

    return draw


EXERCISE = Exercise(
    chapter="compare",
    labels={"Q1": "scaled error = max |ours − ref| / max(1, max |ref|)"},
    returns=(
        Quantity(
            "error",
            "Q1",
            (),
            "the largest |ours − ref| over all entries, divided by max(1, the largest |ref|)",
        ),
    ),
    probes=(
        Probe("a small reference (every |ref| below 1)", _draw(0.2)),
        Probe("a large reference (entries up to about 100)", _draw(40.0)),
    ),
    solution=scaled_error,
    hint="max, not mean; absolute values on both; and the divisor is never below 1.",
)
