# %% [markdown]
# # Minimal RNNs and the scan
#
# The lesson to run beside *Minimal RNNs and the scan* (`docs/minimal.md`, [on the
# site](../../minimal/)), which derives minGRU and minLSTM from the GRU and the LSTM and the
# scan that trains them. Here you check that the scan and the step-by-step loop give the same
# outputs and gradients, and time both on a short sequence.

# %%
import time

import torch

import learn
import scratch

torch.manual_seed(0)
L, N, I, H = 64, 4, 8, 16
x = torch.randn(L, N, I, dtype=torch.float64)
results = {}
for bptt in ("manual", "readable"):  # manual: the scan; readable: the loop over the step pair
    layer = scratch.MinGRU(I, H, dtype=torch.float64, bptt=bptt)
    torch.manual_seed(1)
    for p in layer.parameters():
        torch.nn.init.normal_(p)
    x_in = x.clone().requires_grad_()
    start = time.perf_counter()
    out, h_n = layer(x_in)
    (out**2).sum().backward()
    seconds = time.perf_counter() - start
    results[bptt] = (out, x_in.grad, [p.grad for p in layer.parameters()])
    print(f"bptt={bptt:8} forward + backward {1000 * seconds:.1f} ms")
(o1, g1, w1), (o2, g2, w2) = results.values()
print(
    f"outputs differ by at most {(o1 - o2).abs().max():.1e}, dL/dx by {(g1 - g2).abs().max():.1e}"
)
print(
    "weight gradients differ by at most",
    f"{max((a - b).abs().max().item() for a, b in zip(w1, w2, strict=True)):.1e}",
)

# %% [markdown]
# One run each on a shared machine: the timings move from run to run; the page has the
# benchmark. The labels of the exercise are the page's: (MG1) z_t = σ(x̂_z), (MG2) h̃_t = x̂_h,
# (MG3) h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t.

# %% [markdown]
# ## Exercise: mingru_step_backward (MG1, MG2, MG3)
#
# The minGRU step backward, h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t with z_t = σ(x̂_z), h̃_t = x̂_h.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check mingru_step_backward FILE.py`.
#
# *Hint*: Every line is elementwise: the minGRU has no W_hh. z_t weighs h̃_t, 1 − z_t weighs
# h_{t−1}.


# %%
def mingru_step_backward(d_h, z, h_tilde, h_prev):
    """The minGRU step backward, h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t with z_t = σ(x̂_z), h̃_t = x̂_h.

    d_h: dL/dh_t (N, H); z: z_t (N, H); h_tilde: h̃_t (N, H); h_prev: h_{t−1} (N, H).
    Returns d_z, d_x_z (dL/dx̂_z), d_x_h (dL/dx̂_h) and d_h_prev, each (N, H).
    """
    # your code here: compute and return d_z, d_x_z, d_x_h, d_h_prev
    raise NotImplementedError


learn.check(mingru_step_backward)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution mingru_step_backward` prints ours, as a file that `check` accepts.
#
# </details>
