"""The linear recurrence h_t = a_t ⊙ h_{t−1} + b_t over all steps at once: a parallel scan, and
its backward, the same scan in reverse time. The fast loop (bptt="manual") of the minimal cells
(mingru.py, minlstm.py), whose gates read x_t only. Derivation and pictures: docs/minimal.md.

Two consecutive steps compose into one step of the same form,

    a_j ⊙ (a_i ⊙ h + b_i) + b_j = (a_j ⊙ a_i) ⊙ h + (a_j ⊙ b_i + b_j),

so (a_j, b_j) ∘ (a_i, b_i) = (a_j ⊙ a_i, a_j ⊙ b_i + b_j) is associative and the steps can be
grouped in a tree. ``scan_`` is Brent and Kung's tree (Blelloch's up-sweep and down-sweep):
about log₂ n levels up and as many down, each level one batched operation over all the pairs
it combines, O(n) work in all, the same order as the loop's.

Layout. The scan runs over n = T + 1 positions in time order, padded to (n, N, ·): the T steps,
and one slot for h_0 at the end the direction starts from (position 0 walking forward, T walking
backward). Past a packed sequence's end a = 1 and b = 0, so its state stays its own last h
(forward) or h_0 until its own last step (reverse), and BPTT through those positions is exact.

Backward. g_t = dL/dh_t = ∂L/∂y_t + a_{t+1} ⊙ g_{t+1} (forward direction) is the same recurrence
in reverse time, with a shifted by one position; over the same n positions its last value lands
in the h_0 slot and is dL/dh_0. The cell's chain rule starts from dL/db_t = g_t and
dL/da_t = g_t ⊙ h_{t−1}.
"""

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor

from scratch.declaration import ManualLoop
from scratch.fast import workspace
from scratch.steps import Steps

Coefficients = Callable  # (x̂, a, b) -> saved: writes a and b (T_total, H); may overwrite x̂
CoefficientsBackward = Callable  # (g, h_prev, saved) -> dL/dx̂ (T_total, G·H)


def scan_(a: Tensor, b: Tensor, reverse: bool = False) -> Tensor:
    """In place over positions k of dim 0, in scan order (descending k if ``reverse``):
    b[k] ← h_k = a_k ⊙ h_{k−1} + b_k, starting from h = b at the first position. a is spent:
    it ends holding products of segments of a. Returns b."""
    n, d = a.shape[0], 1
    while 2 * d <= n:  # up-sweep: 2d−1, 4d−1, … (scan order) absorb the segment d before
        target, source = _level(n, 2 * d - 1, d, reverse)
        b[target].addcmul_(a[target], b[source])  # a_j ⊙ b_i + b_j
        a[target].mul_(a[source])  # a_j ⊙ a_i
        d *= 2
    while d > 1:  # down-sweep: 3d−1, 5d−1, … absorb the complete prefix d positions before
        d //= 2
        if 3 * d <= n:
            target, source = _level(n, 3 * d - 1, d, reverse)
            b[target].addcmul_(a[target], b[source])  # a's prefix is not read again
    return b


def _level(n: int, first: int, d: int, reverse: bool) -> tuple[slice, slice]:
    """The positions one level combines, as strided slices of dim 0: targets first, first + 2d,
    … (in scan order, < n), each with the source d positions before it in scan order."""
    count = len(range(first, n, 2 * d))  # ≥ 1: the callers skip empty levels
    span = 2 * d * (count - 1) + 1
    if not reverse:
        return slice(first, first + span, 2 * d), slice(first - d, first - d + span, 2 * d)
    low = n - first - span  # scan position p is index n − 1 − p
    return slice(low, low + span, 2 * d), slice(low + d, low + d + span, 2 * d)


def _padded_index(steps: Steps, device: torch.device) -> Tensor:
    """Where each packed row sits in the padded (T·N) layout: step t's rows at t·N + [0, b_t),
    on the device of the rows it indexes."""
    N = steps.sizes[0]
    return torch.cat([torch.arange(b, device=device) + t * N for t, b in enumerate(steps.sizes)])


def _rows_into(data: Tensor, rows: Tensor, steps: Steps, pad: float) -> None:
    """Lay packed rows (T_total, C) into the padded (T, N, C) ``data``, ``pad`` past each end."""
    if steps.uniform:
        data.copy_(rows.view(data.shape))
    else:
        index = _padded_index(steps, rows.device)
        data.fill_(pad).view(-1, data.shape[-1]).index_copy_(0, index, rows)


def _rows_of(data: Tensor, steps: Steps) -> Tensor:
    """The packed rows (T_total, C) of padded (T, N, C) ``data``: a view for a plain batch."""
    flat = data.reshape(-1, data.shape[-1])
    return flat if steps.uniform else flat.index_select(0, _padded_index(steps, data.device))


def _ends(buffer: Tensor, h0_first: bool) -> tuple[Tensor, Tensor]:
    """(the T steps, the h_0 slot) of a (T + 1, N, ·) buffer."""
    return (buffer[1:], buffer[0]) if h0_first else (buffer[:-1], buffer[-1])


def scan_layer_forward(x_proj, state0, w, steps: Steps, coefficients: Coefficients):
    """The cell writes (a, b) from x̂, then the scan. Returns the outputs (T_total, H), (h_n,)
    and what the backward needs: a with a 1 at each end, the scan's states, the cell's tensors."""
    (h0,) = state0
    T, (N, H), h0_first = len(steps.sizes), h0.shape, not steps.reverse
    a_ends = x_proj.new_empty(T + 2, N, H)  # [1, a_0, …, a_{T−1}, 1]: one window per scan
    a_ends[0], a_ends[-1] = 1.0, 1.0
    S = x_proj.new_empty(T + 1, N, H)  # the h_0 slot and b; the scan turns b_t into h_t
    b_steps, h0_slot = _ends(S, h0_first)
    h0_slot.copy_(h0)
    if steps.uniform:  # the cell writes straight into the buffers
        saved = coefficients(x_proj, a_ends[1:-1].view(T * N, H), b_steps.view(T * N, H))
    else:  # packed: past each sequence's end a = 1, b = 0, so its state stands still
        a, b = x_proj.new_empty(2, x_proj.shape[0], H)
        saved = coefficients(x_proj, a, b)
        _rows_into(a_ends[1:-1], a, steps, 1.0)
        _rows_into(b_steps, b, steps, 0.0)
    A = (a_ends[:-1] if h0_first else a_ends[1:]).clone()  # the scan spends its copy
    scan_(A, S, steps.reverse)  # h_t = a_t ⊙ h_{t−1} + b_t
    h_n = S[-1] if h0_first else S[0]  # padding carries each sequence's last h to the end
    return _rows_of(b_steps, steps), (h_n,), (a_ends, S, saved)


def scan_layer_backward(d_Y, d_state_n, w, steps: Steps, saved, state_grads, backward):
    """BPTT as a reversed scan, then the cell's chain rule from g_t = dL/dh_t and h_{t−1} to
    dL/dx̂. Returns (dL/dx̂,), (dL/dh_0,) and no recurrent weight gradients (there are none)."""
    a_ends, S, cell_saved = saved
    h0_first = not steps.reverse
    # g_t = ∂L/∂y_t + a_{t+1} ⊙ g_{t+1}: the other window of a, shifted by one position
    a_next = a_ends[1:] if h0_first else a_ends[:-1]
    A = workspace.empty(a_next, *a_next.shape).copy_(a_next)  # the scan overwrites it
    G = workspace.empty(S, *S.shape)
    g_steps, d_h0 = _ends(G, h0_first)
    d_h0.zero_()  # the slot's own ∂L/∂y: h_0 reaches the loss only through the first step
    _rows_into(g_steps, d_Y, steps, 0.0)
    (G[-1] if h0_first else G[0]).add_(d_state_n[0])  # dL/dh_n joins where BPTT starts
    scan_(A, G, not steps.reverse)
    g = _rows_of(g_steps, steps)
    if state_grads is not None:
        state_grads["h"].copy_(g)
    h_prev = _rows_of(S[:-1] if h0_first else S[1:], steps)  # the state each step read
    return (backward(g, h_prev, cell_saved),), (d_h0.clone(),), {}


def scan_loop(coefficients: Coefficients, backward: CoefficientsBackward) -> ManualLoop:
    """The fast loop of a cell whose step is h_t = a_t ⊙ h_{t−1} + b_t with (a_t, b_t) from x̂_t
    alone: the cell gives x̂ → (a, b) and its chain rule back; the scan does the rest."""
    return ManualLoop(
        partial(scan_layer_forward, coefficients=coefficients),
        partial(scan_layer_backward, backward=backward),
    )
