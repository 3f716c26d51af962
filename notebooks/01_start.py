# %% [markdown]
# # Start here: one recurrent layer, forward and backward, in one loop
#
# The lesson to run beside the page *Start here* (`docs/start.md`, [on the site](../../start/)).
# Here you run it: a tanh Elman layer over a short sequence, its backward pass written by hand,
# and the check that it gives exactly the gradients `torch.nn.RNN` gives.
# The equations and their labels (E1), (E2) are on *The cells* (`docs/cells.md`, [on the
# site](../../cells/#elman)).

# %%
import torch

import learn

torch.manual_seed(0)
L, N, I, H = 5, 3, 4, 6  # steps, rows (sequences), input size, hidden size
x = torch.randn(L, N, I, dtype=torch.float64)
rnn = torch.nn.RNN(I, H, dtype=torch.float64)  # the reference, and the weights we borrow
W_ih, W_hh = rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach()
b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()

# %% [markdown]
# ## Forward: the loop over time
#
# One line per equation; `hs[t]` is the state after step t (`hs[0]` is h₀ = 0).

# %%
x_proj = x @ W_ih.T + b  # x̂_t for every step at once: no state in it    (L, N, H)
hs = [torch.zeros(N, H, dtype=torch.float64)]
for t in range(L):
    a = x_proj[t] + hs[-1] @ W_hh.T  # (E1)
    hs.append(torch.tanh(a))  # (E2)
y = torch.stack(hs[1:])  # the outputs, (L, N, H)

# %% [markdown]
# ## Backward: the same loop, reversed
#
# Take the loss L = Σ y ⊙ R for a fixed random R, so that ∂L/∂y_t = R_t. Walk t from the last
# step to the first; what step t+1 sends back is added to what the output sends.

# %%
R = torch.randn(L, N, H, dtype=torch.float64)
d_W_hh, d_x_proj = torch.zeros_like(W_hh), torch.zeros_like(x_proj)
d_next = torch.zeros(N, H, dtype=torch.float64)  # dL/dh_t from step t+1: none after the last
for t in reversed(range(L)):
    d_h = R[t] + d_next  # from the output at t and from step t+1
    d_a = d_h * (1 - hs[t + 1] ** 2)  # (E2) tanh' = 1 − h_t²
    d_x_proj[t] = d_a
    d_W_hh += d_a.T @ hs[t]  # (E1) d_a_tᵀ h_{t−1}
    d_next = d_a @ W_hh  # (E1) on to step t−1
d_W_ih = d_x_proj.flatten(0, 1).T @ x.flatten(0, 1)  # one product over every step
d_x = d_x_proj @ W_ih

# %% [markdown]
# ## Proof: autograd through `torch.nn.RNN` gives the same numbers

# %%
x_ref = x.clone().requires_grad_()
out, _ = rnn(x_ref)
(out * R).sum().backward()
for name, ours, ref in [
    ("output", y, out.detach()),
    ("dL/dx", d_x, x_ref.grad),
    ("dL/dW_ih", d_W_ih, rnn.weight_ih_l0.grad),
    ("dL/dW_hh", d_W_hh, rnn.weight_hh_l0.grad),
]:
    print(f"{name:9} largest difference {(ours - ref).abs().max().item():.1e}")

# %% [markdown]
# Differences near 1e-16 are float64 rounding: the two are the same computation.
#
# ## Exercise: elman_step (E1, E2)
#
# Write one step forward. Fill in the blank below and run the cell after it;
# the checker compares your function with ours on seeded random inputs and, when they differ,
# names the equation and the entry that is wrong. From a terminal, with your function in a
# file: `python -m learn check elman_step my_step.py`.
#
# *Hint*: rows are batch elements, so the weights multiply from the right, transposed:
# `h_prev @ W_hh.T`.


# %%
def elman_step(x_proj, h_prev, W_hh):
    """One Elman step forward: the pre-activation a_t and the new state h_t = tanh(a_t).

    x_proj: x̂_t (N, H), the input already projected; h_prev: h_{t−1} (N, H); W_hh: (H, H).
    Returns a (N, H) and h (N, H).
    """
    # your code here: compute and return a, h
    raise NotImplementedError


learn.check(elman_step)


# %% [markdown]
# A wrong answer looks like this: the weight untransposed. The checker blames (E1), says
# which row and unit differ most, and what `a` should depend on.


# %%
def a_first_try(x_proj, h_prev, W_hh):
    """elman_step with W_hh where W_hhᵀ belongs."""
    a = x_proj + h_prev @ W_hh
    return a, torch.tanh(a)


learn.check(a_first_try, "elman_step")

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution elman_step` prints ours, as a file that `check` accepts.
#
# </details>
