# %% [markdown]
# # One layer over time: BPTT, directions, layers, packed sequences
#
# The lesson to run beside *One layer over time* (`docs/layers.md`, [on the
# site](../../layers/)). Here you run `scratch.LSTM` and `scratch.GRU`, the layers built on the
# step functions, beside `torch.nn`: the same weights, the same outputs, the same gradients,
# with two directions, two layers and sequences of different lengths.

# %%
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import learn
import scratch

torch.manual_seed(0)
L, N, I, H = 6, 3, 4, 5


def same_weights(ours, ref):
    """Copy torch.nn's weights into ours: both take torch.nn's names and layouts."""
    ours.load_state_dict(ref.state_dict())
    return ours


def largest_differences(ours, ref, x, lengths=None):
    """Run both on x (packed when lengths are given), backpropagate one random loss, and
    return the largest differences of the outputs and the gradients."""
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    if lengths is None:
        out_ours, out_ref = ours(x_ours)[0], ref(x_ref)[0]
    else:
        out_ours = ours(pack_padded_sequence(x_ours, lengths))[0].data
        out_ref = ref(pack_padded_sequence(x_ref, lengths))[0].data
    R = torch.randn_like(out_ref)
    (out_ours * R).sum().backward()
    (out_ref * R).sum().backward()
    pairs = zip(ours.parameters(), ref.parameters(), strict=True)
    grads = max((p.grad - q.grad).abs().max().item() for p, q in pairs)
    return {
        "output": (out_ours - out_ref).abs().max().item(),
        "dL/dx": (x_ours.grad - x_ref.grad).abs().max().item(),
        "dL/dweights": grads,
    }


# %% [markdown]
# ## Two layers, both directions

# %%
options = {"num_layers": 2, "bidirectional": True, "dtype": torch.float64}
ref = torch.nn.LSTM(I, H, **options)
ours = same_weights(scratch.LSTM(I, H, **options), ref)
x = torch.randn(L, N, I, dtype=torch.float64)
for name, value in largest_differences(ours, ref, x).items():
    print(f"{name:12} {value:.1e}")

# %% [markdown]
# ## Sequences of different lengths, packed
#
# At step t only the rows still running move; BPTT walks the same bookkeeping backwards.

# %%
ref = torch.nn.GRU(I, H, dtype=torch.float64)
ours = same_weights(scratch.GRU(I, H, dtype=torch.float64), ref)
lengths = torch.tensor([6, 4, 2])
print("rows moving at each step:", pack_padded_sequence(x, lengths).batch_sizes.tolist())
for name, value in largest_differences(ours, ref, x, lengths).items():
    print(f"{name:12} {value:.1e}")

# %% [markdown]
# ## Three ways to run BPTT, one answer
#
# `bptt="manual"` runs the fused loop, `"readable"` the loop over the step functions of
# *The cells*, `"autograd"` lets autograd differentiate the readable forward.

# %%
ref = torch.nn.RNN(I, H, dtype=torch.float64)
for bptt in ("manual", "readable", "autograd"):
    ours = same_weights(scratch.RNN(I, H, dtype=torch.float64, bptt=bptt), ref)
    ref.zero_grad()
    worst = max(largest_differences(ours, ref, x).values())
    print(f"bptt={bptt:9} largest difference {worst:.1e}")

# %% [markdown]
# The labels of the exercise: (E1) and (E2) are the Elman cell's, from *The cells*; (B1) is
# the line of the loop that adds what reaches h_t from the output at t to what step t+1 sends
# back: d_h_t = ∂L/∂y_t + d_a_{t+1} W_hh.

# %% [markdown]
# ## Exercise: elman_bptt (B1, E1, E2)
#
# BPTT for a tanh Elman layer: walk the steps from last to first, carrying dL/dh back.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check elman_bptt FILE.py`.
#
# *Hint*: Walk t = T−1 … 0. At each step add what arrives from the output to what step t+1 sent
# back, apply tanh', then send d_a_t W_hh on to step t−1.


# %%
def elman_bptt(d_y, hs, h0, W_hh):
    """BPTT for a tanh Elman layer: walk the steps from last to first, carrying dL/dh back.

    d_y: dL/dy_t for every step (T, N, H), from the loss; hs: the outputs h_1 … h_T (T, N, H);
    h0: the initial state (N, H); W_hh: (H, H).
    Returns d_h (T, N, H), the total dL/dh_t of each step; d_a (T, N, H), which is also dL/dx̂;
    d_h0 (N, H); and d_W_hh (H, H), summed over the steps.
    """
    # your code here: compute and return d_h, d_a, d_h0, d_W_hh
    raise NotImplementedError


learn.check(elman_bptt)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution elman_bptt` prints ours, as a file that `check` accepts.
#
# </details>
