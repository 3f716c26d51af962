"""Hypothesis strategies that draw harness Cases over every option torch.nn's layers have."""

import torch
from hypothesis import strategies as st

from compare.harness import CELLS, Case
from scratch.checks import BPTT_CHOICES


@st.composite
def lengths_for(draw, batch: int, seq_len: int, enforce_sorted: bool) -> tuple[int, ...]:
    """Sequence lengths in 1..seq_len, the longest equal to seq_len; sorted if required."""
    lengths = draw(st.lists(st.integers(1, seq_len), min_size=batch, max_size=batch))
    lengths[draw(st.integers(0, batch - 1))] = seq_len
    return tuple(sorted(lengths, reverse=True) if enforce_sorted else lengths)


@st.composite
def layer_cases(draw, full: bool = True, max_len: int = 30) -> Case:
    """A recurrent layer configuration. full=False keeps to one layer, one direction, 3-D input."""
    cell = draw(st.sampled_from(CELLS))
    hidden = draw(st.integers(1, 8))
    seq_len = draw(st.integers(1, max_len))
    batch = draw(st.integers(1, 5))
    case = {
        "cell": cell,
        "input_size": draw(st.integers(1, 8)),
        "hidden_size": hidden,
        "seq_len": seq_len,
        "batch": batch,
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "with_hx": draw(st.booleans()),
        "dtype": draw(st.sampled_from(["float64", "float32"])),
        "bptt": draw(st.sampled_from(BPTT_CHOICES)),
    }
    if full:
        case["num_layers"] = draw(st.integers(1, 3))
        case["bidirectional"] = draw(st.booleans())
        if cell == "lstm" and hidden > 1:
            case["proj_size"] = draw(st.integers(0, hidden - 1))
        layout = draw(st.sampled_from(["plain", "packed", "unbatched"]))
        if layout == "packed":
            case["enforce_sorted"] = draw(st.booleans())
            case["lengths"] = draw(lengths_for(batch, seq_len, case["enforce_sorted"]))
        case["unbatched"] = layout == "unbatched"
        # Dropout draws its masks from the global stream exactly as torch.nn does, so train
        # mode with dropout > 0 is compared too, beside eval mode with dropout > 0.
        case["train"] = draw(st.booleans())
        case["dropout"] = draw(st.sampled_from([0.0, 0.0, 0.3])) if case["num_layers"] > 1 else 0.0
    return Case(**case)


@st.composite
def step_cases(draw) -> Case:
    """A cell (one time step) configuration."""
    return Case(
        cell=draw(st.sampled_from(CELLS)),
        step=True,
        input_size=draw(st.integers(1, 8)),
        hidden_size=draw(st.integers(1, 8)),
        batch=draw(st.integers(1, 5)),
        bias=draw(st.booleans()),
        unbatched=draw(st.booleans()),
        with_hx=draw(st.booleans()),
        dtype=draw(st.sampled_from(["float64", "float32"])),
        bptt=draw(st.sampled_from(BPTT_CHOICES)),
    )


def layer_input(config: dict, g: torch.Generator) -> tuple[torch.Tensor, tuple[int, ...]]:
    """x as a layer of ``config`` takes it (before packing: (T, I) unbatched, else (N, T, I)
    with batch_first or (T, N, I)), drawn in float64 from ``g``, and the shape of one of its
    initial states: (D, H) unbatched, else (D, N, H), D = layers × directions."""
    T, N, I, H = config["seq_len"], config["batch"], config["input_size"], config["hidden_size"]
    D = config["num_layers"] * (2 if config["bidirectional"] else 1)
    unbatched = config["layout"] == "unbatched"
    shape = (T, I) if unbatched else (N, T, I) if config["batch_first"] else (T, N, I)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    return x, ((D, H) if unbatched else (D, N, H))
