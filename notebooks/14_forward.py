# %% [markdown]
# # Forward mode through time
#
# The lesson to run beside *Forward mode through time* (`docs/forward.md`, [on the
# site](../../forward/)), which derives the tangent recurrence of each cell, ḣ_t beside h_t,
# and real-time recurrent learning (RTRL): forward mode with respect to every weight. Here you
# push one direction through a scratch layer with `torch.func.jvp`, hold it against finite
# differences, and check RTRL's gradient against BPTT's.

# %%
import time

import torch
from torch.func import functional_call, jvp

import learn
import scratch
from compare.rtrl import bptt_gradients, problem, rtrl_gradients

torch.manual_seed(0)
L, N, I, H = 8, 2, 3, 5
layer = scratch.RNN(I, H, dtype=torch.float64, bptt="manual")
params = {k: v.detach() for k, v in layer.named_parameters()}
x = torch.randn(L, N, I, dtype=torch.float64)


def outputs(x, params):
    """Every h_t of the layer, as a function of the input and the weights."""
    return functional_call(layer, params, (x,))[0]


direction = (torch.randn_like(x), {k: torch.randn_like(v) for k, v in params.items()})
_, h_dot = jvp(outputs, (x, params), direction)  # our tangent step, (E1) and (E2), forwards
eps = 1e-6
shifted = [
    outputs(
        x + s * eps * direction[0], {k: v + s * eps * direction[1][k] for k, v in params.items()}
    )
    for s in (1, -1)
]
central = (shifted[0] - shifted[1]) / (2 * eps)
print(
    f"ḣ_t by forward mode vs central differences: largest difference {(h_dot - central).abs().max():.1e}"
)
print(f"(the tangents themselves are of size {h_dot.abs().max():.2f})")

# %% [markdown]
# One `jvp` gives the change of every output along one direction, in one forward pass; the
# differences needed two passes per direction and are only as good as their step allows: with
# ε = 10⁻⁶ in float64, rounding (about 10⁻¹⁶ / ε) leaves them near 10⁻¹⁰ off.
#
# ## RTRL: forward mode in every direction of the weights
#
# `compare/rtrl.py` carries one tangent per weight beside h_t (the standard basis, vmapped),
# and adds each step's loss share as it goes: the gradient with no memory of the past. It must
# equal BPTT's. Its cost per step grows like H⁴ where BPTT's grows like H² (at these small
# sizes, overhead still hides part of it). One run each, on a shared machine: the timings move
# from run to run; `python -m compare.rtrl` measures medians.

# %%
for hidden in (8, 16, 32):
    module, xs, targets = problem(hidden)
    start = time.perf_counter()
    rtrl = rtrl_gradients(module, xs, targets)
    rtrl_s = time.perf_counter() - start
    start = time.perf_counter()
    bptt = bptt_gradients(module, xs, targets)
    bptt_s = time.perf_counter() - start
    worst = max((rtrl[k] - bptt[k]).abs().max().item() for k in rtrl)
    print(
        f"H = {hidden:2}: RTRL vs BPTT largest difference {worst:.1e};"
        f" RTRL {1000 * rtrl_s:6.1f} ms, BPTT {1000 * bptt_s:5.1f} ms"
    )

# %% [markdown]
# ## Exercise: elman_step_tangent (E1, E2)
#
# Forward mode through one Elman step (tanh): the tangent ḣ_t from the tangents of its inputs x̂̇_t, ḣ_{t−1} and Ẇ_hh.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check elman_step_tangent FILE.py`.
#
# *Hint*: Forward mode pushes a small change through each line as it is: the product rule on
# h_{t−1} W_hhᵀ gives two terms. tanh' is written with the output, 1 − h_t².


# %%
def elman_step_tangent(x_proj_dot, h_prev_dot, h_prev, h, W_hh, W_hh_dot):
    """Forward mode through one Elman step (tanh): the tangent ḣ_t from the tangents of its
    inputs x̂̇_t, ḣ_{t−1} and Ẇ_hh.

    x_proj_dot: x̂̇_t (N, H); h_prev_dot: ḣ_{t−1} (N, H); h_prev: h_{t−1} (N, H); h: h_t (N, H);
    W_hh, W_hh_dot: W_hh and its tangent Ẇ_hh (H, H).
    Returns a_dot (ȧ_t) and h_dot (ḣ_t), each (N, H).
    """
    # your code here: compute and return a_dot, h_dot
    raise NotImplementedError


learn.check(elman_step_tangent)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution elman_step_tangent` prints ours, as a file that `check` accepts.
#
# </details>
