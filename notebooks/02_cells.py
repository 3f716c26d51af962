# %% [markdown]
# # The cells: one step forward, the same step backward
#
# The lesson to run beside *The cells* (`docs/cells.md`, [on the site](../../cells/)), which
# derives every line and labels it (E1–E2, L1–L8, G1–G5). Here you call the step functions of
# `scratch/equations/` yourself, hold their hand-written backward against autograd, and then
# write four of those lines in the exercises.

# %%
import torch

import learn
from scratch.declaration import Weights
from scratch.equations.gru import gru_step, gru_step_backward
from scratch.equations.lstm import lstm_step, lstm_step_backward

torch.manual_seed(0)
N, H = 3, 4  # rows, hidden size
double = {"dtype": torch.float64}

# %% [markdown]
# ## One LSTM step, forward
#
# A step receives x̂_t (the input already projected, `(N, 4H)`), the state `(h, c)` and the
# weights; it returns the new state and what its backward step will need.

# %%
x_proj = torch.randn(N, 4 * H, **double, requires_grad=True)
h_prev = torch.randn(N, H, **double, requires_grad=True)
c_prev = torch.randn(N, H, **double, requires_grad=True)
W_hh = torch.randn(4 * H, H, **double, requires_grad=True)
w = Weights(W_ih=None, W_hh=W_hh)  # the step reads W_hh only
(h, c), saved = lstm_step(x_proj, (h_prev, c_prev), w)
print("h_t", tuple(h.shape), "c_t", tuple(c.shape))
print("saved for backward:", [tuple(s.shape) for s in saved])

# %% [markdown]
# ## The same step backward, against autograd
#
# Take L = Σ h ⊙ R_h + Σ c ⊙ R_c, so that dL/dh_t = R_h and dL/dc_t = R_c. Our backward step
# receives exactly those; autograd differentiates the forward lines themselves.

# %%
R_h, R_c = torch.randn(N, H, **double), torch.randn(N, H, **double)
with torch.no_grad():
    back = lstm_step_backward((R_h, R_c), w, saved)
((h * R_h).sum() + (c * R_c).sum()).backward()
d_W_hh = back.d_weights["weight_hh"].d.T @ back.d_weights["weight_hh"].v  # d_a_tᵀ h_{t−1}
for name, ours, ref in [
    ("d x̂_t", back.d_x_proj, x_proj.grad),
    ("d h_{t−1}", back.d_state_prev[0], h_prev.grad),
    ("d c_{t−1}", back.d_state_prev[1], c_prev.grad),
    ("d W_hh", d_W_hh, W_hh.grad),
]:
    print(f"{name:10} largest difference {(ours - ref).abs().max().item():.1e}")

# %% [markdown]
# ## The GRU, the same way, and finite differences
#
# `torch.autograd.gradcheck` compares a function's gradients with finite differences; here
# it checks the GRU step, whose backward autograd reaches through our forward lines.

# %%
x3 = torch.randn(N, 3 * H, **double, requires_grad=True)
h3 = torch.randn(N, H, **double, requires_grad=True)
W3 = torch.randn(3 * H, H, **double, requires_grad=True)
b3 = torch.randn(3 * H, **double, requires_grad=True)


def gru_h(x_proj, h_prev, W_hh, b_hh):
    """h_t of one GRU step, as a function gradcheck can perturb."""
    (h,), _ = gru_step(x_proj, (h_prev,), Weights(W_ih=None, W_hh=W_hh, b_hh=b_hh))
    return h


print("gradcheck of the GRU step:", torch.autograd.gradcheck(gru_h, (x3, h3, W3, b3)))
(h_g,), saved_g = gru_step(x3, (h3,), Weights(W_ih=None, W_hh=W3, b_hh=b3))
R = torch.randn(N, H, **double)
with torch.no_grad():
    back_g = gru_step_backward((R,), Weights(W_ih=None, W_hh=W3, b_hh=b3), saved_g)
(h_g * R).sum().backward()
print(f"GRU d h_{{t−1}}: largest difference {(back_g.d_state_prev[0] - h3.grad).abs().max():.1e}")

# %% [markdown]
# ## Exercise: elman_step_backward (E1, E2)
#
# The Elman step backward (tanh): from dL/dh_t to dL/da_t, dL/dh_{t−1} and W_hh's share.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check elman_step_backward FILE.py`.
#
# *Hint*: Walk (E2) then (E1) backwards; tanh' is written with the output: 1 − h_t². Forward
# multiplied by W_hhᵀ, so backward multiplies by W_hh.


# %%
def elman_step_backward(d_h, h, h_prev, W_hh):
    """The Elman step backward (tanh): from dL/dh_t to dL/da_t, dL/dh_{t−1} and W_hh's share.

    d_h: dL/dh_t (N, H); h: h_t (N, H), the step's output; h_prev: h_{t−1} (N, H); W_hh: (H, H).
    Returns d_a (N, H), d_h_prev (N, H) and d_W_hh (H, H), this step's d_a_tᵀ h_{t−1}.
    """
    # your code here: compute and return d_a, d_h_prev, d_W_hh
    raise NotImplementedError


learn.check(elman_step_backward)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution elman_step_backward` prints ours, as a file that `check` accepts.
#
# </details>

# %% [markdown]
# ## Exercise: lstm_cell_state (L6)
#
# The LSTM's new cell state: keep part of c_{t−1}, write part of the candidate g_t.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check lstm_cell_state FILE.py`.
#
# *Hint*: Two elementwise products and a sum: the forget gate scales the old cell, the input gate
# the candidate.


# %%
def lstm_cell_state(f, c_prev, i, g):
    """The LSTM's new cell state: keep part of c_{t−1}, write part of the candidate g_t.

    f, i: the forget and input gates (N, H), in (0, 1); c_prev: c_{t−1} (N, H); g: g_t (N, H).
    Returns c (N, H).
    """
    # your code here: compute and return c
    raise NotImplementedError


learn.check(lstm_cell_state)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution lstm_cell_state` prints ours, as a file that `check` accepts.
#
# </details>

# %% [markdown]
# ## Exercise: lstm_cell_state_backward (L6, L7)
#
# Backward through m_t = o_t ⊙ tanh(c_t) and c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check lstm_cell_state_backward FILE.py`.
#
# *Hint*: c_t reaches the loss two ways (through m_t now, through c_{t+1} later): add both first,
# then every line of (L6) uses that total.


# %%
def lstm_cell_state_backward(d_m, d_c_next, o, tanh_c, i, f, g, c_prev):
    """Backward through m_t = o_t ⊙ tanh(c_t) and c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t.

    d_m: dL/dm_t (N, H); d_c_next: dL/dc_t arriving from step t+1 (N, H); o, i, f, g: the gates
    (N, H); tanh_c: tanh(c_t) (N, H); c_prev: c_{t−1} (N, H).
    Returns d_o, d_c (dL/dc_t, both paths), d_i, d_f, d_g and d_c_prev, each (N, H).
    """
    # your code here: compute and return d_o, d_c, d_i, d_f, d_g, d_c_prev
    raise NotImplementedError


learn.check(lstm_cell_state_backward)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution lstm_cell_state_backward` prints ours, as a file that `check` accepts.
#
# </details>

# %% [markdown]
# ## Exercise: lstm_gates_backward (L2, L3, L4, L5)
#
# From the gradients of the four gates to that of their pre-activations a_t, stacked in torch.nn's order i, f, g, o: through σ for i, f and o, through tanh for g.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check lstm_gates_backward FILE.py`.
#
# *Hint*: Three sigmoids and one tanh; each derivative is written with the gate's own value.
# torch.cat along dim=1 in torch.nn's order i, f, g, o.


# %%
def lstm_gates_backward(d_i, d_f, d_g, d_o, i, f, g, o):
    """From the gradients of the four gates to that of their pre-activations a_t, stacked in
    torch.nn's order i, f, g, o: through σ for i, f and o, through tanh for g.

    d_i, d_f, d_g, d_o: dL/d(gate) (N, H); i, f, o: the sigmoid gates (N, H); g: the tanh
    candidate (N, H). Returns d_a (N, 4H).
    """
    # your code here: compute and return d_a
    raise NotImplementedError


learn.check(lstm_gates_backward)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution lstm_gates_backward` prints ours, as a file that `check` accepts.
#
# </details>

# %% [markdown]
# ## Exercise: gru_d_h_prev (G1, G2, G3, G4, G5)
#
# The GRU's dL/dh_{t−1}: the direct path of (G5) plus the paths through r_t, z_t and n_t.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check gru_d_h_prev FILE.py`.
#
# *Hint*: Four paths lead from h_{t−1} to h_t: directly (z_t), and through ĥ into r_t, z_t and
# n_t. Stack the three gates' pre-activation gradients as W_hh stacks them, then one product with
# W_hh.


# %%
def gru_d_h_prev(d_h, r, z, n, h_n, h_prev, W_hh):
    """The GRU's dL/dh_{t−1}: the direct path of (G5) plus the paths through r_t, z_t and n_t.

    d_h: dL/dh_t (N, H); r, z: the reset and update gates (N, H); n: the candidate n_t (N, H);
    h_n: ĥ_n, the n block of h_{t−1} W_hhᵀ + b_hh (N, H); h_prev: h_{t−1} (N, H);
    W_hh: (3H, H), the blocks r, z, n stacked as torch.nn.GRU does. Returns d_h_prev (N, H).
    """
    # your code here: compute and return d_h_prev
    raise NotImplementedError


learn.check(gru_d_h_prev)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution gru_d_h_prev` prints ours, as a file that `check` accepts.
#
# </details>
