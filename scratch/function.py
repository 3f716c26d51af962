"""The autograd Functions that tie the hand-written BPTT of unroll.py to autograd, and
``run_layer``, which the modules call once per layer and direction.

``ManualBPTT`` runs one layer forward and hands its gradients to ``BPTTGradients``, whose
forward is our backward pass. Splitting them this way keeps the first-order gradients
hand-written even when autograd asks for a graph of them (``create_graph=True``, which
``torch.func.grad`` and ``vjp`` always do): only the second-order gradients, which our BPTT
does not derive, come from torch.func, over the readable loop recomputed from the inputs.

Both carry their own rules for torch.func's other transforms: ``vmap`` runs the layer once per
member of the batch (loop_vmap), ``jvp`` runs our tangent recurrence (tangent.py) for
ManualBPTT and, for BPTTGradients (forward over reverse: Hessian-vector products), torch.func's
forward mode over the readable loop's VJP. Under torch.compile and torch.export a layer is the
operator of layer_op.py instead, whose autograd rule is the same BPTT.

Both are written in the ``setup_context`` form that torch.func requires. What the forward loop
saved for BPTT leaves ``forward`` as extra outputs, marked non-differentiable, so that every
saved tensor is an input or an output; tensors it shares with the inputs or the output are
saved once. ``SavedLayout`` says where each part sits among the saved tensors.
"""

from dataclasses import dataclass, replace

import torch
from torch import Tensor
from torch.autograd import forward_ad

from scratch import recorder
from scratch.declaration import STANDARD_KINDS, Cell, Weights
from scratch.fast import workspace
from scratch.steps import Steps
from scratch.tangent import layer_tangent
from scratch.unroll import layer_backward, layer_forward


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
        ctx.save_for_forward(x, *tensors)
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
        """vmap: the layer once per member of the batch, the results stacked (see loop_vmap)."""
        return loop_vmap(ManualBPTT, info, in_dims, args)

    @staticmethod
    def jvp(ctx, _, x_dot, *tensor_dots):
        """Forward mode: our tangent recurrence (tangent.py) beside the layer's forward."""
        layer = ctx.layout.layer
        x, *tensors = ctx.saved_tensors
        x_dot = torch.zeros_like(x) if x_dot is None else x_dot
        dots = _tangents(layer.cell, tensors, tensor_dots)
        state0, w = unflatten(layer.cell, tuple(tensors))
        state0_dot, w_dot = unflatten(layer.cell, dots)
        _, (y_dot, state_n_dot) = layer_tangent(
            layer.cell, x, x_dot, state0, state0_dot, w, w_dot, layer.steps
        )
        return (y_dot, *state_n_dot, None, *(None for _ in range(ctx.layout.n_leaves)))


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
        steps, need_d_x, loop = layer.steps, layout.need_d_x, layer.loop
        if loop == "manual" and _legacy_batched(d_y, *d_state_n):
            # torch.autograd.functional's vectorize=True and is_grads_batched run torch's
            # legacy vmap, which cannot batch the manual loop's in-place work: our readable
            # BPTT serves them, over its own saved tensors.
            loop = "readable"
            saved = layer_forward(layer.cell, x, state0, w, steps, loop)[2]
        with workspace.scope():  # the manual loops' gradient buffers: none is returned
            d_x, d_state0, d_w = layer_backward(
                layer.cell, loop, d_y, d_state_n, x, w, steps, saved, need_d_x, buffers
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
        ctx.save_for_forward(d_y, *rest[:n], x, *tensors)
        ctx.layout = layout

    @staticmethod
    def vmap(info, in_dims, *args):
        """vmap: our BPTT once per member of the batch, the results stacked (loop_vmap)."""
        return loop_vmap(BPTTGradients, info, in_dims, args)

    @staticmethod
    def jvp(ctx, _, d_y_dot, *rest_dots):
        """Forward mode through our gradients (forward-over-reverse, as in Hessian-vector
        products): torch.func.jvp of the readable loop's VJP, as ``backward`` differentiates it."""
        layer, n = ctx.layout.layer, len(ctx.layout.layer.cell.states)
        saved = ctx.saved_tensors
        d_outs, inputs = saved[: 1 + n], saved[1 + n :]
        n_params = 1 + n + len(_kinds(layer.cell))  # x, states, weights: not the masks
        wanted = [j for j in range(n_params) if inputs[j] is not None]
        d_outs_dot = tuple(
            torch.zeros_like(d) if t is None else t
            for d, t in zip(d_outs, (d_y_dot, *rest_dots[:n]), strict=True)
        )
        input_dots = rest_dots[n : n + len(inputs)]
        primals = tuple(inputs[j] for j in wanted)
        primal_dots = tuple(
            torch.zeros_like(inputs[j]) if input_dots[j] is None else input_dots[j] for j in wanted
        )
        first_order = _readable_vjp(layer, inputs, wanted)
        _, dots = torch.func.jvp(first_order, (d_outs, primals), (d_outs_dot, primal_dots))
        out = [None] * (len(inputs))
        for j, d in zip(wanted, dots, strict=True):
            out[j] = d
        if not ctx.layout.need_d_x:
            out[0] = None
        return tuple(out)

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
        first_order = _readable_vjp(layer, inputs, wanted)
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


def _readable_vjp(layer: Layer, inputs: tuple, wanted: list[int]):
    """(d_outs, primals) -> the VJP of the readable loop's (y, *state_n) with respect to the
    wanted inputs (x, then the layer's tensors), replaced by primals: our first-order
    gradients as a function torch.func can differentiate again."""

    def forward(*primals):
        tensors = list(inputs)
        for j, p in zip(wanted, primals, strict=True):
            tensors[j] = p
        state0, w = unflatten(layer.cell, tuple(tensors[1:]))
        y, state_n, _ = layer_forward(layer.cell, tensors[0], state0, w, layer.steps, "readable")
        return (y, *state_n)

    def first_order(d_outs, primals):
        return torch.func.vjp(forward, *primals)[1](d_outs)

    return first_order


def _tangents(cell: Cell, tensors, dots) -> tuple:
    """The tangents of the layer's tensors: zeros where a tensor has none, the masks as they
    are (a mask is not differentiated, but the tangent step reads it like the forward)."""
    n_masks = len(cell.masks)
    out = []
    for k, (t, d) in enumerate(zip(tensors, dots, strict=True)):
        if t is None or k >= len(tensors) - n_masks:
            out.append(t if k >= len(tensors) - n_masks else None)
        else:
            out.append(torch.zeros_like(t) if d is None else d)
    return tuple(out)


def loop_vmap(function, info, in_dims, args):
    """A vmap rule for a Function: apply it to each member of the batch in turn and stack the
    results. Our loops work on one batch of sequences; a batch of batches (an ensemble's
    members, or one sample per gradient) is a loop over them, exactly as a Python loop gives."""
    runs = []
    for b in range(info.batch_size):
        member = [
            a if d is None or not isinstance(a, Tensor) else a.select(d, b)
            for a, d in zip(args, in_dims, strict=True)
        ]
        runs.append(function.apply(*member))
    outputs, out_dims = [], []
    for parts in zip(*runs, strict=True):
        if isinstance(parts[0], Tensor):
            outputs.append(torch.stack(parts))
            out_dims.append(0)
        else:  # None, or the structure of what the loop saved: the same for every member
            outputs.append(parts[0])
            out_dims.append(None)
    return tuple(outputs), tuple(out_dims)


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


def _legacy_batched(*tensors) -> bool:
    return any(torch._C._functorch.is_legacy_batchedtensor(t) for t in tensors)


def _transformed(tensors) -> bool:
    """Whether torch.func (vmap, jvp, grad) or torch.autograd.forward_ad sees any of these
    tensors: then the layer must be our Function, whose rules serve those transforms."""
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    if any(t is not None and wrapped(t) for t in tensors):
        return True
    if forward_ad._current_level < 0:  # no dual level is open
        return False
    return any(t is not None and forward_ad.unpack_dual(t).tangent is not None for t in tensors)


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
    if bptt != "autograd" and torch.compiler.is_compiling():
        from scratch import layer_op  # it builds on this module's Functions

        return layer_op.run(cell, x, tensors, state0[0].shape[0], reverse, loop)
    steps = Steps(batch_sizes, reverse)
    if bptt != "autograd" and (needs_grad or _transformed((x, *tensors))):
        out = ManualBPTT.apply(Layer(cell, steps, loop, record_key), x, *tensors)
        return out[0], tuple(out[1 : 1 + len(cell.states)])
    y, state_n, _ = layer_forward(cell, x, state0, w, steps, loop)
    return y, state_n
