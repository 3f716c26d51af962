# %% [markdown]
# # Variants: cells torch.nn does not have
#
# The lesson to run beside *Variants* (`docs/variants.md`, [on the site](../../variants/)),
# which gives each variant's equations, its paper, and how it is checked. Here you run the
# peephole LSTM: with its peepholes at zero it *is* `torch.nn.LSTM`, and with them it is not.

# %%
import torch

import learn
import scratch

torch.manual_seed(0)
L, N, I, H = 6, 3, 4, 5
x = torch.randn(L, N, I, dtype=torch.float64)
ref = torch.nn.LSTM(I, H, dtype=torch.float64)
peephole = scratch.PeepholeLSTM(I, H, dtype=torch.float64)
print("its parameters:", [name for name, _ in peephole.named_parameters()])
state = ref.state_dict() | {
    k: torch.zeros(H, dtype=torch.float64) for k in ("weight_ci_l0", "weight_cf_l0", "weight_co_l0")
}
peephole.load_state_dict(state)
print(
    f"peepholes at zero: largest difference from torch.nn.LSTM {(peephole(x)[0] - ref(x)[0]).abs().max():.1e}"
)
with torch.no_grad():
    peephole.weight_cf_l0.fill_(0.5)  # the forget gate now reads c_{t−1}
print(
    f"w_cf = 0.5:        largest difference from torch.nn.LSTM {(peephole(x)[0] - ref(x)[0]).abs().max():.1e}"
)

# %% [markdown]
# ## Its hand-written backward, against autograd
#
# `bptt="autograd"` differentiates the forward lines; `"manual"` runs our backward, which adds
# the three paths into c_{t−1} that the exercise asks for.

# %%
grads = {}
for bptt in ("manual", "autograd"):
    layer = scratch.PeepholeLSTM(I, H, dtype=torch.float64, bptt=bptt)
    layer.load_state_dict(peephole.state_dict())
    x_in = x.clone().requires_grad_()
    (layer(x_in)[0] ** 2).sum().backward()
    grads[bptt] = [x_in.grad, *(p.grad for p in layer.parameters())]
worst = max((a - b).abs().max().item() for a, b in zip(*grads.values(), strict=True))
print(f"largest difference between our backward and autograd's: {worst:.1e}")

# %% [markdown]
# ## Exercise: peephole_d_c_prev (P2, P3, P5)
#
# The peephole LSTM's dL/dc_{t−1}: through the cell-state line, and through the input and forget gates, which read c_{t−1} by their peepholes.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check peephole_d_c_prev FILE.py`.
#
# *Hint*: c_{t−1} appears in three equations (P2, P3, P5): its gradient is the sum of three
# terms. The peepholes are diagonal: elementwise products, no matrix.


# %%
def peephole_d_c_prev(d_c, f, d_a_i, d_a_f, w_ci, w_cf):
    """The peephole LSTM's dL/dc_{t−1}: through the cell-state line, and through the input and
    forget gates, which read c_{t−1} by their peepholes.

    d_c: dL/dc_t, total (N, H); f: the forget gate (N, H); d_a_i, d_a_f: the gradients of the
    input and forget gates' pre-activations (N, H); w_ci, w_cf: the peepholes (H,).
    Returns d_c_prev (N, H).
    """
    # your code here: compute and return d_c_prev
    raise NotImplementedError


learn.check(peephole_d_c_prev)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution peephole_d_c_prev` prints ours, as a file that `check` accepts.
#
# </details>
