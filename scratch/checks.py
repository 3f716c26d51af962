"""Argument and input checks: the same exception types torch.nn raises, with messages that say
what was expected and what was given. Kept apart so modules.py reads as the computation."""

import numbers
import operator
import warnings

from torch import Tensor

BPTT_CHOICES = ("manual", "readable", "autograd")
NOT_SCRIPTABLE = (
    "{}: TorchScript (torch.jit.script) is not supported: the loops over time are Python, "
    "which is the point of this implementation; script torch.nn's module instead"
)


def check_bptt(bptt: str) -> None:
    if bptt not in BPTT_CHOICES:
        raise ValueError(f"bptt must be 'manual', 'readable' or 'autograd', got {bptt!r}")


def check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def check_no_extra_kwargs(name: str, kwargs: dict) -> None:
    """RNN and GRU take no projection; torch.nn says so with a ValueError."""
    if "proj_size" in kwargs:
        raise ValueError(
            f"proj_size argument is only supported for LSTM, not RNN or GRU (got it for {name})"
        )
    if kwargs:
        raise TypeError(f"{name} got unexpected keyword arguments {sorted(kwargs)}")


def _check_type(name: str, value, kind: type) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")


def check_layer_args(
    input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size, gates
):
    """The constructor checks of torch.nn.RNN/LSTM/GRU, for a layer of ``gates`` gates.

    torch.nn checks that the sizes are ints, and a bool is an int to Python; but it then
    allocates weight_ih_l0 with the shape (gate_size, input_size), where gate_size is
    gates · hidden_size (an int) except for the Elman RNN's one gate, where it is hidden_size
    itself, and torch.empty refuses a shape whose first entry is a bool: so ``RNN(3, True)``
    is a TypeError where ``LSTM(3, True)`` builds, and so is a bool ``proj_size``, the first
    entry of weight_hr's shape. Our layers refuse the same."""
    float(dropout)  # torch.nn converts dropout first: what float() refuses is its TypeError
    if (
        not isinstance(dropout, numbers.Number)
        or isinstance(dropout, bool)
        or not 0 <= dropout <= 1
    ):
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an "
            f"element being zeroed, got {dropout!r}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
            f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            stacklevel=3,
        )
    _check_type("bias", bias, bool)
    _check_type("batch_first", batch_first, bool)
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        _check_type(name, value, int)
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero, got {value}")
    try:  # torch.nn checks it by its use, range(num_layers): any integer, a bool too
        operator.index(num_layers)
    except TypeError:
        raise TypeError(
            f"num_layers should be an integer, got: {type(num_layers).__name__}"
        ) from None
    if num_layers <= 0:
        raise ValueError(f"num_layers must be greater than zero, got {num_layers}")
    for name, first in (
        ("hidden_size", hidden_size if gates == 1 else 0),
        ("proj_size", proj_size),
    ):
        if first is True:  # False is 0: a size torch.nn refuses or ignores by its value
            raise TypeError(f"{name} should be of type int, got: bool")
    try:  # torch.nn compares it and allocates with it: any integer
        operator.index(proj_size)
    except TypeError:
        raise TypeError(
            f"proj_size should be an integer, got: {type(proj_size).__name__}"
        ) from None
    if proj_size < 0:
        raise ValueError(
            f"proj_size should be a positive integer or zero to disable projections, got {proj_size}"
        )
    if proj_size >= hidden_size:
        raise ValueError(
            f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
            f"and hidden_size={hidden_size}"
        )


def check_rate(name: str, rate) -> None:
    """A variant's dropout or zoneout rate: a probability, as torch.nn's dropout requires."""
    if not isinstance(rate, numbers.Number) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ValueError(f"{name} should be a probability in [0, 1], got {rate!r}")


def check_cell_args(input_size, hidden_size) -> None:
    """torch.nn's cells check nothing: their sizes go straight to torch.empty, which takes
    anything that is an integer (a bool, a NumPy integer: ``operator.index``), refuses the
    rest with a TypeError, and a negative size with a RuntimeError. We say the same up front."""
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        try:
            operator.index(value)
        except TypeError:
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}") from None
        if value < 0:
            raise RuntimeError(f"{name} must be non-negative, got {value}")


def check_dtype(input: Tensor, weight: Tensor) -> None:
    if input.dtype != weight.dtype:
        raise ValueError(
            f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
            f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
        )


def check_input(input: Tensor, input_size: int, packed: bool) -> None:
    expected = 2 if packed else 3
    if input.dim() != expected:
        raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
    if input.size(-1) != input_size:
        raise RuntimeError(
            "input.size(-1) must be equal to input_size. "
            f"Expected {input_size}, got {input.size(-1)}"
        )
    if not packed and input.size(0) == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN, got 0")


def check_batch_sizes(batch_sizes: list[int]) -> None:
    """A PackedSequence's batch_sizes: at least one step, none larger than the one before."""
    if not batch_sizes:
        raise IndexError("PackedSequence has no time steps: batch_sizes is empty")
    for t in range(1, len(batch_sizes)):
        if batch_sizes[t] > batch_sizes[t - 1]:
            raise RuntimeError(
                f"PackedSequence batch_sizes must not increase, got {batch_sizes[t - 1]} then "
                f"{batch_sizes[t]} at step {t}"
            )


def check_hidden(hx, expected: tuple, label: str) -> None:
    if not isinstance(hx, Tensor):
        raise TypeError(f"{label} must be a Tensor, got {type(hx).__name__}")
    if tuple(hx.shape) != expected:
        raise RuntimeError(f"Expected {label} size {expected}, got {list(hx.shape)}")


def check_cell_states(name: str, hx, n_states: int) -> None:
    """The LSTM cell takes (h, c): a lone tensor is a TypeError, another count a RuntimeError."""
    if n_states == 1:
        return
    if isinstance(hx, Tensor):
        raise TypeError(f"{name}: hx must be a tuple of two Tensors (h, c), got one Tensor")
    if len(hx) != n_states:
        raise RuntimeError(f"lstm_cell expects two hidden states (h, c), got {len(hx)}")


def check_layer_states(state: tuple, n_states: int) -> None:
    """torch.nn.LSTM checks h_0 and c_0, then refuses any further state in the tuple."""
    if len(state) != n_states:
        if n_states == 2:
            raise RuntimeError(f"lstm expects two hidden states (h_0, c_0), got {len(state)}")
        raise RuntimeError(f"expected {n_states} hidden states in hx, got {len(state)}")


def check_state_dtype(state: Tensor, input: Tensor, label: str) -> None:
    if state.dtype != input.dtype:
        raise RuntimeError(
            f"Expected {label} of dtype {input.dtype}, the input's, got {state.dtype}"
        )


def check_cell_input(name: str, input: Tensor, hx: tuple, input_size: int, hidden_size: int):
    """The checks of torch.nn's cells, on 2-D input and each 2-D state in hx."""
    if input.size(1) != input_size:
        raise RuntimeError(
            f"input has inconsistent input_size: got {input.size(1)} expected {input_size}"
        )
    for k, h in enumerate(hx):
        if h.dim() != 2:
            raise RuntimeError(f"{name}: expected hidden{k} to be 2D (N, H), got {h.dim()}D")
        if h.size(0) != input.size(0):
            raise RuntimeError(
                f"Input batch size {input.size(0)} doesn't match hidden{k} batch size {h.size(0)}"
            )
        if h.size(1) != hidden_size:
            raise RuntimeError(
                f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, expected {hidden_size}"
            )
