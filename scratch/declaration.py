"""What a cell declares about itself, so that one unroller and one set of modules serve every cell.

A cell file (elman.py, lstm.py, gru.py, and each variant) holds the equations of one time step,
forward and backward, and ends with a ``Cell``: its gates, the state it carries, where the
biases go, its step pair, and its manual loop (the pair of fast layer loops in scratch/fast/
that bptt="manual" runs) if it has one. registry.py maps each cell's key to its declaration;
unroll.py, function.py, modules.py and cells.py read nothing else about a cell.

The step pair's contract, for one step t over the rows that move at t:

    step(x_proj_t, state_{t−1}, w) -> (state_t, saved)
    step_backward(d_state_t, w, saved) -> StepBackward

``state`` is a tuple, ``(h,)`` or ``(h, c)``; ``d_state_t`` is dL/d(state_t) from the output at t
and from step t+1. ``w`` is the layer's ``Weights``, with each mask cut to step t's rows.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from torch import Tensor

# torch.nn's parameter kinds of one layer and direction, in its registration order, with the
# symbols the equations use for them.
STANDARD_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
GATE_STACKED = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # rows = gates × H


@dataclass(frozen=True)
class Weights:
    """One layer and direction's tensors as a cell reads them; absent ones are None.

    ``extra`` holds a variant's own parameters by kind (e.g. ``"weight_ci"``); ``masks`` holds
    tensors that are not parameters (dropout or zoneout masks) by the names the cell declares.
    """

    W_ih: Tensor | None
    W_hh: Tensor | None = None
    b_ih: Tensor | None = None
    b_hh: Tensor | None = None
    W_hr: Tensor | None = None
    extra: Mapping[str, Tensor | None] = field(default_factory=dict)
    masks: Mapping[str, Tensor] = field(default_factory=dict)

    def of(self, kind: str) -> Tensor | None:
        """The tensor of a parameter kind: "weight_hh" is W_hh, a variant's kind is in extra."""
        standard = (self.W_ih, self.W_hh, self.b_ih, self.b_hh, self.W_hr)
        if kind in STANDARD_KINDS:
            return standard[STANDARD_KINDS.index(kind)]
        return self.extra.get(kind)


class Product(NamedTuple):
    """Σ_t d_tᵀ v_t over the steps of one layer: a weight gradient that the unroller forms in
    one matrix product after the backward loop, from the rows of d_t and v_t of every step."""

    d: Tensor  # (b_t, rows of the weight): the gradient reaching the product's output
    v: Tensor  # (b_t, columns of the weight): what the weight multiplied


class StepBackward(NamedTuple):
    """What one backward step hands back to the unroller."""

    d_x_proj: Tensor  # dL/dx̂_t: the unroller turns it into dL/dx_t, dL/dW_ih, dL/db
    d_state_prev: tuple  # dL/d(state_{t−1}) through this step
    d_weights: dict  # kind -> this step's share: a Tensor (summed) or a Product (or a tuple
    #                  of Products, one per block of rows of that weight)
    d_state: tuple  # dL/d(state_t): the total gradient that reached this step's state


@dataclass(frozen=True)
class ManualLoop:
    """The loop bptt="manual" runs for a cell (scratch/fast/): the same equations as its step
    pair, over all steps at once, with buffers and in-place work.

        forward(x_proj, state0, w, steps, **read) -> (outputs, state_n, saved)
        backward(d_outputs, d_state_n, w, steps, saved, state_grads, **read)
            -> (d_x_proj blocks, d_state0, d_weights)

    d_x_proj blocks: dL/dx̂ as column blocks that follow W_ih's rows in order; d_weights: the
    finished gradients of the weights that x̂ does not carry (kind -> Tensor). state_grads:
    None, or state name -> a (T_total, ·) buffer that receives dL/d(state_t) of every step
    (the recorder, record.py). read: ``read_mask=m`` when the cell declares a ``read_mask``.
    ``gate_order``: the loop keeps its gate blocks in this order of the declared gates; the
    unroller permutes the gate-stacked weights' rows to match and the gradients' rows back.
    ``step_products``: where the forward splits each step's recurrent product, the gate blocks
    of each part, in the loop's order (the GRU: r and z, then n); None: one product.
    """

    forward: Callable
    backward: Callable
    gate_order: tuple[int, ...] | None = None
    step_products: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ExtraParam:
    """A parameter torch.nn's layers do not have, registered per layer and direction."""

    kind: str  # e.g. "weight_ci"; registered as weight_ci_l{k}[_reverse]
    shape: Callable[[int], tuple[int, ...]]  # from the hidden size H
    init: str = "uniform"  # "uniform" U(−1/√H, 1/√H) as torch.nn draws, "ones" or "zeros"
    gate_stacked: bool = False  # rows follow the gates (permuted with a fast loop's gate_order)


@dataclass(frozen=True)
class Cell:
    """A cell's declaration: everything the rest of the code needs to know about it."""

    key: str  # the one lower-case word every command line, help text and doc uses ("lstm")
    gates: tuple[str, ...]  # gate blocks in the order of W_ih's rows (torch.nn's order)
    states: tuple[str, ...]  # state tensors carried from step to step: ("h",) or ("h", "c")
    x_proj_biases: tuple[str, ...]  # biases folded into x̂ = x W_ihᵀ + b before the loop;
    #                                 the others stay inside the step
    step: Callable
    step_backward: Callable
    manual_loop: ManualLoop | None = None  # bptt="manual" runs it; without one, the step pair
    kinds: tuple[str, ...] = GATE_STACKED  # torch.nn's parameter kinds it has (+ weight_hr
    #                                        when the layer projects)
    extra: tuple[ExtraParam, ...] = ()  # its own parameters, registered after torch.nn's
    masks: Mapping[str, str] = field(default_factory=dict)  # mask name -> "sequence": one
    #                   (N, ·) row per sequence, reused at every step; or "step": (T_total, ·)
    input_mask: str | None = None  # a "sequence" mask that multiplies x_t before the input
    #                   projection, x̂_t = (x_t ⊙ m) W_ihᵀ + b (variational dropout on x)
    read_mask: str | None = None  # a "sequence" mask the step reads h_{t−1} through,
    #                   h̃_{t−1} = h_{t−1} ⊙ m, before the recurrent product (variational
    #                   dropout on h): its step pair applies it; the unroller hands it to the
    #                   manual loop as read_mask=, which the LSTM's and the Elman's loops take
    recurrent_weight: str = "matrix"  # W_hh as torch.nn has it, (G·H, P); or "vector": u (H,),
    #                   each unit's own recurrent weight, u ⊙ h_{t−1} (the IndRNN)
    about: str = ""  # a few words for help texts ("long short-term memory")
    layer: str = ""  # the scratch class of its layer ("LSTM", "PeepholeLSTM")
    layer_options: Mapping[str, object] = field(default_factory=dict)  # the layer's arguments
    #                   that pick this cell ({"nonlinearity": "relu"})
    torch_nn: str | None = None  # the torch.nn layer that computes this cell ("LSTM"), if any

    @property
    def num_gates(self) -> int:
        return len(self.gates)

    def param_kinds(self, projected: bool = False) -> tuple[str, ...]:
        """Every parameter kind of one layer and direction, in registration order."""
        own = self.kinds + (("weight_hr",) if projected else ())
        return own + tuple(p.kind for p in self.extra)
