"""The autograd Functions that tie the hand-written BPTT of unroll.py to autograd, and
``run_layer``, which the modules call once per layer and direction.

``ManualBPTT`` runs one layer forward and hands its gradients to ``BPTTGradients``, whose
forward is our backward pass. Splitting them this way keeps the first-order gradients
hand-written even when autograd asks for a graph of them (``create_graph=True``, which
``torch.func.grad`` and ``vjp`` always do): only the second-order gradients, which our BPTT
does not derive, come from torch.func, over the readable loop recomputed from the inputs.

Both are written in the ``setup_context`` form that torch.func requires. What the forward loop
saved for BPTT leaves ``forward`` as extra outputs, marked non-differentiable, so that every
saved tensor is an input or an output; tensors it shares with the inputs or the output are
saved once. ``SavedLayout`` says where each part sits among the saved tensors.
"""

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from scratch import recorder
from scratch.declaration import STANDARD_KINDS, Cell, Weights
from scratch.fast import workspace
from scratch.steps import Steps
from scratch.unroll import layer_backward, layer_forward

NOT_TRANSFORMABLE = (
    "scratch layers with bptt='manual' or 'readable' compute their gradients by hand, which "
    "torch.func.{} cannot transform; build the layer with bptt='autograd' to use it"
)


def flatten(cell: Cell, state0: tuple, w: Weights) -> tuple:
    """The layer's tensors in one flat tuple: states, torch.nn's weights, the cell's own, masks."""
    extra = tuple(w.extra.get(p.kind) for p in cell.extra)
    masks = tuple(w.masks[name] for name in cell.masks)
    return (*state0, w.W_ih, w.W_hh, w.b_ih, w.b_hh, w.W_hr, *extra, *masks)


def unflatten(cell: Cell, tensors: tuple) -> tuple[tuple, Weights]:
    """Inverse of ``flatten``: (state0, Weights)."""
    states_end = len(cell.states)
    standard_end = states_end + len(STANDARD_KINDS)
    extra_end = standard_end + len(cell.extra)
    state0, standard = tuple(tensors[:states_end]), tensors[states_end:standard_end]
    extra = dict(zip((p.kind for p in cell.extra), tensors[standard_end:extra_end], strict=True))
    masks = dict(zip(cell.masks, tensors[extra_end:], strict=True))
    return state0, Weights(*standard, extra, masks)


def pack(saved, known: tuple) -> tuple[list[Tensor], object]:
    """The tensors of what the loop saved as a flat list, and its structure; a tensor that is
    one of ``known`` (an input or the output) is referenced by position instead of listed."""
    leaves: list[Tensor] = []

    def walk(node):
        if isinstance(node, (tuple, list)):
            return type(node), [walk(child) for child in node]
        if isinstance(node, Tensor):
            for k, t in enumerate(known):
                if node is t:
                    return "known", k
            leaves.append(node)
            return "leaf", len(leaves) - 1
        return "value", node

    return leaves, walk(saved)


def unpack(structure, leaves: tuple, known: tuple):
    """Inverse of ``pack``."""
    kind, content = structure
    if kind in (tuple, list):
        return kind(unpack(child, leaves, known) for child in content)
    if kind == "known":
        return known[content]
    return leaves[content] if kind == "leaf" else content


@dataclass(frozen=True)
class Layer:
    """What both Functions need to know about the layer beyond its tensors."""

    cell: Cell
    steps: Steps
    loop: str  # "manual": the cell's manual loop; "readable": the loop over its step pair
    record_key: recorder.RecordKey | None  # where dL/d(state_t) goes while a recorder is on


class ManualBPTT(torch.autograd.Function):
    """Forward: the layer's loop over time. Backward: ``BPTTGradients``, our BPTT."""

    @staticmethod
    def forward(layer: Layer, x: Tensor, *tensors):
        state0, w = unflatten(layer.cell, tensors)
        y, state_n, saved = layer_forward(layer.cell, x, state0, w, layer.steps, layer.loop)
        state_n = tuple(s.clone() for s in state_n)  # fresh: `saved` may hold the last state
        leaves, structure = pack(saved, (x, *tensors, y))
        return (y, *state_n, structure, *leaves)

    @staticmethod
    def setup_context(ctx, inputs, output):
        layer, x, *tensors = inputs
        n = len(layer.cell.states)
        leaves = output[2 + n :]
        ctx.mark_non_differentiable(*leaves)
        ctx.set_materialize_grads(False)  # no zero-filled gradients for what the loop saved
        ctx.save_for_backward(x, *tensors, output[0], *leaves)
        ctx.layout = SavedLayout(layer, output[1 + n], len(tensors), len(leaves))

    @staticmethod
    def backward(ctx, d_y, *d_rest):
        saved = ctx.saved_tensors  # read once: torch.utils.checkpoint allows one unpacking
        x, *tensors, y = saved[: 2 + ctx.layout.n_tensors]
        state0 = tensors[: len(ctx.layout.layer.cell.states)]
        d_state_n = [
            torch.zeros_like(s) if d is None else d
            for d, s in zip(d_rest[: len(state0)], state0, strict=True)
        ]
        d_y = torch.zeros_like(y) if d_y is None else d_y
        layout = replace(ctx.layout, need_d_x=ctx.needs_input_grad[1])
        grads = BPTTGradients.apply(layout, d_y, *d_state_n, *saved)
        return (None, *grads)

    @staticmethod
    def vmap(info, in_dims, *args):
        raise RuntimeError(NOT_TRANSFORMABLE.format("vmap"))

    @staticmethod
    def jvp(ctx, *tangents):
        raise RuntimeError(NOT_TRANSFORMABLE.format("jvp (forward-mode AD)"))


class BPTTGradients(torch.autograd.Function):
    """Forward: the hand-written BPTT, giving dL/dx, dL/d(state_0) and dL/d(every weight).
    Backward (second-order gradients only): torch.func over the readable loop, recomputed."""

    @staticmethod
    def forward(layout: "SavedLayout", d_y, *rest):
        layer, n = layout.layer, len(layout.layer.cell.states)
        d_state_n, (x, tensors, y, leaves) = tuple(rest[:n]), layout.split(rest[n:])
        state0, w = unflatten(layer.cell, tensors)
        saved = unpack(layout.structure, leaves, (x, *tensors, y))
        buffers = recorder.buffers(layer.record_key, layer.cell, state0, layer.steps)
        steps, need_d_x = layer.steps, layout.need_d_x
        with workspace.scope():  # the manual loops' gradient buffers: none is returned
            d_x, d_state0, d_w = layer_backward(
                layer.cell, layer.loop, d_y, d_state_n, x, w, steps, saved, need_d_x, buffers
            )
        recorder.store(layer.record_key, buffers, layer.steps)
        d_params = [
            d_w.get(kind) if w.of(kind) is not None else None for kind in _kinds(layer.cell)
        ]
        return (d_x, *d_state0, *d_params, *(None for _ in layer.cell.masks))

    @staticmethod
    def setup_context(ctx, inputs, output):
        layout, d_y, *rest = inputs
        n = len(layout.layer.cell.states)
        x, tensors, _, _ = layout.split(rest[n:])
        ctx.save_for_backward(d_y, *rest[:n], x, *tensors)
        ctx.layout = layout

    @staticmethod
    def backward(ctx, *d_grads):
        """The VJP of our gradients: differentiate the readable loop's VJP with torch.func, which
        differentiates with respect to the tensors it is given and nothing behind them. (A
        dL/dy that itself depends on y, as under a loss nonlinear in the output, leads back to
        this layer: autograd.grad would walk on into the outer graph, count that path twice and
        free it; the outer graph carries it once, from the d_d_outs returned here.)"""
        layer, n = ctx.layout.layer, len(ctx.layout.layer.cell.states)
        saved = ctx.saved_tensors
        d_outs, inputs = saved[: 1 + n], saved[1 + n :]
        n_params = 1 + n + len(_kinds(layer.cell))  # x, states, weights: not the masks
        wanted = [j for j in range(n_params) if _differentiable(inputs[j])]

        def forward(*primals):
            """(y, *state_n) of the readable loop, the wanted inputs replaced by primals."""
            tensors = list(inputs)
            for j, p in zip(wanted, primals, strict=True):
                tensors[j] = p
            state0, w = unflatten(layer.cell, tuple(tensors[1:]))
            y, state_n, _ = layer_forward(
                layer.cell, tensors[0], state0, w, layer.steps, "readable"
            )
            return (y, *state_n)

        def first_order(d_outs, primals):
            return torch.func.vjp(forward, *primals)[1](d_outs)

        primals = tuple(inputs[j] for j in wanted)
        cotangents = tuple(
            torch.zeros_like(inputs[j]) if d_grads[j] is None else d_grads[j] for j in wanted
        )
        d_d_outs, d_primals = torch.func.vjp(first_order, tuple(d_outs), primals)[1](cotangents)
        d_inputs = [None] * len(inputs)
        for j, d in zip(wanted, d_primals, strict=True):
            d_inputs[j] = d
        d_d_outs = [
            d if _differentiable(t) else None for t, d in zip(d_outs, d_d_outs, strict=True)
        ]
        no_gradient = [None] * (1 + ctx.layout.n_leaves)  # the output y and what was saved
        return (None, *d_d_outs, *d_inputs, *no_gradient)


@dataclass(frozen=True)
class SavedLayout:
    """How the tensors ManualBPTT saved are laid out: x, the layer's tensors, y, then the
    tensors of what the loop saved for BPTT (pack()'s leaves)."""

    layer: Layer
    structure: object  # pack()'s structure of what the loop saved
    n_tensors: int  # the layer's tensors (flatten()) after x
    n_leaves: int  # tensors of what the loop saved, after y
    need_d_x: bool = True

    def split(self, saved) -> tuple:
        """(x, the layer's tensors, y, the loop's leaves) from the flat saved tensors."""
        k = self.n_tensors
        return saved[0], tuple(saved[1 : 1 + k]), saved[1 + k], tuple(saved[2 + k :])


def _kinds(cell: Cell) -> tuple[str, ...]:
    """The parameter kinds in flatten()'s order."""
    return STANDARD_KINDS + tuple(p.kind for p in cell.extra)


def _autocast_eligible(t) -> bool:
    return isinstance(t, Tensor) and t.is_floating_point() and t.dtype != torch.float64


def _differentiable(t) -> bool:
    return isinstance(t, Tensor) and t.requires_grad


def autocast_dtype(x: Tensor) -> torch.dtype | None:
    """The dtype autocast gives torch.nn's recurrent ops on x's device; None when it is off."""
    device = x.device.type
    if torch.amp.is_autocast_available(device) and torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return None


def effective_bptt(bptt: str) -> str:
    """The bptt a layer runs under: "autograd" while torch.jit.trace records, since a trace
    records tensor operations, not a Python autograd Function (a traced layer is the readable
    loop, which autograd differentiates); else ``bptt`` itself."""
    return "autograd" if torch.jit.is_tracing() else bptt


def run_layer(
    cell: Cell, x, state0: tuple, w: Weights, batch_sizes, reverse, bptt, record_key=None
):
    """One layer, one direction. bptt: "manual" (the cell's manual loop; the readable loop for
    a cell that declares none), "readable" (the loop over the cell's step pair), both with our
    BPTT; or "autograd" (autograd over the readable loop).

    Under autocast the layer is one lower-precision op, as torch.nn's recurrent ops are:
    every floating tensor but float64 cast to the autocast dtype, the loop run without autocast."""
    dtype = autocast_dtype(x)
    if dtype is not None:
        cast = [t.to(dtype) if _autocast_eligible(t) else t for t in flatten(cell, state0, w)]
        state0, w = unflatten(cell, tuple(cast))
        x = x.to(dtype) if _autocast_eligible(x) else x
        with torch.autocast(x.device.type, enabled=False):
            return run_layer(cell, x, state0, w, batch_sizes, reverse, bptt, record_key)
    bptt = effective_bptt(bptt)
    tensors = flatten(cell, state0, w)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, *tensors)
    )
    loop = "manual" if bptt == "manual" and cell.manual_loop is not None else "readable"
    steps = Steps(batch_sizes, reverse)
    if bptt != "autograd" and needs_grad:
        out = ManualBPTT.apply(Layer(cell, steps, loop, record_key), x, *tensors)
        return out[0], tuple(out[1 : 1 + len(cell.states)])
    y, state_n, _ = layer_forward(cell, x, state0, w, steps, loop)
    return y, state_n
