"""One layer and direction as one operator to torch.compile and torch.export.

Why an operator: the compiler traces Python. Traced, our time loop would be unrolled into the
graph, one copy of the step per time step, and compiling at T = 1024 would take some hundred
times as long as at T = 16. Declared with ``torch.library.custom_op``, a layer is one node of
the graph, whatever T is: the compiler sees its inputs and outputs, not its loop. What it needs
to trace the graph around the node is

- a fake (meta) function: the shapes of the outputs from the shapes of the inputs, symbolic
  in T and the batch where export makes them dynamic;
- an autograd rule: our BPTT, itself a second operator (``scratch::layer_backward``), so that
  the backward graph too holds the loop as one node.

The forward operator returns, beside y and the final state, what the loop saved for BPTT, as
function.py's ManualBPTT does; the fake function learns the layout of those tensors and how each
of its dimensions grows with T and the batch by running the layer on the meta device at three
small sizes (no arithmetic, only shapes), once per kind of layer.
"""

from functools import cache

import torch
from torch import Tensor

from scratch import registry
from scratch.function import BPTTGradients, Layer, ManualBPTT, SavedLayout
from scratch.steps import Steps


def _layer(key: str, L: int, N: int, reverse: bool, loop: str) -> Layer:
    return Layer(registry.cell(key), Steps([N] * L, reverse), loop, None)


@torch.library.custom_op("scratch::layer", mutates_args=())
def layer(
    x: Tensor,
    N: int,
    present: list[Tensor],
    absent: list[int],
    key: str,
    reverse: bool,
    loop: str,
) -> list[Tensor]:
    """x (L·N, I), L steps of N rows, through one layer, one direction: [y (L·N, H_out),
    *state_n, *what the loop saved]. The layer's tensors (function.flatten) are those present, with None at
    ``absent``."""
    tensors = _full(present, absent)
    out = ManualBPTT.forward(_layer(key, x.shape[0] // N, N, reverse, loop), x, *tensors)
    n = len(registry.cell(key).states)
    y, state_n, leaves = out[0], out[1 : 1 + n], out[2 + n :]
    if _saved_shapes(key, reverse, loop, _signature(tensors, n)) is None:
        return [y, *state_n]  # saved tensors it cannot return: the backward recomputes them
    return [y, *state_n, *_unaliased(leaves, (x, *tensors, y))]


def _unaliased(leaves, others) -> list[Tensor]:
    """An operator's outputs may not share memory with its inputs or each other: a saved
    tensor that does (a view of a buffer another one is in) is copied."""
    seen = {t.untyped_storage().data_ptr() for t in others if t is not None}
    out = []
    for t in leaves:
        ptr = t.untyped_storage().data_ptr()
        out.append(t.clone() if ptr in seen else t)
        seen.add(ptr)
    return out


def _full(present, absent) -> list:
    """The layer's tensors, None at the absent positions (an operator's list has no None)."""
    tensors, found = [], iter(present)
    for k in range(len(present) + len(absent)):
        tensors.append(None if k in absent else next(found))
    return tensors


@layer.register_fake
def _(x, N, present, absent, key, reverse, loop):
    rows = x.shape[0]
    tensors = _full(present, absent)
    n = len(registry.cell(key).states)
    shapes = _saved_shapes(key, reverse, loop, _signature(tensors, n)) or []
    states = [x.new_empty(t.shape) for t in tensors[:n]]
    loop_saved = [x.new_empty([a + b * N + c * rows for a, b, c in dims]) for dims in shapes]
    return [x.new_empty(rows, tensors[0].shape[-1]), *states, *loop_saved]


def _signature(tensors, n: int) -> tuple:
    """The layer's tensors' shapes (None where absent), the n states' without their batch."""
    return tuple(
        None if t is None else tuple(t.shape[1:] if k < n else t.shape)
        for k, t in enumerate(tensors)
    )


@cache
def _probe(key, reverse, loop, signature, L, N):
    """The shapes of the tensors the loop saves, when the layer runs on the meta device at (L, N)."""
    meta = {"device": "meta", "dtype": torch.float64}
    cell = registry.cell(key)
    n = len(cell.states)
    tensors = [
        None if s is None else torch.empty((N, *s) if k < n else s, **meta)
        for k, s in enumerate(signature)
    ]
    I = tensors[n].shape[1]  # W_ih: (G·H, I)
    x = torch.empty(L * N, I, **meta)
    out = ManualBPTT.forward(_layer(key, L, N, reverse, loop), x, *tensors)
    return out[1 + n], [tuple(t.shape) for t in out[2 + n :]]


@cache
def _saved_shapes(key, reverse, loop, signature) -> list[list[tuple[int, int, int]]] | None:
    """Each dimension of each saved tensor as a + b·N + c·L·N (L·N: the rows of x), from
    three probes and checked on a fourth; None where they have no such shapes (the readable
    loop saves a tuple per step; the scan keeps T + 1 steps in a dimension of their own):
    then the backward recomputes them."""
    if loop != "manual":
        return None
    (_, at22), (_, at32), (_, at23), (_, at53) = (
        _probe(key, reverse, loop, signature, L, N) for L, N in ((2, 2), (3, 2), (2, 3), (5, 3))
    )
    if not len(at22) == len(at32) == len(at23) == len(at53):
        return None
    shapes = []
    for s22, s32, s23 in zip(at22, at32, at23, strict=True):
        dims = []
        for d22, d32, d23 in zip(s22, s32, s23, strict=True):
            c = (d32 - d22) // 2
            b = d23 - d22 - 2 * c
            dims.append((d22 - 2 * b - 4 * c, b, c))
        shapes.append(dims)
    predicted = [tuple(a + b * 3 + c * 15 for a, b, c in dims) for dims in shapes]
    return shapes if predicted == at53 else None


def structure(key, reverse, loop, tensors) -> object:
    """How the saved tensors sit in what the loop saved (function.pack's structure)."""
    n = len(registry.cell(key).states)
    return _probe(key, reverse, loop, _signature(tensors, n), 2, 2)[0]


@torch.library.custom_op("scratch::layer_backward", mutates_args=())
def layer_backward(
    d_y: Tensor,
    d_state_n: list[Tensor],
    x: Tensor,
    N: int,
    present: list[Tensor],
    absent: list[int],
    y: Tensor,
    loop_saved: list[Tensor],
    key: str,
    reverse: bool,
    loop: str,
) -> list[Tensor]:
    """Our BPTT: [dL/dx, then dL/d(each of the layer's tensors that is present, not a mask)]."""
    tensors = _full(present, absent)
    layer_ = _layer(key, x.shape[0] // N, N, reverse, loop)
    if _saved_shapes(key, reverse, loop, _signature(tensors, len(layer_.cell.states))) is not None:
        how = structure(key, reverse, loop, tensors)
    else:  # what the loop saved, recomputed (its y is the one the operator returned)
        out = ManualBPTT.forward(layer_, x, *tensors)
        n = len(layer_.cell.states)
        how, loop_saved, y = out[1 + n], out[2 + n :], out[0]
    saved = (x, *tensors, y, *loop_saved)
    how = SavedLayout(layer_, how, len(tensors), len(loop_saved))
    grads = BPTTGradients.forward(how, d_y, *d_state_n, *saved)
    return [g for g in grads if g is not None]


@layer_backward.register_fake
def _(d_y, d_state_n, x, N, present, absent, y, loop_saved, key, reverse, loop):
    n_masks = len(registry.cell(key).masks)  # the masks come last and have no gradient
    return [torch.empty_like(x), *(torch.empty_like(t) for t in present[: len(present) - n_masks])]


def _setup_context(ctx, inputs, output):
    x, N, present, absent, key, reverse, loop = inputs
    n = len(registry.cell(key).states)
    ctx.mark_non_differentiable(*output[1 + n :])  # what the loop saved: no zero-filled gradients
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(x, *present, output[0], *output[1 + n :])
    ctx.layer = (N, key, reverse, loop, len(present), list(absent), n)


def _backward(ctx, grads):
    N, key, reverse, loop, n_present, absent, n = ctx.layer
    saved = ctx.saved_tensors
    x, present = saved[0], list(saved[1 : 1 + n_present])
    y, loop_saved = saved[1 + n_present], list(saved[2 + n_present :])
    d_y = torch.zeros_like(y) if grads[0] is None else grads[0]
    d_state_n = [
        torch.zeros_like(s) if d is None else d
        for d, s in zip(grads[1 : 1 + n], present[:n], strict=True)
    ]
    out = layer_backward(d_y, d_state_n, x, N, present, absent, y, loop_saved, key, reverse, loop)
    n_masks = len(registry.cell(key).masks)
    d_present = [*out[1:], *(None for _ in range(n_masks))]
    no_grad_absent = [] if not absent else None  # an empty list is a list of tensors to pytree
    return out[0], None, d_present, no_grad_absent, None, None, None


layer.register_autograd(_backward, setup_context=_setup_context)


def run(cell, x: Tensor, tensors: tuple, N, reverse: bool, loop: str):
    """The layer through the operator: returns (y, state_n) as run_layer does."""
    present = [t for t in tensors if t is not None]
    absent = [k for k, t in enumerate(tensors) if t is None]
    out = layer(x, N, present, absent, cell.key, reverse, loop)
    return out[0], tuple(out[1 : 1 + len(cell.states)])
