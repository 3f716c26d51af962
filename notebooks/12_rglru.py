# %% [markdown]
# # RG-LRU: Griffin's gated linear recurrence, on the scan
#
# The lesson to run beside *RG-LRU* (`docs/rglru.md`, [on the site](../../rglru/)), which gives
# the cell's equations (RG1)–(RG5), why the input is scaled by √(1 − a_t²), what happens where
# a_t → 1, and the backward on the scan. Here you look at the memory the gate a_t = σ(Λ)^{c r_t}
# can hold, at what the input scale does to the state's size, and at the scan against the loop.

# %%
import torch

import learn
import scratch

torch.manual_seed(0)
L, N, I, H = 32, 4, 3, 6
layer = scratch.RGLRU(I, H, dtype=torch.float64)
print("its parameters:", [(name, tuple(p.shape)) for name, p in layer.named_parameters()])
base = torch.sigmoid(layer.lambda_l0.detach())  # σ(Λ), one per unit, drawn in (0.9, 0.999)
for r in (0.05, 0.25, 1.0):  # the recurrence gate r_t: nearly closed … open
    a = base ** (8 * r)  # (RG3) a_t = σ(Λ)^{c r_t}, c = 8
    memory = (1 / (1 - a)).tolist()
    print(f"r_t = {r:4}: a_t = {[round(v, 4) for v in a.tolist()]}")
    print(f"          about {[round(v) for v in memory]} steps of memory, 1 / (1 − a_t)")

# %% [markdown]
# As r_t → 0, a_t → 1: the unit keeps h_{t−1} and ignores the input (s_t → 0); the more
# open r_t, the shorter the memory. Each unit's σ(Λ) sets the longest memory it can have.
#
# ## What √(1 − a_t²) is for
#
# Feed h_t = a h_{t−1} + s u_t random inputs u_t of variance 1, for a fixed a close to 1. With
# s = √(1 − a²) the state's variance settles at s² / (1 − a²) = 1; with s = 1 it settles at
# 1 / (1 − a²), which grows without bound as a → 1.

# %%
g = torch.Generator().manual_seed(1)
u = torch.randn(4000, 2000, generator=g, dtype=torch.float64)  # (steps, independent runs)
for a in (0.9, 0.99, 0.999):
    for name, s in (("s = √(1 − a²)", (1 - a * a) ** 0.5), ("s = 1", 1.0)):
        h = torch.zeros(2000, dtype=torch.float64)
        for u_t in u:
            h = a * h + s * u_t  # (RG5) with i_t = 1
        print(f"a = {a:<5}: {name:14} variance of h_T {h.var().item():8.2f}")

# %% [markdown]
# ## The scan against the loop
#
# `bptt="manual"` runs (RG5) as a scan over all steps, forward and backward; `"readable"` is the
# step-by-step loop with the hand-written step backward; `"autograd"` differentiates that loop.

# %%
x = torch.randn(L, N, I, dtype=torch.float64)
grads = {}
for bptt in ("manual", "readable", "autograd"):
    other = scratch.RGLRU(I, H, dtype=torch.float64, bptt=bptt)
    other.load_state_dict(layer.state_dict())
    x_in = x.clone().requires_grad_()
    out, _ = other(x_in)
    (out**2).sum().backward()
    grads[bptt] = [out, x_in.grad, *(p.grad for p in other.parameters())]
for bptt in ("manual", "readable"):
    worst = max(
        (a - b).abs().max().item() for a, b in zip(grads[bptt], grads["autograd"], strict=True)
    )
    print(f"bptt={bptt:8}: outputs and gradients differ from autograd's by at most {worst:.1e}")

# %% [markdown]
# ## Exercise: rglru_step (RG3, RG4, RG5)
#
# One RG-LRU step from its gates: the transition a_t, the input scale s_t, and h_t.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check rglru_step FILE.py`.
#
# *Hint*: σ(Λ) is a number in (0, 1) per unit; r_t (times c) only sets how many times it is
# multiplied by itself. s_t keeps h_t's size: a_t² + s_t² = 1.


# %%
def rglru_step(r, i, u, h_prev, lam):
    """One RG-LRU step from its gates: the transition a_t, the input scale s_t, and h_t.

    r, i: the recurrence and input gates r_t, i_t (N, H), in (0, 1); u: u_t = x̂_u (N, H);
    h_prev: h_{t−1} (N, H); lam: Λ (H,). c = 8.
    Returns a (a_t), s (s_t) and h (h_t), each (N, H).
    """
    # your code here: compute and return a, s, h
    raise NotImplementedError


learn.check(rglru_step)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution rglru_step` prints ours, as a file that `check` accepts.
#
# </details>
